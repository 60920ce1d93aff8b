"""Reference statistics computed another way (mpmath, from the textbook definitions) for the tests.

Student-t tails integrate the t density numerically; Beta quantiles invert mpmath's
own incomplete beta. Nothing here calls evals.metrics.stats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mpmath

Z_975 = 1.959963984540054  # normal 97.5% quantile (Abramowitz & Stegun 26.2)


def _t_density(df: float) -> mpmath.mpf:
    constant = mpmath.gamma((df + 1) / 2) / (mpmath.sqrt(df * mpmath.pi) * mpmath.gamma(df / 2))
    return lambda x: constant * (1 + x**2 / df) ** (-(df + 1) / 2)


def t_two_sided_p(statistic: float, df: float) -> float:
    """P(|T| >= |statistic|): twice the integral of the t density beyond |statistic|."""
    with mpmath.workdps(30):
        return float(2 * mpmath.quad(_t_density(df), [abs(statistic), mpmath.inf]))


def t_quantile(probability: float, df: float) -> float:
    """The t with P(T <= t) = probability (> 0.5): root of the integrated density."""
    with mpmath.workdps(30):
        density = _t_density(df)
        return float(mpmath.findroot(lambda t: 0.5 + mpmath.quad(density, [0, t]) - probability, 2.0))


def _beta_quantile(probability: float, a: float, b: float) -> float:
    with mpmath.workdps(30):
        cdf = lambda x: mpmath.betainc(a, b, 0, x, regularized=True) - probability  # noqa: E731
        return float(mpmath.findroot(cdf, (mpmath.mpf(0), mpmath.mpf(1)), solver="bisect", tol=1e-28))


def jeffreys_effective(trials: Sequence[int], successes: Sequence[int]) -> tuple[float, float, bool]:
    """The documented accuracy interval worked from its definition; also whether items had no spread.

    r = sum c / sum n; clustered SE^2 = m/(m-1) sum (c_i - r n_i)^2 / N^2; answers
    n = min(N, r (1 - r) / SE^2), or m - 1 when every item has the same accuracy;
    n_eff = n (z / t_{m-1})^2; ends: Beta(r n_eff + 1/2, (1 - r) n_eff + 1/2) 2.5% and
    97.5% quantiles (0 when r = 0, 1 when r = 1).
    """
    m, total = len(trials), sum(trials)
    r = sum(successes) / total
    no_spread = len({c / n for n, c in zip(trials, successes, strict=True)}) == 1
    if no_spread:
        answers = m - 1.0
    else:
        variance = (
            m / (m - 1) * sum((c - r * n) ** 2 for n, c in zip(trials, successes, strict=True)) / total**2
        )
        answers = min(total, r * (1 - r) / variance)
    effective = answers * (Z_975 / t_quantile(0.975, m - 1)) ** 2
    a, b = r * effective + 0.5, (1 - r) * effective + 0.5
    low = 0.0 if r == 0 else min(r, _beta_quantile(0.025, a, b))
    high = 1.0 if r == 1 else max(r, _beta_quantile(0.975, a, b))
    assert math.isfinite(low) and math.isfinite(high)
    return low, high, no_spread
