"""The published score beside ours in a leaderboard cell (evals/published.yaml)."""

from __future__ import annotations

from evals.published import PublishedScores, PublishedScoreSpec, standing
from evals.report.cells import Cell
from evals.report.merge import MergedRuns
from evals.report.schema import TaskResult


def published_by_cell(
    merged: MergedRuns, table: PublishedScores
) -> dict[tuple[str, str], PublishedScoreSpec]:
    """(model label, task) -> the published figure for the label's model alias (from its manifest)."""
    refs: dict[str, str] = {}
    for run in merged.runs:
        for label, model in (run.manifest.models if run.manifest is not None else {}).items():
            refs.setdefault(label, model.ref)
    found = {(row.model, row.task): table.headline(refs.get(row.model), row.task) for row in merged.summary}
    return {key: entry for key, entry in found.items() if entry is not None}


def with_published(result: TaskResult, entry: PublishedScoreSpec | None) -> TaskResult:
    """The task result with the published figure beside ours, and where it lies against our CI."""
    if entry is None:
        return result
    where = standing(entry.fraction, result.accuracy.ci_low, result.accuracy.ci_high)
    display = f"{entry.value:g}%" + (f" ({where} our CI)" if where else "")
    return result.model_copy(
        update={
            "published": Cell(value=entry.fraction, display=display, runs=result.accuracy.runs),
            "published_standing": where,
            "published_source": entry.source,
        }
    )
