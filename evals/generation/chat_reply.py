"""Chat-completions requests and replies: what is sent for a group of samples, what comes back.

One HTTP request carries the samples of one item (``n`` choices, when the server
supports it). Usage is billed per request, so with ``n > 1`` it is split over the
choices such that the parts add up to what the server reported: prompt tokens evenly
(the prompt is processed and billed once for all choices), completion tokens by each
choice's own count when the server gives one (vLLM's ``token_ids``), else in
proportion to the length of each choice's text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evals.generation.base import GenerationRequest
from evals.records import Prompt

# Separate reasoning fields: DeepSeek's API says ``reasoning_content``, ``vllm serve`` ``reasoning``.
REASONING_FIELDS = ("reasoning_content", "reasoning")


class MalformedReply(ValueError):
    """The server answered 200 with a body that is not a chat completion (truncated JSON, say)."""


@dataclass(frozen=True)
class Choice:
    """One generated answer of a reply, with its share of the request's usage."""

    output: str
    reasoning: str | None
    finish_reason: str  # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int
    filtered: bool  # stopped by the provider's content filter


@dataclass(frozen=True)
class ChatReply:
    choices: tuple[Choice, ...]
    has_usage: bool


def prompt_transcript(prompt: Prompt) -> str:
    """The messages as sent, for the ``prompt`` column; the server applies its own template."""
    return "\n\n".join(f"[{message.role}]\n{message.content}" for message in prompt.messages)


def request_payload(model_name: str, requests: Sequence[GenerationRequest]) -> dict[str, Any]:
    """The chat-completions body for the samples of one item; ``seed`` is the first sample's."""
    first = requests[0]
    sampling = first.sampling
    payload: dict[str, Any] = {
        "model": model_name,
        "messages": [{"role": m.role, "content": m.content} for m in first.prompt.messages],
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "stream": False,
    }
    if len(requests) > 1:
        payload["n"] = len(requests)
    if sampling.seed is not None:
        payload["seed"] = sampling.seed
    return payload


def parse_reply(body: bytes, expected_choices: int, max_tokens: int | None = None) -> ChatReply:
    """Choices in index order with usage split over them; raises MalformedReply."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        reason = f"{type(error).__name__}, {len(body)} bytes"
        raise MalformedReply(f"malformed reply (not JSON: {reason})") from None
    raw = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):
        raise MalformedReply("malformed reply (no choices)")
    if len(raw) != expected_choices:
        return ChatReply((), has_usage=False)  # the caller treats a wrong count as "n unsupported"
    ordered = sorted(raw, key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
    texts = [_message_texts(choice) for choice in ordered]
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
    prompt_total = _count(usage, "prompt_tokens")
    completion_total = _count(usage, "completion_tokens")
    prompt_parts = split_count(prompt_total or 0, [1] * len(ordered))
    exact = [c.get("token_ids") for c in ordered]
    if all(isinstance(ids, list) for ids in exact):
        completion_parts = [len(ids) for ids in exact if isinstance(ids, list)]
    else:
        completion_parts = _completion_split(ordered, texts, completion_total or 0, max_tokens)
    choices = tuple(
        Choice(
            output=output,
            reasoning=reasoning,
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            prompt_tokens=prompt_part,
            completion_tokens=completion_part,
            filtered=choice.get("finish_reason") == "content_filter",
        )
        for choice, (output, reasoning), prompt_part, completion_part in zip(
            ordered, texts, prompt_parts, completion_parts, strict=True
        )
    )
    return ChatReply(choices, has_usage=prompt_total is not None and completion_total is not None)


def split_count(total: int, weights: Sequence[int]) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` (largest remainder)."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    exact = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts


def _completion_split(
    choices: Sequence[dict[str, Any]],
    texts: Sequence[tuple[str, str | None]],
    total: int,
    max_tokens: int | None,
) -> list[int]:
    """Choices cut off by ``max_tokens`` used exactly that many; the rest is shared by text length."""
    cut = [choice.get("finish_reason") == "length" for choice in choices]
    fixed = max_tokens * sum(cut) if max_tokens is not None else total + 1
    if fixed > total:  # cut off by the context window instead, or no limit known
        cut, fixed = [False] * len(choices), 0
    weights = [len(output) + len(reasoning or "") for output, reasoning in texts]
    shares = iter(split_count(total - fixed, [w for w, c in zip(weights, cut, strict=True) if not c]))
    return [max_tokens if c and max_tokens is not None else next(shares) for c in cut]


def _message_texts(choice: dict[str, Any]) -> tuple[str, str | None]:
    """(content, separate reasoning or None); ``<think>`` in content stays for scoring to split."""
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedReply("malformed reply (a choice has no message)")
    content = message.get("content")
    output = content if isinstance(content, str) else ""
    for field in REASONING_FIELDS:
        value = message.get(field)
        if isinstance(value, str) and value:
            return output, value
    return output, None


def _count(usage: dict[str, Any] | None, field: str) -> int | None:
    value = usage.get(field) if usage else None
    return value if isinstance(value, int) and value >= 0 else None
