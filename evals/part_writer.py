"""Stores finished completions (and budget probes) from a thread of its own.

The local engine loop and the Ray driver's dispatch loop both hand results over and go on;
the writer stores whatever queued up meanwhile as one part per model x task, samples before
probes. Neither loop then waits for a part's fsync, and at hundreds of shards a second the
driver does not leave a file per shard. A run killed mid-way loses at most what was queued,
which a rerun generates again (only stored parts count as done).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from evals.probes import ProbeCompletion, write_probe_part
from evals.records import Completion
from evals.store import RunStore

# Results queued before ``put`` waits for the writer: bounds the driver's memory.
MAX_QUEUED = 256

# Model label, task, completions, probes (of those completions or of stored samples).
Finished = tuple[str, str, Sequence[Completion], Sequence[ProbeCompletion]]


class PartWriter:
    """``put`` returns at once; ``close`` stores everything put, then raises a write error if any."""

    def __init__(self, store: RunStore, max_queued: int = MAX_QUEUED) -> None:
        self._store = store
        self._queue: queue.Queue[Finished | None] = queue.Queue(max_queued)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="evals-part-writer", daemon=True)
        self._thread.start()

    def put(
        self, model: str, task: str, completions: Sequence[Completion], probes: Sequence[ProbeCompletion] = ()
    ) -> None:
        if self._error is not None:
            raise self._error
        if completions or probes:
            self._queue.put((model, task, completions, probes))

    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None:
        """``put`` under the store's name, so the engine loop can write through the writer."""
        self.put(model, task, completions)
        return None  # written later; the path is not known yet

    def flush(self) -> None:
        """Wait until everything put so far is stored (adaptive rounds read the store next)."""
        self._queue.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Store everything handed over, also when generation failed; a write error only if none did."""
        try:
            self.close()
        except BaseException:
            if kind is None:
                raise

    def _run(self) -> None:
        closed = False
        while not closed:
            batch = [self._queue.get()]
            while len(batch) < self._queue.maxsize:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closed = None in batch
            if self._error is None:  # after a failed write: drain, so ``put`` never blocks for good
                self._write([entry for entry in batch if entry is not None])
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: list[Finished]) -> None:
        by_task: dict[tuple[str, str], list[Completion]] = {}
        probes: list[ProbeCompletion] = []
        for model, task, completions, answers in batch:
            by_task.setdefault((model, task), []).extend(completions)
            probes += answers
        try:
            for (model, task), completions in by_task.items():
                if completions:
                    self._store.write_part(model, task, completions)
            if probes:  # after their samples: a kill in between leaves samples to probe on resume
                write_probe_part(self._store, probes)
        except BaseException as error:  # raised in the driver's thread by the next put or close
            self._error = error
