"""The Ray worker: one engine for one model, created once, reused for every shard.

``ShardWorker`` is a plain class; the executor turns it into a Ray actor with the
resources its engine needs, so importing this module does not import Ray.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from evals.distributed.shards import Shard, ShardResult, WorkerIdentity, missing_keys
from evals.errors import EvalsError
from evals.execute import BackendFactory, default_backend, probe_with
from evals.generation.base import GenerationBackend
from evals.generation.registry import backend_named
from evals.generation.vllm_backend import EngineSetup
from evals.plan import ModelPlan
from evals.probes import ProbeCompletion, ProbeRequest
from evals.records import Completion, SampleKey


def model_on_this_node(model: ModelPlan) -> ModelPlan:
    """The model with a path that exists on this node, with the driver's weights.

    On a cluster without a shared model cache, the driver's path does not exist on
    other nodes: the worker fetches the model itself and checks that the weights
    hash matches the driver's, so every node runs the same weights.
    """
    if backend_named(model.entry.backend).served or Path(model.model.path_or_id).exists():
        return model
    from evals.models import ensure_available, resolve_model

    here = ensure_available(resolve_model(model.entry.model), notify=None)
    expected = model.model.weights_sha256
    if expected is not None and here.weights_sha256 != expected:
        raise EvalsError(
            f"{model.entry.model} on {socket.gethostname()} has weights {str(here.weights_sha256)[:12]}, "
            f"the driver's are {expected[:12]}; give every node the same model files"
        )
    return replace(model, model=here)


def engine_backend(model: ModelPlan, setup: EngineSetup, seed: int) -> GenerationBackend:
    """The engine the suite entry names, with the model's files on this node."""
    return default_backend(model_on_this_node(model), setup, seed)


def this_worker(max_sequences: int | None = None) -> WorkerIdentity:
    import ray

    context = ray.get_runtime_context()
    return WorkerIdentity(
        worker_id=context.get_actor_id() or "driver",
        node_id=context.get_node_id(),
        host=socket.gethostname(),
        pid=os.getpid(),
        max_sequences=max_sequences,
    )


class ShardWorker:
    """Generates whole shards of one model with one engine (a Ray actor)."""

    def __init__(
        self, model: ModelPlan, setup: EngineSetup, seed: int, backend: BackendFactory = engine_backend
    ) -> None:
        self._backend = backend(model, setup, seed)
        self._identity = this_worker(getattr(self._backend, "max_sequences", None))

    def identity(self) -> WorkerIdentity:
        """Who this worker is; answering also means its engine has started."""
        return self._identity

    def run_shards(self, shards: Sequence[Shard]) -> list[ShardResult]:
        """Every sample of the shards, then their probes; or an exception (the driver retries them)."""
        return generate_shards(self._backend, shards, self._identity)

    def close(self) -> None:
        self._backend.close()


def generate_shards(
    backend: GenerationBackend, shards: Sequence[Shard], identity: WorkerIdentity
) -> list[ShardResult]:
    """The shards' samples as one engine batch, then their probes as another; a result per shard.

    One batch keeps the engine as full as a local run's when shards are small against
    what it runs at once.
    """
    started = time.perf_counter()
    completions: list[Completion] = []
    requests = [request for shard in shards for request in shard.requests]
    if requests:
        backend.generate(requests, completions.extend)
    by_shard = _by_shard(shards, completions, lambda c: c.key)
    missing = [key for shard in shards for key in missing_keys(shard, by_shard[shard.shard_id])]
    if missing:
        raise RuntimeError(f"the engine returned no completion for {len(missing)} samples: {missing[:3]}")
    probes: list[ProbeRequest] = []
    for shard in shards:
        probes += shard.probes
        if shard.probe_spec is not None:  # right after the samples: the prefix cache still holds them
            probes += shard.probe_spec.requests_for(shard.requests, by_shard[shard.shard_id])
    answers: list[ProbeCompletion] = []
    if probes:
        probe_with(backend, probes, answers.extend)
    answered = _by_shard(shards, answers, lambda a: a.request.key)
    seconds = time.perf_counter() - started
    return [
        ShardResult(s.shard_id, tuple(by_shard[s.shard_id]), identity, seconds, tuple(answered[s.shard_id]))
        for s in shards
    ]


Keyed = TypeVar("Keyed", Completion, ProbeCompletion)


def _by_shard(
    shards: Sequence[Shard], rows: Sequence[Keyed], key: Callable[[Keyed], SampleKey]
) -> dict[str, list[Keyed]]:
    """``rows`` by the shard holding their item (a call's shards never share an item of a model x task)."""
    owner = {(s.model, s.task, item): s.shard_id for s in shards for item in s.item_ids}
    grouped: dict[str, list[Keyed]] = {s.shard_id: [] for s in shards}
    for row in rows:
        k = key(row)
        grouped[owner[(k.model, k.task, k.item_id)]].append(row)
    return grouped
