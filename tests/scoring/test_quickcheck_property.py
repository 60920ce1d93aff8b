"""Property: the fast exact checks never call unequal a pair that math-verify calls equal.

Hypothesis builds pairs of equal values written in different forms (fractions, decimals,
radicals, powers of ten, products in another order, tuples, sets, matrices, assignments)
and feeds the same pair to ``quick_math_check`` (as the scorer does, on ``tidy_math``
spellings) and to math-verify itself. Source: issue 15 ("the fast exact checks that run
before math-verify must never decide 'not equal' on a pair math-verify would call equal").
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.scoring._verify_worker import math_verify_equivalent
from evals.scoring.mathcheck import tidy_math
from evals.scoring.quickcheck import quick_math_check

_SMALL = st.integers(min_value=-40, max_value=40)
_POSITIVE = st.integers(min_value=1, max_value=40)
_SQUARE_FREE = st.sampled_from([2, 3, 5, 6, 7, 10, 11, 13])
_VARIABLE = st.sampled_from(["x", "y", "t", "m", "c", "a"])


def _fraction_forms(value: Fraction) -> list[str]:
    sign = "-" if value < 0 else ""
    top, bottom = abs(value.numerator), value.denominator
    forms = [
        f"{sign}\\frac{{{top}}}{{{bottom}}}",
        f"{sign}\\dfrac{{{top}}}{{{bottom}}}",
        f"\\frac{{{value.numerator}}}{{{bottom}}}",
        f"{sign}{top}/{bottom}",
        f"{sign}\\frac{{{2 * top}}}{{{2 * bottom}}}",
    ]
    if bottom == 1:
        forms += [str(value.numerator), f"{value.numerator}.0", f"\\left({value.numerator}\\right)"]
    if 10**6 % bottom == 0:  # a terminating decimal
        forms.append(f"{float(value):.6f}".rstrip("0").rstrip("."))
    return forms


@st.composite
def _number_pairs(draw: st.DrawFn) -> tuple[str, str]:
    value = Fraction(draw(_SMALL), draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 10, 16, 25])))
    forms = _fraction_forms(value)
    return draw(st.sampled_from(forms)), draw(st.sampled_from(forms))


@st.composite
def _radical_pairs(draw: st.DrawFn) -> tuple[str, str]:
    k, n = draw(_POSITIVE), draw(_SQUARE_FREE)
    forms = [f"{k}\\sqrt{{{n}}}", f"\\sqrt{{{k * k * n}}}", f"\\sqrt{{{n}}}\\cdot {k}", f"{k}\\sqrt {n}"]
    return draw(st.sampled_from(forms)), draw(st.sampled_from(forms))


@st.composite
def _power_of_ten_pairs(draw: st.DrawFn) -> tuple[str, str]:
    mantissa, exponent = draw(st.integers(1, 9)), draw(st.integers(-6, 6))
    decimal = format(Decimal(mantissa).scaleb(exponent), "f")
    forms = [
        f"{mantissa}\\times10^{{{exponent}}}",
        f"{mantissa} \\times 10^{{{exponent}}}",
        f"{mantissa}e{exponent}",
        decimal,
    ]
    return draw(st.sampled_from(forms)), draw(st.sampled_from(forms))


@st.composite
def _product_pairs(draw: st.DrawFn) -> tuple[str, str]:
    x, a, b = draw(_VARIABLE), draw(_POSITIVE), draw(st.integers(2, 9))
    forms = [
        f"\\frac{{{a}{x}}}{{{b}}}",
        f"\\frac{{{a}}}{{{b}}}{x}",
        f"{x}\\cdot\\frac{{{a}}}{{{b}}}",
        f"\\frac{{{a}}}{{{b}}} {x}",
    ]
    square = [f"({x}+{a})^2", f"{x}^2+{2 * a}{x}+{a * a}", f"{a * a}+{2 * a}{x}+{x}^2"]
    group = draw(st.sampled_from([forms, square]))
    return draw(st.sampled_from(group)), draw(st.sampled_from(group))


@st.composite
def _collection_pairs(draw: st.DrawFn) -> tuple[str, str]:
    values = [Fraction(draw(_SMALL), draw(st.sampled_from([1, 2, 4]))) for _ in range(2)]
    left = [draw(st.sampled_from(_fraction_forms(v))) for v in values]
    right = [draw(st.sampled_from(_fraction_forms(v))) for v in values]
    kind = draw(st.sampled_from(["tuple", "set", "matrix", "assignment"]))
    if kind == "tuple":
        return f"({left[0]}, {left[1]})", f"\\left({right[0]},{right[1]}\\right)"
    if kind == "set":
        return f"\\{{{left[0]}, {left[1]}\\}}", f"\\{{{right[1]}, {right[0]}\\}}"
    if kind == "matrix":
        env = draw(st.sampled_from(["pmatrix", "bmatrix"]))
        return (
            f"\\begin{{{env}}}{left[0]}\\\\{left[1]}\\end{{{env}}}",
            f"\\begin{{pmatrix}} {right[0]} \\\\ {right[1]} \\end{{pmatrix}}",
        )
    return f"x = {left[0]}", right[0]


_EQUAL_PAIRS = st.one_of(
    _number_pairs(), _radical_pairs(), _power_of_ten_pairs(), _product_pairs(), _collection_pairs()
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_EQUAL_PAIRS)
def test_quick_check_never_rejects_what_math_verify_accepts(pair: tuple[str, str]) -> None:
    pred, gold = (tidy_math(text) for text in pair)
    if quick_math_check(pred, gold) is False:
        assert not math_verify_equivalent(pred, gold), (pair, pred, gold)


@settings(max_examples=100, deadline=None)
@given(_number_pairs())
def test_equal_number_forms_are_settled_equal_or_left_open(pair: tuple[str, str]) -> None:
    """Plain numbers in other spellings are never called unequal (math-verify aside)."""
    pred, gold = (tidy_math(text) for text in pair)
    assert quick_math_check(pred, gold) is not False, (pair, pred, gold)
