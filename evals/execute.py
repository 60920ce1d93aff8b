"""Executing generation: which engine generates which pending samples.

The local executor runs one engine per group of entries sharing a model, on this
machine; ``evals.distributed`` runs the same groups on a Ray cluster. Both write
completions to the same store as they finish.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Protocol, TextIO

from evals.engine_log import ENGINE_LOG, engine_output_to
from evals.errors import EvalsError
from evals.generation.base import BackendTarget, GenerationBackend, GenerationRequest
from evals.generation.registry import backend_named
from evals.generation.vllm_backend import EngineSetup, VLLMBackend
from evals.hardware import Hardware, detect_hardware
from evals.part_writer import PartWriter
from evals.plan import ModelPlan
from evals.probes import (
    ProbeCompletion,
    ProbeRequest,
    StoredSample,
    done_probe_keys,
    probe_requests,
    write_probe_part,
)
from evals.profile import Profile
from evals.progress import TaskProgress
from evals.records import Completion, SampleKey
from evals.store import RunStore

BackendFactory = Callable[[ModelPlan, EngineSetup, int], GenerationBackend]
Pending = dict[tuple[str, str], list[GenerationRequest]]  # (model label, task) -> requests
# An adaptive run's rounds: each call gives the next round's groups, None once the rules stop every track.
NextRound = Callable[[], "Sequence[EngineGroup] | None"]


def default_backend(model: ModelPlan, setup: EngineSetup, seed: int) -> GenerationBackend:
    """The backend the suite entry names (see ``evals.generation.registry``)."""
    target = BackendTarget(model.entry, str(model.model.path_or_id), setup, seed)
    return backend_named(model.entry.backend).factory(target)


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
    # Entries rendering prompts with other chat-template arguments need their own backend.
    template = json.dumps(entry.generation.chat_template_kwargs, sort_keys=True)
    return entry.backend, str(model.model.path_or_id), entry.engine.model_dump_json() + template


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


def progress_bars(
    group: EngineGroup, pending: Pending, quiet: bool, stream: TextIO | None = None
) -> dict[tuple[str, str], TaskProgress]:
    bars: dict[tuple[str, str], TaskProgress] = {}
    for model in group.models:
        for task in model.tasks:
            total = len(task.prompts) * model.entry.generation.samples
            left = len(pending[(model.label, task.name)])
            label = f"{model.label} / {task.name}"
            bars[(model.label, task.name)] = TaskProgress(
                label, total, total - left, quiet, len(bars), stream=stream
            )
    return bars


def store_completions(
    store: RunStore | PartWriter, bars: dict[tuple[str, str], TaskProgress], batch: Sequence[Completion]
) -> None:
    """Write a batch as one part per model x task and advance their bars."""
    by_task: dict[tuple[str, str], list[Completion]] = {}
    for completion in batch:
        by_task.setdefault((completion.key.model, completion.key.task), []).append(completion)
    for (label, task_name), completions in by_task.items():
        store.write_part(label, task_name, completions)
        bars[(label, task_name)].update(len(completions), sum(c.completion_tokens for c in completions))


def show_in_flight(bars: dict[tuple[str, str], TaskProgress], tokens: Mapping[tuple[str, str], int]) -> None:
    """Tokens of the unfinished samples of each model x task, for the bars' time left."""
    for key, bar in bars.items():
        bar.in_flight(tokens.get(key, 0))


class Executor(Protocol):
    def hardware(self, tensor_parallel_size: int) -> Hardware:
        """The hardware one engine runs on (for the manifest and cost)."""
        ...

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int, quiet: bool) -> int:
        """Generate every missing sample of ``groups`` into ``store``; return how many."""
        ...

    def run_rounds(self, next_round: NextRound, store: RunStore, seed: int, quiet: bool) -> int:
        """Generate round after round until ``next_round`` says stop; return how many samples."""
        ...


@dataclass(frozen=True)
class LocalExecutor:
    """One engine at a time on this machine; all pending samples of a group in one batched call."""

    backend: BackendFactory = default_backend
    # Adaptive rounds (--until) keep their engines up between calls here; None: close after each group.
    open_backends: dict[tuple[str, str, str], GenerationBackend] | None = None
    profile: Profile | None = None  # hears engine start and generation time, when given

    def hardware(self, tensor_parallel_size: int) -> Hardware:
        return detect_hardware(tensor_parallel_size)

    def close_open(self) -> None:
        """Close the engines kept up between calls."""
        while self.open_backends:
            self.open_backends.popitem()[1].close()

    def _backend_for(self, group: EngineGroup, seed: int) -> GenerationBackend:
        if self.open_backends is None:
            return self._started(group, seed)
        key = engine_key(group.lead)
        if key not in self.open_backends:
            self.open_backends[key] = self._started(group, seed)
        return self.open_backends[key]

    def _started(self, group: EngineGroup, seed: int) -> GenerationBackend:
        with self._phase("engine_start"):
            return self.backend(group.lead, group.setup, seed)

    def _phase(self, name: str) -> AbstractContextManager[None]:
        return self.profile.phase(name) if self.profile is not None else nullcontext()

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int, quiet: bool) -> int:
        """Generate missing samples, then their missing budget probes on the same engine."""
        generated = 0
        for group in groups:
            pending = pending_requests(group, store.done_keys(), seed)
            requests = [r for group_requests in pending.values() for r in group_requests]
            if not requests and not pending_probes(group, store):
                continue  # everything stored: the engine is never started
            # vLLM's own output goes to the run's engine.log, the bars to the terminal. Other
            # backends print only what the user must act on (no usage reported, ...): kept.
            logged = backend_named(group.lead.entry.backend).engine_log
            with engine_output_to(store.root / ENGINE_LOG if logged else None) as terminal:
                generated += self._run_group(group, pending, store, seed, quiet, terminal)
        return generated

    def run_rounds(self, next_round: NextRound, store: RunStore, seed: int, quiet: bool) -> int:
        """Each round as one batch, the engines kept up between rounds."""
        keeping = replace(self, open_backends={})
        generated = 0
        try:
            while (groups := next_round()) is not None:
                generated += keeping.run(groups, store, seed, quiet)
        finally:
            keeping.close_open()
        return generated

    def _run_group(
        self, group: EngineGroup, pending: Pending, store: RunStore, seed: int, quiet: bool, terminal: TextIO
    ) -> int:
        """Generate the group's pending samples, then its missing probes, on one backend."""
        requests = [r for group_requests in pending.values() for r in group_requests]
        backend: GenerationBackend | None = None
        try:
            if requests:
                backend = self._backend_for(group, seed)
                bars = progress_bars(group, pending, quiet, terminal)
                try:
                    # Parts are written while the engine runs; leaving waits for the last one.
                    with self._phase("generation"), PartWriter(store) as parts:
                        finished = functools.partial(store_completions, parts, bars)
                        if isinstance(backend, VLLMBackend):  # reports tokens as they are generated
                            backend.generate(requests, finished, functools.partial(show_in_flight, bars))
                        else:
                            backend.generate(requests, finished)
                finally:
                    for bar in bars.values():
                        bar.close()
                record_sent(store, group, backend)
            probes = pending_probes(group, store)
            if probes:
                backend = backend or self._backend_for(group, seed)
                with self._phase("generation"):
                    probe_with(backend, probes, functools.partial(write_probe_part, store))
        finally:
            if backend is not None and self.open_backends is None:
                backend.close()
        return len(requests)


def record_sent(store: RunStore, group: EngineGroup, backend: GenerationBackend) -> None:
    """Add to the manifest what a served model's requests carried (fields, refused temperature)."""
    sent = getattr(backend, "sent", None)
    manifest = store.read_manifest()
    if not sent or manifest is None:
        return
    store.update_manifest(sent={**manifest.sent, **{model.label: sent for model in group.models}})


def pending_probes(group: EngineGroup, store: RunStore) -> list[ProbeRequest]:
    """Budget and fidelity probes of the group's stored samples that the store lacks."""
    if not any(task.budgets for model in group.models for task in model.tasks):
        return []
    prompts = {
        (m.label, t.name): {p.item.item_id: p for p in t.prompts} for m in group.models for t in m.tasks
    }
    closings = {
        (t.name, p.item.item_id): c
        for m in group.models
        for t in m.tasks
        for p, c in zip(t.prompts, t.closings, strict=True)
    }
    samples = [
        StoredSample(
            key=SampleKey(row["model"], row["task"], row["item_id"], row["sample_idx"]),
            prompt=prompts[(row["model"], row["task"])][row["item_id"]],
            output=row["output"],
            output_token_ids=None if row["output_token_ids"] is None else tuple(row["output_token_ids"]),
            completion_tokens=int(row["completion_tokens"]),
            finished=row["finish_reason"] == "stop",
            reasoning=row["reasoning"],
        )
        for row in store.read_completions().to_pylist()
        if row["error"] is None
        and (row["model"], row["task"]) in prompts
        and row["item_id"] in prompts[(row["model"], row["task"])]
    ]
    done = done_probe_keys(store)
    return [
        request
        for model in group.models
        for task in model.tasks
        for request in probe_requests(
            [s for s in samples if (s.key.model, s.key.task) == (model.label, task.name)],
            task.budgets, closings, task.probe_max_tokens, done,
        )
    ]  # fmt: skip


def probe_with(
    backend: GenerationBackend,
    probes: Sequence[ProbeRequest],
    on_finished: Callable[[Sequence[ProbeCompletion]], None],
) -> None:
    """Run probes on a backend that can (offline vLLM, served, hf, replay); one clear error on others."""
    probe = getattr(backend, "probe", None)
    if probe is None:
        raise EvalsError(
            f"budget probes need a backend that continues token ids; {type(backend).__name__} cannot"
        )
    probe(probes, on_finished)
