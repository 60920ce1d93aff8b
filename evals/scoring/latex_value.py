r"""The approximate value of a LaTeX expression (``3\sqrt{13}``, ``x^2 + \cot x``).

Used only to rule pairs out cheaply: two answers whose values differ (at the same values
of their variables) by more than math-verify's 6-decimal tolerance cannot be equal, so
they need no math-verify call. The grammar is small on purpose: digits, single-letter
variables, ``+ - * / ^``, ``\cdot``, ``\times``, ``\div``, ``\frac``, ``\sqrt`` (with
an index), ``\pi``, the six trigonometric functions, mixed numbers (``1\frac{4}{5}`` is
9/5, as math-verify reads it), parentheses and braces. Anything else (bases, ``\pm``,
relations, sets, ambiguous spellings such as ``\sin 2x\cos x``) gives None, as does any
value that floats cannot carry faithfully.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

# Largest intermediate value we trust: beyond it cancellation could hide an equality.
_LARGEST_INTERMEDIATE = 1e12
_MAX_EXPONENT = 64
_MAX_LENGTH = 200
_COMMAND = re.compile(r"\\[A-Za-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_MIXED_FRACTION = re.compile(r"\\frac(?:\{(\d+)\}\{(\d+)\}|(\d)(\d))")
_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "\\sin": math.sin,
    "\\cos": math.cos,
    "\\tan": math.tan,
    "\\cot": lambda x: math.cos(x) / math.sin(x),
    "\\sec": lambda x: 1 / math.cos(x),
    "\\csc": lambda x: 1 / math.sin(x),
}
_PRIMARY_COMMANDS = ("\\frac", "\\sqrt", "\\pi", *_FUNCTIONS)


class _Unsupported(Exception):
    """The text is outside the grammar, or its value is not a finite real number."""


class _Evaluator:
    def __init__(self, text: str, variables: Mapping[str, float]) -> None:
        self.text = text
        self.variables = variables
        self.pos = 0

    def value(self) -> float:
        result = self.expression()
        if self.pos != len(self.text):
            raise _Unsupported
        return result

    def accept(self, token: str) -> bool:
        if not self.text.startswith(token, self.pos):
            return False
        after = self.pos + len(token)
        if token[0] == "\\" and after < len(self.text) and self.text[after].isalpha():
            return False  # "\pi" must not match the start of "\pix"
        if token[0] == "\\" and self.text.startswith(" ", after):
            after += 1  # compact spelling keeps one space in "\cot x"
        self.pos = after
        return True

    def expect(self, token: str) -> None:
        if not self.accept(token):
            raise _Unsupported

    @staticmethod
    def checked(value: float) -> float:
        if not math.isfinite(value) or abs(value) > _LARGEST_INTERMEDIATE:
            raise _Unsupported
        return value

    def expression(self) -> float:
        value = self.term()
        while True:
            if self.accept("+"):
                value = self.checked(value + self.term())
            elif self.accept("-"):
                value = self.checked(value - self.term())
            else:
                return value

    def term(self) -> float:
        value = self.signed()
        while True:
            if self.accept("*") or self.accept("\\cdot") or self.accept("\\times"):
                value *= self.signed()
            elif self.accept("/") or self.accept("\\div"):
                divisor = self.signed()
                if divisor == 0:
                    raise _Unsupported
                value /= divisor
            elif self.starts_primary():
                value *= self.power()  # implicit product: 3\sqrt{2}, 2\pi
            else:
                return value
            value = self.checked(value)

    def starts_primary(self) -> bool:
        if self.pos >= len(self.text):
            return False
        char = self.text[self.pos]
        if char.isdigit() or char in ".({" or char in self.variables:
            return True
        command = _COMMAND.match(self.text, self.pos)
        return command is not None and command.group() in _PRIMARY_COMMANDS

    def signed(self) -> float:
        if self.accept("-"):
            return -self.signed()
        if self.accept("+"):
            return self.signed()
        return self.power()

    def power(self) -> float:
        base = self.primary()
        if not self.accept("^"):
            return base
        exponent = self.group()
        if abs(exponent) > _MAX_EXPONENT or (base == 0 and exponent <= 0):
            raise _Unsupported
        try:
            result = base**exponent
        except (OverflowError, ZeroDivisionError) as error:
            raise _Unsupported from error
        if isinstance(result, complex):
            raise _Unsupported
        return self.checked(result)

    def mixed_number(self, whole: str) -> float:
        r"""``1\frac{4}{5}`` = 1 + 4/5 (digits only; the sign applies to the whole)."""
        fraction = _MIXED_FRACTION.match(self.text, self.pos)
        if "." in whole or not fraction:
            raise _Unsupported
        self.pos = fraction.end()
        numerator = fraction.group(1) or fraction.group(3)
        denominator = fraction.group(2) or fraction.group(4)
        if int(denominator) == 0:
            raise _Unsupported
        return float(whole) + int(numerator) / int(denominator)

    def function_argument(self) -> float:
        r"""``{x}``, ``(x)``, or a bare number/letter run as in ``\cot x`` and ``\sin 2x``."""
        if self.text.startswith("^", self.pos):
            raise _Unsupported  # \sin^2 x: a power of the function
        if self.accept("{") or self.accept("("):
            closing = "}" if self.text[self.pos - 1] == "{" else ")"
            value = self.expression()
            self.expect(closing)
            return value
        number = _NUMBER.match(self.text, self.pos)
        value = 1.0
        if number:
            value, self.pos = float(number.group()), number.end()
        letters = 0
        while self.text[self.pos : self.pos + 1] in self.variables and self.pos < len(self.text):
            value *= self.variables[self.text[self.pos]]
            self.pos += 1
            letters += 1
        if not (number or letters) or self.starts_primary():
            raise _Unsupported  # "\sin 2x\cos x": where the argument ends is unclear
        return value

    def group(self) -> float:
        r"""A braced argument, or the single digit / ``\pi`` that LaTeX takes unbraced."""
        if self.accept("{"):
            value = self.expression()
            self.expect("}")
            return value
        if self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
            return float(self.text[self.pos - 1])
        if self.accept("\\pi"):
            return math.pi
        raise _Unsupported

    def primary(self) -> float:
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            if self.text.startswith("\\frac", self.pos):
                return self.mixed_number(number.group())
            return float(number.group())
        char = self.text[self.pos : self.pos + 1]
        if char and char in self.variables:
            self.pos += 1
            return self.variables[char]
        for opening, closing in (("(", ")"), ("{", "}")):
            if self.accept(opening):
                value = self.expression()
                self.expect(closing)
                return value
        if self.accept("\\pi"):
            return math.pi
        for name, function in _FUNCTIONS.items():
            if self.accept(name):
                return self.checked(function(self.function_argument()))
        if self.accept("\\frac"):
            numerator = self.group()
            denominator = self.group()
            if denominator == 0:
                raise _Unsupported
            return self.checked(numerator / denominator)
        if self.accept("\\sqrt"):
            index = 2.0
            if self.accept("["):
                index = self.expression()
                self.expect("]")
            radicand = self.group()
            if radicand < 0 or index <= 0:
                raise _Unsupported
            return self.checked(radicand ** (1 / index))
        raise _Unsupported


def latex_value(compact: str, variables: Mapping[str, float] | None = None) -> float | None:
    r"""The value of an expression, or None when this evaluator cannot trust one.

    ``compact`` is the spelling of ``mathcheck.compact_math`` (no ``\left``/``\right``,
    spaces only after a command name before a letter); ``variables`` gives each
    single-letter variable its value (letters not given make the value None).
    """
    if not compact or len(compact) > _MAX_LENGTH:
        return None
    try:
        return _Evaluator(compact, variables or {}).value()
    except (_Unsupported, RecursionError, ValueError, ZeroDivisionError, OverflowError):
        return None


def values_differ(left: float, right: float) -> bool:
    """Whether two values are further apart than math-verify's 6-decimal rounding bridges."""
    return abs(left - right) > 1e-6 * max(1.0, abs(left), abs(right))
