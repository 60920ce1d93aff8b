"""Error bars: clustered standard error, intervals and paired tests, against hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.metrics.stats import (
    accuracy_interval,
    bootstrap_sums,
    clustered_stderr,
    mcnemar_exact_p,
    percentile_bounds,
    sign_flip_p,
    wilson_interval,
)

Z = 1.959963984540054


@pytest.mark.parametrize(
    ("trials", "successes", "expected"),
    [
        pytest.param(
            [4, 4, 4],
            [2, 1, 0],
            math.sqrt(((0.5 - 0.25) ** 2 + 0 + 0.25**2) / 2) / math.sqrt(3),
            id="equal samples per item: sd of item accuracies / sqrt(items)",
        ),
        pytest.param(
            [4, 4, 4, 3],
            [2, 1, 0, 3],
            math.sqrt(4 / 3 * (0.4**2 + 0.6**2 + 1.6**2 + 1.8**2)) / 15,
            id="unequal samples: residuals c_i - 0.4 n_i by hand, cluster-robust ratio formula",
        ),
        pytest.param(
            [1, 1, 1, 1],
            [1, 0, 1, 1],
            math.sqrt(0.75 * 0.25 * 4 / 3) / 2,
            id="one sample per item: the ordinary SE with the m-1 denominator",
        ),
        pytest.param([5], [3], None, id="one item: no spread between items, None"),
        pytest.param([0, 0], [0, 0], None, id="no judged samples: None"),
    ],
)
def test_clustered_stderr(trials: list[float], successes: list[float], expected: float | None) -> None:
    result = clustered_stderr(np.array(trials, float), np.array(successes, float))
    assert result == (None if expected is None else pytest.approx(expected, rel=1e-12))


@pytest.mark.parametrize(
    ("proportion", "n", "expected"),
    [
        pytest.param(0.5, 100, (0.40383, 0.59617), id="Wilson 1927 worked value, 50 of 100"),
        pytest.param(1.0, 4, (4 / (4 + Z**2), 1.0), id="all right: lower end n/(n+z^2)"),
        pytest.param(0.0, 10, (0.0, Z**2 / (10 + Z**2)), id="all wrong: upper end z^2/(n+z^2)"),
    ],
)
def test_wilson_interval(proportion: float, n: int, expected: tuple[float, float]) -> None:
    assert wilson_interval(proportion, n) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("a_only", "b_only", "expected"),
    [
        pytest.param(0, 0, 1.0, id="no discordant pairs: no evidence"),
        pytest.param(0, 5, 2 / 32, id="McNemar exact: 2 x P(X<=0), X~Bin(5, 1/2)"),
        pytest.param(9, 1, 2 * 11 / 1024, id="McNemar exact: 2 x (1+10)/2^10, symmetric in a/b"),
        pytest.param(1, 9, 2 * 11 / 1024, id="McNemar exact: the mirror case"),
        pytest.param(3, 3, 1.0, id="balanced: capped at 1"),
    ],
)
def test_mcnemar_exact(a_only: int, b_only: int, expected: float) -> None:
    assert mcnemar_exact_p(a_only, b_only) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("differences", "expected"),
    [
        pytest.param([1, 1, 1], 2 / 8, id="all 8 patterns enumerated: only ++ + and --- reach 3"),
        pytest.param([1, -1], 1.0, id="sum 0: every pattern reaches it"),
        pytest.param([0.5] * 4 + [-0.5], 12 / 32, id="|2j-5| >= 3 for j in {0,1,4,5}: 12 of 32"),
        pytest.param([0, 0, 0], 1.0, id="no differences"),
        pytest.param([0.25, 0, 0, 0.25], 2 / 4, id="zeros carry no sign"),
    ],
)
def test_sign_flip_exact(differences: list[float], expected: float) -> None:
    result = sign_flip_p(np.array(differences, float), n_permutations=100, seed=0)
    assert result.exact
    assert result.p_value == pytest.approx(expected)


def test_sign_flip_monte_carlo_agrees_with_the_binomial_tail() -> None:
    # 20 differences of +-1 (14 positive): exact p = 2 P(X >= 14), X ~ Bin(20, 1/2).
    differences = np.array([1.0] * 14 + [-1.0] * 6)
    exact = 2 * sum(math.comb(20, i) for i in range(14, 21)) / 2**20
    result = sign_flip_p(differences, n_permutations=20_000, seed=3)
    assert not result.exact
    assert result.p_value == pytest.approx(exact, abs=0.01)


def test_bootstrap_is_reproducible_and_resamples_items() -> None:
    columns = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    first = bootstrap_sums(columns, 500, seed=7)
    assert np.array_equal(first, bootstrap_sums(columns, 500, seed=7))
    assert not np.array_equal(first, bootstrap_sums(columns, 500, seed=8))
    assert np.all(first[:, 0] == 3)  # a constant column sums to m x value
    assert set(np.unique(first[:, 1])) <= {0.0, 1.0, 2.0, 3.0}
    assert first[:, 1].mean() == pytest.approx(2.0, abs=0.1)  # expectation: m x mean


@pytest.mark.parametrize(
    ("replicates", "expected"),
    [
        pytest.param(np.arange(1001.0), (25.0, 975.0), id="linear quantiles of 0..1000"),
        pytest.param(
            np.r_[np.arange(900.0), [np.inf] * 101], (25.0, None), id="unbounded above: 101 of 1001 infinite"
        ),
        pytest.param(np.array([np.inf] * 10), (None, None), id="all infinite"),
        pytest.param(np.array([1.0, np.nan]), (None, None), id="NaN is never an end"),
        pytest.param(np.array([]), (None, None), id="no replicates"),
    ],
)
def test_percentile_bounds(replicates: np.ndarray, expected: tuple[float | None, float | None]) -> None:
    for end, want in zip(percentile_bounds(replicates), expected, strict=True):
        assert end == (None if want is None else pytest.approx(want, abs=1e-9))


def test_accuracy_interval_falls_back_to_wilson_without_spread() -> None:
    trials, successes = np.full(4, 2.0), np.full(4, 2.0)
    interval = accuracy_interval(trials, successes, bootstrap_sums(np.c_[trials, successes], 100, 0))
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((4 / (4 + Z**2), 1.0))
    assert interval.method.startswith("wilson")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 5)), min_size=1, max_size=30),
    st.integers(0, 2**32 - 1),
)
def test_accuracy_interval_contains_the_estimate(items: list[tuple[int, int]], seed: int) -> None:
    trials = np.array([n for n, _ in items], float)
    successes = np.array([min(c, n) for n, c in items], float)
    interval = accuracy_interval(trials, successes, bootstrap_sums(np.c_[trials, successes], 300, seed))
    accuracy = successes.sum() / trials.sum()
    if len(items) < 2:
        assert interval is None
    else:
        assert interval is not None
        assert 0 <= interval.low <= accuracy <= interval.high <= 1
        assert interval.low < interval.high  # never a zero-width interval


@pytest.mark.parametrize(
    ("a_only", "b_only"),
    [(0, 0), (1, 0), (3, 7), (10, 10), (61, 50), (300, 310), (3000, 3100)],
)
def test_mcnemar_matches_the_binomial_tail_and_stays_fast_for_close_models(a_only: int, b_only: int) -> None:
    # source: report bench, 10 models x 8 tasks: the per-term math.comb sum took 19 s at 6,000 vs 6,100
    n = a_only + b_only
    expected = (
        1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1)) / 2**n)
    )
    assert mcnemar_exact_p(a_only, b_only) == pytest.approx(expected, rel=1e-12)
