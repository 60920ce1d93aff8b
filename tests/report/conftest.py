"""Fixtures of the report tests: synthetic run directories under the test's tmp_path.

Browser tests skip, with one line saying how to get it, where no Chromium is installed
(CI's ``.ci/run`` installs it, so they always run there).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import RunWriter, reasoning_rows, write_run

from evals.report import ReportPaths, build_report

NO_CHROMIUM = pytest.mark.skip(reason="no Chromium installed: apt-get install chromium (CI's .ci/run does)")


def chromium_installed() -> bool:
    return shutil.which("chromium") is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if chromium_installed():
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(NO_CHROMIUM)


@pytest.fixture
def make_run(tmp_path: Path) -> RunWriter:
    """``make_run(name, rows, **options)``: a run directory under the test's tmp_path."""

    def make(name: str, rows: Iterable[Mapping[str, Any]], **options: Any) -> Path:
        return write_run(tmp_path / "runs" / name, rows, **options)

    return make


@pytest.fixture(scope="session")
def reasoning_report(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    """source: issue 16, a reasoning model's page: 90 samples of 120 KB traces, ~11 MB of rows (built once)."""
    root = tmp_path_factory.mktemp("reasoning")
    return build_report([write_run(root / "run", reasoning_rows())], root / "site")
