"""Named transforms from a raw dataset value to question text or a gold answer.

Task YAML names a transform (``gold_transform: after_hashes``); no code comes from YAML.
Each transform takes the raw field value (str, int or float as the dataset stores it)
and returns a string, or raises ``TransformError`` saying why the value does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from evals.scoring.boxed import last_boxed

Transform = Callable[[object], str]


class TransformError(ValueError):
    """A field value that the named transform cannot turn into text."""


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransformError(f"expected text or a number, got {type(value).__name__}")
    return str(value)


def strip(value: object) -> str:
    """The value as text without surrounding whitespace."""
    return _text(value).strip()


def after_hashes(value: object) -> str:
    """GSM8K: the number after the last ``####``, without thousands separators."""
    text = _text(value)
    if "####" not in text:
        raise TransformError("no '####' marker before the final answer")
    answer = text.rsplit("####", 1)[1].strip().replace(",", "")
    if not answer:
        raise TransformError("nothing after the '####' marker")
    return answer


def boxed(value: object) -> str:
    """MATH: the content of the last ``boxed{}`` in a worked solution."""
    content = last_boxed(_text(value))
    if not content:
        raise TransformError("no complete \\boxed{...} in the solution")
    return content


# The fixed suffix that QwQ's aime25.jsonl appends to every problem.
_INSTRUCTION_SUFFIX = re.compile(
    r"\s*Please reason step by step,? and put your final answer within \\boxed\{\}\.?\s*$"
)


def strip_instruction(value: object) -> str:
    """Drop a trailing 'Please reason step by step ... within boxed{}.' instruction."""
    return _INSTRUCTION_SUFFIX.sub("", _text(value)).strip()


def integer(value: object) -> str:
    """An integer written canonically: ``"025"`` -> ``"25"``, ``7.0`` -> ``"7"``."""
    number = _decimal(value)
    if number != number.to_integral_value():
        raise TransformError(f"{_text(value).strip()!r} is not an integer")
    return str(int(number))


def number(value: object) -> str:
    """A number written canonically: ``27.0`` -> ``"27"``, ``"2.50"`` -> ``"2.5"``."""
    parsed = _decimal(value)
    if parsed == parsed.to_integral_value():
        return str(int(parsed))
    return format(parsed.normalize(), "f")


def _decimal(value: object) -> Decimal:
    text = _text(value).strip().replace(",", "")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        raise TransformError(f"{text!r} is not a number") from None
    if not parsed.is_finite():
        raise TransformError(f"{text!r} is not a finite number")
    return parsed


TRANSFORMS: dict[str, Transform] = {
    "strip": strip,
    "after_hashes": after_hashes,
    "last_boxed": boxed,
    "strip_instruction": strip_instruction,
    "int": integer,
    "number": number,
}


def apply_transform(name: str, value: object) -> str:
    """Apply the transform called ``name``; the result is never empty."""
    result = TRANSFORMS[name](value)
    if not result:
        raise TransformError("empty after transform")
    return result
