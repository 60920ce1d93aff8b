r"""Find ``\boxed{...}`` / ``\fbox{...}`` contents with nested braces, in linear time."""

from __future__ import annotations

import re
from typing import NamedTuple

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{|\\boxed\s+(?=\S)")
# An escaped character (``\{``, ``\}``, ``\\``) never opens or closes a group.
_BRACE_TOKEN = re.compile(r"\\.|[{}]", re.DOTALL)
_BARE_TOKEN = re.compile(r"[^\s$]+")


def _closing_braces(text: str) -> dict[int, int]:
    r"""Map the position of each balanced ``{`` to the position of its ``}``.

    One pass over the text, so thousands of unclosed ``\boxed{`` cost no more
    than one (a per-box scan to the end would be quadratic).
    """
    closes: dict[int, int] = {}
    open_positions: list[int] = []
    for token in _BRACE_TOKEN.finditer(text):
        char = token.group()
        if char == "{":
            open_positions.append(token.start())
        elif char == "}" and open_positions:
            closes[open_positions.pop()] = token.start()
    return closes


class BoxedSpan(NamedTuple):
    """One complete box: where it starts and ends in the text, and its content."""

    start: int
    end: int
    content: str


def boxed_spans(text: str) -> list[BoxedSpan]:
    r"""All complete boxes in order of appearance; unbalanced boxes are skipped.

    ``\boxed 5`` (no braces) yields the next whitespace-delimited token, as MATH
    solutions occasionally write it.
    """
    starts = list(_BOX_START.finditer(text))
    if not starts:
        return []
    closes = _closing_braces(text) if "{" in text else {}
    found: list[BoxedSpan] = []
    for match in starts:
        start = match.end()
        if not match.group(0).endswith("{"):
            token = _BARE_TOKEN.match(text, start)
            if token:
                found.append(BoxedSpan(match.start(), token.end(), token.group(0)))
            continue
        close = closes.get(start - 1)
        if close is not None:
            found.append(BoxedSpan(match.start(), close + 1, text[start:close].strip()))
    return found


def last_boxed_span(text: str) -> BoxedSpan | None:
    """The last complete box with non-empty content, usually without scanning the text.

    The last box normally closes soon after it opens, so its braces are matched by a
    short forward scan; only when that fails does the one-pass scan of all boxes run.
    """
    for match in reversed(list(_BOX_START.finditer(text))):
        if not match.group(0).endswith("{"):
            break  # a brace-less \boxed: leave it to the full scan
        depth = 1
        for token in _BRACE_TOKEN.finditer(text, match.end()):
            depth += {"{": 1, "}": -1}.get(token.group(), 0)
            if depth == 0:
                content = text[match.end() : token.start()].strip()
                if content:
                    return BoxedSpan(match.start(), token.end(), content)
                break
        else:
            break  # unclosed: the full scan copes with many of these in linear time
    spans = [span for span in boxed_spans(text) if span.content]
    return spans[-1] if spans else None


def boxed_contents(text: str) -> list[str]:
    """All boxed contents in order of appearance; unbalanced boxes are skipped."""
    return [span.content for span in boxed_spans(text)]


def last_boxed(text: str) -> str | None:
    r"""The content of the last complete ``\boxed{}`` in ``text``, or None."""
    found = boxed_contents(text)
    return found[-1] if found else None
