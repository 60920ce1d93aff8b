"""Progress of a distributed run: items per model x task, shards in flight, per worker.

On a terminal: one bar per model x task and a status line. Otherwise (a submitted
job's log): a plain ``evals progress:`` line every few seconds, which
``evals status`` shows. The shard log (``RUN/shards.jsonl``) records which worker
on which node produced or failed each shard.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.distributed.shards import Shard, WorkerIdentity

PROGRESS_PREFIX = "evals progress:"
LOG_EVERY_S = 10.0


@dataclass
class TaskCount:
    total: int
    done: int


@dataclass
class WorkerCount:
    identity: WorkerIdentity
    shards_done: int = 0
    busy: bool = False
    alive: bool = True


@dataclass
class RunProgress:
    """Counts items and shards; draws bars on a terminal, prints lines elsewhere."""

    quiet: bool
    tasks: dict[tuple[str, str], TaskCount] = field(default_factory=dict)
    workers: dict[str, WorkerCount] = field(default_factory=dict)
    shards_total: int = 0
    shards_done: int = 0
    shards_failed: int = 0
    _bars: dict[tuple[str, str], Any] = field(default_factory=dict)
    _status: Any = None
    _last_line: float = 0.0

    def __post_init__(self) -> None:
        self._terminal = sys.stderr.isatty() and not self.quiet

    def add_task(self, model: str, task: str, total_items: int, done_items: int) -> None:
        self.tasks[(model, task)] = TaskCount(total_items, done_items)
        if self._terminal:
            bar = tqdm(total=total_items, initial=done_items, desc=f"{model} / {task}", unit="item",
                       file=sys.stderr, position=len(self._bars))  # fmt: skip
            self._bars[(model, task)] = bar

    def worker_ready(self, identity: WorkerIdentity) -> None:
        self.workers[identity.worker_id] = WorkerCount(identity)
        self.refresh()

    def worker_gone(self, worker_id: str) -> None:
        if worker_id in self.workers:
            self.workers[worker_id].alive = False
            self.workers[worker_id].busy = False

    def shard_started(self, worker_id: str) -> None:
        if worker_id in self.workers:
            self.workers[worker_id].busy = True

    def shard_finished(self, shard: Shard, worker_id: str | None, failed: bool) -> None:
        count = self.tasks[(shard.model, shard.task)]
        count.done += shard.generated_items
        self.shards_done += 1
        self.shards_failed += int(failed)
        if worker_id in self.workers:
            self.workers[worker_id].busy = False
            self.workers[worker_id].shards_done += 1
        if (shard.model, shard.task) in self._bars:
            self._bars[(shard.model, shard.task)].update(shard.generated_items)
        self.refresh()

    def shard_released(self, worker_id: str) -> None:
        if worker_id in self.workers:
            self.workers[worker_id].busy = False

    def status_line(self) -> str:
        in_flight = sum(w.busy for w in self.workers.values())
        tasks = ", ".join(f"{m}/{t} {c.done}/{c.total} items" for (m, t), c in self.tasks.items())
        workers = " ".join(
            f"{w.identity.short}:{'busy' if w.busy else 'idle' if w.alive else 'gone'},{w.shards_done}"
            for w in self.workers.values()
        )
        failed = f" ({self.shards_failed} failed)" if self.shards_failed else ""
        idle = "none" if self.shards_done >= self.shards_total else "starting"
        return (f"shards {self.shards_done}/{self.shards_total} done{failed}, {in_flight} in flight | "
                f"{tasks} | workers {workers or idle}")  # fmt: skip

    def refresh(self, force: bool = False) -> None:
        if self.quiet:
            return
        if self._terminal:
            if self._status is None:
                self._status = tqdm(total=0, bar_format="{desc}", file=sys.stderr, position=len(self._bars))
            self._status.set_description_str(self.status_line())
            return
        now = time.monotonic()
        if force or now - self._last_line >= LOG_EVERY_S:
            self._last_line = now
            print(f"{PROGRESS_PREFIX} {self.status_line()}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.refresh(force=True)
        for bar in [*self._bars.values(), self._status]:
            if bar is not None:
                bar.close()


class ShardLog:
    """Appends one JSON line per shard event to ``RUN/shards.jsonl`` (then ``saved(path)``)."""

    def __init__(self, path: Path, saved: Callable[[Path], None] | None = None) -> None:
        self.path = path
        self._saved = saved

    def record(self, event: str, shard: Shard | None, worker: WorkerIdentity | None, **extra: Any) -> None:
        now = time.time()
        row: dict[str, Any] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)),
                               "t": round(now, 3), "event": event}  # fmt: skip
        if shard is not None:
            row.update(shard=shard.shard_id, model=shard.model, task=shard.task, attempt=shard.attempts + 1)
            row.update(items=len(shard.item_ids), samples=len(shard.requests), first_item=shard.item_ids[0])
            if shard.probes or shard.probe_spec is not None:
                row.update(stored_probes=len(shard.probes))
        if worker is not None:
            row.update(worker=worker.worker_id, node=worker.node_id, host=worker.host, pid=worker.pid)
        row.update(extra)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        if self._saved is not None:
            self._saved(self.path)
