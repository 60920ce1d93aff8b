"""The 95% intervals cover about 95%: a small run of bench/coverage.py's simulation (issue 17).

Each case simulates a few hundred benchmarks (items drawn from a Beta, as in the issue's
table) through summarize() or paired_comparison() and fails when the interval holds the
truth less than 93% of the time (95% less about two simulation standard errors at 400
replicates), or when a test of no difference rejects much more than 5% of the time.
"""

from __future__ import annotations

import math

import pytest

from bench.coverage import Scenario, accuracy_coverage, paired_coverage

REPS = 400
FLOOR = 0.93

ACCURACY_CASES = [
    pytest.param(
        Scenario(30, 4, 0.3, 2), id="AIME-sized, 4 samples, 30%: the bootstrap covered 93.1% (issue 17)"
    ),
    pytest.param(
        Scenario(40, 4, 0.6, 2), id="AMC-sized, 4 samples, 60%: the bootstrap covered 93.8% (issue 17)"
    ),
    pytest.param(Scenario(30, 1, 0.3, 2), id="AIME-sized, one sample each (issue 17)"),
]
PAIRED_CASES = [
    pytest.param(Scenario(30, 4, 0.5, 2, 0.1), id="paired, 30 items x 4, 10 points apart: bootstrap 93.1%"),
    pytest.param(Scenario(40, 16, 0.5, 2, 0.0), id="paired, 40 items x 16, no difference"),
    pytest.param(Scenario(30, 1, 0.5, 2, 0.0), id="paired, 30 items x 1, no difference"),
]


@pytest.mark.parametrize("scenario", ACCURACY_CASES)
def test_accuracy_interval_covers_the_true_mean(scenario: Scenario) -> None:
    result = accuracy_coverage(scenario, REPS, seed=2024)
    assert result.coverage >= FLOOR, result


@pytest.mark.parametrize("scenario", PAIRED_CASES)
def test_paired_interval_covers_the_true_difference_and_p_is_calibrated(scenario: Scenario) -> None:
    result = paired_coverage(scenario, REPS, seed=2024)
    assert result.coverage >= FLOOR, result
    if scenario.delta == 0:
        assert result.rejections is not None
        assert result.rejections <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / REPS), result
