"""Nondeterminism: generate sample 0 of a few items again and compare with the stored answers.

The re-run uses the run's own settings and per-sample seeds (greedy for a greedy run),
the engine setup its manifest recorded, and a batch of just these items, so a
difference comes from the engine (batch shape, threads, kernels), not from the config.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evals.diagnose.causes import Cause
from evals.execute import default_backend
from evals.generation.base import GenerationBackend
from evals.generation.vllm_backend import EngineSetup, resolve_engine_setup
from evals.plan import ModelPlan, build_plan
from evals.records import Completion
from evals.run_records import Manifest
from evals.store import completion_row
from evals.suite import parse_suite

BackendFactory = Callable[[ModelPlan, EngineSetup, int], GenerationBackend]


@dataclass(frozen=True)
class RerunResult:
    n_items: int
    identical: int  # same output text
    same_verdict: int
    accuracy_stored: float | None  # over the re-run items' judged samples
    accuracy_rerun: float | None


def _one_cell_suite(manifest: Manifest, label: str, task: str, source: str) -> Any:
    """The run's suite cut down to one model entry and one task."""
    suite = parse_suite(manifest.config, source)
    data = suite.model_dump(mode="json")
    data["models"] = [m.model_dump(mode="json") for m in suite.models if m.label == label]
    data["tasks"] = [t.model_dump(mode="json") for t in suite.tasks if t.name == task]
    return parse_suite(data, source)


def _setup(manifest: Manifest, model: ModelPlan) -> EngineSetup:
    entry = manifest.models.get(model.label)
    if entry is not None and entry.engine_setup is not None:
        return EngineSetup(**entry.engine_setup)
    on_gpu = manifest.hardware.accelerator != "cpu-core"
    return resolve_engine_setup(model.entry.engine, on_gpu)


def rerun_items(
    run_dir: Path,
    manifest: Manifest,
    stored: pd.DataFrame,
    n: int,
    data_dir: Path | None,
    backend: BackendFactory = default_backend,
) -> RerunResult:
    """Re-generate sample 0 of the first ``n`` items of one model x task (``stored``'s rows)."""
    from evals.finalize import score_frame
    from evals.scoring import Scorer

    label, task = str(stored["model"].iloc[0]), str(stored["task"].iloc[0])
    suite = _one_cell_suite(manifest, label, task, str(run_dir / "manifest.json"))
    plan = build_plan(suite, data_dir or (Path(suite.data_dir) if suite.data_dir else None))
    model = plan.models[0]
    first = stored[stored["sample_idx"] == 0].sort_values("item_id")
    wanted = set(first["item_id"].head(n))
    every = model.requests(model.tasks[0], suite.seed)
    requests = [r for r in every if r.key.sample_idx == 0 and r.key.item_id in wanted]
    engine = backend(model, _setup(manifest, model), suite.seed)
    completions: list[Completion] = []
    try:
        engine.generate(requests, completions.extend)
    finally:
        engine.close()
    fresh = pd.DataFrame([completion_row(c) for c in completions])
    gold = first[["item_id", "gold", "answer_type", "choices", "subtask"]]
    with Scorer() as scorer:
        rescored = score_frame(fresh.merge(gold, on="item_id"), scorer)
    old = first[first["item_id"].isin(wanted)].set_index("item_id")
    new = rescored.set_index("item_id").loc[old.index]
    return RerunResult(
        n_items=len(old),
        identical=int((old["output"] == new["output"]).sum()),
        same_verdict=int((old["status"] == new["status"]).sum()),
        accuracy_stored=_mean(old["correct"]),
        accuracy_rerun=_mean(new["correct"]),
    )


def _mean(correct: pd.Series) -> float | None:
    judged = correct.dropna()
    return float(judged.astype(bool).mean()) if len(judged) else None


def nondeterminism_cause(result: RerunResult, gap: float) -> Cause:
    n = result.n_items
    shift = (result.accuracy_rerun or 0.0) - (result.accuracy_stored or 0.0)
    explains = max(0.0, min(abs(gap), abs(shift))) if shift * gap > 0 else 0.0
    stored, rerun = result.accuracy_stored, result.accuracy_rerun
    return Cause(
        "nondeterminism",
        present=result.identical < n,
        explains=explains,
        summary=f"re-run of {n} items: {result.identical} identical outputs, "
        f"{result.same_verdict} same verdicts; "
        f"accuracy on them {_pct(stored)} stored vs {_pct(rerun)} re-run",
        figures={
            "n_items": n,
            "identical": result.identical,
            "same_verdict": result.same_verdict,
            "accuracy_stored": stored,
            "accuracy_rerun": rerun,
        },  # fmt: skip
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
