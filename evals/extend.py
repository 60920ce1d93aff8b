"""``evals extend RUN --max-tokens N``: continue answers cut at the cap, regenerating no prefix.

Each sample that stopped at its token limit continues from its prompt and its own
tokens so far, with its own sampling settings, up to N tokens in all. The longer
completion is written as a new part (atomically); the store keeps, per sample, its
longest successful completion, so a killed extension resumes and a second call
finds nothing left to continue. The manifest records each extension.
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from evals.budget_run import open_finished_run
from evals.errors import EvalsError
from evals.execute import EngineGroup, LocalExecutor, store_completions
from evals.generation.base import SamplingSettings
from evals.generation.continuation import ExtendRequest
from evals.plan import ModelPlan
from evals.progress import TaskProgress
from evals.records import Completion, SampleKey
from evals.runner import RunOutcome, cost_bases, finalize_run
from evals.store import RunStore


def stored_completion(row: dict[str, Any]) -> Completion:
    ids = row["output_token_ids"]
    return Completion(
        key=SampleKey(row["model"], row["task"], row["item_id"], row["sample_idx"]),
        prompt_text=row["prompt"],
        output=row["output"],
        reasoning=row["reasoning"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        finish_reason=row["finish_reason"],
        engine_seconds=row["engine_seconds"],
        seed=row["seed"],
        error=row["error"],
        output_token_ids=None if ids is None else tuple(ids),
    )


def extend_requests(model: ModelPlan, store: RunStore, max_tokens: int, seed: int) -> list[ExtendRequest]:
    """Samples of ``model`` that stopped at their limit below ``max_tokens``."""
    cut = {
        (row["task"], row["item_id"], row["sample_idx"]): stored_completion(row)
        for row in store.read_completions().to_pylist()
        if row["model"] == model.label and row["error"] is None and row["finish_reason"] == "length"
        and row["completion_tokens"] < max_tokens
    }  # fmt: skip
    requests = []
    for task in model.tasks:
        for request in model.requests(task, seed):
            stored = cut.get((task.name, request.key.item_id, request.key.sample_idx))
            if stored is not None:
                more = SamplingSettings(
                    request.sampling.temperature,
                    request.sampling.top_p,
                    max_tokens - stored.completion_tokens,
                    request.sampling.seed,
                )
                requests.append(ExtendRequest(replace(request, sampling=more), stored))
    return requests


def extend_run(
    run_dir: Path,
    max_tokens: int,
    *,
    data_dir: Path | None = None,
    prices: Path | None = None,
    executor: LocalExecutor | None = None,
) -> RunOutcome:
    """Continue every truncated sample of a finished run to ``max_tokens``; ``generated`` counts them."""
    run = open_finished_run(run_dir, data_dir)  # at the cap of its last extension, if any
    store, suite = run.store, run.plan.suite
    # Extending again to the same cap continues nothing (or what a killed extension left).
    again = max_tokens in {int(stamp["max_tokens"]) for stamp in run.manifest.extended}
    for model in run.plan.models:
        for task in model.tasks:
            if task.max_tokens > max_tokens or (task.max_tokens == max_tokens and not again):
                raise EvalsError(
                    f"--max-tokens {max_tokens} is not above the run's max_tokens {task.max_tokens} "
                    f"({model.label} on {task.name})"
                )
    factory = (executor or LocalExecutor()).backend
    generated = 0
    for group in run.groups:
        requests = [r for m in group.models for r in extend_requests(m, store, max_tokens, suite.seed)]
        if requests:
            _extend_group(factory(group.lead, group.setup, suite.seed), group, requests, store)
            generated += len(requests)
    stamp = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "max_tokens": max_tokens, "continued": generated}
    store.update_manifest(extended=(*run.manifest.extended, stamp))
    rows = finalize_run(store, run.plan, cost_bases(suite, run.hardware, prices))
    return RunOutcome(store.root, tuple(rows), generated)


def _extend_group(backend: Any, group: EngineGroup, requests: list[ExtendRequest], store: RunStore) -> None:
    bars = {(m.label, t.name): TaskProgress(f"{m.label} / {t.name} (extend)", 0, 0, True, 0)
            for m in group.models for t in m.tasks}  # fmt: skip
    try:
        extend = getattr(backend, "extend", None)
        if extend is None:
            raise EvalsError(f"{type(backend).__name__} cannot continue stored tokens")
        extend(requests, functools.partial(store_completions, store, bars))
    finally:
        backend.close()
