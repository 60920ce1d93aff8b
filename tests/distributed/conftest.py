"""Fixtures for the Ray tests: real Ray clusters on this machine."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray_helpers import VENV_BIN, JobsCluster, cli_env, free_port, wait_for


@pytest.fixture
def two_node_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A head and a worker node on this machine, one CPU each (two real raylets, one GCS)."""
    from ray.cluster_utils import Cluster

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # the raylets' workers inherit it
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster
    finally:
        cluster.shutdown()


@pytest.fixture(scope="module")
def token_env() -> dict[str, str]:
    """Ray's token authentication on, with a token of this test module's own.

    Set explicitly: otherwise ``ray start`` turns it on by itself once any local
    ``ray.init`` has left a token in ~/.ray, and clients then need it too.
    """
    return {**cli_env(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


@pytest.fixture(scope="module")
def ray_head(token_env: dict[str, str]) -> Iterator[JobsCluster]:
    """``ray start --head --block`` with the dashboard (Jobs API) on 127.0.0.1; yields its URL."""
    dashboard_port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="rt-", dir="/tmp")  # short: Ray's socket paths have a length limit
    command = [
        str(VENV_BIN / "ray"), "start", "--head", "--block", "--num-cpus=1", "--disable-usage-stats",
        f"--port={free_port()}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard_port}", f"--ray-client-server-port={free_port()}",
        f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
        f"--metrics-export-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
        f"--temp-dir={temp_dir}",
    ]  # fmt: skip
    log = open(Path(temp_dir) / "ray-start.log", "wb")  # noqa: SIM115 (closed in the finally)
    process = subprocess.Popen(command, env=token_env, stdout=log, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{dashboard_port}"
    try:
        wait_for(lambda: _jobs_api_up(address, token_env["RAY_AUTH_TOKEN"]), None, 120, "the Ray Jobs API")
        yield JobsCluster(address, token_env)
    finally:
        process.terminate()  # --block: ray start stops every process it started, and only those
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _jobs_api_up(address: str, token: str) -> bool:
    import urllib.request

    try:
        for path in ("/api/version", "/api/jobs/"):
            request = urllib.request.Request(f"{address}{path}", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status != 200:
                    return False
    except OSError:
        return False
    return True
