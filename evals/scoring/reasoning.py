"""Split ``<think>...</think>`` reasoning off a model output; reasoning is never scored."""

from __future__ import annotations

from typing import NamedTuple

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


class ReasoningSplit(NamedTuple):
    """Reasoning (None if none), the scorable answer, and whether a block was left open.

    An open block means the output stopped while still reasoning.
    """

    reasoning: str | None
    answer: str
    unclosed: bool


def split_reasoning(output: str, think_opened: bool = False) -> ReasoningSplit:
    """Separate reasoning from the answer.

    Text inside ``<think>...</think>`` is reasoning. A ``</think>`` with no opening
    tag before it means the chat template opened the block in the prompt (R1
    distills): everything before it is reasoning. ``think_opened`` says the prompt
    ended inside an open block; then an output without ``</think>`` is unclosed, as
    is any ``<think>`` that never closes.
    """
    reasoning: list[str] = []
    answer: list[str] = []
    rest = output
    first_close = rest.find(THINK_CLOSE)
    first_open = rest.find(THINK_OPEN)
    if first_close != -1 and (first_open == -1 or first_close < first_open):
        reasoning.append(rest[:first_close])
        rest = rest[first_close + len(THINK_CLOSE) :]
    elif think_opened and first_close == -1 and first_open == -1:
        return ReasoningSplit(output.strip() or None, "", True)
    unclosed = False
    while rest:
        start = rest.find(THINK_OPEN)
        if start == -1:
            answer.append(rest)
            break
        answer.append(rest[:start])
        rest = rest[start + len(THINK_OPEN) :]
        end = rest.find(THINK_CLOSE)
        if end == -1:
            reasoning.append(rest)
            unclosed = True
            break
        reasoning.append(rest[:end])
        rest = rest[end + len(THINK_CLOSE) :]
    parts = [part.strip() for part in reasoning]
    joined_reasoning = "\n\n".join(part for part in parts if part) or None
    joined_answer = "\n\n".join(part.strip() for part in answer if part.strip())
    return ReasoningSplit(joined_reasoning, joined_answer, unclosed)
