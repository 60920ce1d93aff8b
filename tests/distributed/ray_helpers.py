"""Helpers for the Ray tests: suites on the tiny model, reading a run directory, waiting."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
import yaml


class JobsCluster(NamedTuple):
    """A running head node's Jobs API and the environment its clients need (the auth token)."""

    address: str
    env: dict[str, str]


KEY = ["model", "task", "item_id", "sample_idx"]
VENV_BIN = Path(sys.executable).parent


def write_suite(
    path: Path, model: Path, *, limit: int, max_tokens: int, samples: int = 1, temperature: float = 0.0,
    engine: dict[str, Any] | None = None, name: str = "ray-test",
) -> Path:  # fmt: skip
    """A one-model suite on the generated arith-easy task; 1 GiB of KV cache per engine."""
    suite = {
        "name": name,
        "models": [{
            "model": str(model),
            "generation": {"samples": samples, "temperature": temperature, "max_tokens": max_tokens},
            "engine": {"kv_cache_gib": 1, **(engine or {})},
        }],
        "tasks": ["arith-easy"],
        "limit": limit,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(suite), encoding="utf-8")
    return path


def stored_parts(run_dir: Path) -> pd.DataFrame:
    """Every row of every part file, duplicates included."""
    parts = sorted(run_dir.glob("parts/*/*/part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame()


def shard_events(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "shards.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def expected_keys(model_label: str, limit: int, samples: int) -> set[tuple[str, str, str, int]]:
    from evals.tasks import load_task

    items = load_task("arith-easy", limit=limit, seed=0).items
    return {(model_label, "arith-easy", item.item_id, s) for item in items for s in range(samples)}


def wait_for(predicate: Any, process: subprocess.Popen[bytes] | None, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"the run ended before {what}: {stderr[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env() -> dict[str, str]:
    """The environment of a CLI run: this venv first on PATH, 1 GiB KV cache per engine."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "VLLM_CPU_KVCACHE_SPACE": "1"}  # fmt: skip
