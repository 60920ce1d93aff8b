"""The engine's output goes to engine.log; evals' own progress to the terminal (issue 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals.engine_log import engine_output_to
from evals.errors import EvalsError

# Run in a fresh interpreter: pytest replaces sys.stderr and records warnings itself.
SCRIPT = """
import os, sys, warnings
from pathlib import Path
from evals.engine_log import engine_output_to
with engine_output_to(Path(sys.argv[1])) as terminal:
    os.write(2, b"[W1201 utils.cpp:68] Warning: NUMA binding\\n")  # C++ writes to the descriptor
    print("WARNING 12-01 [arg_utils.py:1945] The global random seed is set to 0.", file=sys.stderr)
    warnings.warn("`torch.distributed.reduce_op` is deprecated", FutureWarning)
    terminal.write("arith-easy: 50%\\n")
print("after the engine", file=sys.stderr)
"""


def test_library_output_goes_to_the_log_and_progress_to_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "run" / "engine.log"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True, check=True
    )
    assert done.stderr == "arith-easy: 50%\nafter the engine\n"
    text = log.read_text()
    for line in ("NUMA binding", "The global random seed", "FutureWarning"):
        assert line in text


def test_an_error_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / "engine.log"
    expected = r"^could not start vLLM for m: boom \(engine log: .*engine.log\)$"
    with pytest.raises(EvalsError, match=expected), engine_output_to(log):
        raise EvalsError("could not start vLLM for m: boom")


def test_no_path_redirects_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with engine_output_to(None) as terminal:
        print("shown", file=sys.stderr)
        assert terminal is sys.stderr
    assert capfd.readouterr().err == "shown\n"
