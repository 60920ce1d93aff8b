"""What an adaptive run's confidence sequences see, and the anytime-valid figures built on them.

Rounds of items: one value per visited item (its share of correct judged samples),
in visiting order, without replacement from the task's N items; the target is what
the full protocol would measure on them. Rounds of extra samples (a small task whose
items are all in from the first round): one value per sample index s, the share of
items answered correctly by their s-th sample; the samples of an index are drawn
independently of the others, so these values are independent draws whose mean is
the accuracy on this item set (no finite population: N is None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from evals.metrics import PairedComparison, SummaryRow
from evals.metrics.sequential import SequenceInterval, accuracy_sequence, difference_sequence

if TYPE_CHECKING:
    from evals.adaptive import Track

POOLED_NOTE = "adaptive run: no anytime-valid interval pooled over tasks; compare per task"


def item_values(samples: pd.DataFrame, label: str, task: str, order: Sequence[str]) -> pd.Series:
    """Each visited item's share of correct judged samples, in visiting order (unjudged items left out)."""
    rows = samples[(samples["model"] == label) & (samples["task"] == task)]
    counts = _judged_counts(rows, "item_id")
    position = {item: index for index, item in enumerate(order)}
    ordered = sorted(counts.index, key=lambda item: position[item])
    return (counts.loc[ordered, "correct"] / counts.loc[ordered, "judged"]).astype(np.float64)


def sample_round_values(samples: pd.DataFrame, label: str, task: str) -> pd.Series:
    """Per sample index, in order: the share of correct among the items' judged samples of that index."""
    rows = samples[(samples["model"] == label) & (samples["task"] == task)]
    counts = _judged_counts(rows, "sample_idx").sort_index()
    return (counts["correct"] / counts["judged"]).astype(np.float64)


def _judged_counts(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    verdicts = rows["correct"].astype("boolean")
    frame = rows[[by]].assign(judged=verdicts.notna(), correct=verdicts.fillna(False).astype(bool))
    counts = frame.groupby(by)[["judged", "correct"]].sum()
    return counts[counts["judged"] > 0]


class SequenceInput:
    """The values one model x task feeds its sequences, and the population they come from."""

    def __init__(self, samples: pd.DataFrame, label: str, task: str, order: Sequence[str], by_samples: bool):
        self.by_samples = by_samples
        self.values = (
            sample_round_values(samples, label, task)
            if by_samples
            else item_values(samples, label, task, order)
        )
        self.population = None if by_samples else len(order)


def paired_differences(a: SequenceInput, b: SequenceInput) -> np.ndarray:
    """The differences of ``a`` minus ``b`` on the items (or sample indices) both have, in a's order."""
    common = [key for key in a.values.index if key in b.values.index]
    return (a.values.loc[common] - b.values.loc[common]).to_numpy(dtype=np.float64)


def anytime_paired(
    samples: pd.DataFrame,
    model_a: str,
    model_b: str,
    task: str,
    order: Sequence[str],
    alpha: float,
    by_samples: bool = False,
    margin: float = 0.0,
) -> SequenceInterval | None:
    """The anytime-valid difference a - b on a task of an adaptive run."""
    a = SequenceInput(samples, model_a, task, order, by_samples)
    b = SequenceInput(samples, model_b, task, order, by_samples)
    return difference_sequence(paired_differences(a, b), a.population, alpha, margin)


def anytime_comparison(
    comparison: PairedComparison, samples: pd.DataFrame, record: dict[str, Any]
) -> PairedComparison:
    """``comparison`` with the anytime-valid interval and p-value of an adaptive run.

    ``record`` is the run's manifest ``adaptive`` section; pooled over tasks (no single
    visiting order) the interval and p-value are undefined: None, with a note.
    """
    task = comparison.task
    order = record["orders"].get(task) if task else None
    result = None
    if task and order is not None:
        by_samples = task in record.get("sample_rounds", [])
        result = anytime_paired(samples, comparison.model_a, comparison.model_b, task, order,
                                float(record["alpha"]), by_samples)  # fmt: skip
    if result is None:
        return comparison.model_copy(update={
            "ci_low": None, "ci_high": None, "ci_method": None, "p_value": None, "test": None,
            "note": POOLED_NOTE if task is None else "adaptive run: no common judged item",
        })  # fmt: skip
    return comparison.model_copy(update={
        "ci_low": result.low, "ci_high": result.high, "ci_method": result.method,
        "p_value": result.p_value, "test": result.method,
    })  # fmt: skip


def anytime_rows(
    rows: Sequence[SummaryRow], samples: pd.DataFrame, tracks: Mapping[tuple[str, str], Track], alpha: float
) -> list[SummaryRow]:
    """Summary rows whose accuracy CI is the anytime-valid one, and that say why generation stopped."""
    replaced = []
    for row in rows:
        track = tracks[(row.model, row.task)]
        seen = track.values(samples, row.model, row.task)
        interval = accuracy_sequence(seen.values.to_numpy(), seen.population, alpha)
        replaced.append(row.model_copy(update={
            "ci_low": interval.low if interval else None, "ci_high": interval.high if interval else None,
            "ci_method": interval.method if interval else None,
            "stopped_by": f"{track.stopped_by} after {track.progress()}",
        }))  # fmt: skip
    return replaced
