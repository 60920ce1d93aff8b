"""Executing generation: which engine generates which pending samples.

The local executor runs one engine per group of entries sharing a model, on this
machine; ``evals.distributed`` runs the same groups on a Ray cluster. Both write
completions to the same store as they finish.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from evals.generation.base import GenerationBackend, GenerationRequest
from evals.generation.vllm_backend import EngineSetup, VLLMBackend
from evals.hardware import Hardware, detect_hardware
from evals.plan import ModelPlan
from evals.progress import TaskProgress
from evals.records import Completion
from evals.store import RunStore

BackendFactory = Callable[[ModelPlan, EngineSetup, int], GenerationBackend]
Pending = dict[tuple[str, str], list[GenerationRequest]]  # (model label, task) -> requests


def default_backend(model: ModelPlan, setup: EngineSetup, seed: int) -> GenerationBackend:
    """The backend the suite entry names: offline vLLM, an OpenAI-compatible server, or transformers."""
    backend = model.entry.backend
    if backend == "openai":
        from evals.generation.openai_backend import make_openai_backend

        return make_openai_backend(model, seed)
    if backend == "hf":
        from evals.generation.hf_backend import make_hf_backend

        return make_hf_backend(model, setup, seed)
    return VLLMBackend(str(model.model.path_or_id), model.entry.engine, setup, seed)


@dataclass(frozen=True)
class EngineGroup:
    """Suite entries that share a model and engine options, so they share one engine."""

    models: tuple[ModelPlan, ...]
    setup: EngineSetup

    @property
    def lead(self) -> ModelPlan:
        return self.models[0]


def engine_key(model: ModelPlan) -> tuple[str, str, str]:
    """Entries with the same key share one engine."""
    entry = model.entry
    return entry.backend, str(model.model.path_or_id), entry.engine.model_dump_json()


def engine_groups(models: Sequence[ModelPlan], setups: dict[str, EngineSetup]) -> list[EngineGroup]:
    grouped: dict[tuple[str, str, str], list[ModelPlan]] = {}
    for model in models:
        grouped.setdefault(engine_key(model), []).append(model)
    return [EngineGroup(tuple(group), setups[group[0].label]) for group in grouped.values()]


def pending_requests(group: EngineGroup, done: set[tuple[str, str, str, int]], seed: int) -> Pending:
    """Every sample of the group that the store does not hold yet, by model x task."""
    return {
        (model.label, task.name): [r for r in model.requests(task, seed) if r.key.as_tuple() not in done]
        for model in group.models
        for task in model.tasks
    }


def progress_bars(group: EngineGroup, pending: Pending, quiet: bool) -> dict[tuple[str, str], TaskProgress]:
    bars: dict[tuple[str, str], TaskProgress] = {}
    for model in group.models:
        for task in model.tasks:
            total = len(task.prompts) * model.entry.generation.samples
            left = len(pending[(model.label, task.name)])
            label = f"{model.label} / {task.name}"
            bars[(model.label, task.name)] = TaskProgress(label, total, total - left, quiet, len(bars))
    return bars


def store_completions(
    store: RunStore, bars: dict[tuple[str, str], TaskProgress], batch: Sequence[Completion]
) -> None:
    """Write a batch as one part per model x task and advance their bars."""
    by_task: dict[tuple[str, str], list[Completion]] = {}
    for completion in batch:
        by_task.setdefault((completion.key.model, completion.key.task), []).append(completion)
    for (label, task_name), completions in by_task.items():
        store.write_part(label, task_name, completions)
        bars[(label, task_name)].update(len(completions))


class Executor(Protocol):
    def hardware(self, tensor_parallel_size: int) -> Hardware:
        """The hardware one engine runs on (for the manifest and cost)."""
        ...

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int, quiet: bool) -> int:
        """Generate every missing sample of ``groups`` into ``store``; return how many."""
        ...


@dataclass(frozen=True)
class LocalExecutor:
    """One engine at a time on this machine; all pending samples of a group in one batched call."""

    backend: BackendFactory = default_backend

    def hardware(self, tensor_parallel_size: int) -> Hardware:
        return detect_hardware(tensor_parallel_size)

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int, quiet: bool) -> int:
        session = LocalSession(self.backend, quiet, keep_open=False)
        try:
            return session.run(groups, store, seed)
        finally:
            session.close()


class LocalSession:
    """Runs groups on this machine; with ``keep_open`` engines survive between calls (adaptive rounds)."""

    def __init__(self, backend: BackendFactory, quiet: bool, *, keep_open: bool) -> None:
        self._factory, self._quiet, self._keep_open = backend, quiet, keep_open
        self._open: dict[tuple[str, str, str], GenerationBackend] = {}

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int) -> int:
        generated = 0
        for group in groups:
            pending = pending_requests(group, store.done_keys(), seed)
            requests = [r for group_requests in pending.values() for r in group_requests]
            if not requests:
                continue  # everything stored: the engine is never started
            key = engine_key(group.lead)
            backend = self._open.get(key) or self._factory(group.lead, group.setup, seed)
            self._open[key] = backend
            bars = progress_bars(group, pending, self._quiet)
            try:
                backend.generate(requests, functools.partial(store_completions, store, bars))
            finally:
                for bar in bars.values():
                    bar.close()
                if not self._keep_open:
                    self.close()
            generated += len(requests)
        return generated

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].close()
