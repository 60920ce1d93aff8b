"""Building blocks: boxed spans, number parsing, gold validation, math rewrites."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

import pytest

from evals.records import AnswerType
from evals.scoring import boxed, parse_gold
from evals.scoring.boxed import boxed_contents, last_boxed
from evals.scoring.mathcheck import tidy_math
from evals.scoring.numbers import find_numbers, parse_number
from evals.scoring.quickcheck import quick_math_check

BOXED = [
    (r"a \boxed{1} b \boxed{\frac{1}{2}}", ["1", r"\frac{1}{2}"], "two boxes in order"),
    (r"\boxed{\{1,2\}}", [r"\{1,2\}"], "escaped braces do not close the box"),
    (r"\boxed{a", [], "unbalanced box skipped"),
    (r"\boxed 5$.", ["5"], "MATH: \\boxed without braces"),
    (r"\fbox{7}", ["7"], "\\fbox"),
    (r"\boxed{\boxed{3}}", [r"\boxed{3}", "3"], "nested boxes: outer first"),
    (r"\boxed {x}", ["x"], "space before the brace"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected", "source"), BOXED, ids=[c[2] for c in BOXED])
def test_boxed_contents(text: str, expected: list[str], source: str) -> None:
    assert boxed_contents(text) == expected, source
    assert last_boxed(text) == (expected[-1] if expected else None)


class _CountingPattern:
    """Wraps a compiled pattern; fails once its scans have yielded more than ``budget`` tokens."""

    def __init__(self, pattern: re.Pattern[str], budget: int) -> None:
        self.pattern, self.budget, self.tokens = pattern, budget, 0

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        for match in self.pattern.finditer(text, pos):
            self.tokens += 1
            if self.tokens > self.budget:
                raise AssertionError(f"scanned more than {self.budget} brace tokens: not linear")
            yield match


@pytest.mark.parametrize("find", [boxed_contents, last_boxed], ids=["all boxes", "last box"])
def test_boxed_scan_is_linear_on_unclosed_boxes(find: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work counted in brace tokens, not seconds: a per-box scan to the end would be quadratic."""
    boxes = 30_000
    counting = _CountingPattern(boxed._BRACE_TOKEN, budget=3 * boxes)
    monkeypatch.setattr(boxed, "_BRACE_TOKEN", counting)
    assert callable(find) and find(r"\boxed{" * boxes) in ([], None)
    assert counting.tokens >= boxes  # the scan did run


NUMBERS = [
    ("13,800", Fraction(13800), "thousands separator"),
    ("$1,234.50", Fraction(246900, 200), "currency and cents"),
    ("-3", Fraction(-3), "negative"),
    ("\u22123", Fraction(-3), "Unicode minus"),
    ("50%", Fraction(50), "percent sign ignored"),
    ("3/4", Fraction(3, 4), "slash fraction"),
    (r"\frac{3}{4}", Fraction(3, 4), "LaTeX fraction"),
    (r"-\frac{1}{2}", Fraction(-1, 2), "negative LaTeX fraction"),
    (r"\frac12", Fraction(1, 2), "LaTeX shorthand fraction"),
    ("025", Fraction(25), "AIME zero padding"),
    (".5", Fraction(1, 2), "leading dot"),
    (r"10,\!080", Fraction(10080), "LaTeX thousands spacing"),
    ("1,2", None, "a list, not a number"),
    ("1/0", None, "division by zero"),
    ("1e5", None, "scientific notation is not accepted"),
    ("x", None, "not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value", "source"), NUMBERS, ids=[c[2] for c in NUMBERS])
def test_parse_number(text: str, value: Fraction | None, source: str) -> None:
    number = parse_number(text)
    assert (number.value if number else None) == value, source


def test_find_numbers_in_text() -> None:
    text = "16 - 3 - 4 = <<16-3-4=9>>9 eggs, $1,234.50, x2, -5 and 3/4."
    found = [str(match.number.value) for match in find_numbers(text)]
    assert found == ["16", "3", "4", "16", "3", "4", "9", "9", "2469/2", "-5", "3/4"]


GOLDS: list[tuple[str, AnswerType, tuple[str, ...], bool, str]] = [
    ("18", "number", (), True, "GSM8K gold"),
    ("1,234", "number", (), True, "gold with separator"),
    ("eighteen", "number", (), False, "words are not a number gold"),
    (r"\frac{1}{2}", "math", (), True, "MATH gold"),
    (r"\frac{1}{2", "math", (), False, "unbalanced braces"),
    ("", "math", (), False, "empty"),
    ("x" * 2000, "math", (), False, "longer than any final answer"),
    ("C", "choice", ("a", "b", "c", "d"), True, "letter"),
    ("(C)", "choice", (), True, "BBH letter"),
    ("c", "choice", ("a", "b", "c", "d"), True, "option text"),
    ("E", "choice", ("a", "b", "c", "d"), False, "letter beyond the options"),
    ("Yes", "text", (), True, "BBH target"),
    ("  ", "text", (), False, "blank"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("gold", "answer_type", "choices", "usable", "source"), GOLDS, ids=[c[4] for c in GOLDS]
)
def test_parse_gold(
    gold: str, answer_type: AnswerType, choices: tuple[str, ...], usable: bool, source: str
) -> None:
    parsed = parse_gold(gold, answer_type, choices)
    assert parsed.usable is usable, source
    assert (parsed.problem is None) is usable and parsed.gold == gold, source


QUICK = [
    # Pairs the scorer settles without math-verify; None = left to math-verify.
    ("5 dollars", "5", True, "plain-word unit (math-verify reads it as variables)"),
    ("90°", r"90^\circ", True, "Unicode degree sign"),
    ("x = 4", "4", True, "assignment against a bare number"),
    ("6+9i", "6 - 5i", False, "complex parts compared exactly"),
    ("6", "6+0i", True, "real number as a complex one"),
    ("32", "p - q", False, "number against an expression in variables"),
    ("6", "1,-2", False, "number against a list"),
    ("2", "2, 2", None, "a list of equal items is left to math-verify"),
    ("13", r"3\sqrt{13}", False, "constant values clearly apart"),
    (r"\sqrt{117}", r"3\sqrt{13}", None, "equal values are left to math-verify"),
    ("2516_7", "2516_8", False, "base subscripts (math-verify ignores them)"),
    ("2516", "2516_8", True, "digits read in the gold's base"),
    ("(6,33,-1)", "(6,31,-1)", False, "tuple entries by position"),
    ("-2,1", "1,-2", None, "the same set is left to math-verify"),
    (r"1\frac{4}{5}", r"\frac{4}{5}", False, "mixed number 9/5, as math-verify reads it"),
    ("x^4+3x-6", "x^3+3x-6", False, "polynomials differing at the test points"),
    ("(a+5)(b+4)", "(a+5)(b+2)", False, "two variables"),
    ("(x+1)^2", "x^2+2x+1", None, "equal functions are left to math-verify"),
    (r"\frac{\cos x}{\sin x}", r"\cot x", None, "equal trigonometric forms"),
    ("2k", "2n", None, "different variable names are math-verify's call"),
    (r"\sin 2x\cos x", r"\sin x", None, "ambiguous function arguments are not evaluated"),
    ("e^2", "7.389056", None, "e is a constant to math-verify, not evaluated here"),
    ("50", r"50\%", None, "percent is math-verify's (50% equals 50 and 0.5 there)"),
    ("0.5", r"50\%", None, "percent semantics are math-verify's"),
    (r"\textbf{(C) } 6", r"\text{(C)}", True, "AMC letter with value"),
    ("E", r"\text{(C)}", False, "AMC wrong letter"),
]  # fmt: skip


@pytest.mark.parametrize(("pred", "gold", "decided", "source"), QUICK, ids=[c[3] for c in QUICK])
def test_quick_math_check(pred: str, gold: str, decided: bool | None, source: str) -> None:
    assert quick_math_check(tidy_math(pred), tidy_math(gold)) is decided, source
