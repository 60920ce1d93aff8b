"""Distributed evaluation on Ray: item shards pulled by engine workers across a cluster.

Public face: ``make_ray_executor`` (what ``evals run --ray`` uses), ``RayExecutor``.
Ray is imported only when a run connects, after its inputs were validated.
"""

from __future__ import annotations

from evals.distributed.connect import check_address
from evals.distributed.executor import RayExecutor
from evals.errors import EvalsError


def check_worker_flags(num_workers: int | None, shard_size: int) -> None:
    """``--num-workers`` and ``--shard-size``, both problems at once."""
    problems = []
    if num_workers is not None and num_workers < 1:
        problems.append(f"--num-workers {num_workers}: must be at least 1")
    if shard_size < 1:
        problems.append(f"--shard-size {shard_size}: must be at least 1")
    if problems:
        raise EvalsError("; ".join(problems))


def make_ray_executor(address: str, num_workers: int | None, shard_size: int) -> RayExecutor:
    """The executor for ``--ray ADDRESS``; checks the flags, connects nothing yet."""
    check_worker_flags(num_workers, shard_size)
    return RayExecutor(check_address(address), num_workers, shard_size)


__all__ = ["RayExecutor", "check_worker_flags", "make_ray_executor"]
