"""What a worker reserves on the cluster, and how many workers a group gets.

A worker is one engine: ``tensor_parallel_size`` GPUs on a GPU cluster (in a
placement group when that is more than one, so vLLM puts its tensor-parallel
workers on those GPUs), one CPU on a CPU cluster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from evals.execute import EngineGroup
from evals.generation.registry import backend_named

# Environment a worker needs from the driver (engine settings, caches, data); never secrets.
# Ray runs a worker with one OpenMP thread per CPU it reserves (1 on CPU clusters) unless
# OMP_NUM_THREADS says otherwise.
FORWARDED_PREFIXES = ("VLLM_", "EVALS_")
FORWARDED_NAMES = ("HF_HOME", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "TRANSFORMERS_OFFLINE", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class WorkerShape:
    """Resources of one worker: the actor's own, plus a placement group for multi-GPU engines."""

    num_cpus: float
    num_gpus: float
    tensor_parallel_size: int = 1

    @property
    def uses_placement_group(self) -> bool:
        return self.num_gpus > 0 and self.tensor_parallel_size > 1

    def demand(self) -> dict[str, float]:
        """Cluster resources one worker holds while it lives."""
        if self.uses_placement_group:
            return {"CPU": float(self.tensor_parallel_size), "GPU": float(self.tensor_parallel_size)}
        return {"CPU": self.num_cpus, "GPU": self.num_gpus}

    def bundles(self) -> list[dict[str, float]]:
        return [{"GPU": 1.0, "CPU": 1.0} for _ in range(self.tensor_parallel_size)]


def worker_shape(group: EngineGroup) -> WorkerShape:
    entry = group.lead.entry
    if not backend_named(entry.backend).uses_gpu or not group.setup.on_gpu:
        return WorkerShape(num_cpus=1, num_gpus=0)
    tensor_parallel = entry.engine.tensor_parallel_size
    return WorkerShape(num_cpus=1, num_gpus=1, tensor_parallel_size=tensor_parallel)


def worker_env() -> dict[str, str]:
    """The driver's engine and cache settings, for workers on nodes that lack them."""
    return {
        name: value
        for name, value in os.environ.items()
        if name.startswith(FORWARDED_PREFIXES) or name in FORWARDED_NAMES
    }


def actor_options(
    shape: WorkerShape, placement_group: Any | None, forward_env: bool = True
) -> dict[str, Any]:
    """``.options(...)`` for a worker actor; failures are handled by the driver, not restarts.

    Without restarts, a dead worker's shard goes back to the queue at once and any
    live worker takes it; an automatic restart could wait forever for the
    resources of a node that is gone. ``forward_env``: give the worker the driver's
    engine settings (:func:`worker_env`). A Ray started by the driver passes its
    environment to every worker anyway, and an actor with a runtime_env of its own
    waits for a fresh worker process (0.6 s more here than one without).
    """
    options: dict[str, Any] = {"max_restarts": 0, "max_task_retries": 0}
    if forward_env:
        options["runtime_env"] = {"env_vars": worker_env()}
    if placement_group is not None:
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        # vLLM finds the current placement group and starts its tensor-parallel workers in its bundles.
        strategy = PlacementGroupSchedulingStrategy(
            placement_group=placement_group,
            placement_group_bundle_index=0,
            placement_group_capture_child_tasks=True,
        )
        return {**options, "num_cpus": 0, "num_gpus": 0, "scheduling_strategy": strategy}
    return {
        **options,
        "num_cpus": shape.num_cpus,
        "num_gpus": shape.num_gpus,
        "scheduling_strategy": "SPREAD",
    }


def create_placement_group(shape: WorkerShape) -> Any | None:
    """A placement group holding a multi-GPU engine's GPUs on one node, or None."""
    if not shape.uses_placement_group:
        return None
    from ray.util.placement_group import placement_group

    return placement_group(shape.bundles(), strategy="STRICT_PACK")


def default_worker_count(shape: WorkerShape, capacity: dict[str, float], alive_nodes: int) -> int:
    """One engine per tensor-parallel slice of the GPUs, or one per node on CPU clusters.

    A CPU engine already uses every core of its node, so two on one node only compete.
    """
    if shape.num_gpus > 0:
        return max(1, int(capacity.get("GPU", 0.0)) // shape.tensor_parallel_size)
    return max(1, min(alive_nodes, int(capacity.get("CPU", 1.0))))


def fits(demand: dict[str, float], free: dict[str, float]) -> bool:
    return all(free.get(name, 0.0) + 1e-9 >= amount for name, amount in demand.items() if amount > 0)


def scaled(demand: dict[str, float], count: int) -> dict[str, float]:
    return {name: amount * count for name, amount in demand.items()}


def subtract(free: dict[str, float], used: dict[str, float]) -> dict[str, float]:
    return {name: free.get(name, 0.0) - used.get(name, 0.0) for name in {*free, *used}}
