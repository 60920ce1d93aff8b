"""The scorer: one verdict per answer, math-verify only where cheap checks cannot decide.

Order of judgement for one answer: unusable gold -> ``gold_unparseable``; an
unclosed think block or ``finish_reason == "length"`` -> ``truncated``; nothing
extracted -> ``no_answer``; then the comparison (``correct``/``incorrect``), which
for math may end as ``timeout`` (over the per-check limit) or ``error`` (the
verifier process died).
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import NamedTuple

from evals.records import ANSWER_TYPES, AnswerType, Status, Verdict
from evals.scoring.choice import conflicting_option
from evals.scoring.forms import AskedForm, asked_form, form_verdict, yes_no_verdict
from evals.scoring.judges import (
    NO_ANSWER_REASONS,
    choices_match,
    extract,
    numbers_match,
    texts_match,
    unusable_gold_reason,
)
from evals.scoring.mathcheck import compact_math, implausible_answer, tidy_math
from evals.scoring.pool import CheckOutcome, VerifierPool
from evals.scoring.quickcheck import quick_math_check
from evals.scoring.reasoning import split_reasoning

# Bump when any verdict can change; manifests record it so rescoring is traceable.
SCORER_VERSION = "2"
_CACHE_LIMIT = 200_000
_REASON_CHARS = 120
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ScoreRequest:
    """One model output to judge against its gold answer.

    ``reasoning_in_prompt``: the prompt ended inside an open ``<think>`` block.
    ``finish_reason``: the backend's, when known ("length" means cut off).
    ``question``: the item's question, when known; it may say which form it asks for
    (a percentage or a fraction), which decides between a value and its percentage.
    """

    output: str
    gold: str
    answer_type: AnswerType
    choices: tuple[str, ...] = ()
    reasoning_in_prompt: bool = False
    finish_reason: str | None = None
    question: str = ""


class _MathJob(NamedTuple):
    """A math pair the cheap checks left open, for math-verify."""

    extracted: str
    pred: str
    gold: str


class _Judgement(NamedTuple):
    status: Status
    reason: str | None


# Cached when no form rule applies to a pair (never a verdict: the pair goes on to the checks).
_NO_FORM_RULE = _Judgement(Status.ERROR, "no form rule applies")


def _form_judgement(equal: bool, reason: str) -> _Judgement:
    return _Judgement(Status.CORRECT if equal else Status.INCORRECT, reason)


def _short(text: str) -> str:
    return repr(text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "...")


def _valid_text(text: str) -> str:
    """Lone surrogates (from invalid UTF-8 decoded with surrogateescape) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def _mismatch(extracted: str, gold: str, relation: str) -> _Judgement:
    return _Judgement(Status.INCORRECT, f"{_short(extracted)} {relation} gold {_short(gold)}")


class Scorer:
    """Judges answers; math-verify checks run in worker processes started on first need.

    ``time_limit_s`` bounds each math-verify check (CPU seconds of the worker, see
    ``pool.py``); ``workers`` is the number of worker processes (default: up to 4, one
    per CPU). Safe to share between threads. Use as a context manager or call
    ``close()`` to stop the workers.
    """

    def __init__(self, time_limit_s: float = 5.0, workers: int | None = None) -> None:
        if time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")
        self.time_limit_s = time_limit_s
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        self._cache: dict[tuple[str, ...], _Judgement] = {}
        self._verifier: VerifierPool | None = None
        self._lock = threading.Lock()  # score_many may be called from several threads
        self.math_verify_checks = 0

    def score(self, request: ScoreRequest) -> Verdict:
        return self.score_many([request])[0]

    def score_many(self, requests: Sequence[ScoreRequest]) -> list[Verdict]:
        """Verdicts in the order of ``requests``; each distinct math pair checked once."""
        verdicts: list[Verdict | None] = []
        pending: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for index, request in enumerate(requests):
            prepared = self._prepare(request)
            if isinstance(prepared, Verdict):
                verdicts.append(prepared)
                continue
            verdicts.append(None)
            if not pending:
                self._pool().start()  # workers get ready while the rest is prepared
            pending.setdefault((prepared.pred, prepared.gold), []).append((index, prepared.extracted))
        if pending:
            jobs = list(pending)
            self.math_verify_checks += len(jobs)
            for job, outcome in zip(jobs, self._pool().check_many(jobs), strict=True):
                judgement = self._math_judgement(job, outcome)
                if judgement.status is not Status.ERROR:
                    self._remember(("math", *job), judgement)
                for index, extracted in pending[job]:
                    verdicts[index] = Verdict(judgement.status, extracted, judgement.reason)
        done = [verdict for verdict in verdicts if verdict is not None]
        if len(done) != len(requests):
            raise AssertionError("a score request was left without a verdict")
        return done

    def _prepare(self, request: ScoreRequest) -> Verdict | _MathJob:
        if request.answer_type not in ANSWER_TYPES:
            raise ValueError(f"unknown answer type {request.answer_type!r}")
        gold = _valid_text(request.gold).strip()
        choices = tuple(_valid_text(choice) for choice in request.choices)
        unusable = unusable_gold_reason(gold, request.answer_type, choices)
        if unusable:
            return Verdict(Status.GOLD_UNPARSEABLE, None, unusable)
        split = split_reasoning(_valid_text(request.output), request.reasoning_in_prompt)
        if split.unclosed:
            return Verdict(Status.TRUNCATED, None, "output ended inside an unclosed <think> block")
        extracted = extract(split.answer, request.answer_type, gold, choices)
        if request.finish_reason == "length":
            reason = "output stopped at the token limit (finish_reason=length)"
            return Verdict(Status.TRUNCATED, extracted, reason)
        if extracted is None:
            reason = NO_ANSWER_REASONS[request.answer_type]
            if not split.answer:
                reason = "the answer text is empty" + (" after </think>" if split.reasoning else "")
            return Verdict(Status.NO_ANSWER, None, reason)
        if request.answer_type == "math":
            return self._prepare_math(extracted, gold, asked_form(request.question))
        if request.answer_type == "choice":
            conflict = conflicting_option(split.answer, extracted, choices)
            if conflict:
                return Verdict(Status.AMBIGUOUS, extracted, conflict)
        key = (request.answer_type, extracted, gold, *choices)
        judgement = self._cache.get(key)
        if judgement is None:
            judgement = self._judge_simple(request.answer_type, extracted, gold, choices)
            self._remember(key, judgement)
        return Verdict(judgement.status, extracted, judgement.reason)

    @staticmethod
    def _judge_simple(
        answer_type: AnswerType, extracted: str, gold: str, choices: tuple[str, ...]
    ) -> _Judgement:
        if answer_type == "number":
            equal = numbers_match(extracted, gold)
        elif answer_type == "choice":
            equal = choices_match(extracted, gold, choices)
        else:
            stated = yes_no_verdict(extracted, gold)
            if stated is not None:
                return _Judgement(Status.CORRECT if stated.equal else Status.INCORRECT, stated.reason)
            equal = texts_match(extracted, gold)
        return _Judgement(Status.CORRECT, None) if equal else _mismatch(extracted, gold, "!=")

    def _prepare_math(self, extracted: str, gold: str, asked: AskedForm | None) -> Verdict | _MathJob:
        problem = implausible_answer(extracted)
        if problem:
            return Verdict(Status.NO_ANSWER, None, problem)
        pred, target = tidy_math(extracted), tidy_math(gold)
        form_key = ("form", pred, target, asked or "")
        form = self._cache.get(form_key)
        if form is None:
            stated = yes_no_verdict(pred, target) or form_verdict(
                compact_math(pred), compact_math(target), asked
            )
            form = _NO_FORM_RULE if stated is None else _form_judgement(stated.equal, stated.reason)
            self._remember(form_key, form)
        if form is not _NO_FORM_RULE:
            return Verdict(form.status, extracted, form.reason)
        cached = self._cache.get(("math", pred, target))
        if cached is None:
            quick = quick_math_check(pred, target)
            if quick is None:
                return _MathJob(extracted, pred, target)
            cached = _Judgement(Status.CORRECT, None) if quick else _mismatch(pred, target, "!=")
        return Verdict(cached.status, extracted, cached.reason)

    def _math_judgement(self, job: tuple[str, str], outcome: CheckOutcome) -> _Judgement:
        pred, gold = job
        if outcome.timed_out:
            limit = f"{self.time_limit_s:g} s"
            reason = f"math-verify did not finish within its {limit} limit"
            return _Judgement(Status.TIMEOUT, reason)
        if outcome.equal is None:
            return _Judgement(Status.ERROR, f"verification failed: {outcome.failure}")
        if outcome.equal:
            return _Judgement(Status.CORRECT, None)
        return _mismatch(pred, gold, "is not equivalent to")

    def _remember(self, key: tuple[str, ...], judgement: _Judgement) -> None:
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                del self._cache[next(iter(self._cache))]  # oldest first
            self._cache[key] = judgement

    def _pool(self) -> VerifierPool:
        with self._lock:
            if self._verifier is None:
                self._verifier = VerifierPool(self.workers, self.time_limit_s)
                weakref.finalize(self, self._verifier.close)
            return self._verifier

    def close(self) -> None:
        """Stop the worker processes (a later math check starts new ones)."""
        if self._verifier is not None:
            self._verifier.close()

    def __enter__(self) -> Scorer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
