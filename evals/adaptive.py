"""Adaptive evaluation (``--until``): generate in rounds of items, stop when the answer is known.

Each task's items are visited in a random order fixed by the run seed and the task's
name (the same in every run and resume of the suite). A round adds the next items,
each with all its samples, to every model x task still running; after the round the
rules are checked on anytime-valid confidence sequences
(:mod:`evals.metrics.sequential`) without replacement from the task's items, whose
target is what the full protocol would measure on them. The first rule met wins:
``ci=W`` stops a model x task, ``decided`` stops a task once every pair of models on
it is ordered or equal within the margin, ``max_usd`` stops the whole run.
A small task (at most SMALL_TASK_ITEMS items) whose models all draw the same n >= 2
samples per item has every item in from the first round and goes on in rounds of
extra samples per item; its target is then the accuracy on this item set
(:mod:`evals.adaptive_stats`). Rounds are a function of the task size and samples
alone, so a run continued with a stricter rule replays the stored rounds without
generating and goes on exactly as a run started with that rule would.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from evals.adaptive_stats import SequenceInput, paired_differences
from evals.execute import EngineGroup
from evals.metrics import CostBasis, sample_costs
from evals.metrics.sequential import ALPHA, accuracy_sequence, decide, difference_sequence
from evals.plan import RunPlan, TaskPlan
from evals.suite import SuiteSpec, parse_until

MIN_ROUND_ITEMS = 10
ROUNDS_PER_TASK = 20  # rounds of max(10 items, 1/20 of the task): at most ~20 checks per task
ALL_ITEMS = "all items"
ALL_SAMPLES = "all samples"
SMALL_TASK_ITEMS = 50  # tasks up to this size with n >= 2 samples go on in rounds of extra samples
TrackKey = tuple[str, str]  # (model label, task)


@dataclass(frozen=True)
class StopRules:
    ci_width: float | None  # ci=W
    decided: bool
    margin: float
    alpha: float
    max_usd: float | None

    @classmethod
    def of(cls, suite: SuiteSpec) -> StopRules | None:
        """The suite's rules, or None when it has none (the full protocol, unchanged)."""
        if suite.until is None and suite.max_usd is None:
            return None
        width = parse_until(suite.until) if suite.until else None
        alpha = suite.alpha if suite.alpha is not None else ALPHA
        return cls(width, suite.until == "decided", suite.margin or 0.0, alpha, suite.max_usd)


def visit_order(item_ids: Sequence[str], seed: int, task: str) -> tuple[str, ...]:
    """A permutation of the items fixed by the run seed and the task (sha256-seeded)."""
    digest = hashlib.sha256(f"evals-adaptive:{seed}:{task}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return tuple(item_ids[i] for i in rng.permutation(len(item_ids)))


def round_items(n_items: int) -> int:
    return max(MIN_ROUND_ITEMS, -(-n_items // ROUNDS_PER_TASK))


def round_samples(samples: int) -> int:
    """Extra samples per item in a round of a small task: 1/20 of them, at least one."""
    return max(1, -(-samples // ROUNDS_PER_TASK))


@dataclass
class Track:
    """How far one model x task has got (mutable: advanced round by round)."""

    order: tuple[str, ...]
    samples: int  # per item
    visited: int = 0
    stopped_by: str | None = None
    drawn: int | None = None  # rounds of extra samples: samples per item so far (None: rounds of items)

    def visited_ids(self) -> set[str]:
        return set(self.order[: self.visited])

    @property
    def by_samples(self) -> bool:
        return self.drawn is not None

    def advance(self) -> None:
        """One round further: the next items, or every item and the next samples of each."""
        if self.drawn is None:
            self.visited = min(len(self.order), self.visited + round_items(len(self.order)))
        else:
            self.visited = len(self.order)
            self.drawn = min(self.samples, self.drawn + round_samples(self.samples))

    def exhausted(self) -> str | None:
        """ALL_ITEMS or ALL_SAMPLES once the full protocol is generated, else None."""
        if self.visited < len(self.order):
            return None
        if self.drawn is None:
            return ALL_ITEMS
        return ALL_SAMPLES if self.drawn == self.samples else None

    def progress(self) -> str:
        if self.drawn is None:
            return f"{self.visited} of {len(self.order)} items"
        return f"{self.drawn} of {self.samples} samples per item"

    def values(self, samples: pd.DataFrame, label: str, task: str) -> SequenceInput:
        return SequenceInput(samples, label, task, self.order, self.by_samples)


class PairOutcome(BaseModel):
    """Model a minus model b on a task's visited items, anytime-valid."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    model_a: str
    model_b: str
    n_items: int
    difference: float
    ci_low: float  # open ends
    ci_high: float
    p_value: float | None
    decision: str | None
    method: str


class TrackOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    task: str
    stopped_by: str
    items: int
    items_total: int
    samples: int
    samples_total: int
    tokens_saved: float | None  # the missing samples at the mean tokens of those generated
    usd_saved: float | None  # likewise, at their mean cost; None for an unknown price


class AdaptiveOutcome(BaseModel):
    """What ``--until`` did: recorded in the manifest (``adaptive``) and printed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    until: str | None
    margin: float
    alpha: float
    max_usd: float | None
    order: str  # how items were ordered
    orders: dict[str, list[str]]  # each task's visiting order (item ids)
    round_items: dict[str, int]
    sample_rounds: list[str] = []  # tasks that went on in rounds of extra samples per item
    rounds: int
    cost_usd: float | None  # priced cost of the samples kept; None when a price is unknown
    tracks: tuple[TrackOutcome, ...]
    pairs: tuple[PairOutcome, ...]
    statistics: str


RoundScorer = Callable[[dict[TrackKey, set[str]]], pd.DataFrame]  # scored samples of the visited items


class AdaptiveRounds:
    """The rounds of an adaptive run, handed out one at a time to whatever generates them.

    Each call of :meth:`next_round` first checks the rules on the round just generated,
    then advances the running model x tasks by one round and returns the groups cut
    down to their visited items (None once every model x task is stopped). Locally
    each round is one batch; on Ray the driver asks for the next round only when no
    shard of this one is left, so nothing is handed out once a rule is met.
    """

    def __init__(
        self,
        plan: RunPlan,
        groups: Sequence[EngineGroup],
        rules: StopRules,
        score: RoundScorer,
        costs: dict[str, CostBasis],
    ) -> None:
        seed, by_samples = plan.suite.seed, sample_round_tasks(plan)
        self.tracks = {
            (m.label, t.name): Track(visit_order([i.item_id for i in t.task.items], seed, t.name),
                                     m.entry.generation.samples, drawn=0 if t.name in by_samples else None)
            for m in plan.models
            for t in m.tasks
        }  # fmt: skip
        self.rounds = 0
        self._groups = groups
        self._rules = rules
        self._score = score
        self._costs = costs
        self._active: list[TrackKey] = []

    def next_round(self) -> list[EngineGroup] | None:
        if self._active:
            samples = self.kept(self._score({key: track.visited_ids() for key, track in self.tracks.items()}))
            check_rules(samples, self.tracks, self._active, self._rules, self._costs)
        self._active = [key for key, track in self.tracks.items() if track.stopped_by is None]
        if not self._active:
            return None
        for key in self._active:
            self.tracks[key].advance()
        self.rounds += 1
        return round_groups(self._groups, self.tracks, set(self._active))

    def kept(self, samples: pd.DataFrame) -> pd.DataFrame:
        """The samples of the rounds generated so far (a looser rule may find more stored)."""
        limits = [track.drawn if track.drawn is not None else track.samples for track in self.tracks.values()]
        limit = pd.Series(limits, index=pd.MultiIndex.from_tuples(list(self.tracks)), dtype="int64")
        keys = pd.MultiIndex.from_arrays([samples["model"], samples["task"]])
        within = samples["sample_idx"].to_numpy() < limit.reindex(keys).fillna(0).to_numpy()
        return samples[within].reset_index(drop=True)


def sample_round_tasks(plan: RunPlan) -> set[str]:
    """Small tasks whose models all draw the same n >= 2 samples: they go on in rounds of samples."""
    samples: dict[str, set[int]] = {}
    sizes: dict[str, int] = {}
    for model in plan.models:
        for task in model.tasks:
            samples.setdefault(task.name, set()).add(model.entry.generation.samples)
            sizes[task.name] = len(task.task.items)
    return {
        task for task, counts in samples.items()
        if len(counts) == 1 and min(counts) >= 2 and sizes[task] <= SMALL_TASK_ITEMS
    }  # fmt: skip


def round_groups(
    groups: Sequence[EngineGroup], tracks: dict[TrackKey, Track], active: set[TrackKey]
) -> list[EngineGroup]:
    """The groups cut down to the visited items (and samples drawn) of the running model x tasks.

    A model whose tasks have drawn different numbers of samples appears once per number.
    """
    cut = []
    for group in groups:
        models = []
        for model in group.models:
            by_samples: dict[int, list[TaskPlan]] = {}
            for task in model.tasks:
                track = tracks[(model.label, task.name)]
                if (model.label, task.name) in active:
                    visited = track.visited_ids()
                    prompts = tuple(p for p in task.prompts if p.item.item_id in visited)
                    drawn = track.drawn if track.drawn is not None else track.samples
                    by_samples.setdefault(drawn, []).append(replace(task, prompts=prompts))
            for drawn, tasks in by_samples.items():
                entry = model.entry
                if drawn != entry.generation.samples:
                    generation = entry.generation.model_copy(update={"samples": drawn})
                    entry = entry.model_copy(update={"generation": generation})
                models.append(replace(model, entry=entry, tasks=tuple(tasks)))
        if models:
            cut.append(replace(group, models=tuple(models)))
    return cut


def check_rules(
    samples: pd.DataFrame,
    tracks: dict[TrackKey, Track],
    active: Sequence[TrackKey],
    rules: StopRules,
    costs: dict[str, CostBasis],
) -> None:
    """Stop the model x tasks whose rule is met after this round (the statistical rules first).

    A model x task whose full protocol is generated is stopped by that ("all items",
    "all samples"): nothing is left to generate.
    """
    for key in active:
        tracks[key].stopped_by = tracks[key].exhausted()
    active = [key for key in active if tracks[key].stopped_by is None]
    if rules.ci_width is not None:
        for label, task in active:
            track = tracks[(label, task)]
            seen = track.values(samples, label, task)
            interval = accuracy_sequence(seen.values.to_numpy(), seen.population, rules.alpha)
            if interval is not None and (interval.high - interval.low) / 2 <= rules.ci_width:
                track.stopped_by = f"ci={rules.ci_width:g}"
    if rules.decided:
        for task in sorted({task for _, task in active}):
            pairs = task_pairs(samples, tracks, task, rules)
            if all(pair.decision is not None for pair in pairs):
                for key in active:
                    if key[1] == task:
                        tracks[key].stopped_by = "decided"
    if rules.max_usd is not None:
        spent = total_cost(samples, costs)
        if spent is not None and spent >= rules.max_usd:
            for key in active:
                tracks[key].stopped_by = tracks[key].stopped_by or f"max_usd={rules.max_usd:g}"


def task_pairs(
    samples: pd.DataFrame, tracks: dict[TrackKey, Track], task: str, rules: StopRules
) -> list[PairOutcome]:
    """Every pair of models on ``task``, compared on the visited items (or sample indices) both judged."""
    labels = [label for label, name in tracks if name == task]
    pairs = []
    for a, b in itertools.combinations(labels, 2):
        seen_a = tracks[(a, task)].values(samples, a, task)
        differences = paired_differences(seen_a, tracks[(b, task)].values(samples, b, task))
        result = difference_sequence(differences, seen_a.population, rules.alpha, rules.margin)
        if result is None:
            continue
        decision = decide(result.low, result.high, rules.margin)
        pairs.append(PairOutcome(
            task=task, model_a=a, model_b=b, n_items=len(differences), difference=result.estimate,
            ci_low=result.low, ci_high=result.high, p_value=result.p_value, decision=decision,
            method=result.method,
        ))  # fmt: skip
    return pairs


def total_cost(samples: pd.DataFrame, costs: dict[str, CostBasis]) -> float | None:
    """Priced cost of ``samples``; None when any model's price is unknown."""
    total = 0.0
    for label, rows in samples.groupby("model"):
        per_sample = _sample_costs(rows, costs[str(label)])
        if per_sample is None:
            return None
        total += float(np.nansum(per_sample))
    return total


def _sample_costs(rows: pd.DataFrame, basis: CostBasis) -> np.ndarray | None:
    def column(name: str) -> np.ndarray:
        return rows[name].astype(float).fillna(0.0).to_numpy()

    return sample_costs(basis, column("prompt_tokens"), column("completion_tokens"), column("engine_seconds"))


def adaptive_outcome(
    samples: pd.DataFrame,
    tracks: dict[TrackKey, Track],
    rules: StopRules,
    costs: dict[str, CostBasis],
    suite: SuiteSpec,
    rounds: int,
) -> AdaptiveOutcome:
    """The record of an adaptive run: why each model x task stopped, what it saved, its pairs."""
    outcomes = []
    for (label, task), track in tracks.items():
        rows = samples[(samples["model"] == label) & (samples["task"] == task)]
        total = len(track.order) * track.samples
        missing = max(0, total - len(rows))
        tokens = (rows["prompt_tokens"].astype(float) + rows["completion_tokens"].astype(float)).mean()
        per_sample = _sample_costs(rows, costs[label])
        outcomes.append(TrackOutcome(
            model=label, task=task, stopped_by=track.stopped_by or track.exhausted() or ALL_ITEMS,
            items=track.visited,
            items_total=len(track.order), samples=len(rows), samples_total=total,
            tokens_saved=float(tokens * missing) if len(rows) and np.isfinite(tokens) else None,
            usd_saved=None if per_sample is None or not len(rows)
            else float(np.nanmean(per_sample)) * missing,
        ))  # fmt: skip
    pairs = [
        pair for task in sorted({t for _, t in tracks}) for pair in task_pairs(samples, tracks, task, rules)
    ]
    return AdaptiveOutcome(
        until=suite.until, margin=rules.margin, alpha=rules.alpha, max_usd=rules.max_usd,
        order=f"per task, a permutation seeded by sha256('evals-adaptive:{suite.seed}:<task>')",
        round_items={task: round_items(len(track.order)) for (_, task), track in tracks.items()},
        sample_rounds=sorted({task for (_, task), track in tracks.items() if track.by_samples}),
        orders={task: list(track.order) for (_, task), track in tracks.items()},
        rounds=rounds, cost_usd=total_cost(samples, costs), tracks=tuple(outcomes), pairs=tuple(pairs),
        statistics="every CI and p-value of this run is an anytime-valid confidence sequence "
        f"(alpha {rules.alpha:g}) without replacement from each task's items (over sample rounds, "
        "as independent draws, for the tasks in sample_rounds)",
    )  # fmt: skip
