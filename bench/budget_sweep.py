"""Accuracy at 4 thinking budgets: (a) one run + forced-answer probes vs (b) one run per budget.

Both sides run the same model on the same items through ``evals.runner.run_suite`` (each run
starts its own engine, as separate ``evals run`` commands would). (a) generates once at the
largest budget with ``budgets:`` set to the smaller ones; (b) runs four times with
``max_tokens`` = each budget. Printed: tokens computed (prompt + completion tokens of samples
and probes, less the probe prompt tokens vLLM's prefix cache served), wall time
(engine start included) and engine time (``engine_seconds`` of samples and probes) of both
sides, and the ratios (a) / (b), medians over rounds in which the sides alternate going
first. Target: (a) at most 0.5x the wall time of (b).

    .venv/bin/python bench/budget_sweep.py --task gsm8k \
        --data-dir ../shared/data --limit 16 --budgets 32,64,128,256
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd


def suite(model: str, task: str, limit: int, max_tokens: int, budgets: list[int]) -> Any:
    from evals.suite import parse_suite

    data = {
        "name": "budget-sweep",
        "models": [{"model": model, "generation": {"max_tokens": max_tokens}}],
        "tasks": [{"name": task, "limit": limit}],
        "budgets": budgets,
    }
    return parse_suite(data, "bench")


def timed_run(spec: Any, out: Path, data_dir: Path | None) -> tuple[float, int, float, list[Any]]:
    """Wall seconds, tokens computed, engine seconds and summary rows of one run."""
    from evals.runner import RunOptions, run_suite

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):
        outcome = run_suite(spec, RunOptions(out=out, data_dir=data_dir, quiet=True))
    wall = time.perf_counter() - started
    frames = [pd.read_parquet(out / "samples.parquet")]
    if (out / "probes.parquet").is_file():
        frames.append(pd.read_parquet(out / "probes.parquet"))
    tokens = sum(int(f["prompt_tokens"].sum() + f["completion_tokens"].sum()) for f in frames)
    if len(frames) > 1 and frames[1]["cached_tokens"].notna().all():  # the prefix cache's share
        tokens -= int(frames[1]["cached_tokens"].sum())
    engine = sum(float(f["engine_seconds"].sum()) for f in frames)
    return wall, tokens, engine, list(outcome.rows)


def side_a(
    args: argparse.Namespace, budgets: list[int], out: Path
) -> tuple[float, int, float, dict[int, Any]]:
    """One run at the largest budget with probes at the others."""
    wall, tokens, engine, rows = timed_run(
        suite(args.model, args.task, args.limit, budgets[-1], budgets[:-1]), out, args.data_dir
    )
    return wall, tokens, engine, {row.budget or budgets[-1]: row.accuracy for row in rows}


def side_b(
    args: argparse.Namespace, budgets: list[int], out: Path
) -> tuple[float, int, float, dict[int, Any]]:
    """One run per budget with max_tokens = that budget."""
    wall = engine = 0.0
    tokens = 0
    accuracy = {}
    for budget in budgets:
        one = timed_run(
            suite(args.model, args.task, args.limit, budget, []), out / str(budget), args.data_dir
        )
        wall, tokens, engine = wall + one[0], tokens + one[1], engine + one[2]
        accuracy[budget] = one[3][0].accuracy
    return wall, tokens, engine, accuracy


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--task", default="gsm8k")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--budgets", default="32,64,128,256")
    parser.add_argument("--rounds", type=int, default=2, help="rounds; sides alternate which goes first")
    args = parser.parse_args()
    budgets = sorted({int(b) for b in args.budgets.split(",")})
    results: dict[str, list[tuple[float, int, float, dict[int, Any]]]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory(prefix="budget-sweep-") as tmp:
        for index in range(args.rounds):
            order = ("a", "b") if index % 2 == 0 else ("b", "a")
            for side in order:
                run = side_a if side == "a" else side_b
                results[side].append(run(args, budgets, Path(tmp) / f"{side}{index}"))
    print(f"model {args.model}, task {args.task}, {args.limit} items, budgets {budgets}, "
          f"medians of {args.rounds} rounds (sides alternate first)")  # fmt: skip
    print(f"{'':28}{'(a) one run + probes':>22}{'(b) one run per budget':>24}{'ratio a/b':>11}")
    for index, name in enumerate(("wall seconds", "tokens computed", "engine seconds")):
        a = statistics.median(r[index] for r in results["a"])
        b = statistics.median(r[index] for r in results["b"])
        print(f"{name:28}{a:>22.1f}{b:>24.1f}{a / b:>11.2f}")
    for budget in budgets:
        a_acc, b_acc = results["a"][0][3].get(budget), results["b"][0][3][budget]
        print(f"accuracy at {budget:<16}{_pct(a_acc):>22}{_pct(b_acc):>24}")
    return 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
