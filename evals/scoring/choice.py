r"""Multiple choice: which option letter an answer states, and the gold letter.

An explicit statement ("Answer: C", "the correct option is (C)", ``\boxed{C}``, or
the option's text after "the answer is") beats a merely formatted letter ("(C)",
"**C**", "C)" at a line start); within a tier the last one stated wins.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from evals.scoring.extract import answer_segment, clean_text_answer, last_boxed_candidate

# Letters recognised when the options are not known.
DEFAULT_LETTERS = "ABCDEFGHIJ"
_ANCHOR = (
    r"(?i:\banswer\b(?:\s*\*\*)?\s*(?:is\b|:|would\s+be\b)"
    r"|\b(?:correct|right|best|final)\s+(?:answer|option|choice)\b(?:\s*\*\*)?\s*"
    r"(?:is\b|:|would\s+be\b)?"
    r"|\b(?:option|choice)\s+is\b)"
)
_GOLD_LETTER = re.compile(r"\(?([A-Z])\)?\.?")
# A stated letter followed by an option text: "D) 42", "(B) salamander", "C: red".
_LETTER_WITH_TEXT = re.compile(r"\(?(?P<letter>[A-Z])[\).:]\s*(?P<text>.+)", re.DOTALL)
_SPACES = re.compile(r"\s+")


def option_letters(choices: tuple[str, ...], gold: str = "") -> str:
    """The option letters: one per choice, else A-J (or up to a later gold letter)."""
    if choices:
        return string.ascii_uppercase[: min(len(choices), 26)]
    match = _GOLD_LETTER.fullmatch(gold.strip())
    last = max(DEFAULT_LETTERS[-1], match.group(1)) if match else DEFAULT_LETTERS[-1]
    return string.ascii_uppercase[: string.ascii_uppercase.index(last) + 1]


def _option_key(text: str) -> str:
    return _SPACES.sub(" ", clean_text_answer(text)).casefold()


def resolve_choice_gold(gold: str, choices: tuple[str, ...]) -> str | None:
    """The gold letter from "C", "(C)" or the correct option's text; None if neither."""
    letters = option_letters(choices, gold)
    match = _GOLD_LETTER.fullmatch(gold.strip())
    if match:
        return match.group(1) if match.group(1) in letters else None
    key = _option_key(gold)
    for letter, option in zip(letters, choices, strict=False):
        if key and _option_key(option) == key:
            return letter
    return None


@lru_cache(maxsize=64)
def _patterns(letters: str) -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    """(explicit, formatted) letter patterns for this set of letters."""
    letter = rf"(?P<letter>[{letters}])"
    explicit = (
        rf"{_ANCHOR}[\s:*]*(?:(?i:option|choice)\s*)?[\(\[]?\s*{letter}\s*[\)\]]?(?!\w)",
        rf"\\boxed\{{\s*(?:\\text(?:bf)?\{{\s*)?\(?{letter}\)?\s*\}}?\s*\}}",
        # "\boxed{D) 42}": the letter, then the option text.
        rf"\\boxed\{{\s*(?:\\text(?:bf)?\{{\s*)?\(?{letter}[\).:]",
    )
    formatted = (
        rf"\({letter}\)",
        rf"\*\*{letter}(?:\*\*|[\).:])",
        rf"(?m)^[ \t]*{letter}(?:[\).:]|[ \t]*$)",
        rf"(?i:\b(?:option|choice))\s+\(?{letter}\)?(?!\w)",
    )
    return (
        tuple(re.compile(p) for p in explicit),
        tuple(re.compile(p) for p in formatted),
    )


def _last_letter(patterns: tuple[re.Pattern[str], ...], text: str) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for pattern in patterns:
        for match in pattern.finditer(text):
            if best is None or match.start() >= best[0]:
                best = (match.start(), match.group("letter"))
    return best


def _option_by_text(
    text: str, letters: str, choices: tuple[str, ...], allow_prefix: bool = True
) -> str | None:
    """The letter of the option whose text ``text`` is.

    With ``allow_prefix``, also an option that ``text`` starts with (the longest wins).
    """
    key = _option_key(text)
    best: tuple[int, str] | None = None
    for letter, option in zip(letters, choices, strict=False):
        option_key = _option_key(option)
        if not option_key:
            continue
        whole = key == option_key
        prefix = (
            allow_prefix
            and len(key) > len(option_key)
            and key.startswith(option_key)
            and not key[len(option_key)].isalnum()
        )
        if (whole or prefix) and (best is None or len(option_key) > best[0]):
            best = (len(option_key), letter)
    return best[1] if best else None


def extract_choice(answer: str, choices: tuple[str, ...], gold: str = "") -> str | None:
    """The letter the answer settles on, or None when it states none."""
    letters = option_letters(choices, gold)
    explicit, formatted = _patterns(letters)
    stated = _last_letter(explicit, answer)
    if choices:
        for candidate in (answer_segment(answer), last_boxed_candidate(answer)):
            if candidate is None:
                continue
            letter = _option_by_text(candidate.text, letters, choices)
            # At the same anchor the option text beats a letter: "the answer is A salamander".
            if letter and (stated is None or candidate.position >= stated[0]):
                stated = (candidate.position, letter)
    if stated:
        return stated[1]
    shown = _last_letter(formatted, answer)
    if shown:
        return shown[1]
    if choices:
        return _option_by_text(answer, letters, choices, allow_prefix=False)
    return None


def conflicting_option(answer: str, letter: str, choices: tuple[str, ...]) -> str | None:
    """Why the stated answer is ambiguous: its letter comes with another option's text.

    Looks at the last box and the last "answer is" line; None when the text is the
    letter's own option, matches no option, or no letter with text is stated.
    """
    letters = option_letters(choices)
    for candidate in (last_boxed_candidate(answer), answer_segment(answer)):
        if candidate is None:
            continue
        stated = _LETTER_WITH_TEXT.fullmatch(clean_text_answer(candidate.text))
        if stated is None or stated.group("letter") != letter:
            continue
        named = _option_by_text(stated.group("text"), letters, choices)
        if named is not None and named != letter:
            return f"the answer states letter {letter} with the text of option {named}"
    return None
