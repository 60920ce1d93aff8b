"""``leaderboard.csv`` (raw values, one row per model) and ``leaderboard.json`` (the whole model)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from evals.report.cells import Cell
from evals.report.leaderboard import Leaderboard, LeaderboardRow

# Aggregate columns of the CSV: (prefix, attribute of the row).
_AGGREGATES = (
    ("tokens_per_answer", "tokens_per_answer"),
    ("cost_per_answer_usd", "cost_per_answer"),
    ("cost_per_correct_usd", "cost_per_correct"),
    ("truncated_rate", "truncated_rate"),
    ("no_answer_rate", "no_answer_rate"),
)


def _number(value: float | None) -> str:
    """Full precision in plain decimals (never ``4.1e-05``); an empty field for an undefined figure."""
    if value is None:
        return ""
    text = np.format_float_positional(float(value), unique=True, trim="-")
    return text if "." in text or not text.lstrip("-").isdigit() else text + ".0"


def csv_header(board: Leaderboard) -> list[str]:
    header = ["rank", "model", "overall", "overall_ci_low", "overall_ci_high"]
    header += list(board.shown_metrics)
    for task in board.tasks:
        header += [task, f"{task}_ci_low", f"{task}_ci_high"]
        header += [f"{task}_{metric}" for metric in board.shown_metrics]
    header += [name for name, _ in _AGGREGATES]
    header += ["delta_vs_leader", "delta_ci_low", "delta_ci_high", "p_value", "pareto", "runs"]
    return header + (["statistics"] if board.statistics else [])


def csv_row(board: Leaderboard, row: LeaderboardRow) -> list[str]:
    def triple(cell: Cell | None) -> list[str]:
        if cell is None:
            return ["", "", ""]
        return [_number(cell.value), _number(cell.ci_low), _number(cell.ci_high)]

    def metrics(by_name: dict[str, Cell]) -> list[str]:
        return [_number(by_name[m].value) if m in by_name else "" for m in board.shown_metrics]

    values = [_number(row.rank.value).removesuffix(".0"), row.model, *triple(row.overall)]
    values += metrics(row.sample_metrics)
    for task in board.tasks:
        values += triple(row.tasks[task].accuracy if task in row.tasks else None)
        values += metrics(row.tasks[task].sample_metrics if task in row.tasks else {})
    values += [_number(getattr(row, attribute).value) for _, attribute in _AGGREGATES]
    values += triple(row.vs_leader)
    values += [_number(row.vs_leader_p.value), "yes" if row.on_pareto_front else "no", " ".join(row.runs)]
    return values + ([board.statistics] if board.statistics else [])


def render_csv(board: Leaderboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(board))
    writer.writerows(csv_row(board, row) for row in board.rows)
    return buffer.getvalue()


def render_json(board: Leaderboard) -> str:
    return json.dumps(board.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"
