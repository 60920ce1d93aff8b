"""The leaderboard as data: one row per model (per decoding setup), one cell per figure.

Every figure of a task comes from that run's ``summary.json`` row; the overall
figures, ranks and Pareto frontier are defined in :data:`DEFINITIONS`, and the
paired differences to the leader come from :func:`evals.metrics.paired_comparison`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from evals.errors import EvalsError
from evals.metrics import PairedComparison, SummaryRow, paired_comparison
from evals.published import PublishedScoreSpec, load_published
from evals.report import cells
from evals.report.cells import NA, Cell
from evals.report.merge import MergedRuns, Run
from evals.report.published_cells import published_by_cell, with_published
from evals.report.ranking import pareto_front, rank_cells
from evals.report.schema import (
    DEFINITIONS,
    GENERATOR,
    SCHEMA_VERSION,
    Leaderboard,
    LeaderboardRow,
    RunInfo,
    TaskResult,
    samples_page,
)

__all__ = [
    "DEFINITIONS",
    "GENERATOR",
    "SCHEMA_VERSION",
    "Leaderboard",
    "LeaderboardRow",
    "RunInfo",
    "TaskResult",
    "build_leaderboard",
    "metric_values",
    "pareto_front",
    "rank_cells",
    "rank_choices",
    "samples_page",
]


def build_leaderboard(
    merged: MergedRuns,
    *,
    redacted_tasks: frozenset[str],
    publishable: bool,
    seed: int = 0,
    rank_by: str = "accuracy",
) -> Leaderboard:
    """The table model of merged runs; see :data:`DEFINITIONS` for every figure.

    ``rank_by`` orders and ranks the models: "accuracy" (the overall score, ranks
    shared where CIs overlap) or a sampling metric such as "pass@4" or "maj@4"
    (mean over tasks); EvalsError when no row has that metric.
    """
    tasks = merged.tasks
    by_model: dict[str, dict[str, SummaryRow]] = {}
    for row in merged.summary:
        by_model.setdefault(row.model, {})[row.task] = row
    overall = {model: _overall_cell(rows, tasks, merged.run_of) for model, rows in by_model.items()}
    metrics = {model: _metric_cells(rows, tasks, merged.run_of) for model, rows in by_model.items()}
    ranking = _ranking(merged.summary, rank_by, overall, metrics)
    ranks = rank_cells(ranking)
    order = sorted(by_model, key=lambda m: (ranks[m].value is None, -(ranking[m].value or 0.0), m))
    leader = order[0] if ranks[order[0]].value is not None else None
    judged = merged.samples[["model", "task", "item_id", "correct"]]
    comparisons = _comparisons(judged, order, leader, by_model, seed)
    points = _cost_accuracy_points(merged, by_model, overall, order)
    front = pareto_front(points)
    published = published_by_cell(merged, load_published())
    rows = tuple(
        _row(
            model,
            by_model[model],
            tasks,
            merged.run_of,
            overall[model],
            ranks[model],
            leader,
            comparisons,
            model in front,
            metrics[model],
            published,
        )
        for model in order
    )
    return Leaderboard(
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        tasks=tasks,
        leader=leader,
        rank_by=rank_by,
        shown_metrics=_shown_metrics(merged.summary, rank_by),
        rows=rows,
        pareto_front=tuple(m for m in order if m in front),
        not_plotted={row.model: _why_not_plotted(row) for row in rows if row.model not in points},
        runs=tuple(_run_info(run) for run in merged.runs),
        warnings=merged.warnings,
        redacted_tasks=tuple(sorted(redacted_tasks)),
        publishable=publishable,
        definitions=DEFINITIONS,
    )


def _cost_accuracy_points(
    merged: MergedRuns,
    by_model: Mapping[str, Mapping[str, SummaryRow]],
    overall: Mapping[str, Cell],
    order: Sequence[str],
) -> dict[str, tuple[float | None, float | None]]:
    """(cost per answer, overall accuracy) of each model that has both: the scatter's points."""
    points: dict[str, tuple[float | None, float | None]] = {}
    for model in order:
        cost = _mean_cell(by_model[model], merged.tasks, "cost_per_answer_usd", merged.run_of).value
        if cost is not None and overall[model].value is not None:
            points[model] = (cost, overall[model].value)
    return points


def _row(
    model: str,
    rows: Mapping[str, SummaryRow],
    tasks: Sequence[str],
    run_of: Mapping[tuple[str, str], str],
    overall: Cell,
    rank: Cell,
    leader: str | None,
    comparisons: Mapping[tuple[str, str | None], PairedComparison],
    on_front: bool,
    metrics: dict[str, Cell],
    published: Mapping[tuple[str, str], PublishedScoreSpec] | None = None,
) -> LeaderboardRow:
    pooled = comparisons.get((model, None))
    return LeaderboardRow(
        model=model,
        rank=rank,
        overall=overall,
        sample_metrics=metrics,
        tasks={
            t: with_published(
                _task_result(rows[t], run_of[(model, t)], comparisons.get((model, t)), model == leader),
                (published or {}).get((model, t)),
            )
            for t in tasks
            if t in rows
        },
        missing_tasks=tuple(t for t in tasks if t not in rows),
        tokens_per_answer=_mean_cell(rows, tasks, "tokens_per_answer", run_of, cells.tokens),
        cost_per_answer=_mean_cell(rows, tasks, "cost_per_answer_usd", run_of, cells.usd_per_answers),
        cost_per_correct=_cost_per_correct_cell(rows, tasks, run_of),
        truncated_rate=_mean_cell(rows, tasks, "truncated_rate", run_of, cells.percent),
        no_answer_rate=_mean_cell(rows, tasks, "no_answer_rate", run_of, cells.percent),
        vs_leader=_difference_cell(pooled, model == leader, _runs(rows, tasks, run_of)),
        vs_leader_p=_p_cell(pooled, model == leader),
        vs_leader_detail=pooled,
        on_pareto_front=on_front,
        cost_bases=tuple(sorted({row.cost_basis for row in rows.values()})),
        runs=_runs(rows, tasks, run_of),
    )


def _task_result(
    row: SummaryRow, run: str, comparison: PairedComparison | None, is_leader: bool
) -> TaskResult:
    runs = (run,)
    return TaskResult(
        task=row.task,
        run=run,
        accuracy=cells.accuracy_cell(row.accuracy, row.ci_low, row.ci_high, runs),
        n_items=row.n_items,
        n_samples=row.n_samples,
        samples_per_item=row.samples_per_item,
        sample_metrics={name: cells.rate_cell(value, runs) for name, value in metric_values(row).items()},
        n_unscored=row.n_unscored,
        tokens_per_answer=cells.tokens_cell(row.tokens_per_answer, runs),
        cost_per_answer=cells.usd_cell(row.cost_per_answer_usd, runs),
        cost_per_correct=cells.usd_cell(
            row.cost_per_correct_usd, runs, row.cost_per_correct_ci_low, row.cost_per_correct_ci_high
        ),
        truncated_rate=cells.rate_cell(row.truncated_rate, runs),
        no_answer_rate=cells.rate_cell(row.no_answer_rate, runs),
        vs_leader=_difference_cell(comparison, is_leader, runs),
        vs_leader_p=_p_cell(comparison, is_leader),
        cost_basis=row.cost_basis,
        samples_page=samples_page(row.model, row.task),
    )


_NO_METRIC = Cell(value=None, display=NA)


def metric_values(row: SummaryRow) -> dict[str, float | None]:
    """pass@k and maj@k of one summary row by name ("pass@4"), k ascending, pass before maj."""
    out: dict[str, float | None] = {}
    for k in sorted(set(row.pass_at_k) | set(row.maj_at_k)):
        out[f"pass@{k}"] = row.pass_at_k.get(k)
        out[f"maj@{k}"] = row.maj_at_k.get(k)
    return out


def _metric_order(name: str) -> tuple[int, bool]:
    kind, _, k = name.partition("@")
    return int(k), kind != "pass"


def rank_choices(summary: Sequence[SummaryRow]) -> tuple[str, ...]:
    """What a leaderboard of these rows can rank by: accuracy, then every pass@k and maj@k."""
    names = {name for row in summary for name in metric_values(row)}
    return ("accuracy", *sorted(names, key=_metric_order))


def _ranking(
    summary: Sequence[SummaryRow],
    rank_by: str,
    overall: Mapping[str, Cell],
    metrics: Mapping[str, Mapping[str, Cell]],
) -> Mapping[str, Cell]:
    """The cell of each model that orders and ranks it; EvalsError for a metric no row has."""
    choices = rank_choices(summary)
    if rank_by not in choices:
        raise EvalsError(f"cannot rank by {rank_by!r}: choose one of {', '.join(choices)}")
    if rank_by == "accuracy":
        return overall
    return {model: by_name.get(rank_by, _NO_METRIC) for model, by_name in metrics.items()}


def _shown_metrics(summary: Sequence[SummaryRow], rank_by: str) -> tuple[str, ...]:
    """The sampling metrics the tables show: pass@k and maj@k at the largest k sampled (if > 1)."""
    k = max((row.samples_per_item for row in summary), default=1)
    shown = [f"pass@{k}", f"maj@{k}"] if k > 1 else []
    if rank_by != "accuracy" and rank_by not in shown:
        shown.insert(0, rank_by)
    return tuple(shown)


def _metric_cells(
    rows: Mapping[str, SummaryRow], tasks: Sequence[str], run_of: Mapping[tuple[str, str], str]
) -> dict[str, Cell]:
    """Each sampling metric as the mean over tasks: n/a unless every task has it."""
    runs = _runs(rows, tasks, run_of)
    per_task = {task: metric_values(rows[task]) for task in tasks if task in rows}
    names = sorted({name for values in per_task.values() for name in values}, key=_metric_order)
    out = {}
    for name in names:
        values = [per_task[t].get(name) if t in per_task else None for t in tasks]
        known = [v for v in values if v is not None]
        complete = bool(values) and len(known) == len(values)
        out[name] = cells.rate_cell(sum(known) / len(known) if complete else None, runs)
    return out


def _runs(
    rows: Mapping[str, SummaryRow], tasks: Sequence[str], run_of: Mapping[tuple[str, str], str]
) -> tuple[str, ...]:
    return tuple(sorted({run_of[(row.model, t)] for t, row in rows.items() if t in tasks}))


def _task_values(rows: Mapping[str, SummaryRow], tasks: Sequence[str], field: str) -> list[float] | None:
    """The field of every task, or None when a task or one of its values is missing."""
    values: list[float] = []
    for task in tasks:
        value = getattr(rows[task], field) if task in rows else None
        if value is None:
            return None
        values.append(float(value))
    return values


def _overall_cell(
    rows: Mapping[str, SummaryRow], tasks: Sequence[str], run_of: Mapping[tuple[str, str], str]
) -> Cell:
    runs = _runs(rows, tasks, run_of)
    accuracies = _task_values(rows, tasks, "accuracy")
    if accuracies is None:
        missing = [t for t in tasks if t not in rows]
        return Cell(value=None, display=f"n/a (no {', '.join(missing)})" if missing else NA, runs=runs)
    overall = sum(accuracies) / len(accuracies)
    lows, highs = _task_values(rows, tasks, "ci_low"), _task_values(rows, tasks, "ci_high")
    if lows is None or highs is None:
        return cells.accuracy_cell(overall, None, None, runs)
    half = math.sqrt(sum(((h - lo) / 2) ** 2 for lo, h in zip(lows, highs, strict=True))) / len(lows)
    return cells.accuracy_cell(overall, max(0.0, overall - half), min(1.0, overall + half), runs)


def _mean_cell(
    rows: Mapping[str, SummaryRow],
    tasks: Sequence[str],
    field: str,
    run_of: Mapping[tuple[str, str], str],
    show: Any = cells.percent,
) -> Cell:
    values = _task_values(rows, tasks, field)
    mean = None if values is None else sum(values) / len(values)
    return Cell(value=mean, display=show(mean), runs=_runs(rows, tasks, run_of))


def _cost_per_correct_cell(
    rows: Mapping[str, SummaryRow], tasks: Sequence[str], run_of: Mapping[tuple[str, str], str]
) -> Cell:
    costs = _task_values(rows, tasks, "cost_per_answer_usd")
    accuracies = _task_values(rows, tasks, "accuracy")
    ratio = None
    if costs is not None and accuracies is not None and sum(accuracies) > 0:
        ratio = sum(costs) / sum(accuracies)
    return cells.usd_cell(ratio, _runs(rows, tasks, run_of))


def _comparisons(
    judged: pd.DataFrame,
    order: Sequence[str],
    leader: str | None,
    by_model: Mapping[str, Mapping[str, SummaryRow]],
    seed: int,
) -> dict[tuple[str, str | None], PairedComparison]:
    """Each model against the leader: all items pooled (task None) and task by task."""
    if leader is None:
        return {}
    out: dict[tuple[str, str | None], PairedComparison] = {}
    by_task = {str(task): rows for task, rows in judged.groupby("task", sort=False)}  # split once
    for model in order:
        if model == leader:
            continue
        pair = judged[judged["model"].isin([model, leader])]
        out[(model, None)] = paired_comparison(pair, model, leader, seed=seed)
        for task in by_model[model]:
            if task in by_model[leader]:
                out[(model, task)] = paired_comparison(by_task[task], model, leader, task, seed=seed)
    return out


def _difference_cell(comparison: PairedComparison | None, is_leader: bool, runs: tuple[str, ...]) -> Cell:
    if is_leader:  # the reference itself: the header names it
        return Cell(value=0.0, display="-", runs=runs)
    if comparison is None or comparison.difference is None:
        return Cell(value=None, display=NA, runs=runs)
    display = cells.with_interval(
        cells.points(comparison.difference), comparison.ci_low, comparison.ci_high, 100
    )
    if comparison.n_items_a_only or comparison.n_items_b_only:
        display += f" (on {comparison.n_items} common items)"
    return Cell(
        value=comparison.difference,
        display=display,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        runs=runs,
    )


def _p_cell(comparison: PairedComparison | None, is_leader: bool) -> Cell:
    if is_leader:
        return Cell(value=None, display="-")
    value = comparison.p_value if comparison is not None else None
    return Cell(value=value, display=cells.p_value(value))


def _why_not_plotted(row: LeaderboardRow) -> str:
    if row.overall.value is None:
        return "no overall score" + (f" (no {', '.join(row.missing_tasks)})" if row.missing_tasks else "")
    unknown = [basis for basis in row.cost_bases if basis.startswith("unknown price")]
    return unknown[0] if unknown else "no cost per answer"


def _run_info(run: Run) -> RunInfo:
    manifest = run.manifest
    if manifest is None:
        return RunInfo(
            run_id=run.run_id,
            created=None,
            evals_version=None,
            scorer_version=None,
            config_hash=None,
            manifest=None,
        )
    return RunInfo(
        run_id=run.run_id,
        created=manifest.created,
        evals_version=manifest.evals_version,
        scorer_version=manifest.scorer_version,
        config_hash=manifest.config_hash,
        manifest=manifest.to_json(),
    )
