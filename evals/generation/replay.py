"""A deterministic backend that answers from a function or table, for tests of later stages.

It never stands in for a model in a real run: generation itself is tested end to end on vLLM.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from evals.generation.base import GenerationRequest, OnFinished
from evals.records import Completion

Answer = Callable[[GenerationRequest], str]


class ReplayBackend:
    """Completions whose text ``answer(request)`` decides; tokens are whitespace-separated words."""

    def __init__(self, answer: Answer, seconds_per_token: float = 0.001, batch_size: int = 8) -> None:
        self._answer = answer
        self._seconds_per_token = seconds_per_token
        self._batch_size = batch_size
        self.generated: list[GenerationRequest] = []

    def generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        for start in range(0, len(requests), self._batch_size):
            batch = requests[start : start + self._batch_size]
            on_finished([self._complete(request) for request in batch])
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

    def close(self) -> None:
        """Nothing to release."""
