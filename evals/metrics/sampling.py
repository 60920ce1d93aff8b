"""Sampling metrics: pass@k (unbiased estimator) and maj@k (majority vote).

Both are computed per item from the item's *judged* samples (``correct`` is True
or False); samples that could not be scored are not votes and not trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Vote code of the group every correct sample belongs to (all are equivalent to the gold).
CORRECT_VOTE = 0
# Vote code of a sample that casts no vote (no extracted answer).
NO_VOTE = -1


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased pass@k from ``n`` samples of which ``c`` are correct; None when n < k.

    pass@k = 1 - C(n-c, k) / C(n, k)  (Chen et al. 2021, "Evaluating Large Language
    Models Trained on Code", eq. 1), computed as the paper's numerically stable
    product 1 - prod_{i=n-c+1}^{n} (1 - k/i).
    """
    if k < 1 or n < 0 or not 0 <= c <= n:
        raise ValueError(f"pass_at_k needs k >= 1 and 0 <= c <= n, got n={n}, c={c}, k={k}")
    if n < k:
        return None
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def pass_at_k_per_item(judged: IntArray, correct: IntArray, k: int) -> FloatArray:
    """pass@k of each item (NaN where the item has fewer than k judged samples).

    Evaluated once per distinct (n, c) pair: samples of one task share few pairs.
    """
    pairs = np.stack([judged, correct], axis=1)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    values = np.array([_nan_if_none(pass_at_k(int(n), int(c), k)) for n, c in distinct], dtype=np.float64)
    return values[inverse.reshape(-1)]


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


def default_ks(samples_per_item: int) -> tuple[int, ...]:
    """1, the powers of two below ``samples_per_item``, and ``samples_per_item`` itself."""
    if samples_per_item < 1:
        return ()
    powers = [2**e for e in range(samples_per_item.bit_length()) if 2**e < samples_per_item]
    return tuple(sorted({1, *powers, samples_per_item}))


def normalize_answer(extracted: str | None) -> str | None:
    """The key that groups wrong answers for voting: whitespace runs collapsed, ends stripped.

    Case is kept (``x`` and ``X`` differ in math). Answers that are equivalent but
    written differently ("1/2", "0.5") stay separate votes unless judged correct.
    """
    if extracted is None:
        return None
    key = " ".join(extracted.split())
    return key or None


class MajorityVote(NamedTuple):
    """The winning answer group of one item: its key (None when nobody voted) and verdict."""

    answer: str | None
    correct: bool
    votes: int


def majority_vote(samples: Sequence[tuple[str | None, bool]]) -> MajorityVote:
    """Majority vote over one item's judged samples, given in sample order.

    Each sample is ``(extracted, correct)``. Correct samples form one group (all are
    equivalent to the gold); wrong ones group by :func:`normalize_answer`; a wrong
    sample with no extracted answer casts no vote. A tie goes to the group whose
    earliest vote came first, so the rule neither favours nor penalises the correct
    group. With no votes at all the item counts as wrong. ``answer`` is the winning
    group's first extracted answer.
    """
    counts: dict[tuple[bool, str], int] = {}
    first_answer: dict[tuple[bool, str], str | None] = {}
    for extracted, correct in samples:
        key = (True, "") if correct else (False, normalize_answer(extracted) or "")
        if not key[0] and not key[1]:
            continue
        counts[key] = counts.get(key, 0) + 1
        first_answer.setdefault(key, extracted)
    if not counts:
        return MajorityVote(None, False, 0)
    # dicts keep the order of each group's first vote, and max keeps the first maximum.
    winner = max(counts, key=lambda key: counts[key])
    return MajorityVote(first_answer[winner], winner[0], counts[winner])


def maj_at_k_per_item(
    item_codes: IntArray,
    vote_codes: IntArray,
    judged_rank: IntArray,
    sample_idx: IntArray,
    n_items: int,
    k: int,
) -> FloatArray:
    """1.0/0.0 per item for maj@k over its first k judged samples; NaN with fewer than k.

    One row per sample: ``item_codes`` in [0, n_items), ``vote_codes`` from
    :data:`CORRECT_VOTE` (0), other answer groups (>= 1) or :data:`NO_VOTE`,
    ``judged_rank`` the sample's position among its item's judged samples by
    ``sample_idx`` (-1 for unjudged). Same tie rule as :func:`majority_vote`.
    """
    judged_count = np.bincount(item_codes[judged_rank >= 0], minlength=n_items)
    result = np.where(judged_count >= k, 0.0, np.nan)
    voting = (judged_rank >= 0) & (judged_rank < k) & (vote_codes >= 0)
    if not voting.any():
        return result
    n_groups = int(vote_codes[voting].max()) + 1
    pair = item_codes[voting].astype(np.int64) * n_groups + vote_codes[voting]
    pairs, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    earliest = np.full(len(pairs), np.iinfo(np.int64).max)
    np.minimum.at(earliest, inverse.reshape(-1), sample_idx[voting].astype(np.int64))
    pair_item, pair_vote = pairs // n_groups, pairs % n_groups
    order = np.lexsort((earliest, -counts, pair_item))  # last key sorts first
    first_of_item = np.r_[True, pair_item[order][1:] != pair_item[order][:-1]]
    winners = order[first_of_item]
    won = np.where(pair_vote[winners] == CORRECT_VOTE, 1.0, 0.0)
    eligible = judged_count[pair_item[winners]] >= k
    result[pair_item[winners][eligible]] = won[eligible]
    return result
