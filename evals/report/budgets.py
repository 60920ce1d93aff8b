"""The reasoning-budget part of a report: truncation flags, accuracy-vs-budget table, two plots.

Figures come from the runs' ``summary.json`` rows with a ``budget`` (see
:mod:`evals.metrics.budgets`); ``budget`` None is the run's own max_tokens, shown as
``max`` and placed at its max_tokens on the budget axis. Plots are hand-written SVG
like :mod:`evals.report.plots`; points are (model, task, budget) series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from evals.metrics import SummaryRow, read_summary
from evals.report import cells
from evals.report.merge import MergedRuns
from evals.report.plots import PALETTE, Axis, _axes, _svg, _text, nice_ticks
from evals.report.ranking import pareto_front

TRUNCATION_FLAG = 0.05  # a model x task whose answers hit the cap more often than this is flagged


@dataclass(frozen=True)
class BudgetPoint:
    """One (model, task, budget) with its figures; ``budget`` is the tokens the point allowed."""

    row: SummaryRow
    budget: int  # the row's budget, or the run's max_tokens for its own row
    own: bool  # the run's own figures (budget = max_tokens)

    @property
    def series(self) -> str:
        return f"{self.row.model} / {self.row.task}"


def budget_points(merged: MergedRuns) -> list[BudgetPoint]:
    """Every budget row of the merged runs with its run's own row; empty when no run has budgets."""
    points: list[BudgetPoint] = []
    for run in merged.runs:
        rows = [row for row in read_summary(run.path / "summary.json") if row.budget is not None]
        if not rows:
            continue
        caps = run.manifest.tasks if run.manifest is not None else {}
        for own in run.summary:
            cap = caps[own.task].max_tokens if own.task in caps else None
            mine = [r for r in rows if (r.model, r.task) == (own.model, own.task)]
            points += [BudgetPoint(r, int(r.budget or 0), False) for r in mine]
            if cap is not None and mine:
                points.append(BudgetPoint(own, int(cap), True))
    return sorted(points, key=lambda p: (p.series, p.budget, p.own))


def truncation_flags(summary: Sequence[SummaryRow]) -> list[str]:
    """One line per model x task whose truncated share exceeds :data:`TRUNCATION_FLAG`."""
    return [
        f"{row.model} / {row.task}: {cells.percent(row.truncated_rate)} of answers hit the token "
        "cap (accuracy counts them wrong; continue them with 'evals extend')"
        for row in summary
        if row.truncated_rate is not None and row.truncated_rate > TRUNCATION_FLAG
    ]


def _cells(point: BudgetPoint) -> list[str]:
    row = point.row
    accuracy = cells.percent(row.accuracy)
    if row.ci_low is not None and row.ci_high is not None:
        accuracy += f" [{100 * row.ci_low:.1f}, {100 * row.ci_high:.1f}]"
    return [
        row.model, row.task, f"{point.budget}" + (" (max)" if point.own else ""), accuracy,
        "n/a" if row.tokens_per_answer is None else f"{row.tokens_per_answer:.0f}",
        cells.usd(row.cost_per_answer_usd),
        cells.percent(row.still_thinking_rate) if not point.own else "-",
        cells.percent(row.truncated_rate),
        cells.percent(row.probe_fidelity) + (f" (n={row.n_fidelity})" if row.n_fidelity else ""),
    ]  # fmt: skip


HEADER = ["model", "task", "budget", "accuracy [95% CI]", "tokens/answer", "cost/answer", "still thinking",
          "truncated", "probe fidelity"]  # fmt: skip


def budget_markdown(points: Sequence[BudgetPoint], flags: Sequence[str]) -> str:
    """The Markdown section: truncation flags, then accuracy vs budget (empty when neither)."""
    lines: list[str] = []
    if flags:
        lines += ["## Truncation", "", *(f"- **flag:** {flag}" for flag in flags), ""]
    if points:
        lines += ["## Accuracy vs reasoning budget", "",
                  "Answers at a budget are forced after that many tokens of the run's own reasoning; "
                  "probe fidelity is how often the forced answer at a finished answer's own length "
                  "equals it.", "",
                  "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]  # fmt: skip
        lines += ["| " + " | ".join(_cells(p)) + " |" for p in points]
        lines.append("")
    return "\n".join(lines)


def budget_html(points: Sequence[BudgetPoint], flags: Sequence[str]) -> str:
    """The HTML section (table and both plots); empty when there is nothing to show."""
    if not points and not flags:
        return ""
    parts = ['<section id="budgets">']
    if flags:
        parts += [
            "<h2>Truncation</h2>",
            "<ul>",
            *(f'<li class="flag">{escape(f)}</li>' for f in flags),
            "</ul>",
        ]
    if points:
        head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _cells(p)) + "</tr>" for p in points)
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        parts += ["<h2>Accuracy vs reasoning budget</h2>", table]
        parts += [accuracy_budget_svg(points), budget_cost_svg(points)]
    parts.append("</section>")
    return "\n".join(parts)


def accuracy_budget_svg(points: Sequence[BudgetPoint]) -> str:
    """Accuracy against budget (log scale), one line per model / task."""
    width, height, left, right, top, bottom = 720.0, 400.0, 64.0, 200.0, 24.0, 52.0
    budgets = [p.budget for p in points]
    x = Axis(min(budgets) / 1.3, max(budgets) * 1.3, True, left, width - right)
    y = Axis(0.0, 1.0, False, height - bottom, top)
    body = _axes(x, y, width - right, top, height - bottom)[:2]
    body += _budget_ticks(sorted(set(budgets)), x, height - bottom)
    body += _y_ticks(y, left, width - right)
    body.append(
        _text((left + width - right) / 2, height - 10, "Reasoning budget (tokens, log scale)", "middle")
    )
    series = sorted({p.series for p in points})
    for index, name in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        line = [p for p in points if p.series == name and p.row.accuracy is not None]
        path = " ".join(f"{x.at(p.budget):.1f},{y.at(float(p.row.accuracy or 0)):.1f}" for p in line)
        body.append(
            f'<polyline class="budget-line" points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
        )
        for p in line:
            tip = f"{name} at {p.budget}: {cells.percent(p.row.accuracy)}"
            cx, cy = x.at(p.budget), y.at(float(p.row.accuracy or 0))
            body.append(
                f'<circle class="budget-point" cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        body.append(_text(width - right + 14, top + 8 + 16 * index, name, extra=f' fill="{color}"'))
    return _svg(width, height, "accuracy-budget", "Accuracy vs reasoning budget", body)


def budget_cost_svg(points: Sequence[BudgetPoint]) -> str:
    """Accuracy against cost per answer over all (model, task, budget) points; Pareto frontier dashed."""
    width, height, left, right, top, bottom = 720.0, 400.0, 64.0, 200.0, 24.0, 52.0
    priced = [p for p in points if p.row.cost_per_answer_usd is not None and p.row.accuracy is not None]
    if not priced:
        return _svg(width, 80, "budget-cost", "Accuracy vs cost per answer",
                    [_text(16, 44, "No (model, budget) point has a cost per answer.")])  # fmt: skip
    costs = [float(p.row.cost_per_answer_usd or 0) for p in priced]
    low, high = min(costs), max(costs)
    pad = (high - low) * 0.1 or high * 0.2 or 1e-9
    x = Axis(max(0.0, low - pad), high + pad, False, left, width - right)
    y = Axis(0.0, 1.0, False, height - bottom, top)
    body = _axes(x, y, width - right, top, height - bottom)
    body.append(_text((left + width - right) / 2, height - 10, "Cost per answer (USD)", "middle"))
    names = {f"{p.series} @ {p.budget}": p for p in priced}
    front = pareto_front({n: (p.row.cost_per_answer_usd, p.row.accuracy) for n, p in names.items()})
    ordered = sorted((names[n] for n in front), key=lambda p: float(p.row.cost_per_answer_usd or 0))
    at = [(x.at(float(p.row.cost_per_answer_usd or 0)), y.at(float(p.row.accuracy or 0))) for p in ordered]
    path = " ".join(f"{px:.1f},{py:.1f}" for px, py in at)
    body.append(
        f'<polyline class="pareto-line" points="{path}" fill="none" stroke="#555" stroke-dasharray="5 4"/>'
    )
    series = sorted({p.series for p in priced})
    for name, p in names.items():
        color = PALETTE[series.index(p.series) % len(PALETTE)]
        ring = ' stroke="#111" stroke-width="2"' if name in front else ""
        cx, cy = x.at(float(p.row.cost_per_answer_usd or 0)), y.at(float(p.row.accuracy or 0))
        tip = f"{name}: {cells.percent(p.row.accuracy)}, {cells.usd(p.row.cost_per_answer_usd)} per answer"
        classes = "cost-point pareto" if name in front else "cost-point"
        body.append(
            f'<circle class="{classes}" cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{color}"{ring}>'
            f"<title>{escape(tip)}</title></circle>"
        )
    for index, name in enumerate(series):
        body.append(
            _text(
                width - right + 14,
                top + 8 + 16 * index,
                name,
                extra=f' fill="{PALETTE[index % len(PALETTE)]}"',
            )
        )
    return _svg(width, height, "budget-cost", "Accuracy vs cost per answer at each budget", body)


def _budget_ticks(budgets: Sequence[int], x: Axis, bottom: float) -> list[str]:
    out = []
    for budget in budgets:
        px = x.at(budget)
        out.append(
            f'<line x1="{px:.1f}" y1="{bottom:.1f}" x2="{px:.1f}" y2="{bottom + 4:.1f}" stroke="#333"/>'
        )
        out.append(_text(px, bottom + 16, str(budget), "middle", ' font-size="11"'))
    return out


def _y_ticks(y: Axis, left: float, right: float) -> list[str]:
    out = []
    for tick in nice_ticks(y.low, y.high):
        py = y.at(tick)
        out.append(f'<line x1="{left:.1f}" y1="{py:.1f}" x2="{right:.1f}" y2="{py:.1f}" stroke="#eee"/>')
        out.append(_text(left - 6, py + 4, f"{100 * tick:g}", "end", ' font-size="11"'))
    return out


def with_budget_section(html: str, section: str) -> str:
    """``index.html`` with the budget section at the end of its body (unchanged when empty)."""
    if not section:
        return html
    head, tail = html.rsplit("</body>", 1)
    return f"{head}{section}\n</body>{tail}"
