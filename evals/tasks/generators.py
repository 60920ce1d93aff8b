"""Procedurally generated tasks: contamination-free items with exact answers.

A generator turns (seed, level, index) into one problem, deterministically and
independently of every other index, so the first N items of a stream are the same
whatever N is (stable under ``--limit`` and resume). Generators register by name;
task YAML refers to them as ``generator: {name: ..., level: ...}``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Protocol

from evals.errors import EvalsError, closest
from evals.records import AnswerType


@dataclass(frozen=True)
class GeneratedProblem:
    """One generated question with its exact answer and the number of operations used."""

    question: str
    answer: str
    operations: int


class ProblemGenerator(Protocol):
    """A named family of problems at several difficulty levels."""

    @property
    def name(self) -> str: ...

    @property
    def answer_type(self) -> AnswerType: ...

    @property
    def levels(self) -> tuple[str, ...]: ...

    def generate(self, seed: int, level: str, index: int) -> GeneratedProblem: ...


_GENERATORS: dict[str, ProblemGenerator] = {}


def register_generator(generator: ProblemGenerator) -> ProblemGenerator:
    """Add a generator to the registry; a second one with the same name is refused."""
    if generator.name in _GENERATORS:
        raise ValueError(f"a generator named {generator.name!r} is already registered")
    _GENERATORS[generator.name] = generator
    return generator


def generator_names() -> tuple[str, ...]:
    return tuple(sorted(_GENERATORS))


def get_generator(name: str) -> ProblemGenerator:
    """The generator called ``name``; an unknown name is an error with a suggestion."""
    try:
        return _GENERATORS[name]
    except KeyError:
        known = generator_names()
        hint = closest(name, known)
        raise EvalsError(f"unknown generator {name!r}{hint}; known: {', '.join(known)}") from None


def item_rng(*parts: object) -> random.Random:
    """A random stream determined only by ``parts`` (stable across processes and versions)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


# --- Multi-step arithmetic word problems -------------------------------------------


@dataclass(frozen=True)
class _Scenario:
    unit: str  # plural noun that is counted
    container: str  # plural noun that holds units
    gains: tuple[str, ...]  # verbs read as "<verb> k more <unit>"
    losses: tuple[str, ...]  # verbs read as "<verb> k of the <unit>"


_SCENARIOS = (
    _Scenario("muffins", "trays", ("bakes",), ("sells", "gives away")),
    _Scenario("eggs", "cartons", ("collects",), ("sells", "uses")),
    _Scenario("books", "shelves", ("buys",), ("donates", "lends out")),
    _Scenario("stickers", "sheets", ("gets", "buys"), ("gives away", "uses")),
    _Scenario("apples", "baskets", ("picks",), ("eats", "sells")),
    _Scenario("marbles", "bags", ("wins", "finds"), ("loses", "gives away")),
    _Scenario("pencils", "boxes", ("buys",), ("gives away", "loses")),
    _Scenario("cookies", "jars", ("bakes",), ("eats", "sells")),
)

_PEOPLE = (
    ("Mia", "She"),
    ("Liam", "He"),
    ("Priya", "She"),
    ("Omar", "He"),
    ("Sofia", "She"),
    ("Noah", "He"),
    ("Aisha", "She"),
    ("Lucas", "He"),
    ("Elena", "She"),
    ("Kenji", "He"),
    ("Grace", "She"),
    ("Mateo", "He"),
    ("Zara", "She"),
    ("Ethan", "He"),
    ("Nadia", "She"),
    ("Tom", "He"),
)


@dataclass(frozen=True)
class _Level:
    operations: tuple[int, int]  # how many steps follow the opening sentence
    start: tuple[int, int]  # a plain starting count
    groups: tuple[int, int] | None  # "has a <containers> with b <unit> in each" when set
    per_group: tuple[int, int]
    grouped_start_share: float  # how often the opening is a product
    amount: tuple[int, int]  # operand of a gain or loss
    multipliers: tuple[int, int] | None
    max_multiplies: int
    multiply_below: int  # only scale counts up to this size (keeps answers readable)
    max_splits: int


_LEVELS: dict[str, _Level] = {
    # One or two additions/subtractions of small numbers: within reach of a 135M model.
    "easy": _Level((1, 2), (3, 15), None, (0, 0), 0.0, (1, 9), None, 0, 0, 0),
    "medium": _Level((3, 4), (10, 40), (2, 6), (3, 12), 0.5, (2, 30), (2, 3), 1, 150, 0),
    "hard": _Level((5, 7), (0, 0), (4, 15), (6, 30), 1.0, (10, 250), (2, 4), 2, 1500, 2),
}


@dataclass(frozen=True)
class _Step:
    sentence: str
    count: int  # the running total after this step


class ArithmeticWordProblems:
    """Stories of one person's stock of things changing step by step; the answer is the end count."""

    name = "arithmetic"
    answer_type: AnswerType = "number"
    levels = tuple(_LEVELS)

    def generate(self, seed: int, level: str, index: int) -> GeneratedProblem:
        config = _LEVELS[level]
        rng = item_rng(self.name, seed, level, index)
        scenario = rng.choice(_SCENARIOS)
        person, pronoun = rng.choice(_PEOPLE)
        steps = [self._opening(rng, config, scenario, person)]
        multiplies = splits = 0
        for _ in range(rng.randint(*config.operations)):
            kinds = ["gain", "gain", "loss", "loss"]
            count = steps[-1].count
            if config.multipliers and multiplies < config.max_multiplies and (count <= config.multiply_below):
                kinds.append("multiply")
            if splits < config.max_splits and _divisors(count):
                kinds.append("split")
            if count <= config.amount[0]:
                kinds = [kind for kind in kinds if kind != "loss"]
            kind = rng.choice(kinds)
            multiplies += kind == "multiply"
            splits += kind == "split"
            steps.append(self._step(rng, config, scenario, pronoun, kind, count))
        question = f"How many {scenario.unit} does {person} have now?"
        text = " ".join([step.sentence for step in steps] + [question])
        return GeneratedProblem(text, str(steps[-1].count), len(steps) - 1)

    @staticmethod
    def _opening(rng: random.Random, config: _Level, scenario: _Scenario, person: str) -> _Step:
        if config.groups and rng.random() < config.grouped_start_share:
            groups, each = rng.randint(*config.groups), rng.randint(*config.per_group)
            sentence = f"{person} has {groups} {scenario.container} with {each} {scenario.unit} in each."
            return _Step(sentence, groups * each)
        count = rng.randint(*config.start)
        return _Step(f"{person} has {count} {scenario.unit}.", count)

    @staticmethod
    def _step(
        rng: random.Random,
        config: _Level,
        scenario: _Scenario,
        pronoun: str,
        kind: str,
        count: int,
    ) -> _Step:
        unit = scenario.unit
        if kind == "gain":
            amount = rng.randint(*config.amount)
            verb = rng.choice(scenario.gains)
            return _Step(f"{pronoun} {verb} {amount} more {unit}.", count + amount)
        if kind == "loss":
            amount = rng.randint(config.amount[0], min(config.amount[1], count - 1))
            verb = rng.choice(scenario.losses)
            return _Step(f"{pronoun} {verb} {amount} of the {unit}.", count - amount)
        if kind == "multiply":
            assert config.multipliers is not None
            factor = rng.randint(*config.multipliers)
            sentence = {
                2: f"Then the number of {unit} doubles.",
                3: f"Then the number of {unit} triples.",
            }.get(factor, f"Then {pronoun.lower()} ends up with {factor} times as many {unit}.")
            return _Step(sentence, count * factor)
        parts = rng.choice(_divisors(count))
        kept = rng.randint(1, parts - 1)
        sentence = (
            f"{pronoun} packs the {unit} equally into {parts} {scenario.container} "
            f"and keeps {kept} of the {scenario.container}."
        )
        return _Step(sentence, count // parts * kept)


def _divisors(count: int) -> list[int]:
    """Ways to split ``count`` into 2..12 equal parts of at least 2 each."""
    return [parts for parts in range(2, 13) if count % parts == 0 and count // parts >= 2]


register_generator(ArithmeticWordProblems())
