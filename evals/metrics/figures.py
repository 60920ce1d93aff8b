"""The figures the outputs show beside accuracy, each declared once in :data:`FIGURES`.

A figure is a number of one model on one task held by a :class:`SummaryRow` field (so
``summary.json`` always has it), shown as a column or phrase in the outputs its ``shown_in``
names: the terminal table after a run, and the report's Markdown, CSV, JSON (leaderboard.json),
HTML page and sample viewer. Every output builds its figure columns from :data:`FIGURES`, in
this order, through :func:`figures_shown_in`; the report's cells, their display and their
aggregate over tasks come from the declaration too.

Accuracy, pass@k/maj@k, ranks and the paired deltas are not figures of this kind: they have
intervals, ranks and comparisons of their own (evals/report/leaderboard.py).

Adding a figure:

1. compute it per (model, task) in :mod:`evals.metrics.summary` into a new ``SummaryRow`` field
   (evals/metrics/summary_file.py), None where it is undefined, never 0;
2. append one :class:`Figure` to :data:`FIGURES`: its field, labels, format, direction,
   aggregate, where it is shown and, for the report, its definition.

Nothing else changes: each output, its header and the leaderboard's cells follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from evals.metrics.summary_file import SummaryRow

Where = Literal["terminal", "markdown", "csv", "json", "html", "viewer"]
EVERYWHERE: frozenset[Where] = frozenset(("terminal", "markdown", "csv", "json", "html", "viewer"))
# The outputs built from the report's leaderboard (a figure shown in any of them gets its cells).
REPORT: frozenset[Where] = frozenset(("markdown", "csv", "json", "html", "viewer"))

Format = Literal["percent", "tokens", "usd_per_answers"]  # see evals.report.cells.FORMATS
# A model's figure over the tasks of a report, from its row on each task (None: undefined).
Aggregate = Callable[[Sequence[SummaryRow], str], "float | None"]


def mean_over_tasks(rows: Sequence[SummaryRow], field: str) -> float | None:
    """The unweighted mean of the field over the tasks; None when a task lacks it."""
    values = [getattr(row, field) for row in rows]
    if not values or any(value is None for value in values):
        return None
    return sum(float(value) for value in values) / len(values)


def per_correct_answer(rows: Sequence[SummaryRow], field: str) -> float | None:
    """sum_t cost per answer_t / sum_t accuracy_t, whatever ``field``.

    The cost per correct answer of a workload with as many questions from each task; None when
    a task lacks either figure or nothing is correct.
    """
    costs = [row.cost_per_answer_usd for row in rows]
    accuracies = [row.accuracy for row in rows]
    if not rows or any(c is None for c in costs) or any(a is None for a in accuracies):
        return None
    total_accuracy = sum(float(a or 0.0) for a in accuracies)
    return sum(float(c or 0.0) for c in costs) / total_accuracy if total_accuracy > 0 else None


@dataclass(frozen=True)
class Figure:
    """One figure: where its value comes from, how it reads, and where it is shown."""

    key: str  # its name in leaderboard.json and the report's cells
    field: str  # the SummaryRow field (and CSV column) holding its value
    label: str  # table header in Markdown and HTML; lower-cased in the sample viewer
    terminal_label: str  # header in the terminal table
    format: Format
    direction: Literal["higher", "lower"]  # which is better (the HTML table's first sort)
    aggregate: Aggregate  # a model's figure over the tasks of a report
    shown_in: frozenset[Where]
    # SummaryRow fields of its per-task 95% interval, shown after it in the per-task tables.
    interval: tuple[str, str] | None = None
    # (anchor, text) of its entry in the report's definitions; None when another figure's covers it.
    definition: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        fields = [self.field, *(self.interval or ())]
        unknown = [name for name in fields if name not in SummaryRow.model_fields]
        if unknown:
            raise ValueError(f"figure {self.key!r}: SummaryRow has no field {', '.join(unknown)}")


FIGURES: tuple[Figure, ...] = (
    Figure(
        key="tokens_per_answer",
        field="tokens_per_answer",
        label="Tokens/answer",
        terminal_label="tok/answer",
        format="tokens",
        direction="lower",
        aggregate=mean_over_tasks,
        shown_in=EVERYWHERE,
        definition=(
            "tokens_per_answer",
            "Tokens per answer: mean completion tokens per answer (failed generations excluded); "
            "the aggregate is the mean over tasks.",
        ),
    ),
    Figure(
        key="cost_per_answer",
        field="cost_per_answer_usd",
        label="$ per 1k answers",
        terminal_label="$ per 1k answers",
        format="usd_per_answers",
        direction="lower",
        aggregate=mean_over_tasks,
        shown_in=EVERYWHERE - {"viewer"},
        definition=(
            "cost_per_answer",
            "Cost per 1k answers: USD per 1,000 answers from engine time x hardware list price "
            "(or API token prices), see each model's cost basis; n/a when no price is known, never "
            "$0. The aggregate is the mean over tasks.",
        ),
    ),
    Figure(
        key="cost_per_correct",
        field="cost_per_correct_usd",
        label="$ per 1k correct",
        terminal_label="$ per 1k correct",
        format="usd_per_answers",
        direction="lower",
        aggregate=per_correct_answer,
        shown_in=EVERYWHERE - {"viewer"},
        interval=("cost_per_correct_ci_low", "cost_per_correct_ci_high"),
        definition=(
            "cost_per_correct",
            "Cost per 1k correct answers: per task, 1,000 x the cost of judged answers / correct "
            "answers (95% bootstrap CI); the aggregate is sum_t cost per answer_t / sum_t accuracy_t, "
            "the cost per correct answer of a workload with as many questions from each task.",
        ),
    ),
    Figure(
        key="truncated_rate",
        field="truncated_rate",
        label="Truncated",
        terminal_label="truncated",
        format="percent",
        direction="lower",
        aggregate=mean_over_tasks,
        shown_in=EVERYWHERE,
        definition=(
            "rates",
            "Truncated and no-answer rates: share of judged answers cut at max_tokens or with no "
            "extractable answer; the aggregate is the mean over tasks.",
        ),
    ),
    Figure(
        key="no_answer_rate",
        field="no_answer_rate",
        label="No answer",
        terminal_label="no answer",
        format="percent",
        direction="lower",
        aggregate=mean_over_tasks,
        shown_in=EVERYWHERE,
        definition=None,  # defined with truncated_rate ("rates")
    ),
)


def figures_shown_in(*where: Where) -> tuple[Figure, ...]:
    """The figures shown in any of these outputs, in declaration order (read at call time)."""
    return tuple(figure for figure in FIGURES if figure.shown_in & set(where))
