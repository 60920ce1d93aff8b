"""``evals extend RUN --max-tokens N``: continue answers cut at the token limit, up to N tokens."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "extend", help="continue a finished run's truncated answers to a higher cap"
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run's folder")
    parser.add_argument(
        "--max-tokens", type=int, required=True, help="new limit of tokens per answer, in all"
    )
    parser.add_argument("--data-dir", type=Path, help="read DIR/<task>/test.jsonl instead of the Hub")
    parser.add_argument("--prices", type=Path, help="price table YAML overriding the shipped one")
    parser.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from evals.errors import EvalsError
    from evals.extend import extend_run
    from evals.table import format_summary

    if args.max_tokens < 1:
        raise EvalsError(f"--max-tokens {args.max_tokens}: give a positive number of tokens")
    with contextlib.redirect_stdout(sys.stderr):
        outcome = extend_run(args.run_dir, args.max_tokens, data_dir=args.data_dir, prices=args.prices)
    rows = [row for row in outcome.rows if row.budget is None]
    if args.json:
        summary = [row.model_dump(mode="json") for row in outcome.rows]
        print(
            json.dumps({"run_dir": str(outcome.run_dir), "generated": outcome.generated, "summary": summary})
        )
    else:
        print(format_summary(rows))
        print(f"\nrun directory: {outcome.run_dir}  (continued {outcome.generated} truncated samples)")
    return 0
