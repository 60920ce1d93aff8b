"""A lenient fallback reading of an answer, to bound how much strict extraction costs.

Lenient: the gold answer counts as given when it appears anywhere in the last
``LENIENT_TAIL_CHARS`` characters of the answer text (reasoning removed): any number
there equal to a numeric gold, the gold letter standing alone for a choice, the gold
text (spaces ignored) for math and free text. It over-credits answers that mention
the gold in passing, so the score under it is an upper bound, not a better scorer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evals.scoring.choice import resolve_choice_gold
from evals.scoring.numbers import find_numbers, numbers_equal, parse_number
from evals.scoring.reasoning import split_reasoning

LENIENT_TAIL_CHARS = 300
_SPACE = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    return _SPACE.sub("", text).lower()


def lenient_correct(output: str, gold: str, answer_type: str, choices: Sequence[str] = ()) -> bool:
    """Whether the gold answer appears in the tail of ``output`` (see the module docstring)."""
    tail = split_reasoning(output).answer[-LENIENT_TAIL_CHARS:]
    if not tail.strip():
        return False
    if answer_type == "choice":
        letter = resolve_choice_gold(gold, tuple(choices))
        return letter is not None and re.search(rf"(?<![A-Za-z]){letter}(?![A-Za-z])", tail) is not None
    number = parse_number(gold.strip()) if answer_type in ("number", "math") else None
    if number is not None and any(numbers_equal(found.number, number) for found in find_numbers(tail)):
        return True
    squeezed = _squeezed(gold)
    return answer_type != "number" and bool(squeezed) and squeezed in _squeezed(tail)
