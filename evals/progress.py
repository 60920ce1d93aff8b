"""Progress bars on stderr, one per model x task; silent with --quiet."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from tqdm import tqdm


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
        self._bar = tqdm(
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

    def update(self, count: int) -> None:
        self._bar.update(count)

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
