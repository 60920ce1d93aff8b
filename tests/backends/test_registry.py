"""The backend registry: one entry per backend, which suites, runs and the CLI all ask."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from evals.commands.check_backends import parse_backends
from evals.distributed.resources import worker_shape
from evals.errors import ConfigError, EvalsError
from evals.execute import EngineGroup
from evals.generation.base import BackendTarget, GenerationBackend
from evals.generation.registry import BACKENDS, Backend, _registry, backend_named
from evals.generation.replay import ReplayBackend
from evals.generation.vllm_backend import resolve_engine_setup
from evals.plan import ModelPlan, locate_model
from evals.runner import RunOptions, run_suite
from evals.suite import ModelEntrySpec, parse_suite

TASKS = [{"name": "arith-easy", "limit": 3}]

# (case, model entry, the one problem parse_suite reports) -- source: issue 9, the checks that
# compared backend strings in suite.py now read the registry and must say the same.
BAD_ENTRIES = [
    ("unknown backend, closest named", {"model": "m", "backend": "vlm"},
     "models.0.backend: Input should be 'vllm', 'openai' or 'hf' (did you mean 'vllm'?)"),
    ("served backend without a server", {"model": "m", "backend": "openai"},
     "models.0: Value error, backend 'openai' needs a server: {base_url: ...}"),
    ("server on an offline backend", {"model": "m", "backend": "hf", "server": {"base_url": "http://h/v1"}},
     "models.0: Value error, server is only used by backend 'openai', not 'hf'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "entry", "problem"), BAD_ENTRIES, ids=[c[0] for c in BAD_ENTRIES])
def test_suite_backend_problems_come_from_the_registry(
    case: str, entry: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_suite({"models": [entry], "tasks": ["gsm8k"]}, "s.yaml")
    assert caught.value.problems == (f"s.yaml: {problem}",)


def test_a_name_declared_twice_is_refused() -> None:
    vllm = BACKENDS["vllm"]
    with pytest.raises(ValueError, match="'vllm' is declared twice"):
        _registry(vllm, replace(vllm, description="another"))


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda: backend_named("openia"), "unknown backend 'openia' (did you mean 'openai'?)"),
        (lambda: parse_backends("vllm,hff"), "--backends: unknown backend 'hff' (did you mean 'hf'?)"),
    ],
)
def test_unknown_names_suggest_the_closest_backend(lookup: Any, message: str) -> None:
    with pytest.raises(EvalsError) as caught:
        lookup()
    assert str(caught.value).startswith(message)


def _replay(target: BackendTarget) -> GenerationBackend:
    """A test backend's factory: it answers each item's gold, as a model that is always right."""
    assert target.entry.backend == "replay" and Path(target.model_path).is_dir()
    return ReplayBackend(lambda request: f"The answer is {request.prompt.item.gold}.")


REPLAY = Backend(
    "replay", "answers from a table", _replay, served=False, uses_gpu=False, token_priced=False,
    probes=False, reproducible=False, engine_log=False, default_concurrency=None,
)  # fmt: skip


def test_a_backend_added_by_one_entry_runs_a_suite(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Adding a backend is one module and one registry entry: validation, planning and runs follow."""
    monkeypatch.setitem(BACKENDS, "replay", REPLAY)  # type: ignore[arg-type]
    suite = parse_suite({"models": [{"model": "smollm2-135m", "backend": "replay"}], "tasks": TASKS}, "t")
    outcome = run_suite(suite, RunOptions(out=tmp_path / "run", quiet=True))
    assert [(row.model, row.accuracy, row.n_items) for row in outcome.rows] == [("smollm2-135m", 1.0, 3)]
    # Its traits decide: no probes, so budgets are refused before anything runs.
    with pytest.raises(EvalsError, match="the replay backend cannot probe"):
        run_suite(
            suite.model_copy(update={"budgets": (8,)}), RunOptions(out=tmp_path / "budgets", quiet=True)
        )
    assert not (tmp_path / "budgets").exists()


# (backend, engine on a GPU, GPUs a Ray worker reserves) -- source: issue 9, resources.py compared
# the backend's name with "openai"; the registry's uses_gpu trait decides now.
SHAPES = [("vllm", True, 1), ("hf", True, 1), ("openai", True, 0), ("vllm", False, 0), ("hf", False, 0)]


@pytest.mark.parametrize(("backend", "on_gpu", "gpus"), SHAPES)
def test_ray_workers_reserve_gpus_for_engines_in_the_process(backend: str, on_gpu: bool, gpus: int) -> None:
    server = {"base_url": "http://127.0.0.1:9/v1"} if backend == "openai" else None
    entry = ModelEntrySpec(model="smollm2-135m", backend=backend, server=server)  # type: ignore[arg-type]
    group = EngineGroup(
        (ModelPlan(entry, locate_model(entry), ()),), resolve_engine_setup(entry.engine, on_gpu)
    )
    assert worker_shape(group).num_gpus == gpus
