"""Write a report directory as a whole: build it beside the target, then rename it into place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evals.errors import EvalsError
from evals.report.leaderboard import GENERATOR

MARKER = "leaderboard.json"


def is_report_dir(path: Path) -> bool:
    """True when ``path`` holds a report written by ``evals report``."""
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("generator") == GENERATOR


def replace_dir(target: Path, fill: Callable[[Path], None]) -> None:
    """Call ``fill(tmp)`` on a fresh directory beside ``target``, then rename it to ``target``.

    Readers see the old directory or the complete new one, never a half-written one
    (between the two renames there is an instant with neither). An existing
    ``target`` is replaced only if it is empty or an earlier report, so a typo in
    ``--out`` cannot delete unrelated files.
    """
    target = Path(os.path.abspath(target))
    if target.exists() or target.is_symlink():
        if not target.is_dir() or target.is_symlink():
            raise EvalsError(f"{target} exists and is not a directory")
        if any(target.iterdir()) and not is_report_dir(target):
            raise EvalsError(f"refusing to replace {target}: it is not empty and holds no evals report")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        fill(staging)
        staging.chmod(0o755)  # mkdtemp makes it private; a report is meant to be read
        _swap(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}-{time.time_ns()}"
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """UTF-8 text; an unpaired surrogate from a model output becomes U+FFFD, not a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="replace")
