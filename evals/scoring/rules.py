"""One rule per answer type: how to extract, check the gold, compare, and which verdicts it gives.

The scorer asks ``rule_for(answer_type)`` and never branches on the type itself.

How to add an answer type:

1. Name it in ``AnswerType`` and ``ANSWER_TYPES`` (``evals/records.py``): task specs,
   suites and the CLI accept the names listed there.
2. Write its extractor (``extract.py`` or a module of its own) and its gold check and
   comparison (``comparators.py``): pure functions of strings.
3. Add one ``AnswerRule`` below and ``_register`` it; ``tests/scoring`` checks that
   every named type has exactly one rule, and that case-table verdicts stay within
   its ``statuses``. Then add cases of the new type to ``tests/scoring/cases/*.json``.
4. Budget probes end a cut-off answer with a closing in the form the extractor reads:
   add one to ``DEFAULT_CLOSING`` (``evals/probes.py``; generation comes before scoring,
   so it lives there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from evals.records import ANSWER_TYPES, AnswerType, Status
from evals.scoring.choice import conflicting_option, extract_choice
from evals.scoring.comparators import (
    Judgement,
    NeedsVerifier,
    choice_gold_problem,
    compare_choices,
    compare_math,
    compare_numbers,
    compare_texts,
    math_gold_problem,
    number_gold_problem,
    text_gold_problem,
)
from evals.scoring.extract import extract_math, extract_number, extract_text
from evals.scoring.forms import asked_form


@dataclass(frozen=True)
class Answer:
    """What a comparison sees.

    The answer text (reasoning removed), what was extracted from it, the gold, the
    options of a choice item and the question (it may ask for a form).
    """

    text: str
    extracted: str
    gold: str
    choices: tuple[str, ...]
    question: str


# Statuses scoring gives any answer type, before and apart from the comparison.
COMMON_STATUSES = frozenset(
    {
        Status.GOLD_UNPARSEABLE,
        Status.TRUNCATED,
        Status.NO_ANSWER,
        Status.ERROR,
        Status.CORRECT,
        Status.INCORRECT,
    }
)


@dataclass(frozen=True)
class AnswerRule:
    """How one answer type is scored.

    ``extract(text, gold, choices)``: the final answer stated in ``text``, or None.
    ``gold_problem(gold, choices)``: why the gold cannot be scored against, or None.
    ``compare(answer)``: the verdict, or the pair math-verify must settle.
    ``statuses``: every status a sample of this type can end with.
    """

    answer_type: AnswerType
    extract: Callable[[str, str, tuple[str, ...]], str | None]
    gold_problem: Callable[[str, tuple[str, ...]], str | None]
    compare: Callable[[Answer], Judgement | NeedsVerifier]
    no_answer_reason: str
    statuses: frozenset[Status] = COMMON_STATUSES


def _compare_choice(answer: Answer) -> Judgement:
    conflict = conflicting_option(answer.text, answer.extracted, answer.choices)
    if conflict:
        return Judgement(Status.AMBIGUOUS, conflict)
    return compare_choices(answer.extracted, answer.gold, answer.choices)


NUMBER = AnswerRule(
    answer_type="number",
    extract=lambda text, gold, choices: extract_number(text),
    gold_problem=number_gold_problem,
    compare=lambda answer: compare_numbers(answer.extracted, answer.gold),
    no_answer_reason="no number found in the answer",
)
MATH = AnswerRule(
    answer_type="math",
    extract=lambda text, gold, choices: extract_math(text),
    gold_problem=math_gold_problem,
    compare=lambda answer: compare_math(answer.extracted, answer.gold, asked_form(answer.question)),
    no_answer_reason="no \\boxed{}, 'answer is' phrase, math span or number found in the answer",
    # math-verify can run out of time; ERROR (a crashed verifier) is common to all.
    statuses=COMMON_STATUSES | {Status.TIMEOUT},
)
CHOICE = AnswerRule(
    answer_type="choice",
    extract=lambda text, gold, choices: extract_choice(text, choices, gold),
    gold_problem=choice_gold_problem,
    compare=_compare_choice,
    no_answer_reason="no option letter or option text found in the answer",
    statuses=COMMON_STATUSES | {Status.AMBIGUOUS},
)
TEXT = AnswerRule(
    answer_type="text",
    extract=lambda text, gold, choices: extract_text(text),
    gold_problem=text_gold_problem,
    compare=lambda answer: compare_texts(answer.extracted, answer.gold),
    no_answer_reason="no 'answer is' phrase, \\boxed{} or one-line answer found",
)

RULES: dict[str, AnswerRule] = {}


def _register(rule: AnswerRule) -> None:
    if rule.answer_type in RULES:
        raise ValueError(f"answer type {rule.answer_type!r} already has a rule")
    if rule.answer_type not in ANSWER_TYPES:
        raise ValueError(f"answer type {rule.answer_type!r} is not named in evals.records.ANSWER_TYPES")
    RULES[rule.answer_type] = rule


for _rule in (NUMBER, MATH, CHOICE, TEXT):
    _register(_rule)


def rule_for(answer_type: str) -> AnswerRule:
    rule = RULES.get(answer_type)
    if rule is None:
        raise ValueError(f"unknown answer type {answer_type!r} (known: {', '.join(RULES)})")
    return rule


@dataclass(frozen=True)
class ParsedGold:
    """A gold answer checked against its type's rule; ``problem`` says why it cannot be scored."""

    gold: str
    answer_type: AnswerType
    problem: str | None

    @property
    def usable(self) -> bool:
        return self.problem is None


def parse_gold(gold: str, answer_type: AnswerType, choices: Sequence[str] = ()) -> ParsedGold:
    """``gold`` checked by its type's rule (unusable: the sample is ``gold_unparseable``)."""
    return ParsedGold(gold, answer_type, rule_for(answer_type).gold_problem(gold, tuple(choices)))
