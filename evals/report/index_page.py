"""``index.html``: sortable leaderboard, scatter with Pareto frontier, task bars, manifests."""

from __future__ import annotations

import json

import numpy as np

from evals.report import htmlkit
from evals.report.cells import Cell
from evals.report.htmlkit import esc
from evals.report.leaderboard import Leaderboard, LeaderboardRow, RunInfo
from evals.report.schema import COST_HEADER, COST_PER_CORRECT_HEADER, ranking_note
from evals.report.stopping import stopping_html

# Manifest fields shown as a table before the full JSON.
_MANIFEST_FIELDS = (
    "created",
    "evals_version",
    "scorer_version",
    "config_hash",
    "seeds",
    "hardware",
    "versions",
)


_NA_CELL = Cell(value=None, display="n/a")


def _value(cell: Cell) -> str:
    """The sort value: full precision in plain decimals (no exponent anywhere on the page)."""
    return "" if cell.value is None else np.format_float_positional(float(cell.value), unique=True)


def _display(text: str) -> str:
    """A display string as HTML; its bracketed interval wraps onto a second, quieter line."""
    figure, bracket, interval = text.partition(" [")
    if not bracket:
        return esc(text)
    return f'{esc(figure)}<br><span class="ci">[{esc(interval)}</span>'


def _cell(cell: Cell, href: str | None = None) -> tuple[str, str]:
    inner = _display(cell.display)
    if href is not None:
        inner = f'<a href="{esc(href)}">{inner}</a>'
    title = f"runs: {', '.join(cell.runs)}" if cell.runs else ""
    if title:
        inner = f'<span title="{esc(title)}">{inner}</span>'
    return _value(cell), inner


def main_table(board: Leaderboard) -> str:
    header = [("Rank", "num-asc"), ("Model", "text"), ("Overall [95% CI]", "num-desc")]
    header += [(task, "num-desc") for task in board.tasks]
    header += [(metric, "num-desc") for metric in board.shown_metrics]
    header += [
        ("Tokens/answer", "num-asc"),
        (COST_HEADER, "num-asc"),
        (COST_PER_CORRECT_HEADER, "num-asc"),
        ("Truncated", "num-asc"),
        ("No answer", "num-asc"),
        (board.delta_header(), "num-desc"),
        ("p", "num-asc"),
    ]
    return htmlkit.table(header, [_main_row(board, row) for row in board.rows], table_id="leaderboard")


def _main_row(board: Leaderboard, row: LeaderboardRow) -> list[tuple[str, str]]:
    tasks = [
        _cell(row.tasks[t].accuracy, row.tasks[t].samples_page) if t in row.tasks else ("", "-")
        for t in board.tasks
    ]
    model = esc(row.model) + (
        ' <span class="badge" title="on the Pareto frontier">Pareto</span>' if row.on_pareto_front else ""
    )
    return [
        _cell(row.rank),
        (row.model, model),
        _cell(row.overall),
        *tasks,
        *(_cell(row.sample_metrics.get(m, _NA_CELL)) for m in board.shown_metrics),
        _cell(row.tokens_per_answer),
        _cell(row.cost_per_answer),
        _cell(row.cost_per_correct),
        _cell(row.truncated_rate),
        _cell(row.no_answer_rate),
        _cell(row.vs_leader),
        _cell(row.vs_leader_p),
    ]


def task_table(board: Leaderboard) -> str:
    # The published column only where some cell has a published figure (keeps the table narrow).
    published = any(t.published.value is not None for row in board.rows for t in row.tasks.values())
    header = [
        ("Model", "text"),
        ("Task", "text"),
        ("Accuracy [95% CI]", "num-desc"),
        *([("Published", "num-desc")] if published else []),
        *((metric, "num-desc") for metric in board.shown_metrics),
        ("Items x samples", "num-desc"),
        ("Unjudged", "num-asc"),
        ("Tokens/answer", "num-asc"),
        (COST_HEADER, "num-asc"),
        (f"{COST_PER_CORRECT_HEADER} [95% CI]", "num-asc"),
        ("Truncated", "num-asc"),
        ("No answer", "num-asc"),
        (board.delta_header(), "num-desc"),
        ("p", "num-asc"),
    ]
    rows = []
    for row in board.rows:
        for t in row.tasks.values():
            rows.append(
                [
                    (row.model, esc(row.model)),
                    (t.task, esc(t.task)),
                    _cell(t.accuracy, t.samples_page),  # links to the answers
                    *([_cell(t.published)] if published else []),
                    *(_cell(t.sample_metrics.get(m, _NA_CELL)) for m in board.shown_metrics),
                    (str(t.n_items), f"{t.n_items} x {t.samples_per_item}"),
                    (str(t.n_unscored), str(t.n_unscored)),
                    _cell(t.tokens_per_answer),
                    _cell(t.cost_per_answer),
                    _cell(t.cost_per_correct),
                    _cell(t.truncated_rate),
                    _cell(t.no_answer_rate),
                    _cell(t.vs_leader),
                    _cell(t.vs_leader_p),
                ]
            )
    return htmlkit.table(header, rows, table_id="per-task")


def _manifest(run: RunInfo) -> str:
    manifest = run.manifest
    if manifest is None:
        return f"<details><summary>{esc(run.run_id)}: no manifest.json</summary></details>"
    rows = "".join(
        f"<tr><th>{esc(field)}</th><td><code>{esc(_compact(manifest.get(field)))}</code></td></tr>"
        for field in _MANIFEST_FIELDS
        if field in manifest
    )
    full = esc(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
    return (
        f'<details class="manifest"><summary>{esc(run.run_id)} (created {esc(run.created or "n/a")}, '
        f"config {esc((run.config_hash or 'n/a')[:12])})</summary>"
        f'<table class="kv">{rows}</table>'
        f"<details><summary>Full manifest.json</summary><pre>{full}</pre></details></details>"
    )


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return "n/a" if value is None else str(value)


def render_index(board: Leaderboard, scatter_svg: str, bars_svg: str) -> str:
    parts = [
        "<header><h1>Leaderboard</h1>",
        f"<p>Generated by evals {esc(board.evals_version)} on {esc(board.created)} from "
        f'{len(board.runs)} run(s). Also as <a href="leaderboard.md">Markdown</a>, '
        '<a href="leaderboard.csv">CSV</a> and <a href="leaderboard.json">JSON</a>. '
        "Click a column header to sort; click a task accuracy to browse its answers.</p>",
        f"<p>{esc(ranking_note(board))}</p>",
        f'<p class="note" id="statistics"><strong>{esc(board.statistics)}</strong></p>'
        if board.statistics
        else "",
        "</header>",
    ]
    if board.warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in board.warnings)
        parts.append(f'<section class="warnings" id="warnings"><h2>Warnings</h2><ul>{items}</ul></section>')
    parts.append(stopping_html(board.statistics, board.stopping))
    if board.redacted_tasks:
        parts.append(
            f'<p class="note">Redacted tasks: {esc(", ".join(board.redacted_tasks))}: prompts, choices and '
            "model outputs are replaced by a placeholder in every file of this report.</p>"
        )
    parts += ['<section><h2>Leaderboard</h2><div class="scroll">', main_table(board), "</div></section>"]
    not_plotted = "".join(f"<li>{esc(m)}: {esc(why)}</li>" for m, why in board.not_plotted.items())
    parts += [
        '<section><h2>Accuracy vs cost per answer</h2><div class="figure">',
        scatter_svg,
        "</div>",
        f"<p>Pareto frontier: {esc(', '.join(board.pareto_front) or 'none')}. "
        f'<a href="plots/accuracy_vs_cost.svg">SVG</a></p>',
        f'<div id="not-plotted"><p>Not plotted:</p><ul>{not_plotted}</ul></div>' if not_plotted else "",
        "</section>",
        '<section><h2>Accuracy per task</h2><div class="figure scroll">',
        bars_svg,
        "</div>",
        '<p><a href="plots/task_accuracy.svg">SVG</a></p></section>',
        '<section><h2>Per task</h2><div class="scroll">',
        task_table(board),
        "</div></section>",
        '<section><h2>Definitions</h2><ul class="definitions">',
        *(f'<li id="def-{esc(name)}">{esc(text)}</li>' for name, text in board.definitions.items()),
        "</ul></section>",
        '<section id="runs"><h2>Runs and manifests</h2>',
        *(_manifest(run) for run in board.runs),
        "</section>",
    ]
    return htmlkit.page("Leaderboard", "\n".join(parts), scripts=[htmlkit.asset("leaderboard.js")])
