"""Immutable records that flow one way between stages.

tasks -> ``Item``; prompts -> ``Prompt``; generation -> ``Completion``;
scoring -> ``Verdict``; the store joins them into one ``SampleRecord`` per row
(``evals/run_records.py``, with the run's ``Manifest``). Each answer type has one
scoring rule (``evals/scoring/rules.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

AnswerType = Literal["number", "math", "choice", "text"]
ANSWER_TYPES: tuple[AnswerType, ...] = ("number", "math", "choice", "text")

# Bump when a column of samples.parquet or a key of summary.json changes meaning.
RECORD_VERSION = 1


@dataclass(frozen=True)
class Item:
    """One benchmark question with its gold answer.

    For multiple choice, ``choices`` holds the options in the order shown to the
    model and ``gold`` is the letter of the correct one ("A", "B", ...).
    """

    task: str
    item_id: str
    question: str
    gold: str
    answer_type: AnswerType
    choices: tuple[str, ...] = ()
    subtask: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Prompt:
    """The chat messages sent to a model for one item."""

    item: Item
    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True)
class SampleKey:
    """Identity of one generated answer within a run."""

    model: str
    task: str
    item_id: str
    sample_idx: int

    def as_tuple(self) -> tuple[str, str, str, int]:
        return (self.model, self.task, self.item_id, self.sample_idx)


@dataclass(frozen=True)
class Completion:
    """One sampled answer for one prompt, as a backend produced it.

    ``output`` is the model's text; ``reasoning`` is set only when the backend
    returns reasoning in a separate field (``<think>`` blocks stay in ``output``
    and are split off by scoring). ``engine_seconds`` is this sample's share of
    the engine's wall time, apportioned by tokens, so shares add up to the total.
    """

    key: SampleKey
    prompt_text: str
    output: str
    reasoning: str | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop", "length" or "error"
    engine_seconds: float
    seed: int | None
    error: str | None = None
    # The generated token ids where the backend knows them: budget probes cut them exactly.
    output_token_ids: tuple[int, ...] | None = None


class Status(StrEnum):
    """Outcome of scoring one answer."""

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NO_ANSWER = "no_answer"
    TRUNCATED = "truncated"
    GOLD_UNPARSEABLE = "gold_unparseable"
    TIMEOUT = "timeout"
    AMBIGUOUS = "ambiguous"  # the answer states two different answers (a letter and another option's text)
    ERROR = "error"  # generation failed, or the verifier crashed: no verdict either way

    @property
    def correct(self) -> bool | None:
        """True/False for a judged answer; None when the answer could not be judged."""
        if self is Status.CORRECT:
            return True
        if self in (Status.INCORRECT, Status.NO_ANSWER, Status.TRUNCATED):
            return False
        return None


@dataclass(frozen=True)
class Verdict:
    """What scoring concluded about one answer, and why."""

    status: Status
    extracted: str | None
    reason: str | None = None

    @property
    def correct(self) -> bool | None:
        return self.status.correct
