"""``evals diagnose RUN``: for each published score outside our 95% CI, the likely causes, ranked."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "diagnose", help="explain gaps between a run's scores and published ones", description=__doc__
    )
    parser.add_argument("run_dir", type=Path, help="a finished run directory")
    parser.add_argument("--model", help="only this model (a row name of the run)")
    parser.add_argument("--task", help="only this task")
    parser.add_argument(
        "--rerun", type=int, default=0, metavar="N",
        help="generate sample 0 of N items again (the run's settings) to measure nondeterminism",
    )  # fmt: skip
    parser.add_argument("--data-dir", type=Path, help="where the run's task data lives (for --rerun)")
    parser.add_argument("--json", action="store_true", help="print the diagnoses as JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import contextlib
    import sys

    from evals.diagnose import diagnose_run
    from evals.errors import EvalsError

    if args.rerun < 0:
        raise EvalsError("--rerun: give a number of items (0 or more)")
    with contextlib.redirect_stdout(sys.stderr):  # engines print; stdout carries the answer
        diagnoses = diagnose_run(
            args.run_dir, model=args.model, task=args.task, rerun=args.rerun, data_dir=args.data_dir
        )
    if args.json:
        print(json.dumps([_as_json(d) for d in diagnoses], indent=2))
    else:
        print(format_diagnoses(diagnoses))
    return 0


def _as_json(diagnosis: Any) -> dict[str, Any]:
    data = asdict(diagnosis)
    data["published"] = diagnosis.published.model_dump(mode="json")
    return data


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_diagnoses(diagnoses: list[Any]) -> str:
    """Plain text: one block per model x task, causes numbered by rank."""
    if not diagnoses:
        return "no published score for any model x task of this run (see evals/published.yaml)"
    lines: list[str] = []
    for d in diagnoses:
        where = d.standing or "not comparable (no CI)"
        lines.append(
            f"{d.model} / {d.task}: ours {_pct(d.accuracy)} [{_pct(d.ci_low)}, {_pct(d.ci_high)}], "
            f"published {d.published.value:g}% ({where} our CI)"
        )
        lines.append(f"  source: {d.published.source}")
        if not d.causes:
            why = "inside our 95% CI" if d.standing == "inside" else "no CI to compare with"
            lines.append(f"  nothing to diagnose: {why}")
        rank = 0
        for cause in d.causes:
            if cause.present:
                rank += 1
                points = cause.explains
                explains = "" if points is None else f" (explains up to {100 * points:.1f} points)"
                lines.append(f"  {rank}. {cause.name}{explains}: {cause.summary}")
            else:
                lines.append(f"  -  {cause.name} (ruled out): {cause.summary}")
        lines.append("")
    return "\n".join(lines).rstrip()
