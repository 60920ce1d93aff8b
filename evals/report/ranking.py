"""Ranks with shared places and the accuracy-vs-cost Pareto frontier of a leaderboard."""

from __future__ import annotations

from collections.abc import Mapping

from evals.report.cells import NA, Cell


def rank_cells(overall: Mapping[str, Cell]) -> dict[str, Cell]:
    """Rank = 1 + models whose CI lies entirely above; shared ranks shown as '=k'."""
    bounds: dict[str, tuple[float, float]] = {}
    for model, cell in overall.items():
        if cell.value is not None:
            low = cell.ci_low if cell.ci_low is not None else cell.value
            high = cell.ci_high if cell.ci_high is not None else cell.value
            bounds[model] = (low, high)
    ranks = {
        model: 1 + sum(1 for other, (low, _) in bounds.items() if other != model and low > high)
        for model, (_, high) in bounds.items()
    }
    shared = {rank for rank in ranks.values() if list(ranks.values()).count(rank) > 1}
    out = {}
    for model, cell in overall.items():
        rank = ranks.get(model)
        display = NA if rank is None else (f"={rank}" if rank in shared else str(rank))
        out[model] = Cell(value=None if rank is None else float(rank), display=display, runs=cell.runs)
    return out


def pareto_front(points: Mapping[str, tuple[float | None, float | None]]) -> set[str]:
    """Models whose (cost, accuracy) no other model dominates.

    Dominates: at most as costly and at least as accurate, strictly better in one.
    """
    front = set()
    for model, (cost, accuracy) in points.items():
        assert cost is not None and accuracy is not None
        dominated = any(
            c is not None and a is not None and c <= cost and a >= accuracy and (c < cost or a > accuracy)
            for other, (c, a) in points.items()
            if other != model
        )
        if not dominated:
            front.add(model)
    return front
