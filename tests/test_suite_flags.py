"""``evals run`` flags are derived from the suite fields: names, help, the suite they build, errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from evals.cli import build_parser
from evals.commands.run import load_suite_from_args, suite_from_flags
from evals.commands.suite_flags import SUITE_FLAGS
from evals.errors import EvalsError

BASE = ["run", "--model", "smollm2-135m", "--task", "arith-easy"]


def _args(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args([*BASE, *flags])


def _run_parser() -> argparse.ArgumentParser:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices["run"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("flag", SUITE_FLAGS, ids=[f.flag for f in SUITE_FLAGS])
def test_each_flag_shows_its_fields_description(flag: Any) -> None:
    action = next(a for a in _run_parser()._actions if flag.flag in a.option_strings)
    description = flag.field().description
    assert description and action.help == description.replace("%", "%%")


# (flags, the model entry they build, suite-level keys) -- source: the four hand-written mappings
# of commands/run.py before issue 9, which these replace.
BUILT = [
    ([], {"generation": {}, "engine": {}}, {}),
    (["--samples", "4", "--temperature", "0.6", "--top-p", "0.9", "--max-tokens", "64", "--seed", "3",
      "--system-prompt", ""],
     {"generation": {"samples": 4, "temperature": 0.6, "top_p": 0.9, "max_tokens": 64, "seed": 3,
                     "system_prompt": ""}, "engine": {}}, {}),
    (["--dtype", "float32", "--tensor-parallel-size", "2", "--max-model-len", "512",
      "--gpu-memory-utilization", "0.5", "--reproducible"],
     {"generation": {}, "engine": {"dtype": "float32", "tensor_parallel_size": 2, "max_model_len": 512,
                                   "gpu_memory_utilization": 0.5, "reproducible": True}}, {}),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "K",
      "--max-concurrency", "3", "--api-price", "deepseek-reasoner"],
     {"generation": {}, "engine": {}, "backend": "openai",
      "server": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "K", "max_concurrency": 3,
                 "price": "deepseek-reasoner"}}, {}),
    (["--limit", "5", "--until", "decided", "--margin", "0.01", "--alpha", "0.1", "--max-usd", "2"],
     {"generation": {}, "engine": {}}, {"limit": 5, "until": "decided", "margin": 0.01, "alpha": 0.1,
                                        "max_usd": 2.0}),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "entry", "suite_keys"), BUILT)
def test_flags_build_the_suite_mapping(
    flags: list[str], entry: dict[str, Any], suite_keys: dict[str, Any]
) -> None:
    expected = {"name": "run", "models": [{"model": "smollm2-135m", **entry}], "tasks": ["arith-easy"]}
    assert suite_from_flags(_args(*flags)) == {**expected, **suite_keys}


# (flags, the whole error) -- sources: issue 10 (errors name the flag typed), issue 9 (server problems
# were reported as 'models.0.server.base_url' although the user typed --base-url).
ERRORS = [
    (["--samples", "0"], "--samples: Input should be greater than or equal to 1"),
    (["--top-p", "0"], "--top-p: Input should be greater than 0"),
    (["--max-concurrency", "0", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1"],
     "--max-concurrency: Input should be greater than or equal to 1"),
    (["--api-price", "x"], "--base-url: Field required"),  # a server flag without its server
    (["--backend", "openai", "--base-url", "ftp://h/v1"], "--base-url: 'ftp://h/v1' is not an http(s) URL"),
    (["--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "EVALS_TEST_NO_SUCH_KEY"],
     "--api-key-env: environment variable EVALS_TEST_NO_SUCH_KEY is not set"),
    (["--until", "ci=2"], "--until: Value error, 'ci=2': ci=W needs 0 < W < 0.5 (a CI half-width in accuracy, "
     "e.g. ci=0.02)"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "message"), ERRORS)
def test_errors_name_the_flag(flags: list[str], message: str) -> None:
    with pytest.raises(EvalsError) as caught:
        load_suite_from_args(_args(*flags))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--samples", "2"], "--config sets models and tasks; drop --samples"),
        # source: issue 9, --seed with --config was silently ignored (it was missing from the hand list)
        (["--seed", "1"], "--config sets models and tasks; drop --seed"),
    ],
)
def test_model_flags_conflict_with_a_config(tmp_path: Path, flags: list[str], message: str) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("models: [{model: smollm2-135m}]\ntasks: [arith-easy]\n")
    args = build_parser().parse_args(["run", "--config", str(suite), *flags])
    with pytest.raises(EvalsError, match=message):
        load_suite_from_args(args)


def test_suite_level_flags_apply_to_a_config(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("models: [{model: smollm2-135m}]\ntasks: [{name: arith-easy, limit: 9}]\n")
    args = build_parser().parse_args(["run", "--config", str(suite), "--limit", "4", "--reproducible",
                                      "--until", "ci=0.1", "--max-usd", "3"])  # fmt: skip
    spec, _ = load_suite_from_args(args)
    assert (spec.limit, spec.tasks[0].limit, spec.until, spec.max_usd) == (4, 4, "ci=0.1", 3.0)
    assert spec.models[0].engine.reproducible
