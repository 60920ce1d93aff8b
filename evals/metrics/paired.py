"""Paired comparison of two models on the items both answered.

Both models saw the same questions, so the comparison is made item by item: the
per-item accuracy difference d_i = p_a,i - p_b,i, averaged over the common items
(each item weighs the same; with one task and equal samples per item this is the
difference of the two accuracies on those items). The 95% interval and the
p-value come from one paired Student-t procedure over the d_i
(:func:`evals.metrics.stats.paired_difference`), so the interval excludes 0
exactly when p < 0.05.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from evals.errors import EvalsError, closest
from evals.metrics.stats import paired_difference


class PairedComparison(BaseModel):
    """Model a minus model b on their common items; None where a figure is undefined."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_a: str
    model_b: str
    task: str | None  # None: the items of every task pooled
    n_items: int
    n_items_a_only: int
    n_items_b_only: int
    items_a_better: int
    items_b_better: int
    accuracy_a: float | None
    accuracy_b: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str | None = None  # how ci_low/ci_high were obtained
    p_value: float | None
    test: str | None  # how p_value was obtained
    seed: int  # kept for callers and old records: the t procedure draws nothing
    n_bootstrap: int
    note: str | None = None


def paired_comparison(
    samples: pd.DataFrame,
    model_a: str,
    model_b: str,
    task: str | None = None,
    *,
    seed: int = 0,
    n_bootstrap: int = 2000,
) -> PairedComparison:
    """Accuracy of ``model_a`` minus ``model_b`` on the items both have judged samples for.

    ``task`` None pools the items of every task. Unjudged samples (``correct`` None)
    are left out, like in accuracy. EvalsError when a model or task has no samples.
    """
    _check_names(samples, model_a, model_b, task)
    rows = samples if task is None else samples[samples["task"] == task]
    a, b = _item_counts(rows, model_a), _item_counts(rows, model_b)
    common = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner").sort_index()
    base: dict[str, Any] = {
        "model_a": model_a,
        "model_b": model_b,
        "task": task,
        "n_items": len(common),
        "n_items_a_only": len(a.index.difference(b.index)),
        "n_items_b_only": len(b.index.difference(a.index)),
        "seed": seed,
        "n_bootstrap": n_bootstrap,
    }
    if common.empty:
        return PairedComparison(
            **base, items_a_better=0, items_b_better=0, accuracy_a=None, accuracy_b=None,
            difference=None, ci_low=None, ci_high=None, p_value=None, test=None,
            note="no item has judged samples from both models",
        )  # fmt: skip
    p_a = (common["correct_a"] / common["judged_a"]).to_numpy(dtype=np.float64)
    p_b = (common["correct_b"] / common["judged_b"]).to_numpy(dtype=np.float64)
    differences = p_a - p_b
    paired = paired_difference(differences)
    interval = paired.interval
    return PairedComparison(
        **base, items_a_better=int(np.sum(differences > 0)), items_b_better=int(np.sum(differences < 0)),
        accuracy_a=float(p_a.mean()), accuracy_b=float(p_b.mean()), difference=paired.mean,
        ci_low=interval.low if interval else None, ci_high=interval.high if interval else None,
        ci_method=interval.method if interval else None,
        p_value=paired.p_value, test=paired.test, note=paired.note,
    )  # fmt: skip


def _check_names(samples: pd.DataFrame, model_a: str, model_b: str, task: str | None) -> None:
    if model_a == model_b:
        raise EvalsError(f"compare two different models, got {model_a!r} twice")
    models = sorted(map(str, samples["model"].unique()))
    for model in (model_a, model_b):
        if model not in models:
            raise EvalsError(f"no samples for model {model!r}{closest(model, models)}")
    tasks = sorted(map(str, samples["task"].unique()))
    if task is not None and task not in tasks:
        raise EvalsError(f"no samples for task {task!r}{closest(task, tasks)}")


def _item_counts(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """Judged and correct samples per (task, item_id) with at least one judged sample."""
    verdicts = rows.loc[rows["model"] == model, "correct"].astype("boolean")
    keys = rows.loc[rows["model"] == model, ["task", "item_id"]].astype(str)
    frame = keys.assign(judged=verdicts.notna(), correct=verdicts.fillna(False).astype(bool))
    counts = frame.groupby(["task", "item_id"])[["judged", "correct"]].sum()
    return counts[counts["judged"] > 0]
