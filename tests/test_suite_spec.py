from __future__ import annotations

from pathlib import Path

import pytest

from evals.errors import ConfigError
from evals.suite import load_suite_file, parse_suite

VALID = {"models": [{"model": "smollm2-135m"}], "tasks": ["gsm8k"]}


@pytest.mark.parametrize(
    ("data", "expected_problems"),
    [
        # source: every schema problem is listed at once (STYLE.md, HELM schema.py habit)
        (
            {"models": [{"model": "m", "colour": 1}], "tasks": ["t"], "limit": 0, "bogus": True},
            [
                "models.0.colour: unknown key",
                "limit: Input should be greater",
                "bogus: unknown key",
            ],
        ),
        # source: issue 10, a typo in a key names the closest key and adds no "Tuple" noise
        (
            {"models": [{"model": "m", "generation": {"sample": 4}}], "tasks": ["t"]},
            ["models.0.generation.sample: unknown key (did you mean 'samples'?)"],
        ),
        (
            {"models": [{"model": "m", "sever": {}}], "tasks": ["t"]},
            ["models.0.sever: unknown key (did you mean 'server'?)"],
        ),
        (
            {"tasks": [{"name": "t", "limt": 2}], "models": [{"model": "m"}]},
            ["tasks.0.limt: unknown key (did you mean 'limit'?)"],
        ),
        # source: negative samples must be refused, not silently clamped
        (
            {"models": [{"model": "m", "generation": {"samples": -1}}], "tasks": ["t"]},
            ["models.0.generation.samples: Input should be greater than or equal to 1"],
        ),
        ({"models": [], "tasks": ["t"]}, ["models: needs at least 1 item(s)"]),
        ({"models": [{"model": "m"}]}, ["tasks: Field required"]),
        (
            {"models": [{"model": "m"}, {"model": "m"}], "tasks": ["t"]},
            ["two entries are both named 'm'"],
        ),
        (["not", "a", "mapping"], ["expected a mapping"]),
    ],
)
def test_invalid_suites_list_every_problem(data: object, expected_problems: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_suite(data, "suite.yaml")
    message = str(caught.value)
    for expected in expected_problems:
        assert expected in message
    assert len(caught.value.problems) == len(expected_problems), message  # nothing more (no echoes)
    assert all(p.startswith("suite.yaml: ") for p in caught.value.problems)


def test_labels_distinguish_decoding_setups() -> None:
    suite = parse_suite(
        {
            "models": [
                {"model": "smollm2-135m"},
                {"model": "smollm2-135m", "generation": {"samples": 4, "temperature": 0.6}},
                {"model": "/models/Qwen2.5-7B"},
            ],
            "tasks": ["gsm8k"],
        },
        "x",
    )
    assert [m.label for m in suite.models] == ["smollm2-135m", "smollm2-135m@n4-t0.6", "Qwen2.5-7B"]


def test_config_hash_ignores_data_dir_but_not_limit() -> None:
    base = parse_suite(VALID, "x")
    assert parse_suite({**VALID, "data_dir": "/elsewhere"}, "x").config_hash() == base.config_hash()
    assert parse_suite({**VALID, "limit": 5}, "x").config_hash() != base.config_hash()


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  - model: a\n tasks: [x\n")
    with pytest.raises(ConfigError) as caught:
        load_suite_file(path)
    assert str(path) in str(caught.value) and "line" in str(caught.value)


def test_missing_suite_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such suite file"):
        load_suite_file(tmp_path / "nope.yaml")
