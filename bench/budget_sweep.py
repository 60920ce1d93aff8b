"""Accuracy at 4 thinking budgets: (a) one run + forced-answer probes vs (b) one run per budget.

Both sides run the same model on the same items through ``evals.runner.run_suite`` (each run
starts its own engine, as separate ``evals run`` commands would). (a) generates once at the
largest budget with ``budgets:`` set to the smaller ones; (b) runs four times with
``max_tokens`` = each budget. Printed: tokens computed (prompt + completion tokens of samples
and probes; the prompt tokens a prefix cache may serve are counted in full), wall time
(engine start included) and engine time (``engine_seconds`` of samples and probes) of both
sides, and the ratios (a) / (b). Target: (a) at most 0.5x the wall time of (b).

    flock /tmp/evals-heavy.lock .venv/bin/python bench/budget_sweep.py --task gsm8k \
        --data-dir ../shared/data --limit 16 --budgets 32,64,128,256
"""

from __future__ import annotations

import argparse
import contextlib
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
    engine = sum(float(f["engine_seconds"].sum()) for f in frames)
    return wall, tokens, engine, list(outcome.rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--task", default="gsm8k")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--budgets", default="32,64,128,256")
    args = parser.parse_args()
    budgets = sorted({int(b) for b in args.budgets.split(",")})
    top = budgets[-1]
    with tempfile.TemporaryDirectory(prefix="budget-sweep-") as tmp:
        root = Path(tmp)
        a_wall, a_tokens, a_engine, a_rows = timed_run(
            suite(args.model, args.task, args.limit, top, budgets[:-1]), root / "a", args.data_dir
        )
        b_wall = b_engine = 0.0
        b_tokens = 0
        b_acc: dict[int, float | None] = {}
        for budget in budgets:
            wall, tokens, engine, rows = timed_run(
                suite(args.model, args.task, args.limit, budget, []), root / f"b{budget}", args.data_dir
            )
            b_wall, b_tokens, b_engine = b_wall + wall, b_tokens + tokens, b_engine + engine
            b_acc[budget] = rows[0].accuracy
    a_acc = {row.budget or top: row.accuracy for row in a_rows}
    print(f"model {args.model}, task {args.task}, {args.limit} items, budgets {budgets}")
    print(f"{'':28}{'(a) one run + probes':>22}{'(b) one run per budget':>24}{'ratio a/b':>11}")
    for name, a, b in (
        ("tokens computed", a_tokens, b_tokens),
        ("wall seconds", a_wall, b_wall),
        ("engine seconds", a_engine, b_engine),
    ):
        print(f"{name:28}{a:>22.1f}{b:>24.1f}{a / b:>11.2f}")
    for budget in budgets:
        print(f"accuracy at {budget:<16}{_pct(a_acc.get(budget)):>22}{_pct(b_acc[budget]):>24}")
    return 0


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


if __name__ == "__main__":
    sys.exit(main())
