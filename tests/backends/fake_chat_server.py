"""A scripted OpenAI-compatible chat server (stdlib ``http.server`` in a thread, on 127.0.0.1).

Each test decides, per request, what the server answers: a normal reply, an error
status with headers, a truncated body, a dropped connection or no answer at all.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0  # wait this long before answering (a hung server)
    drop: bool = False  # close the connection without answering
    truncate: bool = False  # send only the first half of the body (Content-Length says so)
    cut_off: bool = False  # declare the whole body, send half of it, close the connection


@dataclass(frozen=True)
class Seen:
    """One request as the server received it; ``attempt`` counts requests for the same messages."""

    payload: dict[str, Any]
    authorization: str | None
    attempt: int

    @property
    def question(self) -> str:
        return str(self.payload["messages"][-1]["content"])


Script = Callable[[Seen], Reply]


def chat_body(
    contents: Sequence[str],
    *,
    prompt_tokens: int = 10,
    completion_tokens: int | None = None,
    finish_reason: str = "stop",
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    usage: bool = True,
) -> bytes:
    """A chat.completion body with one choice per content."""
    choices = []
    for index, content in enumerate(contents):
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if reasoning is not None:
            message[reasoning_field] = reasoning
        choices.append({"index": index, "message": message, "finish_reason": finish_reason})
    body: dict[str, Any] = {"id": "chatcmpl-test", "object": "chat.completion", "choices": choices}
    if usage:
        completion = completion_tokens if completion_tokens is not None else 5 * len(contents)
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion,
                         "total_tokens": prompt_tokens + completion}  # fmt: skip
    return json.dumps(body).encode()


def ok(seen: Seen) -> Reply:
    """Answer every choice asked for with "The answer is 7.", 10 prompt and 5 tokens per choice."""
    n = int(seen.payload.get("n", 1))
    return Reply(body=chat_body(["The answer is 7."] * n))


class FakeChatServer:
    """Answers POST /v1/chat/completions as ``script`` says; records every request."""

    def __init__(self, script: Script = ok) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self.in_flight = 0  # requests being handled now
        self.peak_in_flight = 0  # the most handled at once: the client's bound, seen from here
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop listening: later connections are refused; hung handlers are released."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, payload: dict[str, Any], authorization: str | None) -> Seen:
        with self._lock:
            question = json.dumps(payload.get("messages"))
            self._attempts[question] += 1
            seen = Seen(payload, authorization, self._attempts[question])
            self.seen.append(seen)
        return seen

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet: tests read ``seen`` instead."""

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                if server._release.is_set():  # stopped: a kept-alive connection dies too
                    self.close_connection = True
                    return
                payload = json.loads(self.rfile.read(length))
                with server._lock:
                    server.in_flight += 1
                    server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
                try:
                    reply = server.script(server._record(payload, self.headers.get("Authorization")))
                    if reply.hang_s:
                        server._release.wait(reply.hang_s)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                half = reply.body[: len(reply.body) // 2]
                body = half if reply.truncate or reply.cut_off else reply.body
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body if reply.cut_off else body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                    if reply.cut_off:
                        self.wfile.flush()
                        self.close_connection = True
                except OSError:
                    self.close_connection = True  # the client gave up (timed out) first

        return Handler
