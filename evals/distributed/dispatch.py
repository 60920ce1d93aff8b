"""Hand shards to idle workers, store what they return, replace workers that fail.

Ray places the workers, moves the data and detects dead processes and nodes; this
loop only decides what happens to a shard: each worker pulls the next shards of
its model when it finishes a call, so a slow worker never holds the others back.
A call takes as many shards as the worker's engine runs at once, within the worker's
share of the queue (:func:`shards_per_call`): small shards still fill the engine's
batch, as in a local run. A shard whose worker died or raised goes back to the front
of the queue (any live worker takes it); after ``max_attempts`` failures its samples
are stored with the error. Results are written by the driver (its ``PartWriter``
thread) once per shard.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from evals.distributed.connect import Capacity
from evals.distributed.progress import RunProgress, ShardLog
from evals.distributed.resources import (
    WorkerShape,
    actor_options,
    create_placement_group,
    fits,
    scaled,
    subtract,
)
from evals.distributed.shards import (
    Shard,
    ShardResult,
    WorkerIdentity,
    failed_completions,
    failed_probes,
    one_line,
)
from evals.distributed.worker import ShardWorker, engine_backend
from evals.errors import EvalsError
from evals.execute import BackendFactory, EngineGroup
from evals.part_writer import PartWriter
from evals.store import RunStore

# How often the loop wakes without results, to refresh progress and check for starvation.
TICK_S = 1.0
# A group gives up when its workers failed to start this many times with none running.
MAX_START_FAILURES = 2


@dataclass
class WorkerSlot:
    handle: Any
    placement_group: Any | None
    identity: WorkerIdentity | None = None  # None until the engine has started
    shards: tuple[Shard, ...] = ()  # the call in flight (empty: idle)
    sent_at: float = 0.0  # when the current call was sent (perf_counter)


@dataclass
class GroupRun:
    """One engine group's queue of shards and its workers."""

    index: int
    group: EngineGroup
    shape: WorkerShape
    queue: deque[Shard]
    target: int  # how many workers it wants
    workers: list[WorkerSlot] = field(default_factory=list)
    start_failures: int = 0
    starved_since: float | None = None

    @property
    def label(self) -> str:
        return ", ".join(m.label for m in self.group.models)

    @property
    def drained(self) -> bool:
        return not self.queue and all(not slot.shards for slot in self.workers)


@dataclass(frozen=True)
class DispatchSettings:
    seed: int
    max_attempts: int
    worker_wait_s: float
    backend: BackendFactory = engine_backend  # pickled to every worker, which builds its engine with it
    # The driver's engine settings as each worker's runtime_env (not needed on a Ray the driver started).
    forward_env: bool = True


def shards_per_call(queue: Sequence[Shard], max_sequences: int | None, workers: int) -> int:
    """How many shards from the queue's head one call takes (guided self-scheduling).

    At least one; more while their requests fit what the worker's engine runs at once
    (``max_sequences``; None: one) and the call stays within the worker's share of the
    queue (1/``workers``), so the last shards still spread over every worker. A shard that
    failed before runs alone: a bad item is then isolated as when every call had one shard.
    """
    if not queue or max_sequences is None or _alone(queue[0]):
        return min(1, len(queue))
    share = -(-len(queue) // max(1, workers))
    taken, sequences = 1, _sequences(queue[0])
    while (
        taken < share and not _alone(queue[taken]) and sequences + _sequences(queue[taken]) <= max_sequences
    ):
        sequences += _sequences(queue[taken])
        taken += 1
    return taken


def _alone(shard: Shard) -> bool:
    return shard.alone or shard.attempts > 0


def _sequences(shard: Shard) -> int:
    return max(len(shard.requests), len(shard.probes))


def _died(error: BaseException) -> bool:
    import ray

    return isinstance(error, ray.exceptions.RayActorError)


class Dispatcher:
    """Runs groups side by side while the cluster holds their workers, else one after another."""

    def __init__(self, runs: list[GroupRun], store: RunStore, progress: RunProgress, log: ShardLog,
                 capacity: Capacity, settings: DispatchSettings,
                 next_round: Callable[[], list[GroupRun] | None] | None = None) -> None:  # fmt: skip
        self._waiting = deque(runs)
        self._active: list[GroupRun] = []
        self._refs: dict[Any, tuple[GroupRun, WorkerSlot, tuple[Shard, ...] | None]] = {}
        self._writer = PartWriter(store)
        self._progress = progress
        self._log = log
        self._capacity = capacity
        self._settings = settings
        self._next_round = next_round  # adaptive runs: the next round's shards, None once stopped
        self.generated = 0

    def run(self) -> int:
        import ray

        try:
            while self._waiting or self._active:
                self._start_groups()
                self._dispatch()
                if self._refs:
                    ready, rest = ray.wait(list(self._refs), num_returns=1, timeout=TICK_S)
                    if ready and rest:
                        ready += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
                    for ref in ready:
                        self._settle(ref)
                else:
                    time.sleep(TICK_S)
                self._start_next_round()
                self._check_starved()
                self._finish_drained()
                self._progress.refresh()
        finally:
            for run in list(self._active):
                self._stop_workers(run)
            self._writer.close()  # every result received is stored before run() returns
        return self.generated

    def _start_next_round(self) -> None:
        """Once every shard handed out is stored, queue the next round's (adaptive runs).

        ``next_round`` checks the stopping rules on the driver first, so no shard is
        handed out once they are met; the workers of a group with more work stay up.
        """
        if self._next_round is None or self._waiting or not all(run.drained for run in self._active):
            return
        self._writer.flush()  # the stopping rules read what is stored
        runs = self._next_round()
        if runs is None:
            self._next_round = None
            return
        active = {run.index: run for run in self._active}
        for run in runs:
            if run.index in active:
                active[run.index].group = run.group  # the models still running
                active[run.index].queue.extend(run.queue)
            else:
                self._waiting.append(run)

    def _start_groups(self) -> None:
        free = dict(self._capacity.resources)
        for run in self._active:
            free = subtract(free, scaled(run.shape.demand(), run.target))
        while self._waiting:
            demand = scaled(self._waiting[0].shape.demand(), self._waiting[0].target)
            if self._active and not fits(demand, free):
                return  # one after another: the next group starts when this one's workers are gone
            run = self._waiting.popleft()
            self._active.append(run)
            free = subtract(free, demand)
            for _ in range(run.target):
                self._start_worker(run)

    def _start_worker(self, run: GroupRun) -> None:
        import ray

        placement_group = create_placement_group(run.shape)
        options = actor_options(run.shape, placement_group, self._settings.forward_env)
        model = replace(run.group.lead, tasks=())  # the worker needs the model, not the items
        actor: Any = ray.remote(ShardWorker)
        handle = actor.options(**options).remote(
            model, run.group.setup, self._settings.seed, self._settings.backend
        )
        slot = WorkerSlot(handle, placement_group)
        run.workers.append(slot)
        self._refs[handle.identity.remote()] = (run, slot, None)

    def _dispatch(self) -> None:
        for run in self._active:
            for slot in run.workers:
                if slot.identity is not None and not slot.shards and run.queue:
                    count = shards_per_call(run.queue, slot.identity.max_sequences, run.target)
                    slot.shards = tuple(run.queue.popleft() for _ in range(count))
                    slot.sent_at = time.perf_counter()
                    self._refs[slot.handle.run_shards.remote(slot.shards)] = (run, slot, slot.shards)
                    self._progress.shard_started(slot.identity.worker_id)

    def _settle(self, ref: Any) -> None:
        import ray

        run, slot, shards = self._refs.pop(ref)
        try:
            value = ray.get(ref)
        except ray.exceptions.RayError as error:
            if shards is None:
                self._start_failed(run, slot, error)
            else:
                self._call_failed(run, slot, shards, error)
            return
        if shards is None:
            slot.identity = value
            self._progress.worker_ready(value)
            self._log.record("worker_ready", None, value, group=run.label)
        else:
            self._call_done(slot, shards, value)

    def _call_done(self, slot: WorkerSlot, shards: tuple[Shard, ...], results: list[ShardResult]) -> None:
        answered = [result.shard_id for result in results]
        if answered != [shard.shard_id for shard in shards]:
            raise RuntimeError(f"worker answered shards {answered} for {[s.shard_id for s in shards]}")
        round_trip = time.perf_counter() - slot.sent_at
        slot.shards = ()
        for shard, result in zip(shards, results, strict=True):
            self._writer.put(shard.model, shard.task, result.completions, result.probes)
            self.generated += len(result.completions)
            self._progress.shard_finished(shard, result.worker.worker_id, failed=False)
            self._log.record("shard_done", shard, result.worker, seconds=round(result.seconds, 4),
                             round_trip=round(round_trip, 4), call_shards=len(shards))  # fmt: skip
        self._dispatch()

    def _call_failed(
        self, run: GroupRun, slot: WorkerSlot, shards: tuple[Shard, ...], error: BaseException
    ) -> None:
        """A one-shard call fails as that shard; a call of several sends each back, to run alone next."""
        if len(shards) == 1:
            self._shard_failed(run, slot, shards[0], error)
            return
        message = one_line(error)
        self._retire(run, slot, "worker_lost" if _died(error) else "worker_replaced", message)
        # Not counted as an attempt of each: which shard failed is not known until they run alone.
        run.queue.extendleft(reversed([replace(shard, alone=True) for shard in shards]))
        for shard in shards:
            self._log.record("shard_retry", shard, slot.identity, error=message, call_shards=len(shards))
        self._replace_worker(run, message)

    def _shard_failed(self, run: GroupRun, slot: WorkerSlot, shard: Shard, error: BaseException) -> None:
        """Split a failed multi-item shard into items; retry an item until ``max_attempts``."""
        message = one_line(error)
        # A worker that raised mid-shard may hold half-added requests: a fresh process replaces it.
        self._retire(run, slot, "worker_lost" if _died(error) else "worker_replaced", message)
        if len(shard.item_ids) > 1:
            pieces = shard.split()
            run.queue.extendleft(reversed(pieces))
            self._progress.shards_total += len(pieces) - 1
            self._log.record("shard_split", shard, slot.identity, error=message)
        elif shard.attempts + 1 >= self._settings.max_attempts:
            completions = failed_completions(shard, message)
            probes = failed_probes(shard, message) if shard.probes else []
            self._writer.put(shard.model, shard.task, completions, probes)
            self.generated += len(completions)
            self._progress.shard_finished(shard, None, failed=True)
            self._log.record("shard_failed", shard, slot.identity, error=message)
        else:
            run.queue.appendleft(shard.retried())
            self._log.record("shard_retry", shard, slot.identity, error=message)
        self._replace_worker(run, message)

    def _start_failed(self, run: GroupRun, slot: WorkerSlot, error: BaseException) -> None:
        message = one_line(error)
        run.start_failures += 1
        self._retire(run, slot, "worker_failed", message)
        if run.start_failures >= MAX_START_FAILURES and not any(w.identity for w in run.workers):
            raise EvalsError(f"{run.label}: no worker could start its engine: {message}")
        self._replace_worker(run, message)

    def _replace_worker(self, run: GroupRun, message: str) -> None:
        """Start a worker for a lost one while work is left (shard failures are bounded by attempts)."""
        if not run.queue or len(run.workers) >= run.target:
            return
        if run.start_failures <= 2 * run.target:
            self._start_worker(run)
        elif not run.workers:
            raise EvalsError(f"{run.label}: workers keep failing to start; last error: {message}")

    def _retire(self, run: GroupRun, slot: WorkerSlot, event: str, message: str) -> None:
        self._log.record(event, None, slot.identity, group=run.label, error=message)
        run.workers.remove(slot)
        self._kill(slot)

    def _kill(self, slot: WorkerSlot) -> None:
        import ray
        from ray.util.placement_group import remove_placement_group

        ray.kill(slot.handle, no_restart=True)
        if slot.placement_group is not None:
            remove_placement_group(slot.placement_group)
        if slot.identity is not None:
            self._progress.worker_gone(slot.identity.worker_id)

    def _check_starved(self) -> None:
        now = time.monotonic()
        for run in self._active:
            if not run.queue or any(slot.identity for slot in run.workers):
                run.starved_since = None
            elif run.starved_since is None:
                run.starved_since = now
            elif now - run.starved_since > self._settings.worker_wait_s:
                demand = run.shape.demand()
                raise EvalsError(
                    f"{run.label}: no worker started within {self._settings.worker_wait_s:.0f} s; each needs "
                    f"{demand['CPU']:g} CPU and {demand['GPU']:g} GPU (see 'ray status')"
                )

    def _finish_drained(self) -> None:
        for run in [r for r in self._active if r.drained]:
            self._stop_workers(run)
            self._active.remove(run)

    def _stop_workers(self, run: GroupRun) -> None:
        for ref in [ref for ref, (owner, _, _) in self._refs.items() if owner is run]:
            del self._refs[ref]
        for slot in run.workers:
            self._kill(slot)
        run.workers.clear()
