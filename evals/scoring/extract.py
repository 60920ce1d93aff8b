"""Pull the final answer out of a model's answer text (reasoning already split off).

Every function is linear in the text length: long outputs only cost a regex pass,
and the fallbacks (last math span, last number) look at the tail only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from evals.scoring.boxed import last_boxed_span
from evals.scoring.numbers import find_numbers, format_number, parse_number

# Fallbacks look this far back from the end: a final answer is near the end.
TAIL_CHARS = 3000
# A one-line answer text up to this long is taken whole when nothing else marks it.
BARE_ANSWER_CHARS = 200
# An answer stated after its anchor is on the anchor's line or within the next few lines.
_LINES_AFTER_ANCHOR = 4

_ANSWER_ANCHOR = re.compile(r"\banswer\b(?:\s*\*\*)?\s*(?:is\b\s*:?|:|=)(?:\s*\*\*)?[ \t]*", re.IGNORECASE)
_HASHES = "####"
_HOPE = re.compile(r"\s*I hope it is correct.*$", re.IGNORECASE | re.DOTALL)
_SENTENCE_END = re.compile(r"\.(?=\s|$)")
_MATH_SPAN = re.compile(
    r"(?<!\\)\$\$(?P<display>[^$]{1,1000}?)\$\$|(?<!\\)\$(?P<inline>[^$]{1,1000}?)(?<!\\)\$"
    r"|\\\((?P<paren>.{1,1000}?)\\\)|\\\[(?P<bracket>.{1,1000}?)\\\]",
    re.DOTALL,
)
# Text groups and command names are not prose: "\\text{New York}" is a bare answer.
_LATEX_COMMAND = re.compile(r"\\(?:text|mbox|mathrm)\{[^{}]*\}|\\[A-Za-z]+")
_PROSE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")
_EDGE_MARKUP = re.compile(r"^(?:\*\*|__|`|\s)+|(?:\*\*|__|`|\s)+$")
_TRAILING_PUNCT = re.compile(r"[\s.,;:!]+$")


class Candidate(NamedTuple):
    """An answer found at a position of the text (later positions win ties)."""

    position: int
    text: str


def _first_content_line(text: str, start: int) -> str | None:
    """The first line at or after ``start`` with more than markup on it (within a few lines)."""
    for _ in range(_LINES_AFTER_ANCHOR):
        end = text.find("\n", start)
        line = text[start:] if end == -1 else text[start:end]
        if _EDGE_MARKUP.sub("", line):
            return line
        if end == -1:
            return None
        start = end + 1
    return None


def answer_segment(text: str) -> Candidate | None:
    """The line after the last "answer is" / "Answer:" / "**Answer:**".

    That is the rest of the anchor's line, or the next non-empty line when the anchor
    ends its line.
    """
    for anchor in reversed(list(_ANSWER_ANCHOR.finditer(text))):
        line = _first_content_line(text, anchor.end())
        if line is not None:
            return Candidate(anchor.start(), _HOPE.sub("", line).strip())
    return None


def last_boxed_candidate(text: str) -> Candidate | None:
    r"""The last non-empty ``\boxed{}`` / ``\fbox{}``."""
    span = last_boxed_span(text)
    return Candidate(span.start, span.content) if span else None


def strip_math_delimiters(text: str) -> str:
    r"""``$x$``, ``$$x$$``, ``\(x\)``, ``\[x\]`` -> ``x``.

    Markdown bold and trailing sentence punctuation go too.
    """
    value = _EDGE_MARKUP.sub("", text.strip())
    for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if value.startswith(opening) and value.endswith(closing) and len(value) > 2 * len(opening):
            value = value[len(opening) : -len(closing)].strip()
            break
    return _TRAILING_PUNCT.sub("", value)


def math_from_segment(segment: str) -> str:
    """The math answer in an anchored segment.

    The first math span when the segment starts with one, else the text up to the end
    of the sentence.
    """
    value = _EDGE_MARKUP.sub("", segment)
    span = _MATH_SPAN.match(value)
    if span:
        return next(group for group in span.groups() if group is not None).strip()
    value = _SENTENCE_END.split(value, maxsplit=1)[0]
    if value.startswith("$") and value.count("$") == 1:
        value = value[1:]  # "$18" in prose is a price, not an opening delimiter
    return strip_math_delimiters(value)


def _is_bare_math(text: str) -> bool:
    """A one-line, short answer that is not prose ("The total is $18" is prose)."""
    if not text or "\n" in text or len(text) > BARE_ANSWER_CHARS:
        return False
    return not _PROSE.search(_LATEX_COMMAND.sub(" ", text))


def extract_math(answer: str) -> str | None:
    r"""The final math answer of a model's answer text, or None.

    Last ``\boxed{}`` or ``\fbox{}``; else the math after the last "answer is" /
    "final answer is $...$"; else the last math span; else a bare one-line answer;
    else the last number.
    """
    boxed = last_boxed_candidate(answer)
    if boxed:
        return boxed.text
    anchored = answer_segment(answer)
    if anchored:
        value = math_from_segment(anchored.text)
        if value:
            return value
    tail = answer[-TAIL_CHARS:]
    spans = list(_MATH_SPAN.finditer(tail))
    if spans:
        content = next(group for group in spans[-1].groups() if group is not None)
        if content.strip():
            return content.strip()
    stripped = answer.strip()
    if _is_bare_math(stripped):
        return strip_math_delimiters(stripped) or None
    numbers = find_numbers(tail)
    return format_number(numbers[-1].number) if numbers else None


def _stated_answers(answer: str) -> list[Candidate]:
    """The last "answer is" sentence and the last box, the later one first."""
    candidates = []
    anchored = answer_segment(answer)
    if anchored:
        sentence = _SENTENCE_END.split(anchored.text, maxsplit=1)[0]
        candidates.append(Candidate(anchored.position, sentence))
    boxed = last_boxed_candidate(answer)
    if boxed:
        candidates.append(boxed)
    return sorted(candidates, reverse=True)


def _number_in(text: str, after_equals: bool) -> str | None:
    whole = parse_number(text)
    if whole is not None:
        return format_number(whole)
    if after_equals and "=" in text:
        text = text.rsplit("=", 1)[1]
    numbers = find_numbers(text)
    return format_number(numbers[0].number) if numbers else None


def extract_number(answer: str) -> str | None:
    r"""The final number of a GSM8K-style answer, or None.

    The number after the last ``####``; else in the later of the last "answer is"
    sentence and the last ``\boxed{}``; else the last number in the text.
    """
    if _HASHES in answer:
        after = answer.rsplit(_HASHES, 1)[1]
        line = _first_content_line(after, 0)
        found = _number_in(line.strip(), False) if line else None
        if found is not None:
            return found
    for candidate in _stated_answers(answer):
        found = _number_in(strip_math_delimiters(candidate.text), True)
        if found is not None:
            return found
    numbers = find_numbers(answer[-TAIL_CHARS:])
    return format_number(numbers[-1].number) if numbers else None


_TEXT_WRAPPER = re.compile(r"^\\(?:text|textbf|mathrm|mbox)\{(.*)\}$", re.DOTALL)
_QUOTES = "\"'\u201c\u201d\u2018\u2019"


def clean_text_answer(text: str) -> str:
    r"""Drop math delimiters, ``\text{}``, markdown, quotes and trailing punctuation."""
    value = strip_math_delimiters(_HOPE.sub("", text))
    wrapped = _TEXT_WRAPPER.match(value)
    if wrapped:
        value = wrapped.group(1)
    value = _EDGE_MARKUP.sub("", value).strip(_QUOTES)
    return _TRAILING_PUNCT.sub("", value).strip()


def extract_text(answer: str) -> str | None:
    r"""The final free-form answer, or None.

    The later of the last "answer is"/"Answer:" line and the last ``\boxed{}``; else a
    one-line answer text taken whole.
    """
    stated = _stated_answers(answer)
    if stated:
        value = clean_text_answer(stated[0].text)
        if value:
            return value
    stripped = answer.strip()
    if stripped and "\n" not in stripped and len(stripped) <= BARE_ANSWER_CHARS:
        return clean_text_answer(stripped) or None
    return None
