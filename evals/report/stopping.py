"""What a report shows of adaptive runs (``evals run --until``): valid statistics and why they stopped.

A run that stopped early was looked at after every round, so a t interval or
p-value over its items would be too narrow: its models' paired differences are
replaced by the anytime-valid ones (:func:`evals.adaptive_stats.anytime_comparison`)
and the report says so in one line; its accuracy CIs already are anytime-valid
in its ``summary.json``. Each model x task's stopping record (rule met, items and
samples, tokens and dollars saved) comes from the run's manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from evals.metrics import PairedComparison
from evals.report.merge import MergedRuns

STOPPING_INTRO = (
    "Why each model x task stopped generating, after how many items and samples, and the tokens and "
    "dollars saved against the full protocol (the missing samples at the mean of those generated)."
)
MIXED_NOTE = "one side from an adaptive run, the other from another run: compare within one run"


class StoppingRecord(BaseModel):
    """Why and when one model x task of an adaptive run stopped generating."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run: str
    model: str
    task: str
    stopped_by: str
    items: int
    items_total: int
    samples: int
    samples_total: int
    tokens_saved: float | None
    usd_saved: float | None  # None: a price is unknown


def adaptive_records(merged: MergedRuns) -> dict[str, dict[str, Any]]:
    """The manifests' ``adaptive`` sections, by run id (runs made under --until only)."""
    records = {}
    for run in merged.runs:
        record = run.manifest.adaptive if run.manifest is not None else None
        if isinstance(record, dict) and "orders" in record:
            records[run.run_id] = record
    return records


def statistics_line(records: Mapping[str, dict[str, Any]]) -> str | None:
    """The one line that says which figures are anytime-valid; None without adaptive runs."""
    if not records:
        return None
    runs = "; ".join(
        f"{run_id} (--until {record.get('until') or 'max_usd'}, alpha {record['alpha']:g})"
        for run_id, record in records.items()
    )
    return (
        f"Adaptive runs: {runs}. Their accuracy CIs, Delta CIs and p-values are anytime-valid confidence "
        "sequences (betting, without replacement from each task's items), not the t procedures of the "
        "Definitions; their Delta pooled over tasks is n/a."
    )


def adaptive_fields(merged: MergedRuns) -> dict[str, Any]:
    """The leaderboard's ``statistics`` line and ``stopping`` records (None and () without adaptive runs)."""
    records = adaptive_records(merged)
    return {"statistics": statistics_line(records), "stopping": stopping_records(records)}


def stopping_records(records: Mapping[str, dict[str, Any]]) -> tuple[StoppingRecord, ...]:
    fields = set(StoppingRecord.model_fields) - {"run"}
    return tuple(
        StoppingRecord(run=run_id, **{key: track[key] for key in fields})
        for run_id, record in records.items()
        for track in record.get("tracks", [])
    )


def with_anytime_comparisons(
    comparisons: dict[tuple[str, str | None], PairedComparison],
    merged: MergedRuns,
    records: Mapping[str, dict[str, Any]],
) -> dict[tuple[str, str | None], PairedComparison]:
    """The comparisons that involve an adaptive run's models, made anytime-valid (or n/a)."""
    if not records:
        return comparisons
    replaced = dict(comparisons)
    for key, comparison in comparisons.items():
        tasks = [comparison.task] if comparison.task else list(merged.tasks)
        runs = {
            merged.run_of.get((model, task))
            for model in (comparison.model_a, comparison.model_b)
            for task in tasks
        }
        adaptive = [run for run in runs if run is not None and run in records]
        if not adaptive:
            continue
        if len(runs) > 1:
            replaced[key] = comparison.model_copy(update={
                "ci_low": None, "ci_high": None, "ci_method": None, "p_value": None, "test": None,
                "note": MIXED_NOTE,
            })  # fmt: skip
            continue
        from evals.adaptive_stats import anytime_comparison

        samples = merged.samples[merged.samples["run_id"] == adaptive[0]]
        replaced[key] = anytime_comparison(comparison, samples, records[adaptive[0]])
    return replaced


def stopping_markdown(line: str | None, stopping: tuple[StoppingRecord, ...]) -> list[str]:
    """The Markdown section of the adaptive runs (nothing without one)."""
    from evals.report.markdown import md_text

    if line is None:
        return []
    rows = [
        f"| {md_text(r.run)} | {md_text(r.model)} | {md_text(r.task)} | {r.stopped_by} | "
        f"{r.items}/{r.items_total} | {r.samples}/{r.samples_total} | {_tokens(r.tokens_saved)} | "
        f"{_usd(r.usd_saved)} |"
        for r in stopping
    ]
    header = "| Run | Model | Task | Stopped by | Items | Samples | Tokens saved | USD saved |"
    return ["", "## Adaptive runs", "", STOPPING_INTRO, "", header, "|" + "---|" * 8, *rows]


def stopping_html(line: str | None, stopping: tuple[StoppingRecord, ...]) -> str:
    """The HTML section of the adaptive runs ("" without one)."""
    from evals.report.htmlkit import esc

    if line is None:
        return ""
    cells = [
        (r.run, r.model, r.task, r.stopped_by, f"{r.items}/{r.items_total}", f"{r.samples}/{r.samples_total}",
         _tokens(r.tokens_saved), _usd(r.usd_saved))
        for r in stopping
    ]  # fmt: skip
    head = "".join(f"<th>{name}</th>" for name in ("Run", "Model", "Task", "Stopped by", "Items", "Samples",
                                                   "Tokens saved", "USD saved"))  # fmt: skip
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells)
    return (
        f'<section id="adaptive"><h2>Adaptive runs</h2><p class="note">{esc(STOPPING_INTRO)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _tokens(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _usd(value: float | None) -> str:
    return "n/a (unknown price)" if value is None else f"${value:,.4f}"
