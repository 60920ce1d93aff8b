"""The cheap checks agree with math-verify wherever they decide (real MATH answer pairs).

Pairs: MATH-500 answers against their own and their neighbours' golds, and MATH reference
solutions against neighbouring golds. Every pair the cheap checks settle that is not two
plain numbers is checked again by math-verify in the worker pool. The one deliberate
difference: base subscripts, which math-verify ignores.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.scoring.boxed import last_boxed
from evals.scoring.extract import extract_math
from evals.scoring.mathcheck import compact_math, tidy_math
from evals.scoring.numbers import parse_number
from evals.scoring.pool import VerifierPool
from evals.scoring.quickcheck import base_number_value, quick_math_check
from tests.conftest import BenchmarkData

SAMPLE = 400


def _rows(data: Path, task: str) -> list[dict[str, str]]:
    with (data / task / "test.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _answer_pairs(data: Path) -> list[tuple[str, str]]:
    answers = [row["answer"] for row in _rows(data, "math500")]
    math = _rows(data, "math")
    golds = [last_boxed(row["solution"]) or "" for row in math]
    outputs = [extract_math(row["solution"]) or "" for row in math]
    count = len(answers)
    pairs = {(answers[i], answers[j]) for i in range(count) for j in (i, (i + 1) % count)}
    pairs |= {(outputs[i], golds[(i + 1) % len(golds)]) for i in range(len(golds))}
    return sorted((tidy_math(pred), tidy_math(gold)) for pred, gold in pairs)


def test_cheap_checks_agree_with_math_verify(benchmark_data: BenchmarkData) -> None:
    decided = []
    for pred, gold in _answer_pairs(benchmark_data.path):
        verdict = quick_math_check(pred, gold)
        plain = all(parse_number(compact_math(text)) is not None for text in (pred, gold))
        if verdict is not None and not plain:
            decided.append((pred, gold, verdict))
    # On the full data, thousands of pairs; on the fixtures, a few dozen.
    assert len(decided) > (1000 if benchmark_data.full else 20), (
        "the cheap checks settle most non-numeric pairs"
    )
    sample = decided[:: max(1, len(decided) // SAMPLE)]
    pool = VerifierPool(size=2, time_limit_s=5.0)
    try:
        outcomes = pool.check_many([(pred, gold) for pred, gold, _ in sample])
    finally:
        pool.close()
    disagreements = [
        (pred, gold, verdict, outcome.equal)
        for (pred, gold, verdict), outcome in zip(sample, outcomes, strict=True)
        if outcome.equal is not None and outcome.equal != verdict
        and not (base_number_value(compact_math(gold)) and not verdict)
    ]  # fmt: skip
    assert disagreements == []
    assert sum(outcome.equal is None for outcome in outcomes) <= 2, "few checks time out"
