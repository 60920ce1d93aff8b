"""Per answer type: extract the answer, validate the gold, compare the two.

Number, choice and text comparisons are pure and cheap; math pairs that the
cheap checks cannot settle go to math-verify (see ``scorer.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from evals.records import AnswerType
from evals.scoring.choice import extract_choice, resolve_choice_gold
from evals.scoring.extract import clean_text_answer, extract_math, extract_number, extract_text
from evals.scoring.forms import gold_problem
from evals.scoring.mathcheck import implausible_answer, tidy_math
from evals.scoring.numbers import numbers_equal, parse_number

_BRACE = re.compile(r"\\[{}]|[{}]")
_LIST_SEPARATORS = re.compile(r"[\s,]+")
_SPACES = re.compile(r"\s+")

NO_ANSWER_REASONS: dict[str, str] = {
    "number": "no number found in the answer",
    "math": "no \\boxed{}, 'answer is' phrase, math span or number found in the answer",
    "choice": "no option letter or option text found in the answer",
    "text": "no 'answer is' phrase, \\boxed{} or one-line answer found",
}


def _balanced(text: str) -> bool:
    depth = 0
    for token in _BRACE.findall(text):
        if token in ("{", "}"):
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def parse_gold(gold: str, answer_type: AnswerType, choices: Sequence[str] = ()) -> bool:
    """Whether ``gold`` is a usable gold answer of this type (False: ``gold_unparseable``)."""
    return unusable_gold_reason(gold, answer_type, tuple(choices)) is None


def unusable_gold_reason(gold: str, answer_type: AnswerType, choices: tuple[str, ...]) -> str | None:
    """Why ``gold`` cannot be scored against (a ``gold_unparseable`` reason), or None."""
    if not _usable_gold(gold, answer_type, choices):
        return f"gold {gold[:120]!r} is not a usable {answer_type} answer"
    if answer_type == "math":
        problem = gold_problem(tidy_math(gold))
        return f"gold {gold[:120]!r} is broken: {problem}" if problem else None
    return None


@lru_cache(maxsize=8192)  # every sample of an item asks about the same gold
def _usable_gold(gold: str, answer_type: AnswerType, choices: tuple[str, ...]) -> bool:
    if answer_type == "number":
        return parse_number(gold) is not None
    if answer_type == "math":
        value = tidy_math(gold)
        return bool(value) and _balanced(value) and implausible_answer(value) is None
    if answer_type == "choice":
        return resolve_choice_gold(gold, choices) is not None
    if answer_type == "text":
        return bool(clean_text_answer(gold))
    raise ValueError(f"unknown answer type {answer_type!r}")


def extract(answer: str, answer_type: AnswerType, gold: str, choices: tuple[str, ...]) -> str | None:
    """The final answer stated in ``answer`` (reasoning already removed), or None."""
    extractors: dict[str, Callable[[str], str | None]] = {
        "number": extract_number,
        "math": extract_math,
        "choice": lambda text: extract_choice(text, choices, gold),
        "text": extract_text,
    }
    return extractors[answer_type](answer)


def numbers_match(extracted: str, gold: str) -> bool:
    pred_number, gold_number = parse_number(extracted), parse_number(gold)
    return pred_number is not None and gold_number is not None and numbers_equal(pred_number, gold_number)


def choices_match(extracted: str, gold: str, choices: tuple[str, ...]) -> bool:
    return extracted == resolve_choice_gold(gold, choices)


def _text_key(text: str) -> str:
    return _SPACES.sub(" ", clean_text_answer(text)).casefold()


def texts_match(extracted: str, gold: str) -> bool:
    """Whether a free-form answer matches its gold.

    Equal ignoring case, spacing, quotes, markup and trailing punctuation; numerically
    equal when both are numbers; symbol-only golds ("] ) }") ignore spacing; word-list
    golds ignore commas; an option gold "(B)" accepts "B".
    """
    pred, target = _text_key(extracted), _text_key(gold)
    if pred == target:
        return True
    pred_number, gold_number = parse_number(pred), parse_number(target)
    if pred_number is not None and gold_number is not None:
        return numbers_equal(pred_number, gold_number)
    if target and not any(char.isalnum() for char in target):
        return pred.replace(" ", "") == target.replace(" ", "")
    gold_words = _LIST_SEPARATORS.split(target)
    if len(gold_words) > 1 and all(word.isalpha() for word in gold_words):
        return _LIST_SEPARATORS.split(pred) == gold_words
    gold_letter = resolve_choice_gold(target.upper(), ())
    if gold_letter is not None and len(target) == 3:  # "(b)"
        return resolve_choice_gold(pred.upper(), ()) == gold_letter
    return False
