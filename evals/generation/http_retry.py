"""When and how long to wait before retrying an HTTP request, and what to say when it fails.

Pure functions, so the rules are testable without a server: which answers are worth
another attempt (429, 408, 5xx, no answer at all), which end the run (a rejected key,
an unknown model), backoff with jitter, ``Retry-After``, and one-line error text with
secrets removed.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# 408 request timeout, 409 conflict (some gateways), 425 too early, 429 rate limited.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 425, 429})
# Answers that no other item would get differently: a rejected key or an unknown model/path.
FATAL_STATUSES = frozenset({401, 403, 404})
ERROR_CHARS = 300


@dataclass(frozen=True)
class RetryPolicy:
    """Retries after the first attempt, and the backoff between them.

    The n-th retry waits ``min(max_delay_s, base_delay_s * 2**n)``, of which a random
    half is jitter, so that many clients throttled at once do not return in step.
    A server's ``Retry-After`` replaces that wait (up to ``max_retry_after_s``).
    """

    max_retries: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 300.0


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_CLIENT_STATUSES or 500 <= status <= 599


def backoff_seconds(policy: RetryPolicy, retry: int, rng: random.Random, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``retry`` (0-based)."""
    if retry_after is not None:
        # Small jitter on top, so clients told the same instant do not arrive together.
        return min(retry_after, policy.max_retry_after_s) + rng.uniform(0.0, 0.1 * policy.base_delay_s)
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2.0**retry)
    return ceiling / 2.0 + rng.uniform(0.0, ceiling / 2.0)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and any Bearer token) replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def one_line(text: str, secrets: Iterable[str] = (), limit: int = ERROR_CHARS) -> str:
    """Whitespace collapsed, secrets removed, cut to ``limit`` characters."""
    line = " ".join(redact(text, secrets).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def server_message(body: bytes) -> str:
    """The human part of an error body: OpenAI's ``{"error": {"message": ...}}`` and kin, else the text."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict):
            message = error.get("message") or error.get("detail")
            if isinstance(message, str):
                return message
        if isinstance(error, str):
            return error
        detail = data.get("detail") or data.get("message")
        if isinstance(detail, str):
            return detail
    return text


def display_url(url: str) -> str:
    """``url`` without user info or query, which may hold credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
