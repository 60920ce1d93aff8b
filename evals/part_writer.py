"""Writing finished completions on a thread, so the engine loop never waits for the disk.

One writer thread per generation call writes parts in the order they were handed over; the
engine keeps stepping meanwhile. Leaving the ``with`` block waits for the last part, also when
generation failed, so a run killed or interrupted later loses no more than before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

from evals.records import Completion


class PartSink(Protocol):
    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None: ...


_Part = tuple[str, str, Sequence[Completion]]


class PartWriter:
    """A ``PartSink`` that hands each part to a writer thread; a write error surfaces on the next call."""

    def __init__(self, store: PartSink) -> None:
        self._store = store
        self._parts: queue.Queue[_Part | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="part-writer", daemon=True)
        self._thread.start()

    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None:
        self._raise_if_failed()
        self._parts.put((model, task, completions))
        return None  # written later; the path is not known yet

    def _drain(self) -> None:
        while (part := self._parts.get()) is not None:
            if self._error is None:  # after a failure the rest is dropped: the run stops on it
                try:
                    self._store.write_part(*part)
                except BaseException as error:  # handed to the engine's thread, which reports it
                    self._error = error

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._parts.put(None)
        self._thread.join()
        if kind is None:
            self._raise_if_failed()
