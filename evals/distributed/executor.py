"""``RayExecutor``: the ``Executor`` that runs engine groups on a Ray cluster."""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from evals.distributed.connect import Capacity, cluster_capacity, connect, disconnect, probe_hardware
from evals.distributed.dispatch import Dispatcher, DispatchSettings, GroupRun
from evals.distributed.progress import RunProgress, ShardLog
from evals.distributed.resources import default_worker_count, worker_shape
from evals.distributed.shards import ProbeSpec, Shard, make_shards
from evals.distributed.worker import engine_backend
from evals.execute import BackendFactory, EngineGroup, NextRound, engine_key, pending_probes, pending_requests
from evals.hardware import Hardware, detect_hardware
from evals.plan import TaskPlan
from evals.probes import ProbeRequest
from evals.store import MirroredRunStore, RunStore

SHARD_LOG = "shards.jsonl"


@dataclass
class RayExecutor:
    """Shards every pending sample (and budget probe) and lets a pool of engine workers per model pull them.

    Connects (or starts a local Ray for ``address="local"``) on first use, or early through
    ``connect_early`` while the runner loads tasks and models (the suite is validated by
    then); shuts a Ray started here down in the background after the last shard, while the
    runner scores, and ``finish`` waits for that.
    """

    address: str
    num_workers: int | None = None
    shard_size: int = 32
    max_attempts: int = 3
    worker_wait_s: float = 1800.0  # model downloads and engine start-up count as waiting
    backend: BackendFactory = engine_backend  # what a worker generates with (replay in benches and tests)
    _connected_here: bool = field(default=False, init=False, repr=False)
    _stopping: threading.Thread | None = field(default=None, init=False, repr=False)

    def hardware(self, tensor_parallel_size: int) -> Hardware:
        """What a worker node is (for the manifest and cost), probed on the cluster."""
        if self.address == "local":
            return detect_hardware(tensor_parallel_size)  # the workers run on this machine
        self._connect()
        return probe_hardware(tensor_parallel_size)

    def run(self, groups: Sequence[EngineGroup], store: RunStore, seed: int, quiet: bool) -> int:
        progress = RunProgress(quiet)
        try:
            work = self._shards(groups, store, seed, progress)
            if not work:
                return 0  # everything stored: no cluster needed
            self._connect()
            capacity = cluster_capacity()
            runs = [self._group_run(index, groups[index], shards, capacity) for index, shards in work.items()]
            settings = self._settings(seed)
            # A run at an fsspec URL gets its shard log uploaded with every event.
            upload = store.upload if isinstance(store, MirroredRunStore) else None
            log = ShardLog(store.root / SHARD_LOG, upload)
            return Dispatcher(runs, store, progress, log, capacity, settings).run()
        finally:
            progress.close()
            self._disconnect(background=True)

    def connect_early(self) -> None:
        """Connect now: ray.init mostly waits on processes starting, so other work can overlap it."""
        self._connect()

    def finish(self) -> None:
        """Shut down a Ray started here, or wait for its shutdown under way."""
        self._disconnect()
        if self._stopping is not None:
            self._stopping.join()
            self._stopping = None

    def run_rounds(self, next_round: NextRound, store: RunStore, seed: int, quiet: bool) -> int:
        """Adaptive rounds on one set of workers, each round's items spread over all of them.

        The driver asks for the next round (which checks the stopping rules) only when
        every shard of this one is stored: once a rule is met no shard is handed out.
        """
        progress = RunProgress(quiet)
        try:
            self._connect()
            capacity = cluster_capacity()
            indices: dict[tuple[str, str, str], int] = {}  # a group keeps its index across rounds

            def next_runs() -> list[GroupRun] | None:
                while (groups := next_round()) is not None:
                    if runs := self._round_runs(groups, store, seed, progress, capacity, indices):
                        return runs
                return None  # every model x task stopped

            first = next_runs()
            if first is None:
                return 0
            settings = self._settings(seed)
            upload = store.upload if isinstance(store, MirroredRunStore) else None
            log = ShardLog(store.root / SHARD_LOG, upload)
            return Dispatcher(first, store, progress, log, capacity, settings, next_runs).run()
        finally:
            progress.close()
            self._disconnect()

    def _round_runs(
        self,
        groups: Sequence[EngineGroup],
        store: RunStore,
        seed: int,
        progress: RunProgress,
        capacity: Capacity,
        indices: dict[tuple[str, str, str], int],
    ) -> list[GroupRun]:
        """A round's groups with pending samples; each model x task cut in about one shard per worker."""
        done = store.done_keys()
        runs = []
        for group in groups:
            shape = worker_shape(group)
            workers = self.num_workers or default_worker_count(
                shape, capacity.resources, capacity.alive_nodes
            )
            index = indices.setdefault(engine_key(group.lead), len(indices))
            pending = pending_requests(group, done, seed)
            shards: list[Shard] = []
            for model in group.models:
                for task in model.tasks:
                    requests = pending[(model.label, task.name)]
                    left = len({r.key.item_id for r in requests})
                    size = min(self.shard_size, max(1, -(-left // workers)))
                    first = progress.shards_total + len(shards)
                    shards += make_shards(index, model.label, task.name, requests, size, first)
                    progress.add_task(model.label, task.name, len(task.prompts), len(task.prompts) - left)
            progress.shards_total += len(shards)
            if shards:
                runs.append(GroupRun(index, group, shape, deque(shards), target=workers))
        return runs

    def _shards(
        self, groups: Sequence[EngineGroup], store: RunStore, seed: int, progress: RunProgress
    ) -> dict[int, list[Shard]]:
        """Each group's pending samples in shards (groups with none left out); counts progress."""
        done = store.done_keys()
        work: dict[int, list[Shard]] = {}
        for index, group in enumerate(groups):
            pending = pending_requests(group, done, seed)
            probes = probes_by_task(pending_probes(group, store))
            shards: list[Shard] = []
            for model in group.models:
                for task in model.tasks:
                    requests = pending[(model.label, task.name)]
                    first = progress.shards_total + len(shards)
                    stored = probes.get((model.label, task.name), [])
                    shards += make_shards(index, model.label, task.name, requests, self.shard_size, first,
                                          stored, probe_spec(task))  # fmt: skip
                    left = len({r.key.item_id for r in requests})
                    progress.add_task(model.label, task.name, len(task.prompts), len(task.prompts) - left)
            progress.shards_total += len(shards)
            if shards:
                work[index] = shards
        return work

    def _group_run(self, index: int, group: EngineGroup, shards: list[Shard], capacity: Capacity) -> GroupRun:
        """A group's queue and how many workers it gets (never more than its shards)."""
        shape = worker_shape(group)
        wanted = self.num_workers or default_worker_count(shape, capacity.resources, capacity.alive_nodes)
        return GroupRun(index, group, shape, deque(shards), target=min(wanted, len(shards)))

    def _settings(self, seed: int) -> DispatchSettings:
        # A Ray this driver started gave its processes, and so its workers, the driver's environment.
        forward_env = not (self.address == "local" and self._connected_here)
        return DispatchSettings(seed, self.max_attempts, self.worker_wait_s, self.backend, forward_env)

    def _connect(self) -> None:
        import ray

        if self._stopping is not None:  # a shutdown under way must end before Ray starts again
            self._stopping.join()
            self._stopping = None
        if not ray.is_initialized():
            connect(self.address)
            self._connected_here = True

    def _disconnect(self, background: bool = False) -> None:
        if self._connected_here:
            self._connected_here = False
            stop = functools.partial(disconnect, started_here=self.address == "local")
            if background:  # ~0.4 s for a local Ray: overlapped with scoring; ``finish`` waits
                self._stopping = threading.Thread(target=stop, name="ray-shutdown")
                self._stopping.start()
            else:
                stop()


def probe_spec(task: TaskPlan) -> ProbeSpec | None:
    """How workers probe the task's new samples; None without budgets."""
    if not task.budgets:
        return None
    closings = {(task.name, p.item.item_id): c for p, c in zip(task.prompts, task.closings, strict=True)}
    return ProbeSpec(task.budgets, closings, task.probe_max_tokens)


def probes_by_task(probes: Sequence[ProbeRequest]) -> dict[tuple[str, str], list[ProbeRequest]]:
    """Probes of stored samples by (model label, task), in order."""
    grouped: dict[tuple[str, str], list[ProbeRequest]] = {}
    for probe in probes:
        grouped.setdefault((probe.key.model, probe.key.task), []).append(probe)
    return grouped
