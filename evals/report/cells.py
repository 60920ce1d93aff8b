"""A leaderboard cell: its sortable value apart from its display string, and its runs.

Display rules: a figure that is undefined (no price, no judged answer, a model
without every task) shows as "n/a", never as 0 or $0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from evals.metrics.figures import Figure, Format

NA = "n/a"


class Cell(BaseModel):
    """One figure of the leaderboard: ``value`` sorts, ``display`` is what readers see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | None
    display: str
    ci_low: float | None = None
    ci_high: float | None = None
    runs: tuple[str, ...] = ()


def percent(value: float | None, digits: int = 1) -> str:
    return NA if value is None else f"{100 * value:.{digits}f}%"


def with_interval(text: str, low: float | None, high: float | None, scale: float, digits: int = 1) -> str:
    """``text [low, high]`` with both ends scaled (100 for percentages), or ``text`` alone."""
    if low is None or high is None:
        return text
    return f"{text} [{scale * low:.{digits}f}, {scale * high:.{digits}f}]"


def usd(value: float | None) -> str:
    """Dollars in plain decimals with 3 significant digits ($0.00250, $0.0123, $1.50, $1,234.00).

    Never rounded to $0 and never in exponent notation (people do not read ``$4.14e-05``).
    """
    if value is None:
        return NA
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.{2 - math.floor(math.log10(value))}f}"


# Costs per answer are shown per this many answers: $0.0414 reads better than $0.0000414.
PER_ANSWERS = 1000
PER_ANSWERS_LABEL = "per 1k answers"


def usd_per_answers(value: float | None) -> str:
    """A cost per answer shown per :data:`PER_ANSWERS` answers."""
    return usd(None if value is None else value * PER_ANSWERS)


def tokens(value: float | None) -> str:
    return NA if value is None else f"{value:,.0f}"


def points(value: float | None) -> str:
    """An accuracy difference in percentage points with its sign."""
    return NA if value is None else f"{100 * value:+.1f} pts"


def p_value(value: float | None) -> str:
    if value is None:
        return NA
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def accuracy_cell(value: float | None, low: float | None, high: float | None, runs: tuple[str, ...]) -> Cell:
    return Cell(
        value=value,
        display=with_interval(percent(value), low, high, 100) if value is not None else NA,
        ci_low=low,
        ci_high=high,
        runs=runs,
    )


def rate_cell(value: float | None, runs: tuple[str, ...]) -> Cell:
    return Cell(value=value, display=percent(value), runs=runs)


def usd_cell(
    value: float | None, runs: tuple[str, ...], low: float | None = None, high: float | None = None
) -> Cell:
    """A cost per answer: ``value`` in USD per answer, displayed per :data:`PER_ANSWERS` answers."""
    display = usd_per_answers(value)
    if value is not None and low is not None:
        display += f" [{usd_per_answers(low)}, {usd_per_answers(high) if high is not None else 'unbounded'}]"
    return Cell(value=value, display=display, ci_low=low, ci_high=high, runs=runs)


def tokens_cell(value: float | None, runs: tuple[str, ...]) -> Cell:
    return Cell(value=value, display=tokens(value), runs=runs)


# How each declared format (evals.metrics.figures) shows a value.
FORMATS: dict[Format, Callable[[float | None], str]] = {
    "percent": percent,
    "tokens": tokens,
    "usd_per_answers": usd_per_answers,
}


def figure_cell(
    figure: Figure,
    value: float | None,
    runs: tuple[str, ...],
    low: float | None = None,
    high: float | None = None,
) -> Cell:
    """A declared figure's cell, its interval (if any) after it: an open upper end is "unbounded"."""
    show = FORMATS[figure.format]
    display = show(value)
    if value is not None and low is not None:
        display += f" [{show(low)}, {show(high) if high is not None else 'unbounded'}]"
    return Cell(value=value, display=display, ci_low=low, ci_high=high, runs=runs)


def missing_cell(reason: str = NA) -> Cell:
    return Cell(value=None, display=reason)
