r"""Math answers: spellings for comparison, and the rewrites math-verify lacks.

``tidy_math`` is what math-verify gets ("5 dollars" -> 5, "30°" -> ``30^\circ``);
``compact_math`` is the spelling the cheap checks compare; ``implausible_answer`` turns
away absurd extractions. Nothing here imports math-verify; it runs only in worker
processes (``evals.scoring._verify_worker``) where a hard time limit applies.
"""

from __future__ import annotations

import re
from functools import lru_cache

from evals.scoring.forms import rewrite_forms

# No real final answer is this long or this deeply nested (MATH golds: 81 chars, depth 2).
MAX_ANSWER_CHARS = 1000
MAX_BRACE_DEPTH = 12

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
_NUMBER_WITH_WORDS = re.compile(
    r"(?P<number>[-\u2212]?(?:\\?\$)?\s?[\d.,]*\d(?:\\?%)?)\s+[A-Za-z]+(?:\s+[A-Za-z]+){0,3}"
)
# Spacing commands ("\\ " but not the row break "\\\\"), whitespace, \\left and \\right.
_SPACING = re.compile(r"(?<!\\)\\[!,;: ]|~|\s+|\\displaystyle|\\left(?![a-zA-Z])|\\right(?![a-zA-Z])")
# "58, 500" (a list) keeps its space, unlike "58,500" (a number); "(6, 31)" need not.
_SPACED_DIGIT_COMMA = re.compile(r"(?<=\d),\s+(?=\d{3}(?!\d))")
# "\\cot x" keeps one space: "\\cotx" would be another command.
_COMMAND_THEN_LETTER = re.compile(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°")
_TRAILING_UNIT = re.compile(r"\\(?:text|mbox|mathrm)\{[A-Za-z ]+\}(?:\^\{?[23]\}?)?$")
_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}$")


def implausible_answer(text: str) -> str | None:
    """Why ``text`` cannot be a final answer (too long, too deeply nested), or None."""
    if len(text) > MAX_ANSWER_CHARS:
        return f"extracted answer is {len(text)} characters long (limit {MAX_ANSWER_CHARS})"
    depth = deepest = 0
    for char in text:
        if char == "{":
            depth += 1
            deepest = max(deepest, depth)
        elif char == "}":
            depth -= 1
    if deepest > MAX_BRACE_DEPTH:
        return f"extracted answer nests braces {deepest} deep (limit {MAX_BRACE_DEPTH})"
    return None


@lru_cache(maxsize=8192)  # golds repeat once per sample
def tidy_math(text: str) -> str:
    r"""The answer as math-verify should see it.

    ``°`` becomes ``^\circ``, prose dollar signs go, "5 dollars" / "12 square feet"
    become the number, and forms math-verify misreads are respelled (``forms.py``).
    """
    value = _UNESCAPED_DOLLAR.sub("", text).replace("°", "^\\circ").strip()
    words = _NUMBER_WITH_WORDS.fullmatch(value)
    if words:
        value = words.group("number").strip()
    return rewrite_forms(value.rstrip(".").strip())


@lru_cache(maxsize=8192)
def compact_math(tidy: str) -> str:
    r"""A spelling for exact comparison.

    No spacing commands, ``\left``/``\right``, degree signs or trailing unit text;
    ``\dfrac`` as ``\frac``; ``\text{x}`` as x; whitespace only where a command name
    meets a letter (``\cot x``) or a comma a digit (``58, 500``).
    """
    value = _COMMAND_THEN_LETTER.sub("\\1\x00", tidy)
    value = _SPACED_DIGIT_COMMA.sub(",\x00", value)
    value = _SPACING.sub("", value).replace("\x00", " ")
    value = value.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    value = value.replace("\\%", "%").replace("{,}", ",")
    value = _DEGREES.sub("", value)
    without_unit = _TRAILING_UNIT.sub("", value)
    if without_unit:
        value = without_unit
    wrapped = _TEXT_WRAPPER.fullmatch(value)
    return wrapped.group(1) if wrapped else value
