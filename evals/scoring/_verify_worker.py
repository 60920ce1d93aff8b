"""The process side of math-verify checks: a warm template process and its workers.

``python -m evals.scoring._verify_worker FD`` starts the template ("zygote"): it
imports math-verify, runs a few checks that load the code paths answers need
(LaTeX grammar, simplify, sets, matrices), says it is ready, then forks one worker
per socket the parent sends it. Forked workers start warm in milliseconds, so
replacing one killed at its time limit is cheap. Only these processes import
math-verify.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from functools import lru_cache
from multiprocessing.connection import Connection
from typing import Any

from math_verify import parse, verify

# A verifier that tries to build 9^(9^(9^9)) fails its allocation instead of the machine.
MEMORY_LIMIT_BYTES = 4 * 1024**3
PID_BYTES = 8
# Checks that load the heavy code paths (simplify, intervals, sets) once, in the template,
# so forked workers share them; more pairs cost more start-up than they save.
WARM_UP_PAIRS = (
    ("x^2+2x+1", "(x+1)^2"),
    ("(1,2)", "(3,4)"),
    ("\\{1,2\\}", "\\{2,1\\}"),
)

# We pass timeouts of None (signals do not work off the main thread) and enforce the
# limit by killing the process; math-verify's warning about that is expected.
logging.getLogger("math_verify").setLevel(logging.ERROR)


@lru_cache(maxsize=4096)
def _parsed_gold(gold: str) -> list[Any]:
    return list(parse(f"${gold}$", parsing_timeout=None))


def math_verify_equivalent(pred: str, gold: str) -> bool:
    """math-verify's judgement, called as its README recommends but without timeouts."""
    answer = parse(f"${pred}$", parsing_timeout=None)
    return bool(verify(_parsed_gold(gold), answer, timeout_seconds=None))


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (the template) dies.

    Otherwise a worker busy with 9^(9^(9^9)) would outlive the run.
    """
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: an idle orphan still exits at its next read from the socket


def _limit_memory() -> None:
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > MEMORY_LIMIT_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, hard))
    except (ImportError, ValueError, OSError):
        pass  # no limit on this platform: the time limit still ends runaway checks


def serve(conn: Connection) -> None:
    """Answer ``(job_id, pred, gold)`` with ``(job_id, equal, error)``.

    Stops when the parent sends None or closes the connection.
    """
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        job_id, pred, gold = job
        try:
            conn.send((job_id, math_verify_equivalent(pred, gold), None))
        except Exception as error:  # a verifier bug must not take the worker down
            conn.send((job_id, None, f"{type(error).__name__}: {str(error)[:200]}"))


def _fork_worker(fd: int, template: socket.socket) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            template.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _die_with_parent()
            _limit_memory()
            serve(Connection(fd))
        finally:
            os._exit(0)
    os.close(fd)
    return pid


def run_template(sock: socket.socket) -> None:
    """Warm up, report ready (pid 0), then fork one worker per socket received.

    Each fork is answered with the worker's pid; exits when the parent closes ``sock``.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished workers
    for pred, gold in WARM_UP_PAIRS:
        math_verify_equivalent(pred, gold)
    sock.sendall((0).to_bytes(PID_BYTES, "big"))
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 16, 1)
        except OSError:
            return
        if not message:
            return
        for fd in fds:
            sock.sendall(_fork_worker(fd, sock).to_bytes(PID_BYTES, "big"))


if __name__ == "__main__":
    run_template(socket.socket(fileno=int(sys.argv[1])))
