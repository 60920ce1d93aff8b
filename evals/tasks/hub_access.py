"""Fail fast without Hub access: the Hub clients retry for about 25 s when offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 3.0


def hub_reachable(timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the Hub's host opens within ``timeout_s``."""
    from huggingface_hub import constants

    parts = urlsplit(constants.ENDPOINT)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


@contextmanager
def hub_or_cache() -> Iterator[None]:
    """Within this block, load from the Hub when it answers, else only from the local cache.

    Offline mode is what ``HF_HUB_OFFLINE=1`` sets: cached datasets still load, and a
    missing one fails at once instead of after the clients' retries.
    """
    import datasets.config
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or datasets.config.HF_HUB_OFFLINE or hub_reachable():
        yield
        return
    saved = (datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE)
    datasets.config.HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        datasets.config.HF_HUB_OFFLINE, constants.HF_HUB_OFFLINE = saved
