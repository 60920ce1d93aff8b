"""A deterministic backend that answers from a function or table, for tests of later stages.

It never stands in for a model in a real run: generation itself is tested end to end on vLLM.
``CannedAnswers`` builds one on Ray workers (it pickles), so the distributed driver can be
measured and shaken at sizes no real engine on this machine reaches.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from evals.errors import EvalsError
from evals.generation.base import GenerationRequest, OnFinished
from evals.generation.continuation import ExtendRequest, merge_extension
from evals.probes import ProbeCompletion, ProbeRequest
from evals.records import Completion

Answer = Callable[[GenerationRequest], str]
ProbeAnswer = Callable[[ProbeRequest], str]  # the forced answer to a probe


class ReplayBackend:
    """Completions whose text ``answer(request)`` decides; tokens are whitespace-separated words."""

    def __init__(
        self,
        answer: Answer,
        seconds_per_token: float = 0.001,
        batch_size: int = 8,
        probe_answer: ProbeAnswer | None = None,
        latency_per_token: float = 0.0,
        record: bool = True,
    ) -> None:
        self._answer = answer
        self._probe_answer = probe_answer
        self.probed: list[ProbeRequest] = []
        self.extended: list[ExtendRequest] = []
        self._seconds_per_token = seconds_per_token
        self._batch_size = batch_size
        # Wall time per generated token: a batch takes as long as its longest completion.
        self._latency_per_token = latency_per_token
        self.generated: list[GenerationRequest] = []
        self._record = record  # tests read ``generated``; a long-lived worker must not keep every request

    def generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        for start in range(0, len(requests), self._batch_size):
            batch = requests[start : start + self._batch_size]
            completions = [self._complete(request) for request in batch]
            if self._latency_per_token > 0:
                time.sleep(self._latency_per_token * max(c.completion_tokens for c in completions))
            on_finished(completions)
            if self._record:
                self.generated.extend(batch)

    def _complete(self, request: GenerationRequest) -> Completion:
        prompt_text = "\n".join(m.content for m in request.prompt.messages)
        words = self._answer(request).split(" ")
        truncated = len(words) > request.sampling.max_tokens
        words = words[: request.sampling.max_tokens]
        prompt_tokens = len(prompt_text.split())
        return Completion(
            key=request.key,
            prompt_text=prompt_text,
            output=" ".join(words),
            reasoning=None,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(words),
            finish_reason="length" if truncated else "stop",
            engine_seconds=(prompt_tokens + len(words)) * self._seconds_per_token,
            seed=request.sampling.seed,
        )

    def extend(self, requests: Sequence[ExtendRequest], on_finished: OnFinished) -> None:
        """Continue stored completions: ``answer``'s words after the stored ones, up to the limit."""
        for start in range(0, len(requests), self._batch_size):
            batch = requests[start : start + self._batch_size]
            on_finished(merge_extension(batch, [self._continue(extend) for extend in batch]))
            self.extended.extend(batch)

    def _continue(self, extend: ExtendRequest) -> Completion:
        words = self._answer(extend.request).split(" ")
        done = extend.stored.completion_tokens
        total = done + extend.request.sampling.max_tokens
        rest = words[done:total]
        return replace(
            extend.stored,
            output="".join(" " + word for word in rest),
            completion_tokens=len(rest),
            finish_reason="length" if len(words) > total else "stop",
            engine_seconds=len(rest) * self._seconds_per_token,
        )

    def probe(
        self, requests: Sequence[ProbeRequest], on_finished: Callable[[Sequence[ProbeCompletion]], None]
    ) -> None:
        """Forced answers from ``probe_answer``; the kept prefix is the first ``budget`` words."""
        if self._probe_answer is None:
            raise EvalsError("this replay backend has no probe answers")
        for start in range(0, len(requests), self._batch_size):
            batch = requests[start : start + self._batch_size]
            on_finished([self._probe(request) for request in batch])
            self.probed.extend(batch)

    def _probe(self, request: ProbeRequest) -> ProbeCompletion:
        assert self._probe_answer is not None
        prompt_text = "\n".join(m.content for m in request.prompt.messages)
        kept = " ".join(request.output.split(" ")[: request.budget])
        closing = request.closing_after(prompt_text, kept)
        words = self._probe_answer(request).split(" ")[: request.max_tokens]
        prompt_tokens = len(prompt_text.split()) + request.budget + len(closing.split())
        return ProbeCompletion(
            request=request,
            closing=closing,
            output=" ".join(words),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(words),
            finish_reason="stop",
            engine_seconds=(prompt_tokens + len(words)) * self._seconds_per_token,
        )

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class CannedAnswers:
    """A backend factory (picklable, for Ray workers): each sample gets one of ``texts``.

    The text is chosen by a hash of the sample's item and index, so every run of the
    same suite stores the same answers; ``{gold}`` in a text becomes the item's gold answer.
    """

    texts: tuple[str, ...]
    latency_per_token: float = 0.0
    batch_size: int = 64

    def __call__(self, model: Any, setup: Any, seed: int) -> ReplayBackend:
        latency = self.latency_per_token
        return ReplayBackend(self.answer, batch_size=self.batch_size, latency_per_token=latency, record=False)

    def answer(self, request: GenerationRequest) -> str:
        key = request.key
        text = self.texts[zlib.crc32(f"{key.item_id}\x00{key.sample_idx}".encode()) % len(self.texts)]
        return text.replace("{gold}", str(request.prompt.item.gold))
