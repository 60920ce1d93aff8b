"""Error bars over items: clustered standard error, bootstrap intervals, paired tests.

Samples of one item are not independent (they share the question), so every
statistic here treats the *item* as the unit: the bootstrap resamples items, and
the standard error is clustered by item.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

CONFIDENCE = 0.95
# Bound on one chunk of the bootstrap index matrix (replicates x items), for memory.
_CHUNK_CELLS = 2_000_000
# Up to this many non-zero differences the sign-flip test enumerates every sign pattern.
_EXACT_SIGN_FLIP_MAX = 16


class Interval(NamedTuple):
    """A confidence interval and how it was obtained."""

    low: float
    high: float
    method: str


def clustered_stderr(trials: FloatArray, successes: FloatArray) -> float | None:
    """Standard error of the ratio sum(successes) / sum(trials), clustered by item.

    One entry per item (``trials`` = the item's judged samples, ``successes`` its
    correct ones). With m items, r the ratio and N = sum(trials), the cluster-robust
    (linearised) estimate is

        SE = sqrt( m / (m - 1) * sum_i (successes_i - r * trials_i)^2 ) / N.

    When every item has the same number of samples this equals the standard error of
    the mean of the per-item accuracies, sd(p_i) / sqrt(m). None with fewer than two
    items (no between-item spread can be estimated) or no trials.
    """
    m, total = len(trials), float(np.sum(trials))
    if m < 2 or total <= 0:
        return None
    ratio = float(np.sum(successes)) / total
    residual = successes - ratio * trials
    return math.sqrt(m / (m - 1) * float(np.sum(residual**2))) / total


def bootstrap_sums(columns: FloatArray, n_bootstrap: int, seed: int) -> FloatArray:
    """Column sums over ``n_bootstrap`` resamples of the rows (items), with replacement.

    ``columns`` is items x statistics; returns replicates x statistics. The draws come
    from ``numpy.random.default_rng(seed)``, one index matrix for all columns, so the
    same seed and items give the same replicates for every statistic.
    """
    m = columns.shape[0]
    if m == 0:
        return np.full((n_bootstrap, columns.shape[1]), np.nan)
    rng = np.random.default_rng(seed)
    out = np.empty((n_bootstrap, columns.shape[1]), dtype=np.float64)
    constant = np.ptp(columns, axis=0) == 0  # e.g. samples per item: its sum needs no resampling
    out[:, constant] = m * columns[0, constant]
    # Small index types draw and gather about twice as fast as int64 here.
    index_type = np.uint16 if m <= 2**16 else np.int64
    for start, stop in _chunks(n_bootstrap, max(1, _CHUNK_CELLS // m)):
        rows = rng.integers(0, m, size=(stop - start, m), dtype=index_type)
        for j in np.flatnonzero(~constant):
            out[start:stop, j] = columns[:, j][rows].sum(axis=1)
    return out


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def percentile_bounds(replicates: FloatArray) -> tuple[float | None, float | None]:
    """The 2.5% and 97.5% quantiles of bootstrap replicates; an end that is not finite is None.

    An infinite end is a real answer (e.g. a cost per correct answer whose resamples
    include no correct answer has no upper bound) that JSON cannot carry, hence None.
    """
    if len(replicates) == 0 or np.isnan(replicates).any():
        return None, None
    tail = (1 - CONFIDENCE) / 2
    with np.errstate(invalid="ignore"):  # interpolating between two infinities
        ends = [float(q) for q in np.quantile(replicates, [tail, 1 - tail])]
    low, high = (end if math.isfinite(end) else None for end in ends)
    return low, high


def wilson_interval(proportion: float, n: int) -> tuple[float, float]:
    """Wilson score 95% interval for a proportion observed over ``n`` units."""
    z = 1.959963984540054
    denominator = 1 + z**2 / n
    centre = (proportion + z**2 / (2 * n)) / denominator
    half = z * math.sqrt(proportion * (1 - proportion) / n + z**2 / (4 * n**2)) / denominator
    # The Wilson interval always contains the proportion; clamp float noise at 0 and 1.
    return max(0.0, min(centre - half, proportion)), min(1.0, max(centre + half, proportion))


def accuracy_interval(trials: FloatArray, successes: FloatArray, replicates: FloatArray) -> Interval | None:
    """95% interval for accuracy from per-item counts and their bootstrap replicates.

    ``replicates`` holds (trials, successes) sums per bootstrap replicate. The percentile
    bootstrap over items is used unless every item has the same accuracy: then the
    bootstrap has zero width though the data do not prove certainty (100 items all
    right does not make 100% certain), and a Wilson interval with the items as the
    units (the most conservative reading of clustering) is given instead. None with
    fewer than two items: one item says nothing about the spread between items.
    """
    m, total = len(trials), float(np.sum(trials))
    if m < 2 or total <= 0:
        return None
    accuracy = float(np.sum(successes)) / total
    per_item = successes / trials
    if np.ptp(per_item) == 0:
        return Interval(*wilson_interval(accuracy, m), "wilson over items (no variation between items)")
    bootstrap_low, bootstrap_high = percentile_bounds(replicates[:, 1] / replicates[:, 0])
    if bootstrap_low is None or bootstrap_high is None:
        return None
    return Interval(bootstrap_low, bootstrap_high, "percentile bootstrap over items")


def mcnemar_exact_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the two kinds of discordant pairs.

    Under no difference, ``a_only`` ~ Binomial(a_only + b_only, 1/2); p is twice the
    smaller tail, capped at 1 (1.0 when there are no discordant pairs).
    """
    n = a_only + b_only
    if n == 0:
        return 1.0
    # Running binomial coefficients: math.comb per term made this quadratic (seconds at n=6,000).
    coefficient = tail = 1
    for i in range(1, min(a_only, b_only) + 1):
        coefficient = coefficient * (n - i + 1) // i
        tail += coefficient
    return min(1.0, 2 * tail / 2**n)


class SignFlipResult(NamedTuple):
    """A paired permutation test's p-value and whether it enumerated every sign pattern."""

    p_value: float
    exact: bool


def sign_flip_p(differences: FloatArray, n_permutations: int, seed: int) -> SignFlipResult:
    """Two-sided paired permutation (sign-flip) test of mean difference zero.

    Under no difference each item's difference is as likely negated; p is the share of
    sign patterns whose |sum| reaches the observed |sum|. Exact with up to 16 non-zero
    differences, else Monte Carlo with ``n_permutations`` draws, p = (1 + hits) / (1 + draws).
    """
    nonzero = differences[differences != 0]
    if len(nonzero) == 0:
        return SignFlipResult(1.0, True)
    observed = abs(float(np.sum(nonzero)))
    tolerance = 1e-9 * max(1.0, observed)  # equal sums must count as reaching it
    if len(nonzero) <= _EXACT_SIGN_FLIP_MAX:
        patterns = np.arange(2 ** len(nonzero))[:, None] >> np.arange(len(nonzero)) & 1
        sums = np.abs((1 - 2 * patterns) @ nonzero)
        return SignFlipResult(float(np.mean(sums >= observed - tolerance)), True)
    rng = np.random.default_rng(seed)
    hits = 0
    for start, stop in _chunks(n_permutations, max(1, _CHUNK_CELLS // len(nonzero))):
        signs = 1 - 2 * rng.integers(0, 2, size=(stop - start, len(nonzero)))
        hits += int(np.sum(np.abs(signs @ nonzero) >= observed - tolerance))
    return SignFlipResult((1 + hits) / (1 + n_permutations), False)
