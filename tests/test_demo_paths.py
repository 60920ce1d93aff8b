"""`make demo` leaves `git status` clean: everything it writes is ignored by git (issue 10)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _commands(target: str) -> list[str]:
    """The commands `make TARGET` would run, expanded by make itself (-n runs nothing)."""
    if shutil.which("make") is None or not (ROOT / ".git").exists():
        pytest.skip("needs make and a git checkout")
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if "evals " in line]


def _outputs(commands: list[str]) -> list[str]:
    return [m.group(1) for line in commands for m in re.finditer(r"--out\s+(\S+)", line)]


def _ignored(path: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", path]).returncode == 0


def test_every_path_the_demo_writes_is_ignored_by_git() -> None:
    outputs = _outputs(_commands("demo"))
    assert len(outputs) == 2  # the run and its report
    # source: issue 10, `make demo` rewrote the committed reports/default/ and dirtied `git status`
    assert [path for path in outputs if not _ignored(path)] == []
    assert not any(path.startswith("reports/") for path in outputs)


def test_the_committed_example_has_its_own_target() -> None:
    assert "reports/default" in _outputs(_commands("example-report"))
    assert not _ignored("reports/default/index.html")
