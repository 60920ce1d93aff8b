"""A plain-text table of summary rows for the terminal, with the price basis of its costs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from evals.metrics.figures import figures_shown_in
from evals.report.cells import FORMATS

# Costs are shown per this many answers: "$0.0414" reads better than "$4.14e-05".
PER_ANSWERS = 1000


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _usd(value: float | None) -> str:
    """Plain decimals with 3 significant digits, never exponent notation; n/a when unpriced."""
    if value is None:
        return "n/a"
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    return f"${value:.{2 - math.floor(math.log10(value))}f}"


def _per_answers(value: float | None) -> str:
    return _usd(None if value is None else value * PER_ANSWERS)


def _accuracy(row: Any) -> str:
    if row.accuracy is None:
        return "n/a"
    if row.ci_low is None or row.ci_high is None:
        return f"{100 * row.accuracy:.1f}%"
    return f"{100 * row.accuracy:.1f}% [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]"


def _tokens(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def _sampled_ks(rows: Sequence[Any]) -> list[int]:
    """The k of the pass@k and maj@k columns: each samples-per-item above 1 in the rows."""
    return sorted({row.samples_per_item for row in rows if row.samples_per_item > 1})


def _at_k(figures: dict[int, float | None], k: int) -> str:
    return _pct(figures[k]) if k in figures else "-"


def format_summary(rows: Sequence[Any]) -> str:
    """The summary rows as a table, sorted by model then task, then the price basis of its costs.

    Accuracy with its 95% CI; pass@k and maj@k where a model sampled k > 1 answers per
    item; costs per 1,000 answers in plain decimals (n/a when unpriced).
    """
    ks = _sampled_ks(rows)
    figures = figures_shown_in("terminal")
    header = ("model", "task", "items", "samples", "accuracy [95% CI]",
              *(name for k in ks for name in (f"pass@{k}", f"maj@{k}")),
              *(figure.terminal_label for figure in figures))  # fmt: skip
    ordered = sorted(rows, key=lambda r: (r.model, r.task))
    body = [
        (row.model, row.task, str(row.n_items), str(row.n_samples), _accuracy(row),
         *(cell for k in ks for cell in (_at_k(row.pass_at_k, k), _at_k(row.maj_at_k, k))),
         *(FORMATS[figure.format](getattr(row, figure.field)) for figure in figures))
        for row in ordered
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()

    table = [fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in body)]
    return "\n".join(table + price_bases(ordered))


def price_bases(rows: Sequence[Any]) -> list[str]:
    """One line per distinct cost basis, naming the models priced by it."""
    models: dict[str, list[str]] = {}
    for row in rows:
        names = models.setdefault(row.cost_basis, [])
        if row.model not in names:
            names.append(row.model)
    if len(models) == 1:
        return [f"costs: {next(iter(models))}"]
    return [f"costs of {', '.join(names)}: {basis}" for basis, names in models.items()]


def format_budget_table(rows: Sequence[Any]) -> str:
    """One line per (model, task, budget), the run's own max_tokens last (budget ``max``)."""
    header = ("model", "task", "budget", "accuracy [95% CI]", "tok/answer", f"$/{PER_ANSWERS} answers",
              f"$/{PER_ANSWERS} correct", "still thinking", "truncated", "fidelity")  # fmt: skip
    ordered = sorted(rows, key=lambda r: (r.model, r.task, r.budget is None, r.budget or 0))
    body = [
        (row.model, row.task, "max" if row.budget is None else str(row.budget), _accuracy(row),
         _tokens(row.tokens_per_answer), _per_answers(row.cost_per_answer_usd),
         _per_answers(row.cost_per_correct_usd), _pct(row.still_thinking_rate), _pct(row.truncated_rate),
         _pct(row.probe_fidelity))
        for row in ordered
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(line) for line in body)])
