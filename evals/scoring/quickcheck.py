r"""Settle math pairs without math-verify when the answer is certain.

Each rule looks at the compact spellings (``mathcheck.compact_math``) of the answer and
the gold and returns True, False, or None (no opinion); the first opinion wins, and
pairs with none go to math-verify. Every rule agrees with math-verify where it decides,
except base subscripts, which math-verify ignores (it judges ``2516_7`` equal to
``2516_8``), and numbers in scientific notation, which it compares as floats (it judges
``6.02\times10^{23}`` unequal to 602000000000000000000000). ``tests/scoring`` checks
the agreement on the MATH data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

from evals.scoring.latex_value import latex_value, values_differ
from evals.scoring.mathcheck import compact_math
from evals.scoring.numbers import Number, numbers_equal, parse_number

_LETTER_GOLD = re.compile(r"(?:\\text(?:bf)?\{)?\(([A-E])\)\}?")
_LETTER_IN_PRED = re.compile(r"\(([A-E])\)")
_BARE_LETTER = re.compile(r"(?:\\text(?:bf)?\{)?([A-E])\}?")
_ASSIGNMENT = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?=([^=]+)")
_BASE_NUMBER = re.compile(r"(?P<sign>-?)(?P<digits>[0-9A-Za-z]+)_\{?(?P<base>\d{1,2})\}?")
_REAL = r"(?:\d+(?:\.\d+)?|\.\d+)"
_COMPLEX = re.compile(rf"(?P<re>[-+]?{_REAL})(?P<im>[-+]{_REAL}?)i|(?P<im_only>[-+]?{_REAL}?)i")
_ZERO = Number(Fraction(0), False)
# "1.5\times10^{-3}", "10^{-3}": a number in scientific notation (compact spelling).
_SCIENTIFIC = re.compile(
    r"(?:(?P<mantissa>-?\d+(?:\.\d+)?)(?:\\times|\\cdot))?10\^\{?(?P<exponent>-?\d{1,3})\}?"
)
# Relations, text, subscripts, percentages and plus-minus: values a plain reading misses.
_UNDECIDABLE = re.compile(r"[=<>%_]|\\(?:in|le|ge|lt|gt|pm|mp|text|mbox|mathrm|operatorname)(?![A-Za-z])")
_COMMAND = re.compile(r"\\[A-Za-z]+")
# Set notation and text: such answers are not one number or expression.
_NOT_SCALAR = re.compile(r"\\[{}]|\\(?:cup|cap|setminus|emptyset|varnothing|mathbb|begin|infty)(?![A-Za-z])")
# Letters that name constants (e, i) do not make an expression symbolic.
_FREE_LETTER = re.compile(r"[A-DF-HJ-Za-df-hj-z]")
_LETTER = re.compile(r"[A-Za-z]")
_RELATION = re.compile(r"[=<>]|\\(?:in|le|ge|lt|gt|leq|geq|neq|ne)(?![A-Za-z])")
_INTERVAL = re.compile(r"[(\[][^()\[\]]*,[^()\[\]]*[)\]]")
_SINGLE_ASSIGNMENT = re.compile(r"([A-Za-z])=([^=]+)")
_MATRIX = re.compile(r"\\begin\{([pbvBV]?matrix)\}(.*)\\end\{\1\}", re.DOTALL)
# "10m": math-verify drops unit letters after a number, so such answers are not variables.
_NUMBER_THEN_LETTERS = re.compile(r"-?[\d.,]+[A-Za-z]+(?:\^\{?\d+\}?)?")
# Values given to the variables (sorted by name): irrational-looking, away from 0 and 1.
_POINTS = ((0.6180, 1.4142, 0.7321, 2.2361), (1.7321, 0.5774, 2.4495, 0.4472))

Rule = Callable[[str, str], bool | None]


def _amc_letters(pred: str, gold: str) -> bool | None:
    r"""An AMC-style gold ``\text{(C)}`` against the letter the answer gives."""
    gold_letter = _LETTER_GOLD.fullmatch(gold)
    if not gold_letter:
        return None
    found = _LETTER_IN_PRED.findall(pred)
    bare = _BARE_LETTER.fullmatch(pred)
    pred_letter = found[-1] if found else bare.group(1) if bare else None
    return None if pred_letter is None else pred_letter == gold_letter.group(1)


def base_number_value(text: str) -> tuple[int, int] | None:
    match = _BASE_NUMBER.fullmatch(text)
    if not match:
        return None
    base = int(match.group("base"))
    try:
        value = int(match.group("sign") + match.group("digits"), base)
        return (value, base) if 2 <= base <= 36 else None
    except ValueError:  # a digit the base does not have
        return None


def _base_numbers(pred: str, gold: str) -> bool | None:
    """``52_8`` style answers: equal only in the same base with the same value.

    Plain digits count as written in the gold's base (as math-verify reads them).
    """
    gold_value = base_number_value(gold)
    if gold_value is None:
        return None
    pred_value = base_number_value(pred)
    if pred_value is None and re.fullmatch(r"[0-9A-Za-z]+", pred):
        pred_value = base_number_value(f"{pred}_{gold_value[1]}")
    return None if pred_value is None else pred_value == gold_value


def _complex(text: str) -> tuple[Number, Number] | None:
    """A plain real number as (x, 0), ``a+bi`` / ``bi`` with plain parts as (a, b)."""
    real = parse_number(text)
    if real is not None:
        return real, _ZERO
    match = _COMPLEX.fullmatch(text)
    if not match:
        return None
    real_text = match.group("re") or "0"
    imaginary_text = match.group("im") if match.group("re") else match.group("im_only")
    if imaginary_text in ("", "+", "-"):
        imaginary_text += "1"
    real, imaginary = parse_number(real_text), parse_number(imaginary_text)
    return (real, imaginary) if real is not None and imaginary is not None else None


def _scientific_value(text: str) -> Number | None:
    match = _SCIENTIFIC.fullmatch(text)
    if match is None:
        return parse_number(text)
    mantissa = match.group("mantissa") or "1"
    return Number(Fraction(mantissa) * Fraction(10) ** int(match.group("exponent")), "." in mantissa)


def _scientific_numbers(pred: str, gold: str) -> bool | None:
    r"""Numbers in scientific notation equal exactly (``6.02\times10^{23}``); unequal: math-verify's call."""
    if "10^" not in pred and "10^" not in gold:
        return None
    left, right = _scientific_value(pred), _scientific_value(gold)
    if left is None or right is None:
        return None
    return True if numbers_equal(left, right) else None


def _plain_numbers(pred: str, gold: str) -> bool | None:
    """Real or complex numbers with plain parts compare exactly (1e-6 for decimals)."""
    pred_value, gold_value = _complex(pred), _complex(gold)
    if pred_value is None or gold_value is None:
        return None
    return all(numbers_equal(p, g) for p, g in zip(pred_value, gold_value, strict=True))


def _split_top_level(text: str) -> list[str] | None:
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += 1 if char in "({[" else -1 if char in ")}]" else 0
        if depth < 0:
            return None
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def _bracketed(text: str) -> tuple[str, list[str]] | None:
    """(bracket pair, items) of a list, tuple, interval or set; pair "" when unbracketed."""
    inner = None
    if text[:1] in ("(", "[") and text[-1:] in (")", "]"):
        inner, brackets = text[1:-1], text[0] + text[-1]
    elif text.startswith("\\{") and text.endswith("\\}"):
        inner, brackets = text[2:-2], "{}"
    for candidate, pair in ((inner, brackets if inner is not None else ""), (text, "")):
        items = _split_top_level(candidate) if candidate is not None else None
        if items is not None and len(items) > 1:
            return pair, [item.strip() for item in items]
    return None


def _is_collection(text: str) -> bool:
    """Whether ``text`` holds several values (never equal to one number or expression).

    True for a matrix, a union with an interval, or a list, tuple, interval or set of
    two or more distinct items.
    """
    if "\\begin{" in text or ("\\cup" in text and _INTERVAL.search(text)):
        return True
    listed = None if _RELATION.search(text) else _bracketed(text)
    return listed is not None and len(set(listed[1])) > 1


def _is_scalar(text: str) -> bool:
    """One number or expression: no comma, set notation, relation, text or subscript."""
    if _complex(text) is not None:
        return True  # "58,500" is one number
    return "," not in text and not _NOT_SCALAR.search(text) and not _UNDECIDABLE.search(text)


def _scalar_against_collection(pred: str, gold: str) -> bool | None:
    """One number or expression never equals a matrix or a list of distinct items."""
    if (_is_scalar(pred) and _is_collection(gold)) or (_is_scalar(gold) and _is_collection(pred)):
        return False
    return None


def _number_against_expression(pred: str, gold: str) -> bool | None:
    """A plain real number never equals a gold expression in a variable."""
    real = _complex(pred)
    if real is None or real[1].value != 0 or not _is_scalar(gold):
        return None
    return False if _FREE_LETTER.search(_COMMAND.sub("", gold)) else None


def _item_value(item: str) -> float | None:
    """An item's value; interval ends may be infinite."""
    if item in ("\\infty", "+\\infty", "-\\infty"):
        return -math.inf if item.startswith("-") else math.inf
    return latex_value(item)


def _apart(left: float, right: float) -> bool:
    if math.isinf(left) or math.isinf(right):
        return left != right
    return values_differ(left, right)


def _item_values(pred: str, gold: str) -> bool | None:
    r"""Tuples, intervals or lists of constants whose values clearly differ are unequal.

    Ordered (bracketed alike) items compare position by position; unbracketed lists
    and ``\{...\}`` sets compare as sets of values.
    """
    pred_list, gold_list = _bracketed(pred), _bracketed(gold)
    if pred_list is None or gold_list is None or pred_list[0] != gold_list[0]:
        return None
    pred_values = [_item_value(item) for item in pred_list[1]]
    gold_values = [_item_value(item) for item in gold_list[1]]
    if None in pred_values or None in gold_values:
        return None
    left = [v for v in pred_values if v is not None]
    right = [v for v in gold_values if v is not None]
    if pred_list[0] in ("", "{}"):
        unmatched = [v for v in left if all(_apart(v, w) for w in right)]
        unmatched += [w for w in right if all(_apart(w, v) for v in left)]
        return False if unmatched else None
    if len(left) != len(right):
        return False
    return False if any(_apart(v, w) for v, w in zip(left, right, strict=True)) else None


def _variables(text: str) -> frozenset[str]:
    return frozenset(_LETTER.findall(_COMMAND.sub("", text)))


def _values_at_points(pred: str, gold: str) -> bool | None:
    """Expressions in the same variables whose values clearly differ are unequal.

    Both sides are evaluated with the same values of their variables (none for
    constants) at a couple of fixed points; floats prove no equality, so equal values
    are left to math-verify. ``e`` and ``i`` (constants to math-verify) are not
    variables here.
    """
    letters = _variables(pred)
    if letters != _variables(gold) or len(letters) > len(_POINTS[0]) or letters & set("eEiI"):
        return None
    for point in _POINTS if letters else _POINTS[:1]:
        values = dict(zip(sorted(letters), point, strict=False))
        pred_value, gold_value = latex_value(pred, values), latex_value(gold, values)
        if pred_value is None or gold_value is None:
            continue  # outside the domain at this point (a root of a negative, say)
        if values_differ(pred_value, gold_value):
            return False
    return None


def _plus_minus_values(text: str) -> list[float] | None:
    r"""The values of an unordered answer that may use ``\pm`` ("3\pm2\sqrt{2}", a set)."""
    listed = _bracketed(text)
    pair, items = listed if listed is not None else ("", [text])
    if pair not in ("", "{}"):
        return None
    values: list[float] = []
    for item in items:
        base_text, _, offset_text = item.partition("\\pm")
        if not offset_text:
            value = latex_value(item)
            if value is None:
                return None
            values.append(value)
            continue
        if "\\pm" in offset_text or re.search(r"[-+]", offset_text):
            return None  # which part the sign governs is unclear
        base = latex_value(base_text) if base_text else 0.0
        offset = latex_value(offset_text)
        if base is None or offset is None:
            return None
        values += [base + offset, base - offset]
    return values


def _plus_minus(pred: str, gold: str) -> bool | None:
    r"""Answers with ``\pm`` compare as sets of values (unequal when one value is unmatched)."""
    if "\\pm" not in pred and "\\pm" not in gold:
        return None
    left, right = _plus_minus_values(pred), _plus_minus_values(gold)
    if left is None or right is None:
        return None
    unmatched = any(all(_apart(v, w) for w in right) for v in left)
    unmatched = unmatched or any(all(_apart(w, v) for v in left) for w in right)
    return False if unmatched else None


def _matrix_cells(text: str) -> list[list[str]] | None:
    match = _MATRIX.fullmatch(text)
    if not match:
        return None
    return [[cell.strip() for cell in row.split("&")] for row in match.group(2).split("\\\\")]


def _matrices(pred: str, gold: str) -> bool | None:
    """Matrices of the same shape with an entry whose values clearly differ are unequal."""
    left, right = _matrix_cells(pred), _matrix_cells(gold)
    if left is None or right is None or [len(r) for r in left] != [len(r) for r in right]:
        return None
    for row_left, row_right in zip(left, right, strict=True):
        for cell_left, cell_right in zip(row_left, row_right, strict=True):
            value_left, value_right = latex_value(cell_left), latex_value(cell_right)
            if value_left is None or value_right is None:
                continue
            if values_differ(value_left, value_right):
                return False
    return None


def _expression_against_constant(pred: str, gold: str) -> bool | None:
    """An answer whose value changes with its variables never equals a constant gold."""
    letters = _variables(pred)
    if not letters or _variables(gold) or letters & set("eEiI") or len(letters) > len(_POINTS[0]):
        return None
    if _NUMBER_THEN_LETTERS.fullmatch(pred) or not (_is_scalar(pred) and _is_scalar(gold)):
        return None
    if latex_value(gold) is None:
        return None
    values = [latex_value(pred, dict(zip(sorted(letters), p, strict=False))) for p in _POINTS]
    if values[0] is None or values[1] is None:
        return None
    return False if values_differ(values[0], values[1]) else None


def _assignments(pred: str, gold: str) -> bool | None:
    """``y=3x+3`` against ``y=2x+3``: the same variable assigned clearly different values."""
    left, right = _SINGLE_ASSIGNMENT.fullmatch(pred), _SINGLE_ASSIGNMENT.fullmatch(gold)
    if left is None or right is None or left.group(1) != right.group(1):
        return None
    return _values_at_points(left.group(2), right.group(2))


# Rules on spellings, then rules on values; percentages skip the value rules.
_SPELLING_RULES: tuple[Rule, ...] = (_amc_letters, _base_numbers)
_VALUE_RULES: tuple[Rule, ...] = (
    _scientific_numbers,
    _plain_numbers,
    _scalar_against_collection,
    _number_against_expression,
    _item_values,
    _plus_minus,
    _matrices,
    _values_at_points,
    _expression_against_constant,
    _assignments,
)


def quick_math_check(pred_tidy: str, gold_tidy: str) -> bool | None:
    """True/False when certain without math-verify, else None.

    Equal compact spellings are equal; "x = 5" against a gold that is no equation
    compares its right side (as math-verify does); percentages are left to math-verify
    (50% is both 50 and 0.5 there).
    """
    pred, gold = compact_math(pred_tidy), compact_math(gold_tidy)
    if pred == gold:
        return True
    assignment = _ASSIGNMENT.fullmatch(pred)
    if assignment and "=" not in gold:
        pred = assignment.group(1)
        if pred == gold:
            return True
    percent = "%" in pred or "%" in gold
    for rule in _SPELLING_RULES + (() if percent else _VALUE_RULES):
        decided = rule(pred, gold)
        if decided is not None:
            return decided
    return None
