"""Models behind an OpenAI-compatible server: what the plan records instead of local weights.

For ``backend: openai`` the model is a name the server knows (``deepseek-reasoner``, or
the path ``vllm serve`` was started with), so nothing is resolved or hashed here; the
run records where the model was served and under which name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from evals.generation.http_retry import display_url
from evals.generation.registry import backend_named
from evals.net import is_loopback
from evals.suite import ModelEntrySpec, ServerSpec


@dataclass(frozen=True)
class ServedModel:
    """A model reached through a server: the same fields the plan reads from a ``ResolvedModel``.

    ``path_or_id`` names model and server together, so that entries naming the same
    model on two servers never share a backend.
    """

    ref: str
    model_name: str
    base_url: str
    kind: Literal["api"] = "api"
    weights_sha256: None = None
    reasoning: bool = False
    has_chat_template: None = None
    available: bool = True

    @property
    def path_or_id(self) -> str:
        return f"{self.model_name} @ {display_url(self.base_url)}"

    @property
    def source(self) -> str:
        return f"OpenAI-compatible server at {display_url(self.base_url)}"


def served_model(entry: ModelEntrySpec) -> ServedModel:
    server = _server(entry)
    return ServedModel(ref=entry.model, model_name=server.model_name or entry.model, base_url=server.base_url)


def server_field_problems(entry: ModelEntrySpec) -> list[tuple[tuple[str, ...], str]]:
    """What is wrong with a served entry's server: (field path in the entry, problem); never the key."""
    server = _server(entry)
    problems: list[tuple[tuple[str, ...], str]] = []
    url = ("server", "base_url")
    parts = urlsplit(server.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append((url, f"{server.base_url!r} is not an http(s) URL"))
    elif parts.username or parts.password:
        problems.append((url, "holds user info; put the key in the variable named by api_key_env"))
    else:
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError:
            problems.append((url, f"{server.base_url!r} has an invalid port"))
    if server.api_key_env is not None and not os.environ.get(server.api_key_env):
        problems.append((("server", "api_key_env"), f"environment variable {server.api_key_env} is not set"))
    return problems


def api_price_key(entry: ModelEntrySpec, hardware_declared: bool) -> str | None:
    """The price-table key when ``entry`` is priced by tokens; None when by hardware time.

    Token-priced: an entry with ``server.price``, or a server elsewhere (an API) unless
    the suite declares the hardware it runs on. A server on this machine with no price
    key is ours (``vllm serve`` here) and costs this machine's time, like offline vLLM.
    """
    server = entry.server
    if server is None or not backend_named(entry.backend).token_priced:
        return None
    if server.price is not None:
        return server.price
    if is_loopback(server.base_url) or hardware_declared:
        return None
    return server.model_name or entry.model


def _server(entry: ModelEntrySpec) -> ServerSpec:
    if entry.server is None:  # the suite validator requires a server for backend openai
        raise ValueError(f"model entry {entry.label!r} has no server")
    return entry.server
