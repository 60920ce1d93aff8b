"""One summary row per (model, task): accuracy with error bars, pass@k, maj@k, cost.

Definitions (all over the rows of one model and task):

- *judged* samples have ``correct`` True or False; the others (gold_unparseable,
  ambiguous, timeout, error) are counted in ``n_unscored`` (by status in
  ``n_unscored_by_status``) and take no part in accuracy.
- ``accuracy`` = correct / judged samples (avg@n); ``stderr`` is clustered by item
  (:func:`evals.metrics.stats.clustered_stderr`); ``ci_low``/``ci_high`` a 95%
  interval over items (:func:`evals.metrics.stats.accuracy_interval`: Jeffreys at
  the item-clustered effective sample size, t-calibrated), ``ci_method`` says which.
- ``pass_at_k``/``maj_at_k``: means over the items with at least k judged samples
  (``items_at_k`` says how many); None where no item has k.
- *answers* are samples whose generation did not fail (status != "error"):
  ``tokens_per_answer``, ``prompt_tokens_per_answer`` and ``cost_per_answer_usd``
  are means over them. ``cost_per_correct_usd`` = cost of the judged samples /
  correct samples, with a 95% bootstrap interval over items (ratio estimator).
- Bootstrap replicates (for cost per correct answer) come from
  ``numpy.random.default_rng(bootstrap_seed)`` over the row's items sorted by
  item_id, so each row is reproducible on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from evals.errors import EvalsError
from evals.metrics.cost import CostBasis, UnknownPrice, sample_costs
from evals.metrics.judged import judge_fields
from evals.metrics.sampling import (
    CORRECT_VOTE,
    NO_VOTE,
    default_ks,
    maj_at_k_per_item,
    normalize_answer,
    pass_at_k_per_item,
)
from evals.metrics.stats import (
    accuracy_interval,
    bootstrap_sums,
    clustered_stderr,
    percentile_bounds,
)
from evals.metrics.summary_file import SummaryRow

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REQUIRED_COLUMNS = (
    "model", "task", "item_id", "sample_idx", "extracted", "correct", "status",
    "prompt_tokens", "completion_tokens", "engine_seconds",
)  # fmt: skip


@dataclass(frozen=True)
class _GroupSamples:
    """Rows as arrays, sorted by model, task, item_id, then sample_idx.

    ``vote_codes``: CORRECT_VOTE for correct samples, 1.. per distinct normalized wrong
    answer, NO_VOTE for unjudged samples and wrong ones without an extracted answer.
    """

    item_codes: IntArray  # rows of one item are contiguous; codes follow item_id order
    sample_idx: IntArray
    judged: npt.NDArray[np.bool_]
    correct: npt.NDArray[np.bool_]
    status: npt.NDArray[np.str_]
    vote_codes: IntArray
    prompt_tokens: FloatArray
    completion_tokens: FloatArray
    engine_seconds: FloatArray

    @property
    def n_items(self) -> int:
        return int(self.item_codes.max()) + 1 if len(self.item_codes) else 0

    def per_item(self, weights: npt.NDArray[np.generic]) -> FloatArray:
        """Sum of ``weights`` over each item's samples."""
        return np.bincount(self.item_codes, weights=weights, minlength=self.n_items).astype(np.float64)

    def rows(self, start: int, stop: int) -> _GroupSamples:
        """The rows start:stop, with item codes renumbered from 0."""
        _, item_codes = np.unique(self.item_codes[start:stop], return_inverse=True)
        return _GroupSamples(
            item_codes=item_codes.reshape(-1).astype(np.int64),
            sample_idx=self.sample_idx[start:stop],
            judged=self.judged[start:stop],
            correct=self.correct[start:stop],
            status=self.status[start:stop],
            vote_codes=self.vote_codes[start:stop],
            prompt_tokens=self.prompt_tokens[start:stop],
            completion_tokens=self.completion_tokens[start:stop],
            engine_seconds=self.engine_seconds[start:stop],
        )


def summarize(
    samples: pd.DataFrame,
    costs: Mapping[str, CostBasis],
    *,
    ks: Sequence[int] | None = None,
    seed: int = 0,
    n_bootstrap: int = 2000,
) -> list[SummaryRow]:
    """One :class:`SummaryRow` per (model, task), sorted by model then task.

    ``costs`` maps model names to their cost basis (a model missing from it is
    unpriced). ``ks`` defaults per row to :func:`evals.metrics.sampling.default_ks`
    of its samples per item.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in samples.columns]
    if missing:
        raise EvalsError(f"samples lack the columns {', '.join(missing)}")
    if ks is not None and any(k < 1 for k in ks):
        raise ValueError(f"every k must be at least 1, got {list(ks)}")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be at least 1, got {n_bootstrap}")
    keys = samples[["model", "task", "item_id"]].astype(str)
    ordered = samples.assign(**keys).sort_values(["model", "task", "item_id", "sample_idx"], kind="stable")
    arrays = _frame_arrays(ordered.reset_index(drop=True))
    groups = cast(
        dict[tuple[str, str], Any],
        ordered.reset_index(drop=True).groupby(["model", "task"], sort=True).indices,
    )
    rows = []
    for model, task in sorted(groups):
        positions = groups[(model, task)]
        basis = costs.get(model, UnknownPrice(f"no cost basis given for model {model!r}"))
        group = arrays.rows(int(positions[0]), int(positions[-1]) + 1)
        row = _summarize_group(model, task, group, basis, ks, seed, n_bootstrap)
        # A run without a judge may still carry the (empty) judge columns of the samples file.
        if "judge_model" in ordered.columns and ordered["judge_model"].notna().any():
            judged_rows = ordered.iloc[int(positions[0]) : int(positions[-1]) + 1]
            row = row.model_copy(update=judge_fields(judged_rows))
        rows.append(row)
    return rows


def _frame_arrays(ordered: pd.DataFrame) -> _GroupSamples:
    item_codes, _ = pd.factorize(ordered["item_id"], sort=True)
    verdicts = ordered["correct"].astype("boolean")
    judged = verdicts.notna().to_numpy(dtype=bool)
    correct = verdicts.fillna(False).to_numpy(dtype=bool) & judged
    answers = cast(Any, ordered["extracted"]).to_numpy(dtype=object, na_value=None)
    keys = [
        normalize_answer(text) if wrong and isinstance(text, str) else None
        for text, wrong in zip(answers, judged & ~correct, strict=True)
    ]
    seconds = ordered["engine_seconds"].to_numpy(dtype=np.float64, na_value=np.nan)
    failed = ordered["status"].astype(str).to_numpy(dtype=str) == "error"
    answer_codes, _ = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=True)
    vote_codes = np.where(answer_codes >= 0, answer_codes + 1, NO_VOTE)
    return _GroupSamples(
        item_codes=item_codes.astype(np.int64),
        sample_idx=ordered["sample_idx"].to_numpy(dtype=np.int64),
        judged=judged,
        correct=correct,
        status=ordered["status"].astype(str).to_numpy(dtype=str),
        vote_codes=np.where(correct, CORRECT_VOTE, vote_codes).astype(np.int64),
        prompt_tokens=ordered["prompt_tokens"].to_numpy(dtype=np.float64, na_value=np.nan),
        completion_tokens=ordered["completion_tokens"].to_numpy(dtype=np.float64, na_value=np.nan),
        # A failed generation produced no tokens, so its token-apportioned share of engine
        # time is nothing; a missing figure there is 0, not an unknown that voids the total.
        engine_seconds=np.where(failed & np.isnan(seconds), 0.0, seconds),
    )


def _summarize_group(
    model: str,
    task: str,
    arrays: _GroupSamples,
    basis: CostBasis,
    ks: Sequence[int] | None,
    seed: int,
    n_bootstrap: int,
) -> SummaryRow:
    trials = arrays.per_item(arrays.judged)
    successes = arrays.per_item(arrays.judged & arrays.correct)
    samples_per_item = int(np.bincount(arrays.item_codes).max(initial=0))
    costs = sample_costs(basis, arrays.prompt_tokens, arrays.completion_tokens, arrays.engine_seconds)
    judged_cost = None if costs is None else arrays.per_item(np.where(arrays.judged, costs, 0.0))
    scored = trials > 0  # items with no judged sample take no part in accuracy or its error bars
    columns = [trials[scored], successes[scored]]
    if judged_cost is not None:
        columns.append(judged_cost[scored])
    replicates = bootstrap_sums(np.stack(columns, axis=1), n_bootstrap, seed)
    interval = accuracy_interval(trials[scored], successes[scored])
    n_judged, n_correct = int(trials.sum()), int(successes.sum())
    unscored = pd.Series(arrays.status[~arrays.judged]).value_counts()
    return SummaryRow(
        model=model,
        task=task,
        n_items=arrays.n_items,
        n_items_judged=int(scored.sum()),
        n_samples=len(arrays.item_codes),
        n_judged=n_judged,
        n_correct=n_correct,
        samples_per_item=samples_per_item,
        accuracy=_ratio(n_correct, n_judged),
        stderr=clustered_stderr(trials[scored], successes[scored]),
        ci_low=interval.low if interval else None,
        ci_high=interval.high if interval else None,
        ci_method=interval.method if interval else None,
        **_sampling_fields(arrays, trials, successes, ks or default_ks(samples_per_item))._asdict(),
        no_answer_rate=_ratio(_count(arrays, "no_answer"), n_judged),
        truncated_rate=_ratio(_count(arrays, "truncated"), n_judged),
        n_unscored=len(arrays.item_codes) - n_judged,
        n_unscored_by_status={str(status): int(n) for status, n in unscored.items()},
        **_usage_fields(arrays, costs)._asdict(),
        **_cost_per_correct_fields(
            n_correct, None if judged_cost is None else float(judged_cost.sum()), replicates
        )._asdict(),
        cost_basis=basis.describe(),
        cost_source=basis.source if not isinstance(basis, UnknownPrice) else None,
        bootstrap_seed=seed,
        n_bootstrap=n_bootstrap,
    )


def _count(arrays: _GroupSamples, status: str) -> int:
    return int(np.sum(arrays.judged & (arrays.status == status)))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


class _SamplingFields(NamedTuple):
    pass_at_k: dict[int, float | None]
    maj_at_k: dict[int, float | None]
    items_at_k: dict[int, int]


def _sampling_fields(
    arrays: _GroupSamples, trials: FloatArray, successes: FloatArray, ks: Sequence[int]
) -> _SamplingFields:
    """pass@k, maj@k and the number of items with k judged samples, for each k."""
    judged_rank = _judged_rank(arrays)
    pass_at: dict[int, float | None] = {}
    maj_at: dict[int, float | None] = {}
    items_at: dict[int, int] = {}
    for k in sorted({int(k) for k in ks}):
        eligible = trials >= k
        items_at[k] = int(eligible.sum())
        per_item = pass_at_k_per_item(trials.astype(np.int64), successes.astype(np.int64), k)
        pass_at[k] = float(per_item[eligible].mean()) if eligible.any() else None
        majority = maj_at_k_per_item(
            arrays.item_codes, arrays.vote_codes, judged_rank, arrays.sample_idx, arrays.n_items, k
        )
        maj_at[k] = float(majority[eligible].mean()) if eligible.any() else None
    return _SamplingFields(pass_at, maj_at, items_at)


def _judged_rank(arrays: _GroupSamples) -> IntArray:
    """Each sample's position among its item's judged samples (rows are in sample order)."""
    if len(arrays.item_codes) == 0:
        return np.zeros(0, dtype=np.int64)
    running = np.cumsum(arrays.judged)
    new_item = np.diff(arrays.item_codes) != 0
    first_rows = np.r_[0, np.flatnonzero(new_item) + 1]
    run = np.r_[0, np.cumsum(new_item)]  # index of each row's item among the runs
    before_item: IntArray = running[first_rows] - arrays.judged[first_rows]
    rank = running - before_item[run] - 1
    return np.where(arrays.judged, rank, -1).astype(np.int64)


class _UsageFields(NamedTuple):
    tokens_per_answer: float | None
    prompt_tokens_per_answer: float | None
    engine_seconds: float | None
    total_cost_usd: float | None
    cost_per_answer_usd: float | None


def _usage_fields(arrays: _GroupSamples, costs: FloatArray | None) -> _UsageFields:
    answered = arrays.status != "error"

    def mean_per_answer(values: FloatArray) -> float | None:
        return _finite(values[answered].mean()) if answered.any() else None

    return _UsageFields(
        tokens_per_answer=mean_per_answer(arrays.completion_tokens),
        prompt_tokens_per_answer=mean_per_answer(arrays.prompt_tokens),
        engine_seconds=_finite(arrays.engine_seconds.sum()),
        total_cost_usd=_finite(costs.sum()) if costs is not None else None,
        cost_per_answer_usd=mean_per_answer(costs) if costs is not None else None,
    )


class _CostPerCorrectFields(NamedTuple):
    cost_per_correct_usd: float | None
    cost_per_correct_ci_low: float | None
    cost_per_correct_ci_high: float | None


def _cost_per_correct_fields(
    n_correct: int, judged_cost: float | None, replicates: FloatArray
) -> _CostPerCorrectFields:
    """Cost of judged samples per correct one, and its bootstrap interval over items.

    ``replicates`` has (trials, successes, judged cost) sums per replicate over the
    items with a judged sample. A replicate without a correct answer has an infinite
    ratio, so when over 2.5% of them do, the upper bound is None (unbounded).
    """
    if judged_cost is None or n_correct == 0:
        return _CostPerCorrectFields(None, None, None)
    low = high = None
    if replicates.shape[1] == 3 and _varies(replicates):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(replicates[:, 1] > 0, replicates[:, 2] / replicates[:, 1], np.inf)
        low, high = percentile_bounds(ratios)
    return _CostPerCorrectFields(_finite(judged_cost / n_correct), low, high)


def _varies(replicates: FloatArray) -> bool:
    """False when every replicate is the same (one item): no interval can be had from it."""
    return bool(np.any(replicates != replicates[0]))
