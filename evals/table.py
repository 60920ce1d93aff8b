"""A plain-text table of summary rows for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:.2e}" if value < 0.01 else f"${value:.4f}"


def _accuracy(row: Any) -> str:
    if row.accuracy is None:
        return "n/a"
    if row.ci_low is None or row.ci_high is None:
        return f"{100 * row.accuracy:.1f}%"
    return f"{100 * row.accuracy:.1f}% [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]"


def _tokens(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def format_summary(rows: Sequence[Any]) -> str:
    """Rows sorted by model then task; accuracy with its 95% CI; costs n/a when unpriced."""
    header = ("model", "task", "items", "samples", "accuracy [95% CI]", "tok/answer",
              "$/answer", "$/correct", "truncated", "no answer")  # fmt: skip
    body = [
        (row.model, row.task, str(row.n_items), str(row.n_samples), _accuracy(row),
         _tokens(row.tokens_per_answer), _usd(row.cost_per_answer_usd),
         _usd(row.cost_per_correct_usd), _pct(row.truncated_rate), _pct(row.no_answer_rate))
        for row in sorted(rows, key=lambda r: (r.model, r.task))
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in body)])


def format_budget_table(rows: Sequence[Any]) -> str:
    """One line per (model, task, budget), the run's own max_tokens last (budget ``max``)."""
    header = ("model", "task", "budget", "accuracy [95% CI]", "tok/answer", "$/answer", "$/correct",
              "still thinking", "truncated", "fidelity")  # fmt: skip
    ordered = sorted(rows, key=lambda r: (r.model, r.task, r.budget is None, r.budget or 0))
    body = [
        (row.model, row.task, "max" if row.budget is None else str(row.budget), _accuracy(row),
         _tokens(row.tokens_per_answer), _usd(row.cost_per_answer_usd), _usd(row.cost_per_correct_usd),
         _pct(row.still_thinking_rate), _pct(row.truncated_rate), _pct(row.probe_fidelity))
        for row in ordered
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in body)])
