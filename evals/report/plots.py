"""The two plots as SVG written by hand (no plotting library, nothing fetched).

The same SVG text is saved under ``plots/`` for the Markdown and inlined in
``index.html``; styling is in attributes so both look the same. Every label is
XML-escaped. PNG is not produced: SVG renders in browsers, on GitHub and on the
Hub, and rasterising would need a heavy dependency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import NamedTuple

from evals.report import cells
from evals.report.leaderboard import Leaderboard, LeaderboardRow

# Tableau 10, then darker variants: distinguishable for up to 20 models.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#2b4c6f",
    "#a35a12",
    "#8c2d2f",
    "#3f7f7a",
    "#2f6b2a",
    "#9c8420",
    "#6f4a66",
    "#c0606b",
    "#5c4436",
    "#6e6763",
)
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


class Axis(NamedTuple):
    low: float
    high: float
    log: bool
    start: float  # pixel of ``low``
    end: float  # pixel of ``high``

    def at(self, value: float) -> float:
        if self.log:
            value, low, high = math.log10(value), math.log10(self.low), math.log10(self.high)
        else:
            low, high = self.low, self.high
        share = 0.5 if high == low else (value - low) / (high - low)
        return self.start + share * (self.end - self.start)


def model_colors(board: Leaderboard) -> dict[str, str]:
    return {row.model: PALETTE[i % len(PALETTE)] for i, row in enumerate(board.rows)}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (steps of 1, 2 or 5 times a power of ten)."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def log_ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten within [low, high] (only decades when many)."""
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    multiples = (1,) if len(decades) > 4 else (1, 2, 5)
    return [m * 10.0**d for d in decades for m in multiples if low <= m * 10.0**d <= high]


def _svg(width: float, height: float, element_id: str, title: str, body: Sequence[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" id="{element_id}" role="img" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" {FONT} '
            f'font-size="12">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>',
            *body,
            "</svg>",
        ]
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="#333"{extra}>{escape(text)}</text>'


def _plotted(board: Leaderboard) -> list[LeaderboardRow]:
    return [r for r in board.rows if r.model not in board.not_plotted]


def _cost(row: LeaderboardRow) -> float:
    """The scatter's x: the model's cost per answer (plotted rows have one)."""
    return float(row.figures["cost_per_answer"].value or 0)


def scatter_svg(board: Leaderboard) -> str:
    """Overall accuracy (with its CI) against cost per answer; the Pareto frontier dashed."""
    width, height, left, right, top, bottom = 720.0, 440.0, 64.0, 190.0, 24.0, 52.0
    title = "Overall accuracy vs cost per answer"
    rows = _plotted(board)
    if not rows:
        return _svg(
            width,
            80,
            "scatter",
            title,
            [_text(16, 44, "No model has both an overall score and a cost per answer.")],
        )
    costs = [_cost(r) for r in rows]
    x = _cost_axis(costs, left, width - right)
    accuracies = [
        v for r in rows for v in (r.overall.ci_low, r.overall.ci_high, r.overall.value) if v is not None
    ]
    y_low = max(0.0, math.floor(min(accuracies) * 20 - 1) / 20)
    y_high = min(1.0, math.ceil(max(accuracies) * 20 + 1) / 20)
    y = Axis(y_low, y_high, False, height - bottom, top)
    body = _axes(x, y, width - right, top, height - bottom)
    body.append(
        _text(
            (left + width - right) / 2,
            height - 10,
            f"Cost {cells.PER_ANSWERS_LABEL} (USD" + (", log scale)" if x.log else ")"),
            "middle",
        )
    )
    body.append(
        _text(
            16,
            (top + height - bottom) / 2,
            "Overall accuracy (%)",
            "middle",
            f' transform="rotate(-90 16 {(top + height - bottom) / 2:.1f})"',
        )
    )
    front = sorted((r for r in rows if r.on_pareto_front), key=_cost)
    if len(front) > 1:
        path = " ".join(f"{x.at(_cost(r)):.1f},{y.at(float(r.overall.value or 0)):.1f}" for r in front)
        body.append(
            f'<polyline class="pareto-line" points="{path}" fill="none" stroke="#555" '
            'stroke-width="1.5" stroke-dasharray="5 4"/>'
        )
    colors = model_colors(board)
    label_ys: list[float] = []
    for row in sorted(rows, key=lambda r: -float(r.overall.value or 0)):
        body.extend(_point(row, x, y, colors[row.model], label_ys, width - right))
    body.append(_text(width - right + 14, top + 4, "- - Pareto frontier", extra=' fill="#555"'))
    return _svg(width, height, "scatter", title, body)


def _cost_axis(costs: Sequence[float], start: float, end: float) -> Axis:
    low, high = min(costs), max(costs)
    if low > 0 and high / low >= 10:
        return Axis(low / 1.5, high * 1.5, True, start, end)
    pad = (high - low) * 0.1 or high * 0.2 or 1e-6
    return Axis(max(0.0, low - pad), high + pad, False, start, end)


def _axes(x: Axis, y: Axis, right: float, top: float, bottom: float) -> list[str]:
    out = [
        f'<line x1="{x.start:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" stroke="#333"/>',
        f'<line x1="{x.start:.1f}" y1="{top:.1f}" x2="{x.start:.1f}" y2="{bottom:.1f}" stroke="#333"/>',
    ]
    x_ticks = log_ticks(x.low, x.high) if x.log else nice_ticks(x.low, x.high)
    for tick in x_ticks:
        px = x.at(tick)
        out.append(f'<line x1="{px:.1f}" y1="{top:.1f}" x2="{px:.1f}" y2="{bottom:.1f}" stroke="#eee"/>')
        out.append(_text(px, bottom + 16, cells.usd_per_answers(tick), "middle", ' font-size="11"'))
    for tick in nice_ticks(y.low, y.high):
        py = y.at(tick)
        out.append(f'<line x1="{x.start:.1f}" y1="{py:.1f}" x2="{right:.1f}" y2="{py:.1f}" stroke="#eee"/>')
        out.append(_text(x.start - 6, py + 4, f"{100 * tick:g}", "end", ' font-size="11"'))
    return out


def _point(
    row: LeaderboardRow, x: Axis, y: Axis, color: str, label_ys: list[float], right: float
) -> list[str]:
    px, py = x.at(_cost(row)), y.at(float(row.overall.value or 0))
    out = []
    if row.overall.ci_low is not None and row.overall.ci_high is not None:
        low, high = y.at(row.overall.ci_low), y.at(row.overall.ci_high)
        out.append(
            f'<line class="ci" x1="{px:.1f}" y1="{low:.1f}" x2="{px:.1f}" y2="{high:.1f}" '
            f'stroke="{color}" stroke-width="1.5" opacity="0.7"/>'
        )
    ring = ' stroke="#111" stroke-width="2"' if row.on_pareto_front else ' stroke="#fff" stroke-width="1"'
    classes = "point pareto" if row.on_pareto_front else "point"
    cost = row.figures["cost_per_answer"].display
    tip = f"{row.model}: {row.overall.display}, {cost} {cells.PER_ANSWERS_LABEL}"
    out.append(
        f'<circle class="{classes}" data-model="{escape(row.model)}" cx="{px:.1f}" cy="{py:.1f}" '
        f'r="6" fill="{color}"{ring}><title>{escape(tip)}</title></circle>'
    )
    label_y = py + 4
    while any(abs(label_y - taken) < 13 for taken in label_ys):  # nudge overlapping labels down
        label_y += 13
    label_ys.append(label_y)
    anchor, lx = ("end", px - 10) if px > right - 40 else ("start", px + 10)
    out.append(_text(lx, label_y, row.model, anchor, ' font-size="11"'))
    return out


def task_bars_svg(board: Leaderboard) -> str:
    """Accuracy per task (and overall), one bar per model, with 95% CI whiskers."""
    groups = ["overall", *board.tasks]
    models = [row.model for row in board.rows]
    bar, gap = 14.0, 22.0
    left, top, bottom = 56.0, 24.0, 64.0
    legend_w = min(420.0, 40.0 + 7.0 * max(len(m) for m in models))  # ~7 px a character at 12 px
    plot_w = max(420.0, len(groups) * (len(models) * bar + gap))
    width, height = left + plot_w + legend_w, max(360.0, top + bottom + 18 * len(models))
    ticks = accuracy_ticks(board)
    y = Axis(0.0, ticks[-1], False, height - bottom, top)
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{left + plot_w}" y2="{height - bottom}" '
        'stroke="#333"/>'
    ]
    for tick in ticks:
        py = y.at(tick)
        body.append(f'<line x1="{left}" y1="{py:.1f}" x2="{left + plot_w}" y2="{py:.1f}" stroke="#eee"/>')
        body.append(_text(left - 6, py + 4, f"{100 * tick:g}", "end", ' font-size="11"'))
    body.append(
        _text(
            14,
            (top + height - bottom) / 2,
            "Accuracy (%)",
            "middle",
            f' transform="rotate(-90 14 {(top + height - bottom) / 2:.1f})"',
        )
    )
    colors = model_colors(board)
    group_w = plot_w / len(groups)
    for g, group in enumerate(groups):
        x0 = left + g * group_w + (group_w - len(models) * bar) / 2
        body.append(_text(left + (g + 0.5) * group_w, height - bottom + 18, group, "middle"))
        for m, row in enumerate(board.rows):
            cell = (
                row.overall
                if group == "overall"
                else (row.tasks[group].accuracy if group in row.tasks else None)
            )
            body.extend(_bar(row.model, group, cell, x0 + m * bar, bar - 2, y, colors[row.model]))
    for m, model in enumerate(models):
        ly = top + 6 + m * 18
        body.append(
            f'<rect x="{left + plot_w + 16}" y="{ly - 9}" width="12" height="12" fill="{colors[model]}"/>'
        )
        body.append(_text(left + plot_w + 34, ly + 1, model))
    return _svg(width, height, "task-bars", "Accuracy per task with 95% CI", body)


def accuracy_ticks(board: Leaderboard) -> list[float]:
    """Ticks of the task bars' accuracy axis: from 0 to a round value just above every bar and whisker.

    Scaled to the data (a chart of values under 25% does not run to 100%), at most 100%.
    """
    cells_shown = [row.overall for row in board.rows] + [
        result.accuracy for row in board.rows for result in row.tasks.values()
    ]
    values = [v for c in cells_shown for v in (c.value, c.ci_high) if v is not None]
    top = min(1.0, max(values, default=1.0))
    if top <= 0:
        top = 0.1
    ticks = nice_ticks(0.0, top)
    if ticks[-1] < top - 1e-12:  # one more step (steps divide 1, so never past 100%)
        ticks.append(round(2 * ticks[-1] - ticks[-2], 12))
    return ticks


def _bar(
    model: str, group: str, cell: cells.Cell | None, x: float, w: float, y: Axis, color: str
) -> list[str]:
    if cell is None or cell.value is None:
        return [_text(x + w / 2, y.start - 4, "-", "middle", ' font-size="10"')]
    top = y.at(cell.value)
    out = [
        f'<rect class="bar" data-model="{escape(model)}" data-task="{escape(group)}" x="{x:.1f}" '
        f'y="{top:.1f}" width="{w:.1f}" height="{y.start - top:.1f}" fill="{color}">'
        f"<title>{escape(f'{model} / {group}: {cell.display}')}</title></rect>"
    ]
    if cell.ci_low is not None and cell.ci_high is not None:
        cx, low, high = x + w / 2, y.at(cell.ci_low), y.at(cell.ci_high)
        out.append(
            f'<path class="whisker" d="M{cx:.1f} {low:.1f}V{high:.1f}M{cx - 3:.1f} {low:.1f}h6'
            f'M{cx - 3:.1f} {high:.1f}h6" stroke="#222" stroke-width="1.2" fill="none"/>'
        )
    return out
