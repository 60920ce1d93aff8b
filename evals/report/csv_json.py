"""``leaderboard.csv`` (raw values, one row per model) and ``leaderboard.json`` (the whole model)."""

from __future__ import annotations

import csv
import io
import json

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
    """Full precision for machines; an empty field for an undefined figure (never 0)."""
    return "" if value is None else repr(float(value))


def csv_header(board: Leaderboard) -> list[str]:
    header = ["rank", "model", "overall", "overall_ci_low", "overall_ci_high"]
    for task in board.tasks:
        header += [task, f"{task}_ci_low", f"{task}_ci_high"]
    header += [name for name, _ in _AGGREGATES]
    header += ["delta_vs_leader", "delta_ci_low", "delta_ci_high", "p_value", "pareto", "runs"]
    return header


def csv_row(board: Leaderboard, row: LeaderboardRow) -> list[str]:
    def triple(cell: Cell | None) -> list[str]:
        if cell is None:
            return ["", "", ""]
        return [_number(cell.value), _number(cell.ci_low), _number(cell.ci_high)]

    values = [_number(row.rank.value).removesuffix(".0"), row.model, *triple(row.overall)]
    for task in board.tasks:
        values += triple(row.tasks[task].accuracy if task in row.tasks else None)
    values += [_number(getattr(row, attribute).value) for _, attribute in _AGGREGATES]
    values += triple(row.vs_leader)
    values += [_number(row.vs_leader_p.value), "yes" if row.on_pareto_front else "no", " ".join(row.runs)]
    return values


def render_csv(board: Leaderboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_header(board))
    writer.writerows(csv_row(board, row) for row in board.rows)
    return buffer.getvalue()


def render_json(board: Leaderboard) -> str:
    return json.dumps(board.model_dump(mode="json"), indent=1, ensure_ascii=False) + "\n"
