"""``evals diagnose``: why a published score lies outside our 95% CI, causes ranked with numbers.

Public face: :func:`diagnose_run` returns one :class:`CellDiagnosis` per model x task
that has a published figure; :class:`Cause` is one candidate explanation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evals.diagnose.causes import (
    Cause,
    extraction_cause,
    protocol_cause,
    rank_causes,
    truncation_cause,
    unjudged_cause,
)
from evals.diagnose.rerun import BackendFactory, RerunResult, nondeterminism_cause, rerun_items
from evals.errors import EvalsError
from evals.metrics import SummaryRow
from evals.published import PublishedScores, PublishedScoreSpec, Standing, load_published, standing
from evals.run_records import Manifest

__all__ = ["Cause", "CellDiagnosis", "RerunResult", "diagnose_run"]


@dataclass(frozen=True)
class CellDiagnosis:
    """One model x task against its published figure; ``causes`` empty when inside our CI."""

    model: str
    task: str
    model_ref: str | None
    accuracy: float | None
    ci_low: float | None
    ci_high: float | None
    published: PublishedScoreSpec
    standing: Standing | None
    gap: float | None  # published - ours, as fractions
    causes: tuple[Cause, ...]


Rerun = Callable[[pd.DataFrame], RerunResult]


def diagnose_run(
    run_dir: Path,
    *,
    model: str | None = None,
    task: str | None = None,
    rerun: int = 0,
    data_dir: Path | None = None,
    backend: BackendFactory | None = None,
    published: PublishedScores | None = None,
) -> list[CellDiagnosis]:
    """Diagnose every (filtered) model x task of a finished run that has a published score."""
    from evals.report.merge import load_run

    run = load_run(run_dir, run_dir.name)
    manifest = run.manifest
    if rerun > 0 and manifest is None:
        raise EvalsError(f"{run_dir}: no manifest.json, so its items cannot be re-run")
    table = published or load_published()
    rows = [r for r in run.summary if model in (None, r.model) and task in (None, r.task)]
    if not rows:
        raise EvalsError(f"{run_dir}: no results for {model or 'any model'} on {task or 'any task'}")
    extra: dict[str, Any] = {"backend": backend} if backend is not None else {}
    diagnoses = []
    for row in rows:
        recorded = manifest.models.get(row.model) if manifest is not None else None
        ref = recorded.ref if recorded is not None else None
        entry = table.headline(ref, row.task)
        if entry is None:
            continue
        samples = run.samples[(run.samples["model"] == row.model) & (run.samples["task"] == row.task)]
        rerun_cell: Rerun | None = None
        if rerun > 0 and manifest is not None:
            rerun_cell = lambda s: rerun_items(run_dir, manifest, s, rerun, data_dir, **extra)  # noqa: E731
        diagnoses.append(_diagnose_cell(row, ref, entry, samples, manifest, rerun_cell))
    return diagnoses


def _diagnose_cell(
    row: SummaryRow,
    ref: str | None,
    entry: PublishedScoreSpec,
    samples: pd.DataFrame,
    manifest: Manifest | None,
    rerun: Rerun | None,
) -> CellDiagnosis:
    where = standing(entry.fraction, row.ci_low, row.ci_high)
    gap = entry.fraction - row.accuracy if row.accuracy is not None else None
    causes: tuple[Cause, ...] = ()
    if where in ("above", "below") and gap is not None:
        model_record = manifest.models.get(row.model) if manifest is not None else None
        task_record = manifest.tasks.get(row.task) if manifest is not None else None
        generation = model_record.generation if model_record is not None else {}
        max_tokens = task_record.max_tokens if task_record is not None else None
        found = [
            protocol_cause(generation, max_tokens, entry),
            truncation_cause(samples, gap),
            extraction_cause(samples, gap),
            unjudged_cause(samples, gap),
        ]
        if rerun is not None:
            found.append(nondeterminism_cause(rerun(samples), gap))
        causes = rank_causes(found)
    return CellDiagnosis(
        model=row.model,
        task=row.task,
        model_ref=ref,
        accuracy=row.accuracy,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        published=entry,
        standing=where,
        gap=gap,
        causes=causes,
    )
