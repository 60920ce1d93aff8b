"""summarize(): hand-computed figures on a small run, None where undefined, and invariants."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.errors import EvalsError
from evals.metrics import (
    ApiPriced,
    SelfHosted,
    UnknownPrice,
    read_summary,
    summarize,
    write_summary,
)
from tests.metrics.independent import jeffreys_effective

Z = 1.959963984540054
H100_AT_3_60 = SelfHosted("H100", 2, 3.6, "test price", date(2025, 3, 1))  # $0.002 per engine second


def hand_run(make_samples: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    """Five items, the figures of which the golden test works out by hand.

    q1: right, right, wrong "7", wrong "7"        q2: right, wrong "5", wrong "5", no answer
    q3: wrong "1", "2", "2", truncated            q4: right x3, then a verification timeout
    q5: generation error (no output, no tokens, engine time not recorded)
    """
    rows = []

    def add(
        item: str, idx: int, correct: bool | None, extracted: str | None, status: str, **extra: object
    ) -> None:
        rows.append(
            {
                "item_id": item,
                "sample_idx": idx,
                "correct": correct,
                "extracted": extracted,
                "status": status,
                **extra,
            }
        )

    for idx, (c, x) in enumerate([(True, "42"), (True, "42"), (False, "7"), (False, "7")]):
        add("q1", idx, c, x, "correct" if c else "incorrect")
    for idx, (c, x) in enumerate([(True, "42"), (False, "5"), (False, "5")]):
        add("q2", idx, c, x, "correct" if c else "incorrect")
    add("q2", 3, False, None, "no_answer")
    for idx, x in enumerate(["1", "2", "2"]):
        add("q3", idx, False, x, "incorrect")
    add("q3", 3, False, None, "truncated")
    for idx in range(3):
        add("q4", idx, True, "42", "correct")
    add("q4", 3, None, "42", "timeout", engine_seconds=0.5)
    add("q5", 0, None, None, "error", engine_seconds=math.nan, completion_tokens=0, prompt_tokens=0)
    return make_samples(rows[::-1])  # reversed: summarize must not depend on row order


def test_golden_figures(make_samples: Callable[..., pd.DataFrame]) -> None:
    (row,) = summarize(hand_run(make_samples), {"m": H100_AT_3_60}, seed=3, n_bootstrap=500)
    expected = {
        "n_items": 5,
        "n_items_judged": 4,
        "n_samples": 17,
        "n_judged": 15,
        "n_correct": 6,
        "samples_per_item": 4,
        "accuracy": 6 / 15,  # avg@n: correct over judged samples
        # trials (4,4,4,3), successes (2,1,0,3), r = 0.4: residuals 0.4, -0.6, -1.6, 1.8
        "stderr": math.sqrt(4 / 3 * (0.4**2 + 0.6**2 + 1.6**2 + 1.8**2)) / 15,
        # pass@1 per item 2/4, 1/4, 0, 3/3; pass@2: 1-C(2,2)/C(4,2)=5/6, 1-C(3,2)/C(4,2)=1/2, 0, 1;
        # pass@4 only over the three items with 4 judged samples: 1, 1, 0
        "pass_at_k": {1: (0.5 + 0.25 + 0 + 1) / 4, 2: (5 / 6 + 0.5 + 0 + 1) / 4, 4: 2 / 3},
        # maj@1 first judged sample: 1,1,0,1; maj@2: q2 ties right/"5" and the earlier vote (right)
        # wins; maj@4: q1 ties 2-2 and its first vote is right, q2 has "5" twice over one right
        "maj_at_k": {1: 0.75, 2: 0.75, 4: 1 / 3},
        "items_at_k": {1: 4, 2: 4, 4: 3},
        "no_answer_rate": 1 / 15,
        "truncated_rate": 1 / 15,
        "n_unscored": 2,
        "n_unscored_by_status": {"timeout": 1, "error": 1},
        "tokens_per_answer": 20.0,
        "prompt_tokens_per_answer": 10.0,  # the error row is no answer
        "engine_seconds": 15.5,
        "total_cost_usd": 15.5 * 0.002,
        "cost_per_answer_usd": 15.5 * 0.002 / 16,
        "cost_per_correct_usd": 15 * 0.002 / 6,  # judged samples' cost over correct ones
        "cost_basis": "2 x H100 at $3.60/GPU-h (H100, list price of 2025-03-01)",
        "cost_source": "test price",
        "bootstrap_seed": 3,
        "n_bootstrap": 500,
    }
    actual = row.model_dump()
    for key, value in expected.items():
        assert actual[key] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-12)), key
    # the accuracy interval worked from its definition with mpmath (tests/metrics/independent.py)
    low, high, _ = jeffreys_effective([4, 4, 4, 3], [2, 1, 0, 3])
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-9)
    assert row.ci_method == "Jeffreys at the item-clustered effective sample size, t-calibrated (m-1 df)"


def test_cost_per_correct_interval_is_the_exact_bootstrap_percentile(
    make_samples: Callable[..., pd.DataFrame],
) -> None:
    """Against the exact bootstrap distribution: all 4^4 equally likely resamples of the 4 judged items."""
    (row,) = summarize(hand_run(make_samples), {"m": H100_AT_3_60}, seed=5, n_bootstrap=20_000)
    # judged cost per item: 4, 4, 4, 3 engine seconds at $0.002; correct: 2, 1, 0, 3
    cost, correct = np.array([0.008, 0.008, 0.008, 0.006]), np.array([2, 1, 0, 3])
    picks = np.array(list(itertools.product(range(4), repeat=4)))
    with np.errstate(divide="ignore"):
        ratios = np.where(correct[picks].sum(1) > 0, cost[picks].sum(1) / correct[picks].sum(1), np.inf)
    low, high = row.cost_per_correct_ci_low, row.cost_per_correct_ci_high
    assert low is not None and high is not None
    slack = 0.006  # about 5 Monte Carlo standard errors of a 2.5% tail share over 20,000 draws
    assert np.mean(ratios < low) <= 0.025 + slack and np.mean(ratios <= low) >= 0.025 - slack
    assert np.mean(ratios > high) <= 0.025 + slack and np.mean(ratios >= high) >= 0.025 - slack


def test_same_seed_same_row_and_order_does_not_matter(make_samples: Callable[..., pd.DataFrame]) -> None:
    frame = hand_run(make_samples)
    first = summarize(frame, {"m": H100_AT_3_60}, seed=11, n_bootstrap=300)
    shuffled = frame.sample(frac=1.0, random_state=5)
    assert summarize(shuffled, {"m": H100_AT_3_60}, seed=11, n_bootstrap=300) == first
    assert summarize(frame, {"m": H100_AT_3_60}, seed=12, n_bootstrap=300) != first


def test_api_cost_is_tokens_times_price(make_samples: Callable[..., pd.DataFrame]) -> None:
    frame = make_samples(
        [
            {"item_id": f"q{i}", "correct": i % 2 == 0, "prompt_tokens": 1000, "completion_tokens": 500}
            for i in range(4)
        ]
    )
    basis = ApiPriced("gpt-test", 2.0, 8.0, "test", date(2025, 3, 1))
    (row,) = summarize(frame, {"m": basis}, n_bootstrap=100)
    assert row.cost_per_answer_usd == pytest.approx(1000 * 2e-6 + 500 * 8e-6)
    assert row.cost_per_correct_usd == pytest.approx(4 * 0.006 / 2)


@pytest.mark.parametrize(
    ("costs", "reason"),
    [
        pytest.param(
            {"m": UnknownPrice("no price for 'B300'")},
            "unknown price: no price for 'B300'",
            id="issue 3: unknown price is null and says why, never 0",
        ),
        pytest.param({}, "unknown price: no cost basis given for model 'm'", id="model not in costs"),
    ],
)
def test_unknown_price_leaves_every_cost_none(
    make_grid: Callable[..., pd.DataFrame], costs: dict[str, UnknownPrice], reason: str
) -> None:
    (row,) = summarize(make_grid([[True, False], [True, True]]), costs, n_bootstrap=50)
    assert row.cost_basis == reason and row.cost_source is None
    for field in (
        "total_cost_usd",
        "cost_per_answer_usd",
        "cost_per_correct_usd",
        "cost_per_correct_ci_low",
        "cost_per_correct_ci_high",
    ):
        assert getattr(row, field) is None, field
    assert row.engine_seconds == 4.0 and row.tokens_per_answer == 20.0


@pytest.mark.parametrize(
    ("outcomes", "none_fields", "values"),
    [
        pytest.param(
            [[True, False, True]],
            {
                "stderr",
                "ci_low",
                "ci_high",
                "ci_method",
                "cost_per_correct_ci_low",
                "cost_per_correct_ci_high",
            },
            {"accuracy": 2 / 3},
            id="one item: no error bars, not a zero-width interval",
        ),
        pytest.param(
            [[False], [False]],
            {"cost_per_correct_usd", "cost_per_correct_ci_low", "cost_per_correct_ci_high"},
            {"accuracy": 0.0},
            id="nothing correct: accuracy 0 is defined, cost per correct is not",
        ),
        pytest.param(
            [[None, None], [None]],
            {
                "accuracy",
                "stderr",
                "ci_low",
                "ci_high",
                "no_answer_rate",
                "truncated_rate",
                "cost_per_correct_usd",
            },
            {"n_unscored": 3, "n_items_judged": 0, "pass_at_k": {1: None, 2: None}},
            id="nothing judged: every rate is None, the samples are counted as unscored",
        ),
        pytest.param(
            [[True, True], [True, False]],
            set(),
            {"pass_at_k": {1: 0.75, 2: 1.0, 8: None}, "items_at_k": {1: 2, 2: 2, 8: 0}},
            id="issue 3: pass@k with n < k is null, not 0",
        ),
    ],
)
def test_undefined_figures_are_none(
    make_grid: Callable[..., pd.DataFrame],
    outcomes: list[list[bool | None]],
    none_fields: set[str],
    values: dict[str, object],
) -> None:
    ks = [1, 2, 8] if "items_at_k" in values else None
    (row,) = summarize(make_grid(outcomes), {"m": H100_AT_3_60}, ks=ks, n_bootstrap=100)
    for field in none_fields:
        assert getattr(row, field) is None, field
    for field, value in values.items():
        assert getattr(row, field) == value, field


def test_missing_engine_time_of_an_answer_makes_its_cost_unknown(
    make_grid: Callable[..., pd.DataFrame],
) -> None:
    frame = make_grid([[True, False], [True, True]])
    frame.loc[1, "engine_seconds"] = math.nan  # an answer whose engine time was not recorded
    (row,) = summarize(frame, {"m": H100_AT_3_60}, n_bootstrap=50)
    assert row.engine_seconds is None and row.total_cost_usd is None
    assert row.cost_per_answer_usd is None and row.cost_per_correct_usd is None
    assert row.accuracy == 0.75  # accuracy does not depend on it


def test_no_spread_between_items_counts_each_item_as_one_answer(
    make_grid: Callable[..., pd.DataFrame],
) -> None:
    (row,) = summarize(make_grid([[True]] * 4), {}, n_bootstrap=100)
    assert row.accuracy == 1.0 and row.stderr == 0.0
    low, high, no_spread = jeffreys_effective([1] * 4, [1] * 4)
    assert no_spread and high == 1.0 and low < 0.5  # 4 items prove little: not a zero-width interval
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-9)
    assert row.ci_method == "Jeffreys with each item as one answer (no variation between items), t-calibrated"


def test_one_row_per_model_and_task_sorted(make_grid: Callable[..., pd.DataFrame]) -> None:
    frame = pd.concat(
        [make_grid([[True]], "b", "t2"), make_grid([[False]], "a", "t9"), make_grid([[True]], "a", "t1")]
    )
    rows = summarize(frame, {}, n_bootstrap=10)
    assert [(r.model, r.task, r.accuracy) for r in rows] == [
        ("a", "t1", 1.0),
        ("a", "t9", 0.0),
        ("b", "t2", 1.0),
    ]


def test_no_samples_no_rows(make_grid: Callable[..., pd.DataFrame]) -> None:
    assert summarize(make_grid([[True]]).iloc[:0], {}) == []


def test_missing_columns_are_one_user_error(make_grid: Callable[..., pd.DataFrame]) -> None:
    with pytest.raises(EvalsError, match="lack the columns correct, engine_seconds"):
        summarize(make_grid([[True]]).drop(columns=["correct", "engine_seconds"]), {})


def test_summary_json_round_trip(make_samples: Callable[..., pd.DataFrame], tmp_path: Path) -> None:
    rows = summarize(hand_run(make_samples), {"m": H100_AT_3_60}, n_bootstrap=100)
    path = tmp_path / "summary.json"
    write_summary(rows, path)
    assert read_summary(path) == rows
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left
    raw = json.loads(path.read_text())
    assert raw[0]["pass_at_k"] == {"1": 0.4375, "2": pytest.approx(7 / 12), "4": pytest.approx(2 / 3)}
    required = {
        "model",
        "task",
        "n_items",
        "n_samples",
        "samples_per_item",
        "accuracy",
        "stderr",
        "ci_low",
        "ci_high",
        "pass_at_k",
        "maj_at_k",
        "no_answer_rate",
        "truncated_rate",
        "n_unscored",
        "tokens_per_answer",
        "prompt_tokens_per_answer",
        "engine_seconds",
        "cost_per_answer_usd",
        "cost_per_correct_usd",
        "cost_per_correct_ci_low",
        "cost_per_correct_ci_high",
        "cost_basis",
    }
    assert required <= set(raw[0])  # the brief's summary.json contract


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", "is not valid JSON", id="corrupt file"),
        pytest.param('{"model": "m"}', "a summary is a JSON list", id="not a list"),
        pytest.param('[{"model": "m", "surprise": 1}]', "surprise: Extra inputs", id="unknown key"),
    ],
)
def test_read_summary_rejects_what_it_did_not_write(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "summary.json"
    path.write_text(text)
    with pytest.raises(EvalsError, match=message):
        read_summary(path)


def equal_n_outcomes() -> st.SearchStrategy[list[list[bool]]]:
    return st.integers(1, 6).flatmap(
        lambda n: st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=1, max_size=12)
    )


@settings(max_examples=60, deadline=None)
@given(outcomes=equal_n_outcomes(), seed=st.integers(0, 1000))
def test_pass_at_k_invariants(
    make_grid: Callable[..., pd.DataFrame], outcomes: list[list[bool]], seed: int
) -> None:
    n = len(outcomes[0])
    (row,) = summarize(make_grid(outcomes), {}, ks=range(1, n + 1), seed=seed, n_bootstrap=200)
    assert row.accuracy is not None
    assert row.pass_at_k[1] == pytest.approx(row.accuracy)  # pass@1 equals avg accuracy
    values = [row.pass_at_k[k] for k in range(1, n + 1)]
    assert all(b >= a - 1e-12 for a, b in zip(values, values[1:], strict=False))  # type: ignore[operator]
    assert row.pass_at_k[n] == pytest.approx(sum(any(item) for item in outcomes) / len(outcomes))
    if n == 1:
        assert row.maj_at_k[1] == pytest.approx(row.accuracy)  # maj@1 with one sample
    if row.ci_low is None:
        assert len(outcomes) == 1
    else:
        assert row.ci_low <= row.accuracy <= row.ci_high  # type: ignore[operator]
