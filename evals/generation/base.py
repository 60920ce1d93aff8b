"""What every generation backend takes and returns."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from evals.errors import EvalsError
from evals.records import Completion, Prompt, SampleKey

if TYPE_CHECKING:
    from evals.generation.vllm_backend import EngineSetup
    from evals.suite import ModelEntrySpec


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float
    top_p: float
    max_tokens: int
    seed: int | None


@dataclass(frozen=True)
class GenerationRequest:
    """One sample to generate: n samples of an item are n requests with their own seeds."""

    key: SampleKey
    prompt: Prompt
    sampling: SamplingSettings


@dataclass(frozen=True)
class BackendTarget:
    """What a backend is built for: one suite entry, where its model is, how its engine runs."""

    entry: ModelEntrySpec
    model_path: str  # local weights folder or Hub id; for a served model, "name @ server"
    setup: EngineSetup
    seed: int

    @property
    def label(self) -> str:
        return self.entry.label


# Called with each batch of finished completions, as they finish (for incremental writes).
OnFinished = Callable[[Sequence[Completion]], None]
# Called as the engine runs with the completion tokens of unfinished requests by (model, task).
OnTokens = Callable[[Mapping[tuple[str, str], int]], None]


class GenerationBackend(Protocol):
    """An engine that generates completions for requests of one model."""

    def generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        """Generate every request, reporting completions through ``on_finished``."""
        ...

    def close(self) -> None: ...


def sample_seed(run_seed: int, item_id: str, sample_idx: int) -> int:
    """A per-sample seed that depends only on what identifies the sample.

    It does not depend on batch composition, so a resumed run draws the same
    samples as an uninterrupted one.
    """
    digest = hashlib.sha256(f"{run_seed}\x00{item_id}\x00{sample_idx}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def apportion_seconds(seconds: float, weights: Sequence[int]) -> list[float]:
    """Split ``seconds`` over samples in proportion to their token counts."""
    total = sum(weights)
    if total <= 0:
        return [seconds / len(weights)] * len(weights) if weights else []
    return [seconds * w / total for w in weights]


# Backends hand finished completions to the store at most this often (seconds): a crash
# loses at most this much work; smaller values write more, smaller parts.
FLUSH_SECONDS_ENV = "EVALS_FLUSH_SECONDS"
DEFAULT_FLUSH_SECONDS = 2.0


def flush_seconds() -> float:
    value = os.environ.get(FLUSH_SECONDS_ENV)
    try:
        return DEFAULT_FLUSH_SECONDS if value is None else max(0.0, float(value))
    except ValueError:
        raise EvalsError(f"{FLUSH_SECONDS_ENV}={value!r} is not a number of seconds") from None
