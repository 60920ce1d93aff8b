"""One chat-completions request with retries, ending in a reply or a classified failure.

Failures come in three kinds: ``answered`` (the server answered with an error: a 400,
or a 5xx or malformed body that persisted through the retries), ``no_answer``
(connection refused or dropped, or no reply within the per-request timeout) and
``fatal`` (an answer no other request would get differently: 401/403, the key is
rejected; 404, unknown model or path), which stops the run at once.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from evals.generation.chat_reply import ChatReply, MalformedReply, parse_reply
from evals.generation.http_retry import (
    FATAL_STATUSES,
    RetryPolicy,
    backoff_seconds,
    is_retryable_status,
    one_line,
    retry_after_seconds,
    server_message,
)

FailureKind = Literal["answered", "no_answer", "fatal"]


@dataclass(frozen=True)
class RequestFailure:
    kind: FailureKind
    message: str  # one line, secrets removed
    attempts: int
    latency_s: float
    transient: bool = False  # retried until the retries ran out (no answer, 429, 5xx, bad body)


@dataclass(frozen=True)
class RequestSuccess:
    reply: ChatReply
    attempts: int
    latency_s: float  # from the first attempt to the reply, retries and waits included


@dataclass(frozen=True)
class _Attempt:
    """What one attempt gave: a reply, or a failure and how long the server asked us to wait."""

    reply: ChatReply | None = None
    kind: FailureKind = "answered"
    message: str = ""
    retryable: bool = False
    retry_after: float | None = None


class ChatClient:
    """Posts chat-completions bodies to one server; the key only ever goes into a header."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        api_key: str | None,
        timeout_s: float,
        policy: RetryPolicy,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._secrets = (api_key,) if api_key else ()
        self._timeout_s = timeout_s
        self._policy = policy
        self._rng = rng or random.Random()

    async def complete(self, payload: dict[str, Any], choices: int) -> RequestSuccess | RequestFailure:
        """Send ``payload`` until it succeeds, fails for good, or the retries are spent."""
        started = time.perf_counter()
        attempts = 0
        while True:
            attempt = await self._attempt(payload, choices)
            attempts += 1
            if attempt.reply is not None:
                return RequestSuccess(attempt.reply, attempts, time.perf_counter() - started)
            if not attempt.retryable or attempts > self._policy.max_retries:
                message = attempt.message
                if attempt.retryable:
                    message = f"{message} (after {attempts} attempts)"
                latency = time.perf_counter() - started
                return RequestFailure(attempt.kind, message, attempts, latency, attempt.retryable)
            await asyncio.sleep(backoff_seconds(self._policy, attempts - 1, self._rng, attempt.retry_after))

    async def _attempt(self, payload: dict[str, Any], choices: int) -> _Attempt:
        try:
            # A total deadline: httpx's own timeouts are per read, and a server that
            # trickles bytes would never trip them.
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.post(self._url, json=payload, headers=self._headers)
        except TimeoutError:
            text = f"no answer within {self._timeout_s:g} s"
            return _Attempt(kind="no_answer", message=text, retryable=True)
        except httpx.TransportError as error:
            detail = one_line(str(error), self._secrets, 120) or "no details"
            text = f"no answer ({type(error).__name__}: {detail})"
            return _Attempt(kind="no_answer", message=text, retryable=True)
        return self._judge(response, choices, payload.get("max_tokens", payload.get("max_completion_tokens")))

    def _judge(self, response: httpx.Response, choices: int, max_tokens: int | None) -> _Attempt:
        status = response.status_code
        if status == 200:
            try:
                return _Attempt(reply=parse_reply(response.content, choices, max_tokens))
            except MalformedReply as error:
                return _Attempt(message=one_line(str(error), self._secrets), retryable=True)
        message = one_line(f"HTTP {status}: {server_message(response.content)}", self._secrets)
        if status in FATAL_STATUSES:
            return _Attempt(kind="fatal", message=message)
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        return _Attempt(message=message, retryable=is_retryable_status(status), retry_after=retry_after)
