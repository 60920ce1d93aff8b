"""``evals budgets RUN --budgets 512,1024``: add thinking budgets to a finished run (probes only)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "budgets", help="add thinking budgets to a finished run, regenerating nothing"
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run's folder")
    parser.add_argument("--budgets", required=True, help="comma-separated token budgets, e.g. 512,1024")
    parser.add_argument("--data-dir", type=Path, help="read DIR/<task>/test.jsonl instead of the Hub")
    parser.add_argument("--prices", type=Path, help="price table YAML overriding the shipped one")
    parser.add_argument("--quiet", action="store_true", help="print the run dir only")
    parser.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    ray = parser.add_argument_group("distributed (Ray)")
    ray.add_argument("--ray", metavar="auto|local|ADDRESS", help="probe on a Ray cluster's engine workers")
    ray.add_argument("--num-workers", type=int, help="engine workers (default: one per node's share)")
    ray.add_argument("--shard-size", type=int, default=128, help="items per shard (default 128)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from evals.budget_run import add_budgets
    from evals.probes import parse_budgets

    budgets = parse_budgets(args.budgets)
    executor = None
    if args.ray:
        from evals.distributed import make_ray_executor

        executor = make_ray_executor(args.ray, args.num_workers, args.shard_size)
    with contextlib.redirect_stdout(sys.stderr):
        outcome = add_budgets(
            args.run_dir, budgets, data_dir=args.data_dir, prices=args.prices, quiet=args.quiet,
            executor=executor,
        )  # fmt: skip
    if args.json:
        rows = [row.model_dump(mode="json") for row in outcome.rows]
        print(json.dumps({"run_dir": str(outcome.run_dir), "generated": 0, "probed": outcome.probed,
                          "summary": rows}, indent=2))  # fmt: skip
    elif args.quiet:
        print(outcome.run_dir)
    else:
        print_budget_table(outcome.rows)
        print(f"\nrun directory: {outcome.run_dir}  (probed {outcome.probed}, generated no samples)")
    return 0


def print_budget_table(rows: Sequence[Any]) -> None:
    """Accuracy, tokens and cost per answer at each budget, beside the run's own (``max``)."""
    budget_rows = [row for row in rows if row.budget is not None]
    if not budget_rows:
        return
    from evals.table import format_budget_table

    print()
    print(format_budget_table(rows))
