"""What Ray adds to `evals run`, and what a second worker buys, with the tiny random Llama on vLLM.

Three configurations of the same suite, each a fresh `evals run` process end to end (engine
start, generation, scoring, run directory), rounds alternating so drift on a shared machine
hits all of them:

    local     `evals run --config S`                            (one in-process engine)
    ray-1     `evals run --config S --ray local --num-workers 1` (a local Ray, one worker actor)
    ray-2     `evals run --config S --ray local --num-workers 2`

Printed: wall-time ratio ray-1 / local (target, issue 11: <= 1.08), each run's time per phase
(its manifest's ``profile``: a Ray run connects while it loads tasks and models), shard scheduling latency (driver
round trip minus the worker's own time per shard, from RUN/shards.jsonl), and items/s for
one and two workers, both end to end and while generating.

Every configuration runs with OMP_NUM_THREADS=1 (--threads): Ray gives a worker that reserves
one CPU one OpenMP thread, and the CPU engine's speed depends on its thread count far more
than on anything Ray does (on a busy 2-core machine, 1 thread generated 3.7x faster than 2),
so the local side gets the same count.

    .venv/bin/python bench/ray_overhead.py --limit 200 --max-tokens 128 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIGS = {
    "local": [],
    "ray-1": ["--ray", "local", "--num-workers", "1"],
    "ray-2": ["--ray", "local", "--num-workers", "2"],
}


def _suite(path: Path, model: Path, limit: int, max_tokens: int) -> Path:
    suite = {
        "name": "ray-bench",
        "models": [
            {"model": str(model), "generation": {"max_tokens": max_tokens}, "engine": {"kv_cache_gib": 1}}
        ],
        "tasks": ["arith-easy"],
        "limit": limit,
    }
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def _run(name: str, suite: Path, out: Path, shard_size: int, threads: int) -> float:
    command = [sys.executable, "-m", "evals.cli", "run", "--config", str(suite), "--out", str(out), "--quiet",
               "--shard-size", str(shard_size), *CONFIGS[name]]  # fmt: skip
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=out.parent)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
    return elapsed


def _shard_stats(out: Path) -> dict[str, Any]:
    events = [json.loads(line) for line in (out / "shards.jsonl").read_text().splitlines()]
    done = [e for e in events if e["event"] == "shard_done"]
    ready = [e["t"] for e in events if e["event"] == "worker_ready"]
    latency = [e["round_trip"] - e["seconds"] for e in done]
    generating = max(e["t"] for e in done) - min(ready)
    return {
        "latency_ms": [1000 * x for x in latency],
        "items": sum(e["items"] for e in done),
        "generating_s": generating,
    }


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--limit", type=int, default=200, help="arith-easy items")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=1, help="OpenMP threads per engine, every configuration"
    )
    args = parser.parse_args()

    from evals.models.tiny import build_tiny_model

    with tempfile.TemporaryDirectory(prefix="ray-bench-") as scratch:
        root = Path(scratch)
        model = build_tiny_model(root / "tiny-llama", seed=0)
        suite = _suite(root / "suite.yaml", model, args.limit, args.max_tokens)
        walls: dict[str, list[float]] = {name: [] for name in CONFIGS}
        stats: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
        for round_index in range(args.rounds):
            for name in CONFIGS:
                out = root / f"{name}-{round_index}"
                walls[name].append(_run(name, suite, out, args.shard_size, args.threads))
                if name != "local":
                    stats[name].append(_shard_stats(out))
                profile = json.loads((out / "manifest.json").read_text()).get("profile", {})
                phases = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in profile.items())
                print(
                    f"round {round_index + 1} {name}: {walls[name][-1]:.1f} s ({phases} s)",
                    file=sys.stderr,
                    flush=True,
                )
        _report(args, walls, stats)


def _report(
    args: argparse.Namespace, walls: dict[str, list[float]], stats: dict[str, list[dict[str, Any]]]
) -> None:
    wall = {name: statistics.median(values) for name, values in walls.items()}
    print(f"suite: tiny-llama on arith-easy, {args.limit} items, greedy, max_tokens {args.max_tokens}, "
          f"shard size {args.shard_size}, {args.rounds} round(s), {os.cpu_count()} CPUs, "
          f"{args.threads} thread(s) per engine")  # fmt: skip
    for name, seconds in wall.items():
        print(f"  {name:6s} wall {seconds:7.1f} s   {args.limit / seconds:6.2f} items/s end to end")
    print(f"Ray overhead: ray-1 / local = {wall['ray-1'] / wall['local']:.3f}  (target <= 1.08)")
    # Each round ran the configurations back to back: a round's ratio saw the same machine load.
    paired = [ray / local for ray, local in zip(walls["ray-1"], walls["local"], strict=True)]
    print("  per round: " + ", ".join(f"{ratio:.3f}" for ratio in paired))
    latency = [x for run in stats["ray-1"] for x in run["latency_ms"]]
    print(f"shard scheduling latency (round trip - worker time), ray-1, {len(latency)} shards: "
          f"median {statistics.median(latency):.1f} ms, max {max(latency):.1f} ms")  # fmt: skip
    for name in ("ray-1", "ray-2"):
        rates = [run["items"] / run["generating_s"] for run in stats[name]]
        rate = statistics.median(rates)
        print(f"  {name}: {rate:.2f} items/s while generating (first worker ready -> last shard)")
    print(f"2 workers / 1 worker, end to end: {wall['ray-1'] / wall['ray-2']:.2f}x")


if __name__ == "__main__":
    main()
