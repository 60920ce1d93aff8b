"""The chaos soak of ``bench/scale_ray.py --chaos`` (issue 16 part 5): workers and nodes die mid-run.

A three-node ``ray.cluster_utils.Cluster`` runs a replay suite sized to last about ``seconds``
while the main thread SIGKILLs a random worker every 10-20 s and removes and re-adds a worker
node twice; afterwards every (model, task, item, sample) must be stored exactly once, none
failed, and the summary must equal a clean local run's.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.scale_ray import CANNED, check_stored, read_events, replay_suite
from evals.generation.replay import CannedAnswers


@dataclass
class ChaosLog:
    kills: list[int] = field(default_factory=list)  # pids SIGKILLed
    node_cycles: int = 0  # worker nodes removed and replaced


class Chaos:
    """Kills a random live worker every ``kill_every`` seconds; removes and re-adds a node twice.

    Worker pids come from the run's shard log (``worker_ready`` minus retired workers), so only
    this run's own processes are ever killed. Runs in the main thread: ``Cluster.add_node``
    installs signal handlers, which Python allows there only.
    """

    def __init__(self, cluster: Any, run_dir: Path, seconds: float, cpus_per_node: int, seed: int,
                 kill_every: tuple[float, float] = (10.0, 20.0)) -> None:  # fmt: skip
        self.log = ChaosLog()
        self._cluster = cluster
        self._run_dir = run_dir
        self._cycles_at = [0.3 * seconds, 0.65 * seconds]
        self._cpus = cpus_per_node
        self._rng = random.Random(seed)
        self._kill_every = kill_every

    def run_until(self, finished: Callable[[], bool]) -> None:
        started = time.monotonic()
        next_kill = self._rng.uniform(*self._kill_every)
        while not finished():
            time.sleep(0.1)
            elapsed = time.monotonic() - started
            if elapsed >= next_kill:
                self._kill_worker()
                next_kill = elapsed + self._rng.uniform(*self._kill_every)
            if self._cycles_at and elapsed >= self._cycles_at[0]:
                self._cycles_at.pop(0)
                self._cycle_node()

    def _live_pids(self) -> list[int]:
        pids: dict[str, int] = {}
        for event in read_events(self._run_dir):
            if event["event"] == "worker_ready":
                pids[event["worker"]] = event["pid"]
            elif event["event"] in ("worker_lost", "worker_replaced", "worker_failed") and "worker" in event:
                pids.pop(event["worker"], None)
        return sorted(pids.values())

    def _kill_worker(self) -> None:
        pids = self._live_pids()
        self._rng.shuffle(pids)
        for pid in pids:
            if not is_shard_worker(pid):
                continue  # gone, and the pid may be another process's now
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue  # died already (its node went away): its retire event is not logged yet
            self.log.kills.append(pid)
            return

    def _cycle_node(self) -> None:
        nodes = sorted(self._cluster.worker_nodes, key=lambda node: node.unique_id)
        if not nodes:
            return
        self._cluster.remove_node(self._rng.choice(nodes), allow_graceful=False)
        time.sleep(3.0)  # the driver sees its workers die and queues their shards again
        self._cluster.add_node(num_cpus=self._cpus)
        self.log.node_cycles += 1


def is_shard_worker(pid: int) -> bool:
    """Whether ``pid`` is a live Ray worker process of ``ShardWorker`` (Ray names it ``ray::ShardWorker``)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::ShardWorker")
    except OSError:
        return False


@dataclass(frozen=True)
class SoakResult:
    seconds: float  # the chaotic Ray run, end to end
    stored: dict[str, int]  # from check_stored
    kills: int
    node_cycles: int
    summary_equal: bool
    differences: list[str]


def soak_suite(seconds: float, workers: int, shard_items: int, shard_s: float) -> Any:
    """Two entries on arith-easy, two samples each, enough shards to keep the workers busy ``seconds``."""
    shards = int(workers * seconds / shard_s)
    return replay_suite("ray-chaos", models=2, items=max(shard_items, shards * shard_items // 2), samples=2)


def chaos_soak(root: Path, seconds: float, nodes: int = 3, cpus_per_node: int = 2, seed: int = 0,
               kill_every: tuple[float, float] = (10.0, 20.0)) -> SoakResult:  # fmt: skip
    """A chaotic Ray run on a ``nodes``-node local cluster, then a clean local run of the same suite."""
    from ray.cluster_utils import Cluster

    from evals.distributed import RayExecutor
    from evals.execute import LocalExecutor
    from evals.plan import build_plan
    from evals.runner import RunOptions, run_suite

    shard_items, latency = 4, 0.03  # a shard: 8 samples in one batch, ~0.5 s (17 words of the longest text)
    workers = nodes * cpus_per_node
    suite = soak_suite(seconds, workers, shard_items, shard_s=17 * latency)
    backend = CannedAnswers(CANNED, latency_per_token=latency)
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": cpus_per_node, "include_dashboard": False}
    )
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus_per_node)
        cluster.wait_for_nodes()
        executor = RayExecutor(cluster.address, workers, shard_items, backend=backend)
        chaos = Chaos(cluster, root / "chaos", seconds, cpus_per_node, seed, kill_every)
        started = time.monotonic()
        with ThreadPoolExecutor(1) as pool:  # the run in a thread, the chaos in the main thread
            running = pool.submit(
                run_suite, suite, RunOptions(out=root / "chaos", quiet=True, executor=executor)
            )
            chaos.run_until(running.done)
            chaotic = running.result()
        elapsed = time.monotonic() - started
    finally:
        cluster.shutdown()
    clean = run_suite(
        suite,
        RunOptions(
            out=root / "clean",
            quiet=True,
            executor=LocalExecutor(backend=replace(backend, latency_per_token=0.0)),
        ),
    )
    stored = check_stored(root / "chaos", build_plan(suite, None))
    ours, theirs = [r.model_dump() for r in chaotic.rows], [r.model_dump() for r in clean.rows]
    differences = [f"{a['model']}/{a['task']} {name}: {a[name]!r} vs clean {b[name]!r}"
                   for a, b in zip(ours, theirs, strict=True) for name in a if a[name] != b[name]]  # fmt: skip
    equal = ours == theirs
    return SoakResult(elapsed, stored, len(chaos.log.kills), chaos.log.node_cycles, equal, differences)


def print_soak(result: SoakResult) -> None:
    print(f"chaos soak: {result.seconds:.0f} s Ray run, {result.kills} workers SIGKILLed, "
          f"{result.node_cycles} nodes removed and re-added")  # fmt: skip
    print("  stored: " + ", ".join(f"{name} {value}" for name, value in result.stored.items()))
    print(f"  summary equals the clean run's: {result.summary_equal}")
    for line in result.differences[:20]:
        print(f"    {line}")
