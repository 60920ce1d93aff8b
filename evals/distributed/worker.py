"""The Ray worker: one engine for one model, created once, reused for every shard.

``ShardWorker`` is a plain class; the executor turns it into a Ray actor with the
resources its engine needs, so importing this module does not import Ray.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import replace
from pathlib import Path

from evals.distributed.shards import Shard, ShardResult, WorkerIdentity, missing_keys
from evals.errors import EvalsError
from evals.execute import default_backend, probe_with
from evals.generation.vllm_backend import EngineSetup
from evals.plan import ModelPlan
from evals.probes import ProbeCompletion
from evals.records import Completion


def model_on_this_node(model: ModelPlan) -> ModelPlan:
    """The model with a path that exists on this node, with the driver's weights.

    On a cluster without a shared model cache, the driver's path does not exist on
    other nodes: the worker fetches the model itself and checks that the weights
    hash matches the driver's, so every node runs the same weights.
    """
    if model.entry.backend == "openai" or Path(model.model.path_or_id).exists():
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


def this_worker() -> WorkerIdentity:
    import ray

    context = ray.get_runtime_context()
    return WorkerIdentity(
        worker_id=context.get_actor_id() or "driver",
        node_id=context.get_node_id(),
        host=socket.gethostname(),
        pid=os.getpid(),
    )


class ShardWorker:
    """Generates whole shards of one model with one engine (a Ray actor)."""

    def __init__(self, model: ModelPlan, setup: EngineSetup, seed: int) -> None:
        self._identity = this_worker()
        self._backend = default_backend(model_on_this_node(model), setup, seed)

    def identity(self) -> WorkerIdentity:
        """Who this worker is; answering also means its engine has started."""
        return self._identity

    def run_shard(self, shard: Shard) -> ShardResult:
        """Every sample of the shard, then its probes; or an exception (the driver retries the shard)."""
        started = time.perf_counter()
        completions: list[Completion] = []
        if shard.requests:
            self._backend.generate(shard.requests, completions.extend)
        missing = list(missing_keys(shard, completions))
        if missing:
            raise RuntimeError(f"the engine returned no completion for {len(missing)} samples: {missing[:3]}")
        probes = list(shard.probes)
        if shard.probe_spec is not None:  # right after the samples: the prefix cache still holds them
            probes += shard.probe_spec.requests_for(shard.requests, completions)
        answers: list[ProbeCompletion] = []
        if probes:
            probe_with(self._backend, probes, answers.extend)
        return ShardResult(
            shard.shard_id, tuple(completions), self._identity, time.perf_counter() - started, tuple(answers)
        )

    def close(self) -> None:
        self._backend.close()
