"""A real vLLM run shows the user only its progress and results; the engine's log is kept (issue 10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.vllm


def test_engine_warnings_go_to_engine_log_not_the_terminal(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "3",
            "--max-tokens", "8", "--out", str(out)]  # fmt: skip
    done = run_cli(args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # source: issue 10, ~14 vLLM WARNING lines and Triton/FutureWarning lines on every run
    noise = [line for line in done.stderr.splitlines() if re.search(r"WARNING|Warning|Triton", line)]
    assert noise == []
    log = (out / "engine.log").read_text()
    assert len(log.splitlines()) > 1  # the header, then what the engine said
    assert "run directory:" in done.stdout
