"""Fixtures of the report tests: synthetic run directories under the test's tmp_path."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import RunWriter, write_run


@pytest.fixture
def make_run(tmp_path: Path) -> RunWriter:
    """``make_run(name, rows, **options)``: a run directory under the test's tmp_path."""

    def make(name: str, rows: Iterable[Mapping[str, Any]], **options: Any) -> Path:
        return write_run(tmp_path / "runs" / name, rows, **options)

    return make
