"""The Ray driver at size and under chaos (issue 16, parts 4 and 5), on the replay engine.

Workers answer from canned texts (``CannedAnswers``: no vLLM, no torch), so a local Ray runs
16-32 of them on this machine and the driver is what is measured:

    .venv/bin/python bench/scale_ray.py --workers 16 --models 10 --items 25000 --samples 4

prints the shards per second the driver sustained (target >= 200 with 16 workers), its RSS
at 10% and 100% of the run (growth target < 200 MB) and its peak, and the tail (last shard's
start to the end). The samples are checked: every key stored exactly once.

    .venv/bin/python bench/scale_ray.py --chaos --minutes 10

is the soak: a three-node ``ray.cluster_utils.Cluster`` runs a suite sized to last about that
long while a chaos thread SIGKILLs a random worker every 10-20 s and removes and re-adds a
worker node twice; then every (model, task, item, sample) must be stored exactly once, none
failed, and the summary must equal a clean local run's (``bench/chaos_ray.py``;
``tests/distributed/test_ray_chaos.py`` runs a one-minute version).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: `evals` and `bench` from this checkout

from evals.generation.replay import CannedAnswers  # noqa: E402

# Right, wrong, unparseable and long-winded answers, so the summary has something to compare.
CANNED = (
    "<think>add the numbers one by one and check the sum once more before answering</think> "
    "The answer is \\boxed{{gold}}",
    "The answer is {gold}.",
    "<think>a quick guess</think> The answer is 7.",
    "I cannot tell.",
)
SHARD_LOG = "shards.jsonl"
KEY = ("model", "task", "item_id", "sample_idx")


def replay_suite(name: str, models: int, items: int, samples: int, task: str = "arith-easy") -> Any:
    """``models`` entries of one model (so one engine group) on one generated task."""
    from evals.suite import parse_suite

    data = {
        "name": name,
        "seed": 0,
        "models": [
            {"name": f"replay-{index}", "model": "smollm2-135m",
             "generation": {"samples": samples, "temperature": 0.6 if samples > 1 else 0.0}}
            for index in range(models)
        ],
        "tasks": [{"name": task, "limit": items}],
    }  # fmt: skip
    return parse_suite(data, name)


def stored_key_counts(run_dir: Path) -> Counter[tuple[Any, ...]]:
    """How often each sample key was written to a part file (duplicates counted), and errors."""
    import pyarrow.parquet as pq

    counts: Counter[tuple[Any, ...]] = Counter()
    for part in sorted(run_dir.glob("parts/*/*/part-*.parquet")):
        table = pq.read_table(part, columns=[*KEY, "error"])
        columns = [table.column(name).to_pylist() for name in (*KEY, "error")]
        for *key, error in zip(*columns, strict=True):
            counts[tuple(key)] += 1
            if error is not None:
                counts[("error",)] += 1
    return counts


def check_stored(run_dir: Path, plan: Any) -> dict[str, int]:
    """Lost, duplicated and failed samples of a finished run (all 0 when the driver is right)."""
    counts = stored_key_counts(run_dir)
    failed = counts.pop(("error",), 0)
    expected = {
        request.key.as_tuple()
        for model in plan.models
        for task in model.tasks
        for request in model.requests(task, 0)
    }
    return {
        "expected": len(expected),
        "lost": len(expected - counts.keys()),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "unexpected": len(counts.keys() - expected),
        "failed": failed,
    }


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / SHARD_LOG
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]  # the last line may be half-written


# --- Part 4: throughput, memory and tail of the driver ------------------------------------


class RssSampler(threading.Thread):
    """This process's resident memory and CPU time (all its threads, Ray's included) every ``every_s``."""

    def __init__(self, every_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int, float]] = []  # time.time(), RSS bytes, CPU seconds
        self._every_s = every_s
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self._every_s):
            self.samples.append((time.time(), rss_bytes(), time.process_time()))

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.samples.append((time.time(), rss_bytes(), time.process_time()))


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class DriverFigures:
    shards: int
    samples: int
    workers_ready_s: float  # run start -> last worker ready
    shards_per_s: float  # first worker ready -> last shard done
    steady_shards_per_s: float  # between 10% and 90% of the shards done
    cpu_ms_per_shard: float  # the driver process's CPU time per shard, between 10% and 90%
    rss_10_mb: float
    rss_100_mb: float
    rss_peak_mb: float
    tail_s: float  # last shard's start -> run() returned
    tail_done_s: float  # last shard's start -> last shard done


def driver_figures(events: list[dict[str, Any]], rss: list[tuple[float, int, float]], started: float,
                   ended: float) -> DriverFigures:  # fmt: skip
    done = sorted(e["t"] for e in events if e["event"] == "shard_done")
    ready = [e["t"] for e in events if e["event"] == "worker_ready"]
    last_start = max(e["t"] - e["round_trip"] for e in events if e["event"] == "shard_done")
    at_10, at_90 = done[len(done) // 10], done[(9 * len(done)) // 10]
    # RSS and CPU time once 10% (90%) of the shards were stored, and at the end of the run.
    _, rss_10, cpu_10 = next(sample for sample in rss if sample[0] >= at_10)
    t_90, _, cpu_90 = next(sample for sample in rss if sample[0] >= at_90)
    shards_10_90 = sum(at_10 <= t <= t_90 for t in done)
    return DriverFigures(
        shards=len(done),
        samples=sum(e["samples"] for e in events if e["event"] == "shard_done"),
        workers_ready_s=max(ready) - started,
        shards_per_s=len(done) / (done[-1] - min(ready)),
        steady_shards_per_s=(0.8 * len(done)) / (at_90 - at_10),
        cpu_ms_per_shard=1000 * (cpu_90 - cpu_10) / shards_10_90,
        rss_10_mb=rss_10 / 2**20,
        rss_100_mb=rss[-1][1] / 2**20,
        rss_peak_mb=max(value for _, value, _ in rss) / 2**20,
        tail_s=ended - last_start,
        tail_done_s=done[-1] - last_start,
    )


def measure_driver(args: argparse.Namespace, root: Path) -> tuple[DriverFigures, dict[str, int]]:
    """One Ray run of the replay suite on a local Ray with ``args.workers`` one-CPU workers."""
    import ray

    from evals.distributed import RayExecutor
    from evals.execute import engine_groups
    from evals.generation.vllm_backend import resolve_engine_setup
    from evals.plan import build_plan
    from evals.store import RunStore

    suite = replay_suite("ray-scale", args.models, args.items, args.samples)
    plan = build_plan(suite, None)
    setups = {m.label: resolve_engine_setup(m.entry.engine, False) for m in plan.models}
    groups = engine_groups(plan.models, setups)
    store = RunStore(root / "run")
    backend = CannedAnswers(CANNED, latency_per_token=args.latency)
    executor = RayExecutor("local", args.workers, args.shard_size, backend=backend)
    ray.init(num_cpus=args.workers, object_store_memory=256 * 2**20, include_dashboard=False,
             log_to_driver=False, logging_level=logging.WARNING)  # fmt: skip
    sampler = RssSampler()
    try:
        sampler.start()
        started = time.time()
        executor.run(groups, store, suite.seed, quiet=True)
        ended = time.time()
        sampler.stop()
    finally:
        ray.shutdown()
    figures = driver_figures(read_events(store.root), sampler.samples, started, ended)
    return figures, check_stored(store.root, plan)


def print_driver(args: argparse.Namespace, figures: DriverFigures, stored: dict[str, int]) -> None:
    print(f"Ray replay: {args.workers} workers, {args.models} models x {args.items} items x {args.samples} "
          f"samples, shard size {args.shard_size} items, {args.latency * 1000:g} ms/token, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print(f"  {figures.shards} shards, {figures.samples} samples; workers ready after "
          f"{figures.workers_ready_s:.1f} s")  # fmt: skip
    print(
        f"  driver: {figures.shards_per_s:.0f} shards/s ({figures.shards_per_s * figures.samples / figures.shards:.0f}"
        f" samples/s), steady (10%-90%) {figures.steady_shards_per_s:.0f} shards/s  (target >= 200)"
    )
    capacity = 1000 / figures.cpu_ms_per_shard
    print(f"  driver CPU: {figures.cpu_ms_per_shard:.2f} ms per shard (10%-90%): at most {capacity:.0f} shards/s "
          "with a core of its own")  # fmt: skip
    growth = figures.rss_100_mb - figures.rss_10_mb
    print(f"  driver RSS: {figures.rss_10_mb:.0f} MB at 10%, {figures.rss_100_mb:.0f} MB at 100% "
          f"(growth {growth:+.0f} MB, target < 200), peak {figures.rss_peak_mb:.0f} MB")  # fmt: skip
    print(f"  tail: last shard start -> last shard done {figures.tail_done_s:.2f} s, -> run end "
          f"{figures.tail_s:.2f} s")  # fmt: skip
    print("  stored: " + ", ".join(f"{name} {value}" for name, value in stored.items()))


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--items", type=int, default=25000, help="arith-easy items per model")
    parser.add_argument("--samples", type=int, default=4, help="samples per item")
    parser.add_argument("--shard-size", type=int, default=8, help="items per shard")
    parser.add_argument("--latency", type=float, default=0.0, help="replay seconds per generated token")
    parser.add_argument("--chaos", action="store_true", help="the chaos soak instead of the driver figures")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the chaos soak")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scale-ray-") as scratch:
        if args.chaos:
            from bench.chaos_ray import chaos_soak, print_soak

            result = chaos_soak(Path(scratch), 60 * args.minutes)
            print_soak(result)
            stored = result.stored
            ok = result.summary_equal and not (stored["lost"] or stored["duplicated"] or stored["failed"])
        else:
            figures, stored = measure_driver(args, Path(scratch))
            print_driver(args, figures, stored)
            ok = not (stored["lost"] or stored["duplicated"] or stored["unexpected"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
