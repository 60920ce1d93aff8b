"""``summary.json``: one :class:`SummaryRow` per (model, task), written atomically.

Reporters and users script against these keys; bump ``RECORD_VERSION`` when one
changes meaning. Undefined figures are None (JSON null), never 0.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.errors import EvalsError, validation_problems
from evals.records import RECORD_VERSION


class SummaryRow(BaseModel):
    """The figures of one model on one task, as written to ``summary.json``.

    Definitions: :mod:`evals.metrics.summary`. None where a figure is undefined.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_version: int = RECORD_VERSION
    model: str
    task: str
    n_items: int  # items with any sample
    n_items_judged: int  # items with at least one judged sample (the units of the error bars)
    n_samples: int  # all samples, judged or not
    n_judged: int
    n_correct: int
    samples_per_item: int  # the most samples any item has (the n asked for)
    accuracy: float | None  # correct / judged samples (avg@n)
    stderr: float | None  # clustered by item
    ci_low: float | None
    ci_high: float | None
    ci_method: str | None  # how ci_low/ci_high were obtained
    pass_at_k: dict[int, float | None]
    maj_at_k: dict[int, float | None]
    items_at_k: dict[int, int]  # items with >= k judged samples: those pass@k/maj@k average
    no_answer_rate: float | None  # share of judged samples
    truncated_rate: float | None
    n_unscored: int
    n_unscored_by_status: dict[str, int]
    tokens_per_answer: float | None  # completion tokens, over samples whose generation ran
    prompt_tokens_per_answer: float | None
    engine_seconds: float | None  # total over all samples
    total_cost_usd: float | None  # all samples
    cost_per_answer_usd: float | None
    cost_per_correct_usd: float | None  # cost of judged samples / correct samples
    cost_per_correct_ci_low: float | None
    cost_per_correct_ci_high: float | None
    cost_basis: str  # how cost was priced, or 'unknown price: <why>'
    cost_source: str | None  # where the price was published
    bootstrap_seed: int
    n_bootstrap: int
    # Reasoning budgets (evals.metrics.budgets): None = the run's own max_tokens, else the
    # figures as if the run had been cut at this many tokens and forced to answer.
    budget: int | None = None
    still_thinking_rate: float | None = None  # answers longer than the budget (probed)
    probe_fidelity: float | None = None  # forced answer at own length == natural answer
    n_fidelity: int | None = None  # naturally finished samples with a fidelity probe
    # An optional judge model (``--judge``), counted apart: see evals.metrics.judged.
    judge_model: str | None = None
    accuracy_with_judge: float | None = None
    n_judged_with_judge: int | None = None
    n_judge_decided: int | None = None
    n_judge_unparseable: int | None = None
    judge_agreement: float | None = None
    n_judge_agreement: int | None = None
    judge_cost_usd: float | None = None
    stopped_by: str | None = None  # under --until: the rule that stopped generation, after how many items


def write_summary(rows: Sequence[SummaryRow], path: Path) -> None:
    """Write ``summary.json`` (a JSON list of rows) atomically: a temporary file, then rename."""
    path = Path(path)
    text = json.dumps([row.model_dump(mode="json") for row in rows], indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_summary(path: Path) -> list[SummaryRow]:
    """Read a ``summary.json`` written by :func:`write_summary`; EvalsError when it is not one."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EvalsError(f"cannot read {path}: {error.strerror}") from error
    except json.JSONDecodeError as error:
        raise EvalsError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(raw, list):
        raise EvalsError(f"{path}: a summary is a JSON list of rows, got {type(raw).__name__}")
    rows, problems = [], []
    for index, entry in enumerate(raw):
        try:
            rows.append(SummaryRow.model_validate(entry))
        except ValidationError as error:
            problems += validation_problems(f"row {index}", error)
    if problems:
        raise EvalsError(f"{path} is not a summary of this version: {'; '.join(problems)}")
    return rows
