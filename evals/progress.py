"""Progress bars on stderr, one per model x task; silent with --quiet.

The time left is estimated from tokens, not from finished samples: a batched
engine works on every sample at once and finishes few of them early, so a rate
of finished samples is far too slow at first (issue 10: an estimate of 1:39:12
after 5 minutes, for a step that ended 9 minutes later). Tokens flow at a steady
rate from the first step.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm


def seconds_left(
    elapsed: float, remaining: int, finished: int, finished_tokens: int, in_flight_tokens: int
) -> float | None:
    """Seconds until ``remaining`` samples are done, at the token rate seen so far.

    Each remaining sample is expected to be as long as the ``finished`` ones were
    on average; the tokens already generated for unfinished ones count as done.
    None until a sample has finished (no length to expect yet).
    """
    generated = finished_tokens + in_flight_tokens
    if finished <= 0 or generated <= 0 or elapsed <= 0:
        return None
    to_generate = max(0.0, remaining * finished_tokens / finished - in_flight_tokens)
    return to_generate / (generated / elapsed)


class _TokenPacedBar(tqdm):
    """A tqdm bar whose rate (and so its time left) comes from :func:`seconds_left`."""

    finished = 0
    finished_tokens = 0
    in_flight_tokens = 0

    @property
    def format_dict(self) -> dict[str, Any]:
        values = dict(super().format_dict)
        total = values.get("total")
        if total:
            remaining = total - values["n"]
            left = seconds_left(
                values["elapsed"], remaining, self.finished, self.finished_tokens, self.in_flight_tokens
            )
            # tqdm shows (total - n) / rate as the time left; 0 shows "?" (not known yet).
            values["rate"] = remaining / left if left else (0.0 if left is None else None)
        return values


class TaskProgress:
    """A bar counting generated samples of one model x task, starting at what was stored."""

    def __init__(
        self,
        label: str,
        total: int,
        done: int,
        quiet: bool,
        position: int = 0,
        stream: TextIO | None = None,
    ) -> None:
        self._bar = _TokenPacedBar(
            total=total,
            initial=done,
            desc=label,
            unit="sample",
            disable=quiet,
            file=stream or sys.stderr,
            dynamic_ncols=True,
            position=position,
            leave=True,
        )
        self._shown = 0.0

    def update(self, count: int, tokens: int = 0) -> None:
        """``count`` more samples finished, with ``tokens`` completion tokens between them."""
        self._bar.finished += count
        self._bar.finished_tokens += tokens
        self._bar.update(count)

    def in_flight(self, tokens: int) -> None:
        """Tokens generated so far by this task's unfinished samples (redrawn at most once a second)."""
        self._bar.in_flight_tokens = tokens
        now = time.monotonic()
        if now - self._shown >= 1.0:
            self._shown = now
            self._bar.refresh()

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> TaskProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._bar.close()
