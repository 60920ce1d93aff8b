"""``evals score``: judge existing model outputs in a JSONL file, no model needed.

Each input line is a JSON object with ``output`` and ``gold`` (optional: ``choices``,
the option texts in the order shown, for multiple choice; ``finish_reason``;
``reasoning_in_prompt``). Each output line is the input object plus ``extracted``,
``correct`` (true, false or null when it could not be judged), ``status`` and
``reason``. A count per status goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from evals.errors import EvalsError
from evals.records import ANSWER_TYPES

_MAX_LISTED_PROBLEMS = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score existing outputs (JSONL with output and gold)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--answer-type", required=True, choices=ANSWER_TYPES, help="how to extract and compare answers"
    )
    parser.add_argument(
        "input", type=Path, metavar="INPUT.jsonl", help="one JSON object per line with output and gold"
    )
    parser.add_argument("--out", type=Path, metavar="OUT.jsonl", help="default: stdout")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per math check (default 5)")
    parser.set_defaults(handler=handle)


def _gold_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # AMC golds are JSON numbers (27.0)
    return None


def _row_problems(row: object) -> list[str]:
    """What is wrong with one parsed line (empty when it can be scored)."""
    if not isinstance(row, dict):
        return [f"expected a JSON object, got {type(row).__name__}"]
    problems = []
    if "output" not in row:
        problems.append("missing field 'output'")
    elif not isinstance(row["output"], str):
        problems.append("field 'output' must be a string")
    if "gold" not in row:
        problems.append("missing field 'gold'")
    elif _gold_text(row["gold"]) is None:
        problems.append("field 'gold' must be a string or a number")
    choices = row.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
        problems.append("field 'choices' must be a list of strings")
    finish = row.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        problems.append("field 'finish_reason' must be a string")
    if not isinstance(row.get("question", ""), str):
        problems.append("field 'question' must be a string")
    if not isinstance(row.get("reasoning_in_prompt", False), bool):
        problems.append("field 'reasoning_in_prompt' must be true or false")
    return problems


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The input objects; EvalsError listing the first problems (file:line) if any."""
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise EvalsError(f"input file not found: {path}") from None
    except OSError as error:
        raise EvalsError(f"cannot read {path}: {error.strerror}") from None
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{path}:{number}: not valid JSON ({error.msg})")
            continue
        problems += [f"{path}:{number}: {problem}" for problem in _row_problems(row)]
        rows.append(row)
    if problems:
        more = len(problems) - _MAX_LISTED_PROBLEMS
        listed = "; ".join(problems[:_MAX_LISTED_PROBLEMS])
        raise EvalsError(listed + (f"; and {more} more problem(s)" if more > 0 else ""))
    return rows


def handle(args: argparse.Namespace) -> int:
    from evals.atomic import atomic_write_text
    from evals.scoring import Scorer, ScoreRequest

    if args.time_limit <= 0:
        raise EvalsError("--time-limit must be positive")
    rows = read_rows(args.input)
    requests = [
        ScoreRequest(
            output=row["output"],
            gold=str(_gold_text(row["gold"])),
            answer_type=args.answer_type,
            choices=tuple(row.get("choices", [])),
            reasoning_in_prompt=row.get("reasoning_in_prompt", False),
            finish_reason=row.get("finish_reason"),
            question=row.get("question", ""),
        )
        for row in rows
    ]
    with Scorer(time_limit_s=args.time_limit) as scorer:
        verdicts = scorer.score_many(requests)
    lines = []
    for row, verdict in zip(rows, verdicts, strict=True):
        scored = {
            **row,
            "extracted": verdict.extracted,
            "correct": verdict.correct,
            "status": verdict.status.value,
            "reason": verdict.reason,
        }
        lines.append(json.dumps(scored) + "\n")  # ASCII escapes: valid even for lone surrogates
    if args.out is None:
        sys.stdout.write("".join(lines))
    else:
        atomic_write_text(args.out, "".join(lines))
    counts = Counter(verdict.status.value for verdict in verdicts)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"scored {len(verdicts)} answers: {summary or 'none'}", file=sys.stderr)
    return 0
