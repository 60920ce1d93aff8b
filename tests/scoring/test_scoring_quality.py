"""Quality bars of issue 3 on the benchmark fixtures and, with EVALS_DATA_DIR, on the full data.

Reference answers scored as model outputs: against their own gold (judged correct) and
against the next item's gold, pairs with equal gold strings skipped (judged incorrect,
except where neighbouring golds are genuinely equivalent). ``bench/scoring_quality.py``
prints the same figures beside math-verify's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.records import AnswerType, Status
from evals.scoring import Scorer, ScoreRequest
from evals.scoring.boxed import last_boxed
from tests.conftest import BenchmarkData


def _rows(data: Path, task: str) -> list[dict[str, str]]:
    with (data / task / "test.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _shares(
    scorer: Scorer, outputs: list[str], golds: list[str], answer_type: AnswerType
) -> tuple[float, float, list[str]]:
    """(share correct against own gold, share correct against next gold, own failures)."""
    own = scorer.score_many([ScoreRequest(o, g, answer_type) for o, g in zip(outputs, golds, strict=True)])
    count = len(golds)
    shifted = [
        ScoreRequest(outputs[i], golds[(i + 1) % count], answer_type)
        for i in range(count)
        if golds[i] != golds[(i + 1) % count]
    ]
    others = scorer.score_many(shifted)
    failures = [
        f"{golds[i]!r}: {verdict}" for i, verdict in enumerate(own) if verdict.status is not Status.CORRECT
    ]
    wrongly_right = sum(verdict.status is Status.CORRECT for verdict in others)
    return 1 - len(failures) / count, wrongly_right / len(others), failures


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    with Scorer() as shared:
        yield shared


def test_math_reference_solutions(scorer: Scorer, benchmark_data: BenchmarkData) -> None:
    rows = _rows(benchmark_data.path, "math")
    assert len(rows) == 5000 or not benchmark_data.full
    golds = [last_boxed(row["solution"]) or "" for row in rows]
    own, other, failures = _shares(scorer, [r["solution"] for r in rows], golds, "math")
    assert own >= 0.998, failures[:10]
    assert other <= 0.001


def test_math500_answers(scorer: Scorer, benchmark_data: BenchmarkData) -> None:
    rows = _rows(benchmark_data.path, "math500")
    answers = [row["answer"] for row in rows]
    own, other, failures = _shares(scorer, answers, answers, "math")
    assert own == 1.0, failures
    # Some neighbouring golds are equivalent ("5" and "x=5" in the fixtures): allow one pair.
    assert other <= max(0.005, 1.5 / len(rows))


def test_gsm8k_reference_answers(scorer: Scorer, benchmark_data: BenchmarkData) -> None:
    rows = _rows(benchmark_data.path, "gsm8k")
    golds = [row["answer"].rsplit("####", 1)[1].strip().replace(",", "") for row in rows]
    own, other, failures = _shares(scorer, [r["answer"] for r in rows], golds, "number")
    assert own == 1.0, failures
    assert other == 0.0
