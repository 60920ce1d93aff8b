"""The scorer: one verdict per answer, math-verify only where cheap checks cannot decide.

Order of judgement for one answer: unusable gold -> ``gold_unparseable``; an
unclosed think block or ``finish_reason == "length"`` -> ``truncated``; nothing
extracted -> ``no_answer``; then the answer type's rule (``rules.py``) compares
(``correct``/``incorrect``, or what else its ``statuses`` allow); a math pair it leaves
open goes to math-verify, which may end as ``timeout`` (over the per-check limit) or
``error`` (the verifier process died).
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

from evals.records import AnswerType, Status, Verdict
from evals.scoring.comparators import Judgement, NeedsVerifier, mismatch
from evals.scoring.pool import CheckOutcome, VerifierPool
from evals.scoring.reasoning import split_reasoning
from evals.scoring.rules import Answer, parse_gold, rule_for

# Bump when any verdict can change; manifests record it so rescoring is traceable.
SCORER_VERSION = "2"
_CACHE_LIMIT = 200_000
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
    """A math pair the rule left open, for math-verify."""

    extracted: str
    pred: str
    gold: str


def _valid_text(text: str) -> str:
    """Lone surrogates (from invalid UTF-8 decoded with surrogateescape) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


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
        self._cache: dict[tuple[str, ...], Judgement] = {}
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
        rule = rule_for(request.answer_type)
        gold = _valid_text(request.gold).strip()
        choices = tuple(_valid_text(choice) for choice in request.choices)
        parsed = parse_gold(gold, rule.answer_type, choices)
        if not parsed.usable:
            return Verdict(Status.GOLD_UNPARSEABLE, None, parsed.problem)
        split = split_reasoning(_valid_text(request.output), request.reasoning_in_prompt)
        if split.unclosed:
            return Verdict(Status.TRUNCATED, None, "output ended inside an unclosed <think> block")
        extracted = rule.extract(split.answer, gold, choices)
        if request.finish_reason == "length":
            reason = "output stopped at the token limit (finish_reason=length)"
            return Verdict(Status.TRUNCATED, extracted, reason)
        if extracted is None:
            reason = rule.no_answer_reason
            if not split.answer:
                reason = "the answer text is empty" + (" after </think>" if split.reasoning else "")
            return Verdict(Status.NO_ANSWER, None, reason)
        outcome = rule.compare(Answer(split.answer, extracted, gold, choices, request.question))
        if isinstance(outcome, NeedsVerifier):
            verified = self._cache.get(("math", *outcome))
            if verified is None:
                return _MathJob(extracted, outcome.pred, outcome.gold)
            outcome = verified
        # "No answer" keeps no extracted text (the rule found what it extracted implausible).
        kept = None if outcome.status is Status.NO_ANSWER else extracted
        return Verdict(outcome.status, kept, outcome.reason)

    def _math_judgement(self, job: tuple[str, str], outcome: CheckOutcome) -> Judgement:
        pred, gold = job
        if outcome.timed_out:
            limit = f"{self.time_limit_s:g} s"
            reason = f"math-verify did not finish within its {limit} limit"
            return Judgement(Status.TIMEOUT, reason)
        if outcome.equal is None:
            return Judgement(Status.ERROR, f"verification failed: {outcome.failure}")
        if outcome.equal:
            return Judgement(Status.CORRECT, None)
        return mismatch(pred, gold, "is not equivalent to")

    def _remember(self, key: tuple[str, ...], judgement: Judgement) -> None:
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
