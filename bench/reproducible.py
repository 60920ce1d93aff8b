"""What `--reproducible` costs, and how much outputs move with and without it, on real vLLM.

One suite, two entries sharing one engine: SmolLM2-135M greedy and sampled (t=0.8, seeded per
sample), on the first N gsm8k items at M tokens. In each mode (default, --reproducible) three
fresh `evals run` processes:

    local    `evals run --config S`                                    (one in-process engine)
    ray-2    `evals run --config S --ray local --num-workers 2 --shard-size 3`
    resumed  `evals run --config S`, SIGKILLed after its first stored part, then run again

Printed per mode: wall time of the local run (engine start to summary) and the share of
outputs identical to the local run's, greedy and sampled apart, for ray-2 and resumed; then the
wall-time ratio reproducible / default. Run it under the shared lock:

    .venv/bin/python bench/reproducible.py --limit 64 --max-tokens 256
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
KEY = ["model", "task", "item_id", "sample_idx"]


def suite(limit: int, max_tokens: int, data_dir: str) -> dict[str, object]:
    return {
        "name": "reproducible-bench",
        "data_dir": data_dir,
        "models": [
            {"name": "greedy", "model": "smollm2-135m", "generation": {"max_tokens": max_tokens}},
            {
                "name": "sampled",
                "model": "smollm2-135m",
                "generation": {"temperature": 0.8, "max_tokens": max_tokens},
            },
        ],  # fmt: skip
        "tasks": [{"name": "gsm8k", "limit": limit}],
    }


def evals(args: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "evals.cli", *args, "--quiet"],
        cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"evals {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def killed_then_resumed(args: list[str], out: Path) -> None:
    """Start the run, SIGKILL it once a part is stored, then run it again to the end."""
    env = {**os.environ, "EVALS_FLUSH_SECONDS": "0.5"}
    command = [sys.executable, "-m", "evals.cli", *args, "--quiet"]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while not list(out.glob("parts/*/*/part-*.parquet")):
        if process.poll() is not None:
            sys.exit("the run to kill ended before it stored a part")
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stored = sum(len(pd.read_parquet(p)) for p in out.glob("parts/*/*/part-*.parquet"))
    print(f"    killed after {stored} stored samples", flush=True)
    evals(args)


def outputs(run: Path) -> pd.Series:
    samples = pd.read_parquet(run / "samples.parquet")
    return samples.set_index(KEY)["output"].sort_index()


def identical(a: pd.Series, b: pd.Series, model: str) -> str:
    left, right = a.xs(model, level="model"), b.xs(model, level="model")
    same = int((left == right.reindex(left.index)).sum())
    return f"{same}/{len(left)} ({100 * same / len(left):.0f}%)"


def measure(config: Path, root: Path, extra: list[str]) -> float:
    base = ["run", "--config", str(config), *extra]
    local_s = evals([*base, "--out", str(root / "local")])
    evals([*base, "--ray", "local", "--num-workers", "2", "--shard-size", "3", "--out", str(root / "ray2")])
    killed_then_resumed([*base, "--out", str(root / "resumed")], root / "resumed")
    local = outputs(root / "local")
    for other in ("ray2", "resumed"):
        theirs = outputs(root / other)
        print(f"    local vs {other:8s} greedy {identical(local, theirs, 'greedy'):>13s}"
              f"   sampled {identical(local, theirs, 'sampled'):>13s}", flush=True)  # fmt: skip
    return local_s


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}; gsm8k x {args.limit} items, {args.max_tokens} tokens", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "suite.yaml"
        config.write_text(yaml.safe_dump(suite(args.limit, args.max_tokens, args.data_dir)))
        seconds = {}
        for mode, extra in (("default", []), ("reproducible", ["--reproducible"])):
            print(f"{mode}:", flush=True)
            seconds[mode] = measure(config, Path(tmp) / mode, extra)
            print(f"    local wall time {seconds[mode]:.1f}s", flush=True)
    print(
        f"wall-time ratio reproducible / default (local): {seconds['reproducible'] / seconds['default']:.2f}"
    )
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
