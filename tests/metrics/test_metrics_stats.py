"""Error bars: clustered standard error, intervals and paired tests, against hand computation."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.metrics.stats import (
    accuracy_interval,
    beta_quantile,
    bootstrap_sums,
    clustered_stderr,
    paired_difference,
    percentile_bounds,
    regularized_beta,
    student_t_critical,
    student_t_two_sided_p,
)
from tests.metrics.independent import jeffreys_effective, t_quantile, t_two_sided_p

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
    ("df", "expected"),
    [
        pytest.param(1, 12.706, id="t table, 1 df: 12.706"),
        pytest.param(3, 3.182, id="t table, 3 df: 3.182"),
        pytest.param(29, 2.045, id="t table, 29 df (30 items, AIME): 2.045"),
        pytest.param(39, 2.023, id="t table, 39 df (40 items, AMC): 2.023"),
        pytest.param(499, 1.965, id="t table, 499 df: 1.965"),
        pytest.param(10**7, Z, id="many df: the normal 1.960"),
    ],
)
def test_student_t_critical_matches_the_printed_table(df: int, expected: float) -> None:
    assert student_t_critical(df) == pytest.approx(expected, abs=5e-4)
    assert student_t_critical(df) == pytest.approx(t_quantile(0.975, df), rel=1e-9)


@pytest.mark.parametrize(
    ("x", "a", "b"),
    [
        (0.3, 2.5, 7.5),
        (0.01, 0.5, 100.5),
        (0.9, 3000.5, 400.5),
        (0.5, 0.5, 0.5),
        (0.999, 14.5, 0.5),
        (1e-6, 0.5, 9.5),
    ],
)
def test_regularized_beta_matches_mpmath(x: float, a: float, b: float) -> None:
    # source: mpmath.betainc (arbitrary precision, its own algorithm)
    expected = float(mpmath.betainc(a, b, 0, x, regularized=True))
    assert regularized_beta(x, a, b) == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert regularized_beta(beta_quantile(expected, a, b), a, b) == pytest.approx(
        expected, rel=1e-9, abs=1e-14
    )


@pytest.mark.parametrize(("statistic", "df"), [(0.0, 5), (1.0, 1), (2.045, 29), (-3.5, 10), (10.0, 200)])
def test_student_t_p_matches_the_t_density_integrated(statistic: float, df: int) -> None:
    assert student_t_two_sided_p(statistic, df) == pytest.approx(t_two_sided_p(statistic, df), rel=1e-9)


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


@pytest.mark.parametrize(
    ("trials", "successes"),
    [
        pytest.param([1] * 30, [1] * 9 + [0] * 21, id="AIME-sized, one sample: n = m - 1 answers"),
        pytest.param([4, 4, 4, 3], [2, 1, 0, 3], id="unequal samples per item"),
        pytest.param([16] * 5, [16, 0, 8, 12, 1], id="16 samples, items far apart: n below the samples"),
        pytest.param([2] * 40, [1] * 40, id="every item 1/2: no spread, each item one answer"),
        pytest.param([4] * 10, [4] * 10, id="all right: upper end 1, lower end below 1"),
        pytest.param([1] * 8, [0] * 8, id="all wrong: lower end 0, upper end above 0"),
    ],
)
def test_accuracy_interval_matches_an_independent_jeffreys(trials: list[int], successes: list[int]) -> None:
    interval = accuracy_interval(np.array(trials, float), np.array(successes, float))
    assert interval is not None
    low, high, no_spread = jeffreys_effective(trials, successes)
    assert (interval.low, interval.high) == pytest.approx((low, high), abs=1e-9)
    assert interval.low < interval.high  # never a zero-width interval
    assert interval.method.startswith(
        "Jeffreys with each item" if no_spread else "Jeffreys at the item-clustered"
    )


def test_accuracy_interval_needs_two_items() -> None:
    assert accuracy_interval(np.array([4.0]), np.array([2.0])) is None
    assert accuracy_interval(np.array([]), np.array([])) is None


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(0, 5)), min_size=1, max_size=30),
    st.integers(0, 2**32 - 1),
)
def test_accuracy_interval_contains_the_estimate(items: list[tuple[int, int]], seed: int) -> None:
    trials = np.array([n for n, _ in items], float)
    successes = np.array([min(c, n) for n, c in items], float)
    interval = accuracy_interval(trials, successes)
    accuracy = successes.sum() / trials.sum()
    if len(items) < 2:
        assert interval is None
    else:
        assert interval is not None
        assert 0 <= interval.low <= accuracy <= interval.high <= 1
        assert interval.low < interval.high  # never a zero-width interval


@pytest.mark.parametrize(
    ("differences", "note"),
    [
        pytest.param([1.0, 0.0, 0.0, -0.5, 0.25, 1.0], None, id="mixed signs"),
        pytest.param([1.0] * 5 + [0.0] * 25, None, id="5 of 30 items better, one sample each"),
        pytest.param([0.5, 0.25, 0.75], None, id="three items"),
        pytest.param(
            [0.0] * 4, "every common item has the same difference: no interval", id="identical: p 1"
        ),
        pytest.param(
            [0.5] * 4, "every common item has the same difference: no interval", id="constant: no p"
        ),
        pytest.param([1.0], "one common item: no interval", id="one item"),
    ],
)
def test_paired_difference_is_the_textbook_paired_t(differences: list[float], note: str | None) -> None:
    values = np.array(differences)
    result = paired_difference(values)
    assert (result.mean, result.note) == (pytest.approx(float(np.mean(values))), note)
    if note is not None:
        assert result.interval is None
        assert result.p_value == (1.0 if note.startswith("every") and values[0] == 0 else None)
        return
    m = len(values)
    mean, sd = math.fsum(values) / m, math.sqrt(math.fsum((values - values.mean()) ** 2) / (m - 1))
    half = t_quantile(0.975, m - 1) * sd / math.sqrt(m)
    assert result.interval is not None
    assert (result.interval.low, result.interval.high) == pytest.approx((mean - half, mean + half), rel=1e-9)
    assert result.p_value == pytest.approx(t_two_sided_p(mean / (sd / math.sqrt(m)), m - 1), rel=1e-9)
    assert result.test == result.interval.method == "paired t over items (m-1 df)"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0]), min_size=2, max_size=60)
)
def test_paired_interval_excludes_zero_exactly_when_p_is_below_five_percent(differences: list[float]) -> None:
    # source: issue 10, "+2.5 pts [0.6, 5.0]" was shown with p = 0.125 (bootstrap CI beside McNemar)
    result = paired_difference(np.array(differences))
    if result.interval is None:
        assert result.p_value in (None, 1.0)
        return
    assert result.p_value is not None
    excludes_zero = result.interval.low > 0 or result.interval.high < 0
    assert excludes_zero == (result.p_value < 0.05)
