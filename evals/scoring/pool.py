"""Worker processes that run math-verify with a hard per-check time limit.

math-verify's own timeout uses ``signal.alarm``, which works only in the main thread
and cannot interrupt a long C-level computation (``9**(9**(9**9))``). Here each
check runs in a worker process; one that overruns is killed and replaced, so the
limit holds in any thread, inside Ray workers, and against any input. The limit is
CPU seconds of the worker (where ``/proc`` tells them), so verdicts do not depend on
how busy the machine is, with a backstop of ``WALL_LIMIT_FACTOR`` limits of wall time.

Workers are forked from one warm template process (``python -m
evals.scoring._verify_worker``), started as a plain subprocess: unlike
multiprocessing's spawn/forkserver it never re-imports the caller's main script and
works from daemonic processes, and a replacement worker costs milliseconds.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import NamedTuple

_WORKER_MODULE = "evals.scoring._verify_worker"
_PID_BYTES = 8  # mirrors _verify_worker.PID_BYTES without importing math-verify here
# Starting the template (importing and warming math-verify) may take this long.
START_TIMEOUT_S = 120.0
_MAX_TEMPLATE_FAILURES = 3
# The limit counts the worker's CPU time, so a busy machine does not turn slow checks into
# timeouts; a check starved of CPU still ends after this many limits of wall time.
WALL_LIMIT_FACTOR = 3.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class CheckOutcome(NamedTuple):
    """What one check concluded: ``equal`` is None when it did not finish."""

    equal: bool | None
    timed_out: bool = False
    failure: str | None = None


@dataclass
class _Worker:
    pid: int
    conn: Connection
    job: int | None = None
    deadline: float = 0.0
    started: float = 0.0
    cpu_at_start: float | None = None


def _cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (Linux ``/proc``), or None where unavailable."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of the line; the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _read_exact(sock: socket.socket, size: int, timeout_s: float) -> bytes:
    """``size`` bytes from ``sock``; OSError when it closes or stays silent too long."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while len(data) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
            raise OSError(f"no answer within {timeout_s:.0f} s")
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the verifier template process exited")
        data += chunk
    return data


class _Template:
    """The warm process that forks workers."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        env = dict(os.environ)
        # The child must import this package even when the caller put it on sys.path.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        with child:
            self.process = subprocess.Popen(
                [sys.executable, "-m", _WORKER_MODULE, str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        self.sock = parent
        self.ready = False

    def wait_ready(self) -> None:
        if not self.ready:
            _read_exact(self.sock, _PID_BYTES, START_TIMEOUT_S)
            self.ready = True

    def fork(self) -> _Worker:
        parent, child = socket.socketpair()
        with child:
            socket.send_fds(self.sock, [b"F"], [child.fileno()])
        pid = int.from_bytes(_read_exact(self.sock, _PID_BYTES, START_TIMEOUT_S), "big")
        return _Worker(pid, Connection(parent.detach()))

    def close(self) -> None:
        # Nothing to flush: killing beats waiting for sympy's interpreter teardown. Its
        # idle workers exit on their closed sockets, busy ones by PR_SET_PDEATHSIG.
        self.sock.close()
        self.process.kill()
        self.process.wait()


class VerifierPool:
    """``size`` worker processes answering (pred, gold) math-verify checks."""

    def __init__(self, size: int, time_limit_s: float) -> None:
        if size < 1:
            raise ValueError("a verifier pool needs at least one worker")
        if time_limit_s <= 0:
            raise ValueError("the time limit must be positive")
        self.size = size
        self.time_limit_s = time_limit_s
        self.timeouts = 0
        self.restarts = 0
        self.longest_check_s = 0.0
        self._template: _Template | None = None
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._template_failures = 0

    def start(self) -> None:
        """Start the template process without waiting for it to be ready.

        A no-op while another thread is checking: the template is running then.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            if self._template is None:
                self._template = _Template()
        finally:
            self._lock.release()

    def check_many(self, jobs: Sequence[tuple[str, str]]) -> list[CheckOutcome]:
        """Check each (pred, gold) pair; results in the same order."""
        results: list[CheckOutcome | None] = [None] * len(jobs)
        with self._lock:
            while len(self._workers) < self.size:
                self._workers.append(self._fork())
            queue = deque(range(len(jobs)))
            while True:
                self._dispatch(queue, jobs)
                busy = [worker for worker in self._workers if worker.job is not None]
                if not busy:
                    break
                timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
                for conn in wait([worker.conn for worker in busy], timeout):
                    self._receive(next(w for w in busy if w.conn is conn), results)
                self._expire(results)
        return [outcome if outcome is not None else CheckOutcome(None) for outcome in results]

    def _fork(self) -> _Worker:
        """A new warm worker; restarts the template if it died."""
        while True:
            if self._template is None:
                self._template = _Template()
            try:
                self._template.wait_ready()
                return self._template.fork()
            except OSError as error:
                self._template.close()
                self._template = None
                self._template_failures += 1
                if self._template_failures >= _MAX_TEMPLATE_FAILURES:
                    raise RuntimeError(f"math-verify worker processes fail: {error}") from error

    def _dispatch(self, queue: deque[int], jobs: Sequence[tuple[str, str]]) -> None:
        for worker in list(self._workers):
            if queue and worker.job is None:
                index = queue.popleft()
                try:
                    worker.conn.send((index, *jobs[index]))
                except OSError:
                    queue.appendleft(index)  # it died while idle; the job goes elsewhere
                    self._replace(worker, kill=False)
                    continue
                worker.job = index
                worker.started = time.monotonic()
                worker.deadline = worker.started + self.time_limit_s
                worker.cpu_at_start = _cpu_seconds(worker.pid)

    def _receive(self, worker: _Worker, results: list[CheckOutcome | None]) -> None:
        assert worker.job is not None
        try:
            _, equal, error = worker.conn.recv()
        except (EOFError, OSError):
            results[worker.job] = CheckOutcome(None, failure="verifier process died")
            self._replace(worker, kill=False)
            return
        self.longest_check_s = max(self.longest_check_s, time.monotonic() - worker.started)
        results[worker.job] = CheckOutcome(equal, failure=error)
        worker.job = None

    def _expire(self, results: list[CheckOutcome | None]) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.job is None or now < worker.deadline:
                continue
            cpu_now = _cpu_seconds(worker.pid)
            wall = now - worker.started
            if cpu_now is not None and worker.cpu_at_start is not None:
                cpu = cpu_now - worker.cpu_at_start
                if cpu < self.time_limit_s and wall < self.time_limit_s * WALL_LIMIT_FACTOR:
                    worker.deadline = now + max(self.time_limit_s - cpu, 0.05)
                    continue  # starved of CPU by other processes, not slow itself
            self.timeouts += 1
            self.longest_check_s = max(self.longest_check_s, wall)
            results[worker.job] = CheckOutcome(None, timed_out=True)
            self._replace(worker, kill=True)

    def _replace(self, worker: _Worker, kill: bool) -> None:
        if kill:  # only a worker known to be alive: a dead one's pid may be reused
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        worker.conn.close()
        self.restarts += 1
        self._workers[self._workers.index(worker)] = self._fork()

    def close(self) -> None:
        """Stop the workers (they exit when their connection closes) and the template."""
        with self._lock:
            for worker in self._workers:
                worker.conn.close()
            self._workers = []
            if self._template is not None:
                self._template.close()
                self._template = None
