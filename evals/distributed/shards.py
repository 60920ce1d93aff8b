"""Shards: the unit of work a Ray worker pulls, and what it sends back.

A shard is one suite entry (model label), one task and a batch of items with all
of their pending samples, so the n samples of an item always travel together. Under
thinking budgets a shard also carries what its worker probes right after generating
(the prefix cache still holds the samples): the probes of its new samples, from
``probe_spec``, and the missing probes of stored samples (``probes``), adjacent per sample.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from evals.generation.base import GenerationRequest
from evals.probes import ProbeCompletion, ProbeRequest, probe_requests, stored_sample
from evals.records import Completion

# Longest error text kept per failed sample (the first line of the exception).
ERROR_CHARS = 300


@dataclass(frozen=True)
class ProbeSpec:
    """How a worker probes the samples it has just generated (budgets, per-item closings)."""

    budgets: tuple[int, ...]
    closings: Mapping[tuple[str, str], str]  # (task, item_id) -> closing text
    max_tokens: int

    def requests_for(
        self, requests: Sequence[GenerationRequest], completions: Sequence[Completion]
    ) -> list[ProbeRequest]:
        """The budget and fidelity probes of freshly generated ``completions``."""
        prompts = {r.key: r.prompt for r in requests}
        samples = [stored_sample(c, prompts[c.key]) for c in completions if c.error is None]
        return probe_requests(samples, self.budgets, self.closings, self.max_tokens, set())


@dataclass(frozen=True)
class Shard:
    """Items of one model x task, with every pending sample and missing probe of each, for one worker."""

    shard_id: str
    group: int  # index of the engine group whose workers run it
    model: str
    task: str
    requests: tuple[GenerationRequest, ...]
    attempts: int = 0  # failed attempts so far
    probes: tuple[ProbeRequest, ...] = ()  # missing probes of samples already stored
    probe_spec: ProbeSpec | None = None  # probes of the samples generated here (None: no budgets)
    alone: bool = False  # failed in a call of several shards: runs in a call of its own from now on

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Every item the shard touches: generated or probed."""
        return tuple(
            dict.fromkeys([*(r.key.item_id for r in self.requests), *(p.key.item_id for p in self.probes)])
        )

    @property
    def generated_items(self) -> int:
        """Items whose samples the shard generates (progress counts these)."""
        return len({r.key.item_id for r in self.requests})

    def retried(self) -> Shard:
        return replace(self, attempts=self.attempts + 1)

    def split(self) -> list[Shard]:
        """One shard per item, each counting this failure: a bad item fails alone."""
        return [
            replace(
                self,
                shard_id=f"{self.shard_id}.{index}",
                requests=tuple(r for r in self.requests if r.key.item_id == item_id),
                probes=tuple(p for p in self.probes if p.key.item_id == item_id),
                attempts=self.attempts + 1,
            )
            for index, item_id in enumerate(self.item_ids)
        ]


@dataclass(frozen=True)
class WorkerIdentity:
    """Where a worker runs: recorded with every shard it finishes."""

    worker_id: str  # the Ray actor id
    node_id: str  # the Ray node id
    host: str
    pid: int
    # Sequences its engine runs at once; the driver fills a call up to it. None: one shard a call.
    max_sequences: int | None = None

    @property
    def short(self) -> str:
        return f"{self.worker_id[:6]}@{self.node_id[:6]}"


@dataclass(frozen=True)
class ShardResult:
    """The completions of every request of a shard, its probes, and who produced them."""

    shard_id: str
    completions: tuple[Completion, ...]
    worker: WorkerIdentity
    seconds: float  # wall time of the shard on the worker
    probes: tuple[ProbeCompletion, ...] = ()


def make_shards(
    group: int,
    model: str,
    task: str,
    requests: Sequence[GenerationRequest],
    shard_size: int,
    first_id: int,
    probes: Sequence[ProbeRequest] = (),
    probe_spec: ProbeSpec | None = None,
) -> list[Shard]:
    """Split one model x task's pending samples and probes into shards of ``shard_size`` items.

    An item's samples and its stored samples' missing probes go to the same shard; probes
    keep their order (each sample's probes adjacent).
    """
    by_item: dict[str, tuple[list[GenerationRequest], list[ProbeRequest]]] = {}
    for request in requests:
        by_item.setdefault(request.key.item_id, ([], []))[0].append(request)
    for probe in probes:
        by_item.setdefault(probe.key.item_id, ([], []))[1].append(probe)
    item_ids = list(by_item)
    shards = []
    for index, start in enumerate(range(0, len(item_ids), shard_size)):
        chunk = item_ids[start : start + shard_size]
        spec = probe_spec
        if spec is not None:  # only this shard's closings travel with it
            spec = replace(spec, closings={(task, i): spec.closings[(task, i)] for i in chunk})
        shards.append(
            Shard(
                shard_id=f"{first_id + index:05d}",
                group=group,
                model=model,
                task=task,
                requests=tuple(r for i in chunk for r in by_item[i][0]),
                probes=tuple(p for i in chunk for p in by_item[i][1]),
                probe_spec=spec,
            )
        )
    return shards


def one_line(error: BaseException) -> str:
    """An exception as one short line: the original error of a Ray task when there is one."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, BaseException):
        error = cause
    text = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 3] + "..."


def failed_completions(shard: Shard, error: str) -> list[Completion]:
    """Records for every sample of a shard that failed for good (scored as status ``error``)."""
    return [
        Completion(
            key=request.key,
            prompt_text="\n\n".join(m.content for m in request.prompt.messages),
            output="",
            reasoning=None,
            prompt_tokens=0,
            completion_tokens=0,
            finish_reason="error",
            engine_seconds=0.0,
            seed=request.sampling.seed,
            error=error,
        )
        for request in shard.requests
    ]


def failed_probes(shard: Shard, error: str) -> list[ProbeCompletion]:
    """Rows for the stored samples' probes of a shard that failed for good (a rerun probes them again)."""
    return [ProbeCompletion(probe, "", "", 0, 0, "error", 0.0, error) for probe in shard.probes]


def missing_keys(shard: Shard, completions: Sequence[Completion]) -> Iterator[str]:
    """Sample keys of ``shard`` that ``completions`` does not cover (a backend bug if any)."""
    produced = {c.key for c in completions}
    for request in shard.requests:
        if request.key not in produced:
            yield f"{request.key.item_id}#{request.key.sample_idx}"
