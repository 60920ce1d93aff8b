"""The extraction/verification case table (tests/scoring/cases/*.json), one test per case.

Each case names its source: a data set item, or a known failure of another grader that
the case guards against. All cases are scored in one ``score_many`` call, as a run would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.records import ANSWER_TYPES, Status, Verdict
from evals.scoring import Scorer, ScoreRequest, rule_for

CASES_DIR = Path(__file__).parent / "cases"
REQUIRED_KEYS = {"id", "answer_type", "output", "gold", "status", "source"}


def _load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8")):
            cases.append({**case, "file": path.stem})
    return cases


CASES = _load_cases()


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['file']}:{case['id']}"


def _request(case: dict[str, Any]) -> ScoreRequest:
    return ScoreRequest(
        output=case["output"],
        gold=case["gold"],
        answer_type=case["answer_type"],
        choices=tuple(case.get("choices", ())),
        reasoning_in_prompt=case.get("reasoning_in_prompt", False),
        finish_reason=case.get("finish_reason"),
        question=case.get("question", ""),
    )


@pytest.fixture(scope="module")
def verdicts() -> dict[str, Verdict]:
    with Scorer(time_limit_s=5.0) as scorer:
        results = scorer.score_many([_request(case) for case in CASES])
    return {_case_id(case): verdict for case, verdict in zip(CASES, results, strict=True)}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case(case: dict[str, Any], verdicts: dict[str, Verdict]) -> None:
    verdict = verdicts[_case_id(case)]
    assert verdict.status.value == case["status"], (case["source"], verdict)
    if "extracted" in case:
        assert verdict.extracted == case["extracted"], (case["source"], verdict)
    if "reason_contains" in case:
        assert case["reason_contains"] in (verdict.reason or ""), (case["source"], verdict)
    if verdict.status is not Status.CORRECT:
        assert verdict.reason, "every non-correct verdict says why"
    assert verdict.status in rule_for(case["answer_type"]).statuses, "a status its rule declares"


def test_case_table_is_complete() -> None:
    ids = [_case_id(case) for case in CASES]
    assert len(CASES) >= 150
    assert len(set(ids)) == len(ids), "case ids are unique per file"
    for case in CASES:
        assert case.keys() >= REQUIRED_KEYS, case.get("id")
        assert case["source"].strip(), case["id"]
        assert case["answer_type"] in ANSWER_TYPES
        assert case["status"] in {status.value for status in Status}
    assert {case["answer_type"] for case in CASES} == set(ANSWER_TYPES)
    covered = {case["status"] for case in CASES}
    assert {"correct", "incorrect", "no_answer", "truncated", "gold_unparseable", "ambiguous"} <= covered
