"""Continuing a stored completion from its own tokens (``evals extend``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from evals.generation.base import GenerationRequest
from evals.records import Completion, SampleKey


@dataclass(frozen=True)
class ExtendRequest:
    """Continue ``stored`` (its prompt + all its tokens) by up to ``sampling.max_tokens`` tokens."""

    request: GenerationRequest  # the sample's own request; sampling.max_tokens = tokens still allowed
    stored: Completion

    @property
    def key(self) -> SampleKey:
        return self.request.key


def extended_completion(stored: Completion, more: Completion) -> Completion:
    """``stored`` followed by ``more``: one completion of the new length, times added."""
    ids = None
    if stored.output_token_ids is not None and more.output_token_ids is not None:
        ids = stored.output_token_ids + more.output_token_ids
    return replace(
        stored,
        output=stored.output + more.output,
        completion_tokens=stored.completion_tokens + more.completion_tokens,
        finish_reason=more.finish_reason,
        engine_seconds=stored.engine_seconds + more.engine_seconds,
        output_token_ids=ids,
        error=more.error,
    )


def merge_extension(requests: Sequence[ExtendRequest], more: Sequence[Completion]) -> list[Completion]:
    """Each continuation joined to the completion it continues (matched by key)."""
    by_key = {r.key: r.stored for r in requests}
    return [extended_completion(by_key[m.key], m) for m in more]
