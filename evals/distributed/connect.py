"""Which Ray cluster to use (``--ray auto|local|ADDRESS``), and what it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from evals.errors import EvalsError
from evals.hardware import Hardware, detect_hardware

# host:port of a GCS, or ray://host:port of a Ray Client server.
_CLUSTER_ADDRESS = re.compile(r"^(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d+$")
# Seconds to wait for a node that can run an engine (an autoscaler may be adding one).
PROBE_TIMEOUT_S = 900.0


def check_address(address: str) -> str:
    """The ``--ray`` value if it names a cluster; raises before anything connects."""
    value = address.strip()
    if value in ("auto", "local") or _CLUSTER_ADDRESS.match(value):
        return value
    if value.startswith(("http://", "https://")):
        raise EvalsError(
            f"--ray {address}: that is a dashboard (Jobs API) address; use 'evals submit --address "
            f"{address}' to run there, or give the cluster address (HOST:6379, ray://HOST:10001, auto)"
        )
    raise EvalsError(f"--ray {address}: expected 'auto', 'local', HOST:PORT or ray://HOST:PORT")


def connect(address: str) -> None:
    """Join the cluster, or start a local one for ``local`` (a no-op when already connected).

    Worker output stays in Ray's logs (``ray logs``, the dashboard): a worker's
    errors reach the driver with the shard that failed.
    """
    import logging

    import ray

    if ray.is_initialized():
        return
    try:
        if address == "local":
            ray.init(
                address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
            )
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except Exception as error:  # ray.init raises many types (auth, timeouts); the user needs one line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise EvalsError(f"cannot connect to the Ray cluster at {address}: {first}") from None


def disconnect(started_here: bool) -> None:
    """``ray.shutdown``; a Ray this process started has its autoscaler monitor killed first.

    The monitor ignores SIGTERM and ``ray.shutdown`` gives it a full second before SIGKILL
    (1.0 of 1.36 s here, on the critical path of a short run); a local Ray has nothing to
    autoscale and is being stopped. Ray's internals are read defensively: where they differ,
    the shutdown is Ray's own, as before.
    """
    import ray

    if started_here:
        try:
            from ray._private import ray_constants, worker

            node = worker._global_node
            monitors: list[Any] = (
                [] if node is None else node.all_processes.get(ray_constants.PROCESS_TYPE_MONITOR, [])
            )
            for info in monitors:
                info.process.kill()
        except Exception:  # another Ray version's internals: its own shutdown still stops everything
            pass
    ray.shutdown()


@dataclass(frozen=True)
class Capacity:
    """The cluster's resources when the run starts."""

    resources: dict[str, float]
    alive_nodes: int

    @property
    def has_gpus(self) -> bool:
        return self.resources.get("GPU", 0.0) > 0


def cluster_capacity() -> Capacity:
    import ray

    totals = ray.cluster_resources()
    resources = {name: float(totals.get(name, 0.0)) for name in ("CPU", "GPU")}
    alive = sum(1 for node in ray.nodes() if node.get("Alive"))
    return Capacity(resources, alive)


def probe_hardware(tensor_parallel_size: int) -> Hardware:
    """The hardware of a node that runs engines (a GPU node if the cluster has GPUs).

    The driver may run on a CPU-only head node, so its own hardware says nothing
    about what generates, nor what a run costs.
    """
    import ray

    gpus = 1 if cluster_capacity().has_gpus else 0
    task: Any = ray.remote(num_cpus=0 if gpus else 1, num_gpus=gpus, max_retries=3)(detect_hardware)
    try:
        hardware: Hardware = ray.get(task.remote(tensor_parallel_size), timeout=PROBE_TIMEOUT_S)
    except ray.exceptions.GetTimeoutError:
        raise EvalsError(
            f"no Ray node could run a worker within {PROBE_TIMEOUT_S:.0f} s; see 'ray status'"
        ) from None
    return hardware
