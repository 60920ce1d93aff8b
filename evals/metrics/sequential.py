"""Anytime-valid confidence sequences for means of bounded per-item values.

A confidence sequence holds at every stopping time at once: P(the truth is outside
the interval at *some* look) <= alpha, so a run may check it after every round and
stop when it is narrow enough, without inflating its error rate the way repeated
t tests do. Implemented: the betting confidence sequence of Waudby-Smith & Ramdas
(2024, "Estimating means of bounded random variables by betting", JRSS-B), hedged
capital with the predictable plug-in bets (their eq. 26-27, truncation c = 1/2),
and its version for sampling without replacement from a finite set of N items
(Waudby-Smith & Ramdas 2020, "Confidence sequences for sampling without
replacement", NeurIPS): under the null "the N items' mean is m", item t's
conditional mean is (N m - sum of the first t - 1) / (N - t + 1), which replaces m
in the bets. With N given the target is the mean over the whole item set (what
the full protocol would measure) and the interval closes onto it as the items
run out; with N None the items are taken as independent draws.

For each candidate mean m the capital K_t(m) is a nonnegative martingale under
"mean = m"; m is rejected from time t on once max_{s<=t} K_s(m) >= 1 / alpha
(Ville's inequality; the running maximum makes the sequence an intersection of
its past intervals). Candidates form a grid; a reported interval is *open*, its
ends the nearest rejected grid points, so it excludes a null on the grid exactly
when that null's anytime p-value 1 / max_s K_s is <= alpha.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ALPHA = 0.05
GRID_POINTS = 2001  # candidate means in [0, 1]: a resolution of 0.0005
BETTING = "anytime-valid betting confidence sequence (Waudby-Smith & Ramdas 2024)"
BETTING_FINITE = "anytime-valid betting confidence sequence, without replacement from {n} items"
_TRUNCATION = 0.5  # bets at most c / m (or c / (1 - m)): the capital can lose at most half a round
_TOLERANCE = 1e-12


class SequencePath(NamedTuple):
    """The confidence sequence after each of T observations (open intervals, values in [0, 1]).

    ``p_value`` is the anytime-valid p-value of each null asked for (T x nulls), in
    the order given; it is <= alpha exactly when the interval excludes that null.
    """

    low: FloatArray
    high: FloatArray
    p_value: FloatArray


def method_name(population: int | None) -> str:
    return BETTING if population is None else BETTING_FINITE.format(n=population)


def candidate_grid(nulls: tuple[float, ...] = (), points: int = GRID_POINTS) -> FloatArray:
    """An even grid over [0, 1] with every null added exactly (so its test is exact)."""
    return np.unique(np.concatenate([np.linspace(0.0, 1.0, points), np.asarray(nulls, dtype=np.float64)]))


def running_log_capital(
    values: FloatArray, candidates: FloatArray, population: int | None = None, alpha: float = ALPHA
) -> FloatArray:
    """The log of max_{s<=t} K_s(m), for every observation t (rows) and candidate mean m (columns).

    ``values`` in [0, 1], in the order observed. With ``population`` N the values are
    the first T of N items drawn without replacement; a candidate the data already
    make impossible (the N items could not average it) has capital +inf.
    """
    x = np.asarray(values, dtype=np.float64)
    t_count = len(x)
    if population is not None and t_count > population:
        raise ValueError(f"{t_count} observations from a population of {population}")
    if t_count == 0:
        return np.zeros((0, len(candidates)))
    bets = _plug_in_bets(x, alpha)[:, None]
    m = np.asarray(candidates, dtype=np.float64)[None, :]
    seen_before = np.concatenate([[0.0], np.cumsum(x)[:-1]])[:, None]
    if population is None:
        conditional = np.broadcast_to(m, (t_count, m.shape[1]))
    else:
        remaining = population - np.arange(t_count, dtype=np.float64)[:, None]
        conditional = (population * m - seen_before) / remaining
    impossible = (conditional < -_TOLERANCE) | (conditional > 1 + _TOLERANCE)
    conditional = np.clip(conditional, 0.0, 1.0)
    with np.errstate(divide="ignore"):
        up = np.minimum(bets, _TRUNCATION / conditional)
        down = np.minimum(bets, _TRUNCATION / (1.0 - conditional))
    excess = x[:, None] - conditional
    log_up = np.cumsum(np.log1p(up * excess), axis=0)
    log_down = np.cumsum(np.log1p(-down * excess), axis=0)
    # The average of the two bettors' capital is itself a martingale (hedging both sides).
    log_capital = np.logaddexp(log_up, log_down) - math.log(2.0)
    if population is not None:
        # After t items the N-item mean lies in [S_t / N, (S_t + N - t) / N].
        seen = np.cumsum(x)[:, None]
        left = population - np.arange(1, t_count + 1, dtype=np.float64)[:, None]
        outside = (m < seen / population - _TOLERANCE) | (m > (seen + left) / population + _TOLERANCE)
        impossible |= outside
    log_capital = np.where(impossible, np.inf, log_capital)
    return np.maximum.accumulate(log_capital, axis=0)


def _plug_in_bets(x: FloatArray, alpha: float) -> FloatArray:
    """lambda_t = sqrt(2 log(2 / alpha) / (sigma2_{t-1} t log(1 + t))), from the first t - 1 values."""
    t = np.arange(1, len(x) + 1, dtype=np.float64)
    running_mean = (0.5 + np.cumsum(x)) / (t + 1)
    running_var = (0.25 + np.cumsum((x - running_mean) ** 2)) / (t + 1)
    previous_var = np.concatenate([[0.25], running_var[:-1]])
    return np.sqrt(2 * math.log(2 / alpha) / (previous_var * t * np.log1p(t)))


def sequence_path(
    values: FloatArray,
    population: int | None = None,
    alpha: float = ALPHA,
    nulls: tuple[float, ...] = (),
    grid_points: int = GRID_POINTS,
) -> SequencePath:
    """The confidence sequence for the mean of ``values`` (in [0, 1]) after each observation."""
    grid = candidate_grid(nulls, grid_points)
    log_capital = running_log_capital(values, grid, population, alpha)
    rejected = log_capital >= math.log(1 / alpha)
    low, high = _open_ends(grid, rejected, log_capital)
    if population is not None and len(values) == population:
        low[-1] = high[-1] = float(np.mean(values))  # every item seen: the mean is known
    columns = [int(np.searchsorted(grid, null)) for null in nulls]
    with np.errstate(over="ignore"):
        p_value = np.minimum(1.0, np.exp(-log_capital[:, columns])) if columns else np.zeros((len(low), 0))
    return SequencePath(low, high, p_value)


def _open_ends(
    grid: FloatArray, rejected: BoolArray, log_capital: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per row, the rejected grid points just outside the surviving ones (or 0 and 1)."""
    survives = ~rejected
    any_survivor = survives.any(axis=1)
    first = np.argmax(survives, axis=1)
    last = len(grid) - 1 - np.argmax(survives[:, ::-1], axis=1)
    # No grid point survives (the truth lies between two of them): bracket the least rejected.
    best = np.argmin(log_capital, axis=1)
    first = np.where(any_survivor, first, best)
    last = np.where(any_survivor, last, best)
    low = np.where(any_survivor & (first == 0), grid[0], grid[np.maximum(first - 1, 0)])
    high = np.where(
        any_survivor & (last == len(grid) - 1), grid[-1], grid[np.minimum(last + 1, len(grid) - 1)]
    )
    return low.astype(np.float64), high.astype(np.float64)


class SequenceInterval(NamedTuple):
    """An anytime-valid interval (open ends) with its estimate and, for differences, p-value."""

    estimate: float
    low: float
    high: float
    p_value: float | None
    method: str


def accuracy_sequence(
    item_accuracies: FloatArray, population: int | None = None, alpha: float = ALPHA
) -> SequenceInterval | None:
    """The anytime-valid interval for accuracy after the items seen so far, in visiting order.

    One value per item (its share of correct samples); None with no item.
    """
    if len(item_accuracies) == 0:
        return None
    path = sequence_path(item_accuracies, population, alpha)
    estimate = float(np.mean(item_accuracies))
    return SequenceInterval(
        estimate, float(path.low[-1]), float(path.high[-1]), None, method_name(population)
    )


def difference_sequence(
    differences: FloatArray,
    population: int | None = None,
    alpha: float = ALPHA,
    margin: float = 0.0,
) -> SequenceInterval | None:
    """Anytime-valid interval and p-value (null: no difference) for per-item differences in [-1, 1].

    Works on (d + 1) / 2, a mean in [0, 1], and maps back; 0 and +/- ``margin`` are
    on the grid, so "excludes 0" and "within the margin" are exact tests.
    """
    if len(differences) == 0:
        return None
    shifted = (np.asarray(differences, dtype=np.float64) + 1.0) / 2.0
    nulls = (0.5, 0.5 - margin / 2, 0.5 + margin / 2)
    path = sequence_path(shifted, population, alpha, nulls)
    return SequenceInterval(
        float(np.mean(differences)),
        2 * float(path.low[-1]) - 1,
        2 * float(path.high[-1]) - 1,
        float(path.p_value[-1, 0]),
        method_name(population),
    )


Decision = Literal["a better", "b better", "equivalent"]


def decide(low: float, high: float, margin: float) -> Decision | None:
    """What a confidence sequence (open ends, for a minus b) settles, or None while open.

    An order wins over equivalence: a sequence above 0 and within the margin says
    "a better". Ends that meet (every item seen) are the item set's exact difference.
    """
    if high <= 0 and low < 0:
        return "b better"
    if low >= 0 and high > 0:
        return "a better"
    if -margin <= low and high <= margin:
        return "equivalent"
    return None
