"""The leaderboard's records and the definitions of every figure, as stated in each report.

``leaderboard.json`` is the JSON dump of :class:`Leaderboard`.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer, model_validator

from evals import __version__
from evals.metrics import PairedComparison
from evals.metrics.figures import REPORT, Figure, figures_shown_in
from evals.report.cells import Cell
from evals.report.stopping import StoppingRecord

SCHEMA_VERSION = 1
GENERATOR = "evals report"

_DEFINITIONS_BEFORE_FIGURES: dict[str, str] = {
    "accuracy": "Task accuracy: correct / judged answers, with its 95% CI over items from the run's "
    "summary.json (answers that could not be judged are left out and counted apart): a Jeffreys "
    "interval at the effective number of answers given by the item-clustered standard error, "
    "t-calibrated on items - 1 degrees of freedom.",
    "overall": "Overall: the unweighted mean of the task accuracies (each task counts the same, "
    "whatever its size). A model without a result on every task of the report has no overall "
    "score, rank or aggregate figures (n/a).",
    "overall_ci": "95% CI of the overall score: overall +/- sqrt(sum of w_t^2) / T, with w_t the "
    "half-width of task t's 95% CI (tasks are independent sets of items, so their errors add in "
    "quadrature); n/a when a task has no CI.",
    "rank": "Rank: 1 + the number of models whose overall 95% CI lies entirely above this model's "
    "(their lower end above its upper end). Models whose CIs overlap can share a rank, shown "
    "as '=2'; a rank never depends on how ties are ordered. Ranked by another metric "
    "(evals report --rank-by pass@4), a rank is 1 + the number of models with a higher mean "
    "of that metric over tasks (no CI: equal values share a rank).",
    "sampling": "pass@k: share of items on which at least one of k samples is correct (unbiased "
    "estimator from the n samples per item); maj@k: share of items on which the most frequent "
    "answer among k samples is correct. Shown where a model has several samples per item; "
    "n/a where it has fewer than k; the aggregate is the mean over tasks.",
    "reference": "Reference: the top-ranked model, named in the header of every 'Delta vs' column; "
    "its own Delta cells show '-' (it is not the best on every task).",
    "vs_leader": "Delta vs leader: paired accuracy difference to the leader (the top-ranked model) on "
    "the items both answered, all tasks pooled (each item counts the same), with its 95% CI "
    "and p-value from one paired t procedure over the per-item differences (m-1 degrees of "
    "freedom), so the CI excludes 0 exactly when p < 0.05; per task, the same on that task's items.",
}
_DEFINITIONS_AFTER_FIGURES: dict[str, str] = {
    "published": "Published: the score the model's paper or card reports for this task "
    "(evals/published.yaml, with its protocol and source), and whether it lies inside our 95% CI; "
    "'evals diagnose RUN' ranks likely causes of a gap.",
    "pareto": "Pareto frontier: models that no other model beats on both overall accuracy and cost "
    "per answer (at least as accurate, at most as costly, better in one).",
    "budgets": "At a reasoning budget b: an answer longer than b is read from a forced-answer probe "
    "after its first b tokens (reasoning returned in a separate field counts first); tokens per "
    "answer = min(length, b) + probe tokens; engine time = the model x task's run-wide seconds per "
    "token (all engine time / all prompt + completion tokens) x (prompt + tokens at b), so time and "
    "token prices scale alike and a budget above every length costs exactly what the run did; "
    "still thinking = share of answers longer than b.",
}


def definitions() -> dict[str, str]:
    """Every definition a report states: the declared figures' after the paired difference."""
    declared = dict(f.definition for f in figures_shown_in(*REPORT) if f.definition is not None)
    return {**_DEFINITIONS_BEFORE_FIGURES, **declared, **_DEFINITIONS_AFTER_FIGURES}


DEFINITIONS: dict[str, str] = definitions()


def _flat_figures(dumped: dict[str, Any]) -> dict[str, Any]:
    """A dump with each figure shown in JSON as a key of its own, where ``figures`` stood."""
    out: dict[str, Any] = {}
    for key, value in dumped.items():
        if key == "figures":
            out.update({f.key: value[f.key] for f in figures_shown_in("json") if f.key in value})
        else:
            out[key] = value
    return out


def _folded_figures(data: Any) -> Any:
    """The inverse of :func:`_flat_figures`, so leaderboard.json loads back into its records."""
    if not isinstance(data, dict) or "figures" in data:
        return data
    keys = {f.key for f in figures_shown_in(*REPORT)}
    rest = {key: value for key, value in data.items() if key not in keys}
    return {**rest, "figures": {key: value for key, value in data.items() if key in keys}}


class _WithFigures(BaseModel):
    """A record whose ``figures`` show in JSON as keys of their own (and load back)."""

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _flat_figures(handler(self))

    @model_validator(mode="before")
    @classmethod
    def _load(cls, data: Any) -> Any:
        return _folded_figures(data)


class TaskResult(_WithFigures):
    """One model on one task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str
    run: str
    accuracy: Cell
    n_items: int
    n_samples: int
    samples_per_item: int
    sample_metrics: dict[str, Cell]  # "pass@4", "maj@4", ... (see DEFINITIONS)
    n_unscored: int
    figures: dict[str, Cell]  # by Figure.key (evals.metrics.figures); flat keys in JSON
    vs_leader: Cell
    vs_leader_p: Cell
    cost_basis: str
    samples_page: str
    # The published figure for this model alias and task (evals/published.yaml), if any.
    published: Cell = Cell(value=None, display="n/a")
    published_standing: str | None = None  # inside / above / below our 95% CI
    published_source: str | None = None


class LeaderboardRow(_WithFigures):
    """One model (one decoding setup) across the tasks of the report."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    rank: Cell
    overall: Cell
    sample_metrics: dict[str, Cell]  # pass@k and maj@k, each the mean over tasks
    tasks: dict[str, TaskResult]
    missing_tasks: tuple[str, ...]
    figures: dict[str, Cell]  # each the aggregate over tasks, by Figure.key; flat keys in JSON
    vs_leader: Cell
    vs_leader_p: Cell
    vs_leader_detail: PairedComparison | None
    on_pareto_front: bool
    cost_bases: tuple[str, ...]
    runs: tuple[str, ...]


class RunInfo(BaseModel):
    """What the report shows of one run, manifest included for reproducibility."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    created: str | None
    evals_version: str | None
    scorer_version: str | None
    config_hash: str | None
    manifest: dict[str, Any] | None


class Leaderboard(BaseModel):
    """Everything the formats render; ``leaderboard.json`` is its JSON dump."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = SCHEMA_VERSION
    generator: str = GENERATOR
    evals_version: str = __version__
    created: str
    tasks: tuple[str, ...]
    leader: str | None  # the top-ranked model: the reference of every "Delta vs" figure
    rank_by: str  # "accuracy", or the sampling metric that orders and ranks the rows
    shown_metrics: tuple[str, ...]  # the sampling metrics the tables show as columns
    rows: tuple[LeaderboardRow, ...]
    pareto_front: tuple[str, ...]
    not_plotted: dict[str, str]
    runs: tuple[RunInfo, ...]
    warnings: tuple[str, ...]
    redacted_tasks: tuple[str, ...]
    publishable: bool
    definitions: dict[str, str]
    statistics: str | None = None  # adaptive runs: which figures are anytime-valid (one line)
    stopping: tuple[StoppingRecord, ...] = ()  # adaptive runs: why each model x task stopped

    def delta_header(self) -> str:
        """The header of the paired-difference columns, naming the reference model."""
        return f"Delta vs {self.leader}" if self.leader is not None else "Delta vs leader"


def run_hardware(run: RunInfo) -> str:
    """The hardware a run was made on, from its manifest ("n/a" when not recorded)."""
    hardware = (run.manifest or {}).get("hardware") or {}
    described = ", ".join(
        f"{k}: {v}" for k, v in hardware.items() if k in ("accelerator", "count", "cpu_model") and v
    )
    return described or "n/a"


def ranking_note(board: Leaderboard) -> str:
    """One sentence: what orders the rows, in what unit costs are, and on which hardware."""
    by = "overall accuracy" if board.rank_by == "accuracy" else f"{board.rank_by} (mean over tasks)"
    hardware = "; ".join(f"{run.run_id}: {run_hardware(run)}" for run in board.runs) or "n/a"
    return f"Ranked by {by}; costs in USD per 1,000 answers. Run on: {hardware}."


def task_header(figure: Figure) -> str:
    """A figure's header in the per-task tables, which show its interval where it has one."""
    return f"{figure.label} [95% CI]" if figure.interval else figure.label


def samples_page(model: str, task: str) -> str:
    """Relative path of the sample viewer page of one model on one task."""
    name = f"{model}--{task}"
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    if slug != name or name.count("--") != 1:  # keep distinct names on distinct files
        slug += "-" + hashlib.sha256(f"{model}\0{task}".encode()).hexdigest()[:8]
    return f"samples/{slug}.html"
