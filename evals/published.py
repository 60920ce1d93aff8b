"""Published scores (``evals/published.yaml``): what papers and model cards report, to set beside ours.

Data only, validated into frozen ``PublishedScoreSpec`` records: every entry names a
model alias, a task, the protocol it was measured under and its source with the date
read. Unknown aliases, unknown tasks and missing sources are all reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from evals.errors import ConfigError, EvalsError, closest, validation_problems

SHIPPED_PUBLISHED = Path(__file__).resolve().parent / "published.yaml"
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")

Standing = Literal["inside", "above", "below"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublishedProtocolSpec(_Spec):
    """How the published figure was measured; None where the source does not say."""

    samples: int | None = Field(ge=1)
    temperature: float | None = Field(ge=0.0)
    top_p: float | None = Field(gt=0.0, le=1.0)
    max_tokens: int | None = Field(ge=1)
    prompt: str | None


class PublishedScoreSpec(_Spec):
    """One published figure: ``value`` is a percentage, as papers print it."""

    model: str  # an alias of evals/models/aliases.yaml
    task: str
    metric: Literal["accuracy"]  # mean correctness over samples (pass@1 over n samples)
    protocol: PublishedProtocolSpec
    value: float = Field(ge=0.0, le=100.0)
    source: str = Field(min_length=1)

    @field_validator("source")
    @classmethod
    def _dated(cls, value: str) -> str:
        if not _DATE.search(value):
            raise ValueError("name the paper table or model card and the date it was read (YYYY-MM-DD)")
        return value

    @property
    def fraction(self) -> float:
        """The value on our scale (0-1)."""
        return self.value / 100.0


def parse_published(
    raw: Any, origin: str, aliases: Sequence[str], tasks: Sequence[str]
) -> tuple[PublishedScoreSpec, ...]:
    """Validate the YAML list; every problem (schema, alias, task) in one ConfigError."""
    if not isinstance(raw, list):
        raise ConfigError([f"{origin}: expected a list of published scores, got {type(raw).__name__}"])
    entries: list[PublishedScoreSpec] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        where = f"{origin}: entry {index + 1}"
        try:
            entries.append(PublishedScoreSpec.model_validate(item))
        except ValidationError as error:
            problems += validation_problems(where, error)
        model, task = (item.get("model"), item.get("task")) if isinstance(item, dict) else (None, None)
        if isinstance(model, str) and model not in aliases:
            problems.append(f"{where}: model: unknown alias {model!r}{closest(model, aliases)}")
        if isinstance(task, str) and task not in tasks:
            problems.append(f"{where}: task: unknown task {task!r}{closest(task, tasks)}")
    if problems:
        raise ConfigError(problems)
    return tuple(entries)


def load_published(path: Path | None = None) -> PublishedScores:
    """The shipped table (or ``path``), checked against the alias registry and the task list."""
    from evals.models.registry import default_registry
    from evals.tasks import task_names

    path = path or SHIPPED_PUBLISHED
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise EvalsError(f"cannot read published scores {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: malformed YAML: {' '.join(str(error).split())}"]) from None
    return PublishedScores(parse_published(raw, str(path), default_registry().aliases, task_names()))


class PublishedScores:
    """Lookup of published figures by model alias and task (first listed entry first)."""

    def __init__(self, entries: Iterable[PublishedScoreSpec]) -> None:
        self.entries = tuple(entries)

    def find(self, model_ref: str | None, task: str) -> tuple[PublishedScoreSpec, ...]:
        return tuple(e for e in self.entries if e.model == model_ref and e.task == task)

    def headline(self, model_ref: str | None, task: str) -> PublishedScoreSpec | None:
        found = self.find(model_ref, task)
        return found[0] if found else None


def standing(published: float, ci_low: float | None, ci_high: float | None) -> Standing | None:
    """Where a published fraction lies against our 95% CI; None without a CI."""
    if ci_low is None or ci_high is None:
        return None
    if published < ci_low:
        return "below"
    if published > ci_high:
        return "above"
    return "inside"
