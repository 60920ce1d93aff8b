"""Paired comparison of two models on the items both answered.

Both models saw the same questions, so the comparison is made item by item: the
per-item accuracy difference d_i = p_a,i - p_b,i, averaged over the common items
(each item weighs the same; with one task and equal samples per item this is the
difference of the two accuracies on those items). The interval resamples items
(paired bootstrap); the p-value is an exact McNemar test when each model has one
judged sample per item, else a paired sign-flip permutation test on the d_i.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from evals.errors import EvalsError, closest
from evals.metrics.stats import bootstrap_sums, mcnemar_exact_p, percentile_bounds, sign_flip_p


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
    p_value: float | None
    test: str | None
    seed: int
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
    low, high, note = _difference_interval(differences, seed, n_bootstrap)
    one_sample_each = bool((common["judged_a"] == 1).all() and (common["judged_b"] == 1).all())
    a_better, b_better = int(np.sum(differences > 0)), int(np.sum(differences < 0))
    if one_sample_each:
        p_value, test = mcnemar_exact_p(a_better, b_better), "exact McNemar"
    else:
        flips = sign_flip_p(differences, n_bootstrap, seed)
        p_value = flips.p_value
        test = "exact sign-flip" if flips.exact else f"sign-flip, {n_bootstrap} random draws"
    return PairedComparison(
        **base, items_a_better=a_better, items_b_better=b_better,
        accuracy_a=float(p_a.mean()), accuracy_b=float(p_b.mean()),
        difference=float(differences.mean()), ci_low=low, ci_high=high,
        p_value=p_value, test=test, note=note,
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


def _difference_interval(
    differences: np.ndarray, seed: int, n_bootstrap: int
) -> tuple[float | None, float | None, str | None]:
    """95% paired-bootstrap interval of the mean difference, or why there is none."""
    if len(differences) < 2:
        return None, None, "one common item: no interval"
    if np.ptp(differences) == 0:
        # A zero-width interval would claim certainty the items cannot give.
        return None, None, "every common item has the same difference: no bootstrap interval"
    replicates = bootstrap_sums(differences[:, None], n_bootstrap, seed)[:, 0] / len(differences)
    low, high = percentile_bounds(replicates)
    return low, high, None
