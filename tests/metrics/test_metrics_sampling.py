"""pass@k and majority vote: golden cases and properties."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import comb

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.metrics import default_ks, majority_vote, normalize_answer, pass_at_k, summarize

# (n, c, k, expected): hand-computed from pass@k = 1 - C(n-c, k) / C(n, k), Chen et al. 2021 eq. 1.
PASS_AT_K_CASES = [
    pytest.param(1, 1, 1, 1.0, id="codex-formula: one correct sample"),
    pytest.param(1, 0, 1, 0.0, id="codex-formula: one wrong sample"),
    pytest.param(2, 1, 1, 0.5, id="codex-formula: pass@1 is c/n"),
    pytest.param(16, 1, 1, 1 / 16, id="codex-formula: pass@1 is c/n at n=16"),
    pytest.param(5, 2, 2, 0.7, id="codex-formula: 1 - C(3,2)/C(5,2) = 1 - 3/10"),
    pytest.param(10, 3, 5, 1 - 21 / 252, id="codex-formula: 1 - C(7,5)/C(10,5)"),
    pytest.param(100, 1, 10, 0.1, id="codex-formula: 1 - C(99,10)/C(100,10) = 1 - 90/100"),
    pytest.param(4, 0, 2, 0.0, id="codex-formula: no correct sample"),
    pytest.param(3, 1, 3, 1.0, id="codex-formula: n - c < k means some draw holds a correct one"),
    pytest.param(4, 4, 4, 1.0, id="codex-formula: all correct"),
    pytest.param(2, 1, 3, None, id="issue 3: pass@k with n < k is null, not 0"),
    pytest.param(0, 0, 1, None, id="issue 3: no samples is null"),
]


@pytest.mark.parametrize(("n", "c", "k", "expected"), PASS_AT_K_CASES)
def test_pass_at_k_golden(n: int, c: int, k: int, expected: float | None) -> None:
    result = pass_at_k(n, c, k)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [
        pytest.param(3, 4, 1, id="more correct than samples"),
        pytest.param(3, -1, 1, id="negative correct"),
        pytest.param(3, 1, 0, id="k = 0"),
    ],
)
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_stable_product_equals_the_binomial_ratio(case: tuple[int, int, int]) -> None:
    n, c, k = case
    exact = 1 - Fraction(comb(n - c, k), comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), abs=1e-9)


@pytest.mark.parametrize(
    ("samples_per_item", "expected"),
    [
        pytest.param(0, (), id="no samples, no k"),
        pytest.param(1, (1,), id="greedy"),
        pytest.param(2, (1, 2), id="two"),
        pytest.param(5, (1, 2, 4, 5), id="powers of two below n, then n"),
        pytest.param(16, (1, 2, 4, 8, 16), id="n a power of two"),
    ],
)
def test_default_ks(samples_per_item: int, expected: tuple[int, ...]) -> None:
    assert default_ks(samples_per_item) == expected


@pytest.mark.parametrize(
    ("extracted", "expected"),
    [
        pytest.param(None, None, id="no answer"),
        pytest.param("   ", None, id="blank is no answer"),
        pytest.param(" 13 800 ", "13 800", id="ends stripped, inner run kept as one space"),
        pytest.param("\\frac{1}{2}\n", "\\frac{1}{2}", id="trailing newline"),
        pytest.param("x", "x", id="case kept: x and X differ in math"),
    ],
)
def test_normalize_answer(extracted: str | None, expected: str | None) -> None:
    assert normalize_answer(extracted) == expected


# Each case: the item's judged samples in sample order as (extracted, correct), then the winner.
MAJORITY_CASES = [
    pytest.param([("42", True)], ("42", True, 1), id="one correct sample"),
    pytest.param([("7", False), ("7", False), ("42", True)], ("7", False, 2), id="wrong majority"),
    pytest.param(
        [("7", False), ("42", True), ("42.0", True)],
        ("42", True, 2),
        id="correct answers written differently are one group (all equal the gold)",
    ),
    pytest.param(
        [("7", False), ("42", True)],
        ("7", False, 1),
        id="tie: the earliest vote wins, even against the correct group",
    ),
    pytest.param([("42", True), ("7", False)], ("42", True, 1), id="tie: the earliest vote wins"),
    pytest.param(
        [(None, False), (None, False), ("42", True)],
        ("42", True, 1),
        id="no extracted answer never wins a vote",
    ),
    pytest.param([(None, False), (None, False)], (None, False, 0), id="nobody voted: wrong"),
    pytest.param(
        [("1 / 2", False), (" 1 /  2", False), ("42", True)],
        ("1 / 2", False, 2),
        id="wrong answers group by whitespace-normalized text",
    ),
    pytest.param(
        [("x", False), ("X", False), ("42", True)],
        ("x", False, 1),
        id="case is kept, so x and X are two votes and the tie goes to x",
    ),
]


@pytest.mark.parametrize(("samples", "expected"), MAJORITY_CASES)
def test_majority_vote(
    samples: list[tuple[str | None, bool]], expected: tuple[str | None, bool, int]
) -> None:
    assert tuple(majority_vote(samples)) == expected


Vote = tuple[str | None, bool | None]  # (extracted answer, verdict); None verdict: not judged

# maj@k through summarize() (the vectorized per-item vote), each worked by hand from the
# definition: the first k judged samples of each item vote, correct ones as one group, wrong ones
# grouped by whitespace-normalized text, no extracted answer = no vote, a tie goes to the
# group that voted first, no vote at all = wrong; items with fewer than k judged samples are left out.
MAJ_AT_K_CASES = [
    pytest.param([[("42", True), ("7", False), ("7", False)]], 3, 0.0, 1, id="wrong 7 twice beats one right"),
    pytest.param([[("7", False), ("42", True), ("42", True)]], 3, 1.0, 1, id="right twice beats one wrong"),
    pytest.param(
        [[("7", False), ("42", True), ("42", True)]], 2, 0.0, 1, id="k=2 ties 7 vs right: 7 came first"
    ),
    pytest.param([[("42", True), ("7", False)]], 2, 1.0, 1, id="tie 1-1: the right vote came first"),
    pytest.param(
        [[("42", True), ("5", None), ("7", False), ("42", True)]],
        3,
        1.0,
        1,
        id="an unjudged sample is skipped: votes right, 7, right",
    ),
    pytest.param(
        [[(None, False), (None, False), ("42", True)]], 3, 1.0, 1, id="no answer abstains: 1 right vote"
    ),
    pytest.param([[(None, False), (None, False)]], 2, 0.0, 1, id="nobody voted: wrong"),
    pytest.param(
        [[("1 / 2", False), (" 1 /  2", False), ("42", True)]],
        3,
        0.0,
        1,
        id="'1 / 2' and ' 1 /  2' are one vote",
    ),
    pytest.param(
        [[("x", False), ("X", False), ("42", True)]], 3, 0.0, 1, id="x, X, right: three 1-1-1, x first"
    ),
    pytest.param(
        [[("42", True), ("7", False), ("7", False), ("42", True)], [("42", True)] * 3 + [("1", None)]],
        4,
        1.0,
        1,
        id="2-2 tie, right first; the item with 3 judged samples is left out",
    ),
    pytest.param(
        [[("42", True)], [("7", False)], [(None, False)], [("42", True)]], 1, 0.5, 4, id="maj@1 = 1, 0, 0, 1"
    ),
    pytest.param([[("1", None), ("2", None)]], 1, None, 0, id="no judged sample anywhere: undefined"),
]


@pytest.mark.parametrize(("items", "k", "expected", "items_at_k"), MAJ_AT_K_CASES)
def test_summary_maj_at_k_by_hand(
    make_samples: Callable[..., pd.DataFrame],
    items: list[list[Vote]],
    k: int,
    expected: float | None,
    items_at_k: int,
) -> None:
    frame = make_samples(
        [
            {"item_id": f"q{i}", "sample_idx": j, "extracted": answer, "correct": correct}
            for i, item in enumerate(items)
            for j, (answer, correct) in enumerate(item)
        ]
    )
    row = summarize(frame, {}, ks=[k], n_bootstrap=10)[0]
    assert (row.maj_at_k[k], row.items_at_k[k]) == (expected, items_at_k)
