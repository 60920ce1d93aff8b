"""Anytime-valid confidence sequences: the capital against the paper's formulas, invariants, coverage.

Sources: Waudby-Smith & Ramdas (2024), "Estimating means of bounded random variables
by betting", eq. 26-27 (predictable plug-in bets, hedged capital); Waudby-Smith &
Ramdas (2020), "Confidence sequences for sampling without replacement" (the
conditional mean (N m - S_{t-1}) / (N - t + 1) replaces m).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.metrics.sequential import (
    accuracy_sequence,
    decide,
    difference_sequence,
    running_log_capital,
    sequence_path,
)
from evals.metrics.stats import paired_difference


def _capital_by_hand(values: list[float], m: float, population: int | None, alpha: float) -> list[float]:
    """log K_t(m) step by step, written from the papers (no running maximum, no impossibility)."""
    up, down, logs = 1.0, 1.0, []
    mean_sum, var_sum = 0.0, 0.0
    for t, x in enumerate(values, start=1):
        previous_var = (0.25 + var_sum) / t  # sigma^2_{t-1} = (1/4 + sum_{i<t} (x_i - mu_i)^2) / t
        bet = math.sqrt(2 * math.log(2 / alpha) / (previous_var * t * math.log(1 + t)))
        seen = sum(values[: t - 1])
        conditional = m if population is None else (population * m - seen) / (population - t + 1)
        bet_up = min(bet, 0.5 / conditional) if conditional > 0 else bet
        bet_down = min(bet, 0.5 / (1 - conditional)) if conditional < 1 else bet
        up *= 1 + bet_up * (x - conditional)
        down *= 1 - bet_down * (x - conditional)
        logs.append(math.log((up + down) / 2))
        mean_sum += x
        var_sum += (x - (0.5 + mean_sum) / (t + 1)) ** 2
    return logs


@pytest.mark.parametrize(
    ("values", "m", "population"),
    [
        pytest.param([1, 0, 1, 1, 0.5, 0, 1], 0.4, None, id="with replacement, mixed values"),
        pytest.param([0.0] * 6, 0.7, None, id="all wrong against a high mean"),
        pytest.param([1, 0, 0.25, 1, 1, 0], 0.5, 10, id="without replacement, 6 of 10 items"),
        pytest.param([0, 0, 0, 1], 0.35, 20, id="without replacement, low mean"),
    ],
)
def test_capital_matches_the_papers_formulas(values: list[float], m: float, population: int | None) -> None:
    expected = np.maximum.accumulate(_capital_by_hand([float(v) for v in values], m, population, 0.05))
    got = running_log_capital(np.array(values, dtype=np.float64), np.array([m]), population)[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_every_item_seen_gives_the_item_sets_mean() -> None:
    values = np.array([1.0, 0.0, 0.5, 1.0, 0.25])
    result = accuracy_sequence(values, population=5)
    assert result is not None and result.low == result.high == pytest.approx(0.55)


def test_impossible_means_are_rejected_without_replacement() -> None:
    # 8 of 10 items seen, all correct: the 10-item mean is at least 0.8.
    path = sequence_path(np.ones(8), population=10)
    assert path.low[-1] >= 0.799


def test_more_observations_than_items_is_an_error() -> None:
    with pytest.raises(ValueError, match="population of 3"):
        running_log_capital(np.ones(4), np.array([0.5]), population=3)


def test_no_items_is_no_interval() -> None:
    assert accuracy_sequence(np.array([])) is None
    assert difference_sequence(np.array([])) is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60), st.booleans())
def test_intervals_are_nested_and_hold_a_possible_mean(values: list[float], finite: bool) -> None:
    x = np.array(values)
    population = len(x) + 5 if finite else None
    path = sequence_path(x, population, grid_points=401)
    assert np.all(path.low <= path.high)
    assert np.all(np.diff(path.low) >= -1e-12) and np.all(np.diff(path.high) <= 1e-12)  # running intersection
    assert np.all(path.low >= 0) and np.all(path.high <= 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0]), min_size=2, max_size=80))
def test_p_value_and_interval_agree(differences: list[float]) -> None:
    result = difference_sequence(np.array(differences))
    assert result is not None and result.p_value is not None
    excludes_zero = result.low >= 0 or result.high <= 0
    assert (result.p_value <= 0.05) == excludes_zero


def _beta_population(rng: np.random.Generator, items: int) -> np.ndarray:
    """Per-item accuracies of 4 samples, item probabilities ~ Beta(0.6, 1.4) (mean 0.3)."""
    return rng.binomial(4, rng.beta(0.6, 1.4, size=items)) / 4


def test_time_uniform_coverage_where_a_repeated_t_test_fails() -> None:
    """Under no difference, stop at the first look with p < 0.05: the t test errs far above 5%."""
    rng = np.random.default_rng(20240101)
    reps, items, looks = 300, 300, range(10, 301, 10)
    t_errors = sequence_errors = 0
    for _ in range(reps):
        differences = _beta_population(rng, items) - _beta_population(rng, items)
        t_errors += any(paired_difference(differences[:n]).p_value or 1 < 0.05 for n in looks)
        capital = running_log_capital((differences + 1) / 2, np.array([0.5]))[:, 0]
        sequence_errors += bool(capital[-1] >= math.log(20))  # the running maximum: any look
    assert t_errors / reps > 0.15
    assert sequence_errors / reps <= 0.05


def test_time_uniform_coverage_without_replacement() -> None:
    """Random orders of one finite item set: the set's mean stays inside at every look."""
    rng = np.random.default_rng(7)
    population = _beta_population(rng, 200)
    truth = np.array([population.mean()])
    misses = 0
    for _ in range(400):
        order = rng.permutation(population)
        misses += bool(running_log_capital(order, truth, population=200)[-1, 0] >= math.log(20))
    assert misses / 400 <= 0.05


def test_time_uniform_coverage_over_rounds_of_samples() -> None:
    """A small item set, one look per sample index: its accuracy (the mean item probability) stays inside.

    source: issue 13 part 1 (rounds of extra samples; the target is the accuracy on this item set).
    The value of sample index s is the share of the 20 items its s-th samples answered correctly:
    independent draws with that mean, so the sequence for independent draws (no population) holds.
    """
    rng = np.random.default_rng(13)
    misses, reps = 0, 400
    for _ in range(reps):
        probabilities = rng.beta(0.78, 10.34, size=20) if rng.random() < 0.5 else rng.beta(2, 2, size=20)
        per_round = rng.binomial(1, probabilities, size=(64, 20)).mean(axis=1)
        truth = np.array([probabilities.mean()])
        misses += bool(running_log_capital(per_round, truth)[-1, 0] >= math.log(20))
    assert misses / reps <= 0.05


@pytest.mark.parametrize(
    ("low", "high", "margin", "expected"),
    [
        pytest.param(0.0, 0.2, 0.0, "a better", id="open interval above 0"),
        pytest.param(-0.2, 0.0, 0.0, "b better", id="open interval below 0"),
        pytest.param(-0.1, 0.2, 0.0, None, id="holds 0: open"),
        pytest.param(-0.01, 0.01, 0.02, "equivalent", id="inside the margin"),
        pytest.param(-0.01, 0.03, 0.02, None, id="crosses the margin"),
        pytest.param(0.0, 0.01, 0.02, "a better", id="above 0 and inside the margin: the order wins"),
        pytest.param(0.0, 0.0, 0.0, "equivalent", id="every item seen, no difference"),
        pytest.param(0.005, 0.005, 0.0, "a better", id="every item seen, a ahead"),
    ],
)
def test_decisions(low: float, high: float, margin: float, expected: str | None) -> None:
    assert decide(low, high, margin) == expected
