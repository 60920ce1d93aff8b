"""The judge stage's pure parts: reply parsing, which rows it sees, its prompt, its summary figures.

End to end (offline vLLM and ``vllm serve``) in tests/e2e/test_judge_vllm.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evals.judge import (
    EQUIVALENT,
    NOT_EQUIVALENT,
    UNPARSEABLE,
    JudgeOptions,
    judge_entry,
    judge_requests,
    parse_judge_reply,
    rows_to_judge,
)
from evals.metrics.judged import judge_fields
from evals.metrics.summary import summarize
from evals.records import SampleKey

# (reply, parsed, source)
REPLIES = [
    ("equivalent", EQUIVALENT, "the asked-for phrase"),
    ("Not equivalent.", NOT_EQUIVALENT, "capitalised, with a period"),
    ("**NOT EQUIVALENT**", NOT_EQUIVALENT, "markdown and upper case"),
    ("not_equivalent", NOT_EQUIVALENT, "the stored spelling"),
    ("The answers are inequivalent", NOT_EQUIVALENT, "a synonym"),
    ("<think>maybe not equivalent</think>\nEquivalent", EQUIVALENT, "reasoning is not the verdict"),
    (
        "'equivalent' or 'not equivalent'? I say: not equivalent",
        NOT_EQUIVALENT,
        "restated options: last wins",
    ),
    ("Yes", UNPARSEABLE, "SmolLM2-style reply without a verdict phrase"),
    ("", UNPARSEABLE, "empty reply (a 135M judge often stops at once)"),
    ("<think>equivalent", UNPARSEABLE, "an unclosed think block states no verdict"),
    ("equivalently, 2+2", UNPARSEABLE, "'equivalently' is not the word"),
]


@pytest.mark.parametrize(("reply", "parsed", "source"), REPLIES, ids=[r[2] for r in REPLIES])
def test_parse_judge_reply(reply: str, parsed: str, source: str) -> None:
    assert parse_judge_reply(reply) == parsed, source


def _samples(statuses: list[str], extracted: list[str | None] | None = None) -> pd.DataFrame:
    n = len(statuses)
    correct = [
        True if s == "correct" else False if s in ("incorrect", "no_answer") else None for s in statuses
    ]
    return pd.DataFrame(
        {
            "model": ["m"] * n,
            "task": ["t"] * n,
            "item_id": [f"i{k}" for k in range(n)],
            "sample_idx": [0] * n,
            "prompt": ["Q?"] * n,
            "output": ["<think>long reasoning 41</think> the answer is 42"] * n,
            "extracted": extracted
            if extracted is not None
            else ["42" if s != "no_answer" else None for s in statuses],
            "gold": ["42"] * n,
            "status": statuses,
            "correct": pd.array(correct, dtype="boolean"),
            "prompt_tokens": [10] * n,
            "completion_tokens": [5] * n,
            "engine_seconds": [0.1] * n,
        }
    )


STATUSES = ["correct", "incorrect", "no_answer", "ambiguous", "truncated", "correct", "incorrect", "error"]


def test_rows_to_judge_sees_unreadable_answers_and_an_agreement_sample() -> None:
    samples = _samples(STATUSES)
    options = JudgeOptions(judge_entry("smollm2-135m", None), agreement_sample=2)
    decides, sees = rows_to_judge(samples, options)
    assert list(np.flatnonzero(decides)) == [2, 3]  # no_answer and ambiguous only
    extra = np.flatnonzero(sees & ~decides)
    assert len(extra) == 2 and set(samples.status.iloc[extra]) <= {"correct", "incorrect"}
    reordered = samples.iloc[::-1].reset_index(drop=True)
    decides_again, sees_again = rows_to_judge(reordered, options)
    chosen_again = set(reordered.item_id[sees_again & ~decides_again])
    assert chosen_again == set(samples.item_id.iloc[extra]), "the sample depends on row identity only"

    all_incorrect = JudgeOptions(judge_entry("smollm2-135m", None), all_incorrect=True, agreement_sample=0)
    decides, sees = rows_to_judge(samples, all_incorrect)
    assert list(np.flatnonzero(decides)) == [1, 2, 3, 6] and (sees == decides).all()


def test_judge_prompt_has_question_gold_and_final_answer_never_reasoning() -> None:
    samples = _samples(["no_answer", "ambiguous"], extracted=[None, "B"])
    requests = judge_requests(
        samples, np.array([True, True]), {("t", "i0"): "What is 6*7?", ("t", "i1"): "Which?"}, set(), 16
    )
    assert [r.key.item_id for r in requests] == ["i0", "i1"]
    first, second = (r.prompt.messages[-1].content for r in requests)
    assert "What is 6*7?" in first and "42" in first and "the answer is 42" in first
    assert "long reasoning" not in first and "41" not in first
    assert "Student's final answer:\nB" in second
    assert requests[0].sampling.temperature == 0.0 and requests[0].sampling.max_tokens == 16
    done = {SampleKey("m", "t", "i0", 0)}
    assert [r.key.item_id for r in judge_requests(samples, np.array([True, True]), {}, done, 16)] == ["i1"]


def _judged(statuses: list[str], verdicts: list[str | None], decides: list[bool]) -> pd.DataFrame:
    samples = _samples(statuses)
    return samples.assign(
        judge_verdict=pd.Series(verdicts, dtype=object),
        judge_model=pd.Series(["j" if v else None for v in verdicts], dtype=object),
        judge_decides=decides,
        judge_cost_usd=[0.5 if v else None for v in verdicts],
    )


def test_judge_fields_count_the_judge_apart() -> None:
    statuses = ["correct", "incorrect", "no_answer", "no_answer", "ambiguous", "correct", "incorrect"]
    verdicts = [None, None, EQUIVALENT, UNPARSEABLE, NOT_EQUIVALENT, EQUIVALENT, EQUIVALENT]
    decides = [False, False, True, True, True, False, False]
    frame = _judged(statuses, verdicts, decides)
    fields = judge_fields(frame)
    # rules: 2 correct of 6 judged; with the judge: the no_answer it calls equivalent is
    # correct, the unparseable one stays wrong, the ambiguous one becomes judged (wrong).
    assert fields["accuracy_with_judge"] == pytest.approx(3 / 7)
    assert fields["n_judged_with_judge"] == 7
    assert fields["n_judge_decided"] == 2 and fields["n_judge_unparseable"] == 1
    assert fields["judge_agreement"] == pytest.approx(1 / 2) and fields["n_judge_agreement"] == 2
    assert fields["judge_cost_usd"] == pytest.approx(2.5) and fields["judge_model"] == "j"

    (row,) = summarize(frame, {}, ks=(1,), n_bootstrap=10)
    assert row.accuracy == pytest.approx(2 / 6) and row.n_unscored_by_status == {"ambiguous": 1}
    assert row.accuracy_with_judge == pytest.approx(3 / 7) and row.judge_agreement == pytest.approx(0.5)
    (plain,) = summarize(_samples(statuses), {}, ks=(1,), n_bootstrap=10)
    assert plain.accuracy_with_judge is None and plain.judge_model is None


def test_judge_fields_without_agreement_or_price_are_none() -> None:
    frame = _judged(["no_answer"], [UNPARSEABLE], [True]).assign(judge_cost_usd=[None])
    fields = judge_fields(frame)
    assert fields["judge_agreement"] is None and fields["n_judge_agreement"] == 0
    assert fields["judge_cost_usd"] is None
    assert fields["accuracy_with_judge"] == 0.0  # the rules' no_answer stands
