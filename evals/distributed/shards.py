"""Shards: the unit of work a Ray worker pulls, and what it sends back.

A shard is one suite entry (model label), one task and a batch of items with all
of their pending samples, so the n samples of an item always travel together.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from evals.generation.base import GenerationRequest
from evals.records import Completion

# Longest error text kept per failed sample (the first line of the exception).
ERROR_CHARS = 300


@dataclass(frozen=True)
class Shard:
    """Items of one model x task, with every pending sample of each, for one worker."""

    shard_id: str
    group: int  # index of the engine group whose workers run it
    model: str
    task: str
    requests: tuple[GenerationRequest, ...]
    attempts: int = 0  # failed attempts so far

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.key.item_id for r in self.requests))

    def retried(self) -> Shard:
        return replace(self, attempts=self.attempts + 1)

    def split(self) -> list[Shard]:
        """One shard per item, each counting this failure: a bad item fails alone."""
        return [
            replace(
                self,
                shard_id=f"{self.shard_id}.{index}",
                requests=tuple(r for r in self.requests if r.key.item_id == item_id),
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

    @property
    def short(self) -> str:
        return f"{self.worker_id[:6]}@{self.node_id[:6]}"


@dataclass(frozen=True)
class ShardResult:
    """The completions of every request of a shard, and who produced them."""

    shard_id: str
    completions: tuple[Completion, ...]
    worker: WorkerIdentity
    seconds: float  # wall time of the shard on the worker


def make_shards(
    group: int, model: str, task: str, requests: Sequence[GenerationRequest], shard_size: int, first_id: int
) -> list[Shard]:
    """Split one model x task's pending requests into shards of ``shard_size`` items."""
    by_item: dict[str, list[GenerationRequest]] = {}
    for request in requests:
        by_item.setdefault(request.key.item_id, []).append(request)
    items = list(by_item.values())
    return [
        Shard(
            shard_id=f"{first_id + index:05d}",
            group=group,
            model=model,
            task=task,
            requests=tuple(r for item in items[start : start + shard_size] for r in item),
        )
        for index, start in enumerate(range(0, len(items), shard_size))
    ]


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


def missing_keys(shard: Shard, completions: Sequence[Completion]) -> Iterator[str]:
    """Sample keys of ``shard`` that ``completions`` does not cover (a backend bug if any)."""
    produced = {c.key for c in completions}
    for request in shard.requests:
        if request.key not in produced:
            yield f"{request.key.item_id}#{request.key.sample_idx}"
