r"""Numbers as people and models write them: "13,800", "$18.00", "-3", "50%", "\frac{3}{4}"."""

from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import NamedTuple

# Relative tolerance when either side was written with a decimal point (a rounded value).
DECIMAL_RELATIVE_TOLERANCE = 1e-6
# Longer digit strings are not answers; converting them would waste time.
_MAX_DIGITS = 1000


class Number(NamedTuple):
    """An exact value and whether it was written as a decimal (so possibly rounded)."""

    value: Fraction
    decimal: bool


class NumberMatch(NamedTuple):
    """A number found in running text, with its span."""

    start: int
    end: int
    number: Number


_MINUS = "-\u2212\u2013"  # hyphen, minus sign, en dash
_BODY = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_IN_TEXT = re.compile(
    rf"(?<![\w.])(?P<sign>[{_MINUS}])?(?:(?:\\?\$|[€£¥])\s?)?(?P<sign2>[{_MINUS}])?"
    rf"(?P<body>{_BODY})(?:/(?P<den>\d+)(?!\d|\.\d))?(?![\d])"
)
_WHOLE = re.compile(
    rf"(?P<sign>[{_MINUS}+]?)(?:(?P<body>{_BODY})(?:/(?P<den>\d+))?"
    r"|\\[dt]?frac\{(?P<fnum>[-]?\d+)\}\{(?P<fden>\d+)\}|\\[dt]?frac(?P<snum>\d)(?P<sden>\d))"
)
_SPACED_COMMA = re.compile(r",\s")
# Wrappers that do not change a number's value: currency, thousands spacing, percent.
_STRIP = re.compile(r"\\\$|\$|[€£¥]|\\[!,;: ]|\{,\}|\\%|%|\s")


def _make(sign: str | None, body: str, den: str | None) -> Number | None:
    digits = body.replace(",", "")
    if len(digits) > _MAX_DIGITS or (den and len(den) > _MAX_DIGITS):
        return None
    value = Fraction(digits)
    if den:
        if int(den) == 0:
            return None
        value /= int(den)
    if sign and sign != "+":
        value = -value
    return Number(value, "." in digits)


def parse_number(text: str) -> Number | None:
    """The number ``text`` consists of, or None when it is anything else.

    Currency signs, thousands separators, spacing and a percent sign are ignored.
    """
    if _SPACED_COMMA.search(text):
        return None  # "58, 500" is a list of two numbers, not 58500
    compact = _STRIP.sub("", text.strip())
    compact = compact.replace("\u2212", "-").replace("\u2013", "-")
    match = _WHOLE.fullmatch(compact)
    if not match:
        return None
    if match.group("body") is not None:
        return _make(match.group("sign"), match.group("body"), match.group("den"))
    numerator = match.group("fnum") or match.group("snum")
    denominator = match.group("fden") or match.group("sden")
    number = _make(None, numerator.lstrip("-"), denominator)
    if number is None:
        return None
    negative = (match.group("sign") == "-") != numerator.startswith("-")
    return Number(-number.value if negative else number.value, False)


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number in running text, in order (``5-3`` is 5 and 3; ``x2`` is none)."""
    found = []
    for match in _IN_TEXT.finditer(text):
        sign = match.group("sign") or match.group("sign2")
        number = _make(sign, match.group("body"), match.group("den"))
        if number is not None:
            found.append(NumberMatch(match.start(), match.end(), number))
    return found


def numbers_equal(left: Number, right: Number) -> bool:
    """Exact equality, or within a relative 1e-6 when either was written as a decimal."""
    if left.value == right.value:
        return True
    if not (left.decimal or right.decimal):
        return False
    scale = max(abs(left.value), abs(right.value))
    return abs(left.value - right.value) <= scale * Fraction(DECIMAL_RELATIVE_TOLERANCE)


def format_number(number: Number) -> str:
    """A canonical spelling: ``13800``, ``-0.5``, ``7/3``."""
    value = number.value
    if value.denominator == 1:
        return str(value.numerator)
    if number.decimal:
        return _decimal_text(value)
    return f"{value.numerator}/{value.denominator}"


def _decimal_text(value: Fraction) -> str:
    """A decimal input has a finite expansion: print it exactly, without an exponent."""
    with localcontext() as context:
        context.prec = 60
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    return format(exact.normalize(), "f")
