r"""Answer forms math-verify misreads: rewrites before it, and verdicts it cannot give.

``rewrite_forms`` respells an answer so that math-verify reads it as meant (``1e-5``,
``E_1``, ``\frac{1}{m}t``, ``\,``, matrices in ``array``). ``form_verdict`` settles
pairs whose meaning needs more than the two spellings: a percent sign on one side
(the question may say which form it wants), a decimal rounded from an exact gold, and
a yes/no gold followed by its justification. ``gold_problem`` says why a gold is
broken (an empty ``\frac{}{}`` argument, a dangling operator where a variable was lost).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal, NamedTuple

from evals.scoring.latex_value import latex_value
from evals.scoring.numbers import Number, numbers_equal, parse_number

AskedForm = Literal["percent", "fraction"]

# Exponents beyond this stay as powers of ten: their decimal spelling would be long.
_MAX_DECIMAL_EXPONENT = 30
_E_NOTATION = re.compile(r"(?<![\w.\\])(?P<mantissa>\d+(?:\.\d+)?)[eE](?P<exponent>[-+]?\d{1,3})(?![\w.])")
_THIN_SPACE = re.compile(r"\s*(?<!\\)\\[,!;:]\s*")
_SUBSCRIPT_CHAR = re.compile(r"_(?P<char>[A-Za-z0-9])")
_ARRAY_MATRIX = re.compile(
    r"\\left\s*(?P<open>[\[(])\s*\\begin\{array\}\{[^{}]*\}(?P<body>.*?)\\end\{array\}\s*\\right\s*[\])]",
    re.DOTALL,
)
_MATRIX_ENV = re.compile(r"\\(?P<side>begin|end)\{[bB]?matrix\}")
_BRACED = r"\{(?:[^{}]|\{[^{}]*\})*\}"
# "\frac{1}{m}t": math-verify drops a letter after a fraction as if it were a unit.
_FRACTION_THEN_LETTER = re.compile(
    rf"(?P<fraction>\\[dt]?frac{_BRACED}{_BRACED})\s*(?P<letter>[A-Za-z])(?![A-Za-z{{])"
)

_PERCENT = re.compile(r"\\?%")
_ASKS_PERCENT = re.compile(
    r"\bwhat\s+(?:percent|percentage)\b|\bas\s+an?\s+(?:percent|percentage)\b|\bin\s+percent\b"
    r"|\bnearest\s+(?:tenth\s+of\s+a\s+|whole\s+)?percent\b|\bhow\s+many\s+percent\b",
    re.IGNORECASE,
)
_ASKS_FRACTION = re.compile(
    r"\bas\s+an?\s+(?:(?:common|improper|mixed|reduced)\s+)?(?:fraction|decimal)\b"
    r"|\bin\s+(?:decimal|fraction)\s+form\b",
    re.IGNORECASE,
)
_DECIMAL = re.compile(r"-?\d+\.(?P<places>\d+)")
_SIGNIFICANT_DIGITS = 2
_AFTER_YES_NO = ".,;:!"
_YES_NO = re.compile(r"(?:\\text(?:bf)?\{)?\s*\**(?P<word>yes|no)\b(?P<rest>.*)", re.IGNORECASE | re.DOTALL)

_EMPTY_ARGUMENT = re.compile(
    rf"\\(?:[dt]?frac|sqrt|binom)\s*\{{\s*\}}|\\[dt]?frac\s*{_BRACED}\s*\{{\s*\}}|[\^_]\s*\{{\s*\}}"
)
_DANGLING_END = re.compile(r"(?:[-+*/=^_]|\\(?:cdot|times|div))\s*$")
_DANGLING_START = re.compile(r"^\s*(?:[*/=^_]|\\(?:cdot|times|div)(?![A-Za-z]))")


class FormVerdict(NamedTuple):
    """A verdict on a pair that depends on how it is written, with the reason."""

    equal: bool
    reason: str


def _e_notation_text(match: re.Match[str]) -> str:
    exponent = int(match.group("exponent"))
    if abs(exponent) > _MAX_DECIMAL_EXPONENT:
        return f"{match.group('mantissa')}\\times10^{{{exponent}}}"
    value = Decimal(match.group("mantissa")).scaleb(exponent)
    return format(value.normalize(), "f")


def _array_as_pmatrix(match: re.Match[str]) -> str:
    return f"\\begin{{pmatrix}}{match.group('body').strip()}\\end{{pmatrix}}"


def rewrite_forms(text: str) -> str:
    r"""``text`` respelled for math-verify, same value: ``1e-5`` -> ``0.00001``.

    Also ``E_1`` -> ``E_{1}``, thin spaces dropped, ``\frac{1}{m}t`` -> ``\frac{1}{m}{t}``
    and bracketed ``array`` / ``bmatrix`` -> ``pmatrix`` (brackets do not change a matrix).
    """
    value = _E_NOTATION.sub(_e_notation_text, text) if "e" in text.lower() else text
    value = _THIN_SPACE.sub("", value)
    if "_" in value:
        value = _SUBSCRIPT_CHAR.sub(r"_{\g<char>}", value)
    if "\\begin" in value:
        value = _ARRAY_MATRIX.sub(_array_as_pmatrix, value)
        value = _MATRIX_ENV.sub(r"\\\g<side>{pmatrix}", value)
    if "frac" in value:
        value = _FRACTION_THEN_LETTER.sub(r"\g<fraction>{\g<letter>}", value)
    return value


def gold_problem(gold: str) -> str | None:
    r"""Why a math gold is broken (``\frac{}{2}``, ``3x+``), or None when it looks whole."""
    empty = _EMPTY_ARGUMENT.search(gold)
    if empty:
        return f"gold has an empty argument in {empty.group(0)!r}"
    dangling = _DANGLING_END.search(gold) or _DANGLING_START.search(gold)
    if dangling:
        return f"gold has an operator {dangling.group(0).strip()!r} with nothing on one side (a lost term)"
    return None


def asked_form(question: str) -> AskedForm | None:
    """The form the question asks the answer in: a percentage, a fraction/decimal, or None."""
    if _ASKS_PERCENT.search(question):
        return "percent"
    if _ASKS_FRACTION.search(question):
        return "fraction"
    return None


def _percent_reading(text: str) -> tuple[Number, bool] | None:
    """(number, written with a percent sign) when ``text`` is a plain number."""
    number = parse_number(text)
    return None if number is None else (number, bool(_PERCENT.search(text)))


def _scaled(number: Number) -> Number:
    return Number(number.value / 100, number.decimal)


def percent_verdict(pred: str, gold: str, asked: AskedForm | None) -> FormVerdict | None:
    """Numbers where a percent sign is on one side only (or the question asks a percentage).

    The same number with and without the sign is equal. A value and its percentage
    (0.125 and 12.5%) are equal only when the question says which form it wants;
    otherwise they are not, since accepting both readings raises false positives.
    """
    left, right = _percent_reading(pred), _percent_reading(gold)
    if left is None or right is None:
        return None
    (pred_number, pred_sign), (gold_number, gold_sign) = left, right
    if pred_sign == gold_sign and not (asked == "percent" and not gold_sign):
        return None
    if numbers_equal(pred_number, gold_number):
        return FormVerdict(True, "the same number, with and without a percent sign")
    if pred_sign and gold_sign:
        return None
    percent_side, plain = (pred_number, gold_number) if pred_sign else (gold_number, pred_number)
    if not numbers_equal(_scaled(percent_side), plain):
        return None
    if asked is None:
        reason = "a value against its percentage, and the question does not say which form it asks for"
        return FormVerdict(False, reason)
    return FormVerdict(
        True, f"the same value as a percentage and a fraction; the question asks for a {asked}"
    )


def _significant_digits(decimal_text: str) -> int:
    return len(decimal_text.lstrip("-").replace(".", "").lstrip("0"))


def rounded_verdict(pred: str, gold: str) -> FormVerdict | None:
    """A decimal answer that is the exact gold rounded at the precision it states."""
    decimal = _DECIMAL.fullmatch(pred)
    if decimal is None or _significant_digits(pred) < _SIGNIFICANT_DIGITS:
        return None
    gold_number = parse_number(gold)
    if gold_number is not None and gold_number.decimal:
        return None  # a decimal gold states its own precision
    exact = float(gold_number.value) if gold_number is not None else latex_value(gold)
    if exact is None:
        return None
    places = len(decimal.group("places"))
    try:
        stated = Decimal(pred)
    except InvalidOperation:
        return None
    half_unit = Fraction(1, 2 * 10**places)
    if abs(Fraction(stated) - Fraction(exact)) > half_unit * (1 + Fraction(1, 10**6)):
        return None
    return FormVerdict(True, f"{pred} is the exact gold {gold} rounded to {places} decimal place(s)")


def yes_no_verdict(pred: str, gold: str) -> FormVerdict | None:
    """A yes/no gold with its justification ("No. It is not closed under ...") against yes/no."""
    gold_match, pred_match = _YES_NO.fullmatch(gold.strip()), _YES_NO.fullmatch(pred.strip())
    if gold_match is None or pred_match is None:
        return None
    for match in (gold_match, pred_match):
        rest = match.group("rest").lstrip(" }*")
        if rest and rest[0] not in _AFTER_YES_NO:
            return None  # "No solution", "no real roots": not a yes/no answer
    gold_word, pred_word = gold_match.group("word").lower(), pred_match.group("word").lower()
    if gold_word == pred_word:
        return FormVerdict(True, f"both answer {gold_word!r}; the gold's justification is not compared")
    return FormVerdict(False, f"the answer says {pred_word!r}, the gold {gold_word!r}")


def form_verdict(pred: str, gold: str, asked: AskedForm | None) -> FormVerdict | None:
    """The verdict of the percent or rounding rule on compact spellings, or None."""
    verdict = percent_verdict(pred, gold, asked)
    if verdict is not None or "%" in pred or "%" in gold:
        return verdict
    return rounded_verdict(pred, gold)
