"""Find ``\\boxed{...}`` / ``\\fbox{...}`` contents with nested braces."""

from __future__ import annotations

import re

_BOX_START = re.compile(r"\\(?:boxed|fbox)\s*\{|\\boxed\s+(?=\S)")


def boxed_contents(text: str) -> list[str]:
    """All boxed contents in order of appearance; unbalanced boxes are skipped.

    ``\\boxed 5`` (no braces) yields the next whitespace-delimited token, as MATH
    solutions occasionally write it.
    """
    found: list[str] = []
    for match in _BOX_START.finditer(text):
        start = match.end()
        if not match.group(0).endswith("{"):
            token = re.match(r"[^\s$]+", text[start:])
            if token:
                found.append(token.group(0))
            continue
        depth = 1
        pos = start
        while pos < len(text) and depth:
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                pos += 2  # an escaped brace does not open or close a group
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            pos += 1
        if depth == 0:
            found.append(text[start : pos - 1].strip())
    return found


def last_boxed(text: str) -> str | None:
    """The content of the last complete ``\\boxed{}`` in ``text``, or None."""
    found = boxed_contents(text)
    return found[-1] if found else None
