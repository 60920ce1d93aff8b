"""Rule comparators: is a gold usable, and does an extracted answer equal it, per answer type.

Pure functions of strings, cached where every sample of an item asks the same
question. The answer-type rules in ``rules.py`` put them together; math pairs
that the cheap checks here cannot settle go to math-verify (see ``scorer.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from evals.records import Status
from evals.scoring.choice import resolve_choice_gold
from evals.scoring.extract import clean_text_answer
from evals.scoring.forms import AskedForm, FormVerdict, form_verdict, gold_problem, yes_no_verdict
from evals.scoring.mathcheck import compact_math, implausible_answer, tidy_math
from evals.scoring.numbers import numbers_equal, parse_number
from evals.scoring.quickcheck import quick_math_check

_BRACE = re.compile(r"\\[{}]|[{}]")
_LIST_SEPARATORS = re.compile(r"[\s,]+")
_SPACES = re.compile(r"\s+")
_REASON_CHARS = 120
_CACHE_SIZE = 65_536  # distinct (answer, gold) pairs remembered per comparator


class Judgement(NamedTuple):
    """A comparison's verdict and why (None: nothing to explain)."""

    status: Status
    reason: str | None


class NeedsVerifier(NamedTuple):
    """A math pair the cheap checks left open, tidied for math-verify."""

    pred: str
    gold: str


CORRECT = Judgement(Status.CORRECT, None)


def short(text: str) -> str:
    return repr(text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "...")


def mismatch(extracted: str, gold: str, relation: str) -> Judgement:
    return Judgement(Status.INCORRECT, f"{short(extracted)} {relation} gold {short(gold)}")


def _equality(equal: bool, extracted: str, gold: str) -> Judgement:
    return CORRECT if equal else mismatch(extracted, gold, "!=")


def _stated(verdict: FormVerdict) -> Judgement:
    return Judgement(Status.CORRECT if verdict.equal else Status.INCORRECT, verdict.reason)


def _not_usable(gold: str, answer_type: str) -> str:
    return f"gold {gold[:120]!r} is not a usable {answer_type} answer"


def _balanced(text: str) -> bool:
    depth = 0
    for token in _BRACE.findall(text):
        if token in ("{", "}"):
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    return depth == 0


@lru_cache(maxsize=8192)  # every sample of an item asks about the same gold
def number_gold_problem(gold: str, choices: tuple[str, ...]) -> str | None:
    return None if parse_number(gold) is not None else _not_usable(gold, "number")


@lru_cache(maxsize=8192)
def math_gold_problem(gold: str, choices: tuple[str, ...]) -> str | None:
    value = tidy_math(gold)
    if not (value and _balanced(value) and implausible_answer(value) is None):
        return _not_usable(gold, "math")
    problem = gold_problem(value)
    return f"gold {gold[:120]!r} is broken: {problem}" if problem else None


@lru_cache(maxsize=8192)
def choice_gold_problem(gold: str, choices: tuple[str, ...]) -> str | None:
    return None if resolve_choice_gold(gold, choices) is not None else _not_usable(gold, "choice")


@lru_cache(maxsize=8192)
def text_gold_problem(gold: str, choices: tuple[str, ...]) -> str | None:
    return None if clean_text_answer(gold) else _not_usable(gold, "text")


def numbers_match(extracted: str, gold: str) -> bool:
    pred_number, gold_number = parse_number(extracted), parse_number(gold)
    return pred_number is not None and gold_number is not None and numbers_equal(pred_number, gold_number)


@lru_cache(maxsize=_CACHE_SIZE)
def compare_numbers(extracted: str, gold: str) -> Judgement:
    return _equality(numbers_match(extracted, gold), extracted, gold)


@lru_cache(maxsize=_CACHE_SIZE)
def compare_choices(extracted: str, gold: str, choices: tuple[str, ...]) -> Judgement:
    return _equality(extracted == resolve_choice_gold(gold, choices), extracted, gold)


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


@lru_cache(maxsize=_CACHE_SIZE)
def compare_texts(extracted: str, gold: str) -> Judgement:
    """A stated yes/no against a yes/no gold first, then ``texts_match``."""
    stated = yes_no_verdict(extracted, gold)
    if stated is not None:
        return _stated(stated)
    return _equality(texts_match(extracted, gold), extracted, gold)


@lru_cache(maxsize=_CACHE_SIZE)
def compare_math(extracted: str, gold: str, asked: AskedForm | None) -> Judgement | NeedsVerifier:
    """An implausible answer is no answer; then form rules, then the quick checks.

    What they leave open (``NeedsVerifier``) goes to math-verify.
    """
    problem = implausible_answer(extracted)
    if problem:
        return Judgement(Status.NO_ANSWER, problem)
    pred, target = tidy_math(extracted), tidy_math(gold)
    stated = yes_no_verdict(pred, target) or form_verdict(compact_math(pred), compact_math(target), asked)
    if stated is not None:
        return _stated(stated)
    quick = quick_math_check(pred, target)
    if quick is None:
        return NeedsVerifier(pred, target)
    return CORRECT if quick else mismatch(pred, target, "!=")
