"""The engine's own output goes to the run's ``engine.log``, not to the terminal.

vLLM, PyTorch and Triton write WARNING lines, FutureWarnings, C++ messages and
loading bars on every run; none asks the user to act. While an engine lives,
file descriptor 2 (so every library, C++ included) writes to ``engine.log`` in
the run directory, and evals' own progress bars write to the terminal through a
copy of the original descriptor. What the user must act on still reaches them:
a failure raises, and its one-line error names the log.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from evals.errors import EvalsError

ENGINE_LOG = "engine.log"


@contextlib.contextmanager
def engine_output_to(path: Path | None) -> Iterator[TextIO]:
    """Inside the block, stderr (descriptor 2) appends to ``path``; yields a stream to the terminal.

    ``path`` None redirects nothing and yields ``sys.stderr``. An EvalsError raised
    inside gets the log's path appended, so the user knows where the details are.
    """
    if path is None:
        yield sys.stderr
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- engine output, {time.strftime('%Y-%m-%d %H:%M:%S %z')} ---\n")
            log.flush()
            os.dup2(log.fileno(), 2)
            try:
                yield terminal
            except EvalsError as error:
                raise EvalsError(f"{error} (engine log: {path})") from error.__cause__
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
        terminal.close()
