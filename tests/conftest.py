"""Fixtures shared by every test module: paths, the tiny model, running the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from evals.run_records import Manifest, load_manifest

REPO_ROOT = Path(__file__).resolve().parents[1]
# A few dozen items per benchmark, shipped with the tests (sources and licences in its README).
FIXTURE_DATA = REPO_ROOT / "tests" / "fixtures" / "data"
# Full benchmark data for the tests marked ``fulldata`` (``.ci/run`` points it at ../shared/data).
# Taken out of the environment so every other test runs the same with or without it.
_FULL_DATA_ENV = os.environ.pop("EVALS_DATA_DIR", "")
FULL_DATA = Path(_FULL_DATA_ENV).resolve() if _FULL_DATA_ENV else None


@pytest.fixture(scope="session")
def fixture_data() -> Path:
    """The benchmark fixtures in the DIR/<task>/test.jsonl layout."""
    return FIXTURE_DATA


@pytest.fixture(scope="session")
def full_data() -> Path:
    """The full benchmark test splits named by EVALS_DATA_DIR (tests marked ``fulldata``)."""
    if FULL_DATA is None or not FULL_DATA.is_dir():
        pytest.fail(f"EVALS_DATA_DIR={_FULL_DATA_ENV!r} is not a folder")
    return FULL_DATA


@dataclass(frozen=True)
class BenchmarkData:
    """A DIR/<task>/test.jsonl folder: the shipped fixtures, or the full splits (``full``)."""

    path: Path
    full: bool


@pytest.fixture(
    scope="session",
    params=[pytest.param(False, id="fixtures"), pytest.param(True, id="full", marks=pytest.mark.fulldata)],
)
def benchmark_data(request: pytest.FixtureRequest) -> BenchmarkData:
    """Each test using it runs on the fixtures, and on the full data when EVALS_DATA_DIR is set."""
    if request.param:
        return BenchmarkData(request.getfixturevalue("full_data"), full=True)
    return BenchmarkData(FIXTURE_DATA, full=False)


SKIP_WITHOUT_FULL_DATA = pytest.mark.skip(
    reason="needs the full benchmark data: set EVALS_DATA_DIR=DIR (DIR/<task>/test.jsonl, see 'evals data pull')"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``fulldata`` tests (marked, or asking for ``full_data``) skip, one line per file, without data."""
    for item in items:
        if "full_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.fulldata)
        if FULL_DATA is None and item.get_closest_marker("fulldata") is not None:
            item.add_marker(SKIP_WITHOUT_FULL_DATA)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama with a locally trained tokenizer: fast real vLLM runs."""
    from evals.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-llama", seed=0)


def run_cli(
    args: Sequence[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run ``evals ARGS`` as a user would: a separate process, the installed entry point."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "evals.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def kill_once_stored(
    args: Sequence[str], cwd: Path, parts: Path, pattern: str, env: dict[str, str] | None = None
) -> None:
    """Start ``evals ARGS``; SIGKILL it as soon as a file matching ``parts/pattern`` exists (a crash).

    ``env`` should set a small EVALS_FLUSH_SECONDS so that the kill lands between writes.
    """
    command = [sys.executable, "-m", "evals.cli", *args]
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while not list(parts.glob(pattern)):
        assert process.poll() is None, f"run ended before its first {pattern} was written"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def run_manifest(config_hash: str, created: str = "now") -> Manifest:
    """A complete manifest (the v1-replay fixture's) with another config hash and creation time."""
    data = json.loads((REPO_ROOT / "tests/fixtures/runs/v1-replay/manifest.json").read_text(encoding="utf-8"))
    return load_manifest({**data, "config_hash": config_hash, "created": created}, "test manifest")
