"""``evals report``: merge finished runs into a leaderboard (Markdown, CSV, JSON and a static site)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="merge runs into a leaderboard (Markdown, CSV, JSON, HTML)", description=__doc__
    )
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="finished run directories")
    parser.add_argument("--out", type=Path, required=True, help="report directory (replaced as a whole)")
    redact = parser.add_mutually_exclusive_group()
    redact.add_argument(
        "--redact-prompts",
        dest="redact",
        action="store_const",
        const=True,
        help="replace prompts, choices and outputs of every task by a placeholder "
        "(default: only gpqa_diamond, whose questions must never be published)",
    )
    redact.add_argument(
        "--no-redact-prompts",
        dest="redact",
        action="store_const",
        const=False,
        help="keep all text, GPQA included: for private use; 'evals publish' refuses such a report",
    )
    parser.add_argument(
        "--redact-task", action="append", metavar="TASK", help="also redact TASK (repeatable)"
    )
    parser.add_argument("--strict", action="store_true", help="fail when runs are not comparable")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="recorded with the paired comparisons, which draw nothing (default 0)",
    )
    parser.add_argument(
        "--rank-by",
        default="accuracy",
        metavar="METRIC",
        help="order and rank models by accuracy (default) or by a sampling metric such as "
        "pass@4 or maj@4 (the mean over tasks)",
    )
    parser.set_defaults(handler=handle, redact=None)


def handle(args: argparse.Namespace) -> int:
    from evals.errors import EvalsError
    from evals.report import build_report

    redact: Any = args.redact
    if args.redact_task:
        if redact is not None:
            raise EvalsError("--redact-task goes with neither --redact-prompts nor --no-redact-prompts")
        redact = args.redact_task
    paths = build_report(
        args.runs, args.out, redact_tasks=redact, strict=args.strict, seed=args.seed, rank_by=args.rank_by
    )
    for warning in paths.warnings:
        print(f"evals: warning: {warning}", file=sys.stderr)
    redacted = f"; redacted: {', '.join(paths.redacted_tasks)}" if paths.redacted_tasks else ""
    print(
        f"report written to {paths.root}: index.html, leaderboard.md/.csv/.json, "
        f"{len(paths.plots)} plots, {len(paths.sample_pages)} sample pages{redacted}"
    )
    return 0
