"""Reasoning controls of a served model's requests, from the suite's ``generation:`` section.

``reasoning_effort`` and ``chat_template_kwargs`` are sent as body fields (vLLM and
SGLang read ``chat_template_kwargs``, e.g. ``{enable_thinking: true}`` for Qwen3);
``max_completion_tokens`` replaces ``max_tokens`` (reasoning APIs that refuse the
latter); ``extra_body`` is merged in verbatim, last, so it can set anything. A server
that refuses ``temperature`` gets requests without it (the backend decides when).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evals.suite import GenerationSpec


@dataclass(frozen=True)
class RequestControls:
    reasoning_effort: str | None = None
    max_completion_tokens: bool = False  # send the limit as max_completion_tokens
    chat_template_kwargs: Mapping[str, Any] | None = None
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, generation: GenerationSpec) -> RequestControls:
        return cls(
            reasoning_effort=generation.reasoning_effort,
            max_completion_tokens=generation.max_completion_tokens is not None,
            chat_template_kwargs=generation.chat_template_kwargs,
            extra_body=dict(generation.extra_body or {}),
        )


def with_controls(
    payload: dict[str, Any], controls: RequestControls, send_temperature: bool
) -> dict[str, Any]:
    """``payload`` with the controls applied (a new dict)."""
    body = dict(payload)
    if controls.max_completion_tokens and "max_tokens" in body:
        body["max_completion_tokens"] = body.pop("max_tokens")
    if controls.reasoning_effort is not None:
        body["reasoning_effort"] = controls.reasoning_effort
    if controls.chat_template_kwargs is not None:
        body["chat_template_kwargs"] = dict(controls.chat_template_kwargs)
    if not send_temperature:
        body.pop("temperature", None)
    body.update(controls.extra_body)
    return body


def refuses_temperature(status_message: str) -> bool:
    """A 400 whose message names ``temperature``: the server does not take that parameter."""
    return status_message.startswith("HTTP 400") and "temperature" in status_message.lower()


def sent_fields(payload: Mapping[str, Any]) -> list[str]:
    """The body fields of a request, for the manifest (not the messages' text)."""
    return sorted(key for key in payload if key != "messages")
