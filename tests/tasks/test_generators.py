"""Generated arithmetic tasks: deterministic per seed, answers recomputed from the text."""

from __future__ import annotations

import re
from statistics import mean

import pytest

from evals.errors import EvalsError
from evals.tasks import load_task
from evals.tasks.generators import (
    ArithmeticWordProblems,
    generator_names,
    get_generator,
    register_generator,
)

LEVELS = ("easy", "medium", "hard")

# The solver below reads the English, not the generator's internals: each verb's meaning
# is fixed here independently, so a template that says "sells" but adds is caught.
GAIN_VERBS = {"bakes", "collects", "buys", "gets", "picks", "wins", "finds"}
LOSS_VERBS = {"sells", "gives away", "uses", "donates", "lends out", "eats", "loses"}
NAMED_FACTORS = {"doubles": 2, "triples": 3}


def solve(question: str) -> int:
    """Recompute the answer of a generated word problem from its sentences."""
    *statements, asked = re.split(r"(?<=[.?])\s+", question)
    assert asked.startswith("How many ") and asked.endswith(" have now?"), asked
    count: int | None = None
    for sentence in statements:
        count = _apply(sentence, count)
    assert count is not None
    return count


def _apply(sentence: str, count: int | None) -> int:
    if match := re.fullmatch(r"\w+ has (\d+) \w+ with (\d+) \w+ in each\.", sentence):
        return int(match[1]) * int(match[2])
    if match := re.fullmatch(r"\w+ has (\d+) \w+\.", sentence):
        return int(match[1])
    assert count is not None, f"no starting amount before: {sentence}"
    if match := re.fullmatch(r"(?:He|She) ([a-z ]+?) (\d+) more \w+\.", sentence):
        assert match[1] in GAIN_VERBS, sentence
        return count + int(match[2])
    if match := re.fullmatch(r"(?:He|She) ([a-z ]+?) (\d+) of the \w+\.", sentence):
        assert match[1] in LOSS_VERBS, sentence
        assert int(match[2]) < count, f"takes away more than there is: {sentence}"
        return count - int(match[2])
    if match := re.fullmatch(r"Then the number of \w+ (doubles|triples)\.", sentence):
        return count * NAMED_FACTORS[match[1]]
    if match := re.fullmatch(r"Then (?:he|she) ends up with (\d+) times as many \w+\.", sentence):
        return count * int(match[1])
    pattern = r"(?:He|She) packs the \w+ equally into (\d+) (\w+) and keeps (\d+) of the \2\."
    if match := re.fullmatch(pattern, sentence):
        parts, kept = int(match[1]), int(match[3])
        assert count % parts == 0 and 0 < kept < parts, sentence
        return count // parts * kept
    raise AssertionError(f"sentence the solver cannot read: {sentence}")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_answers_match_a_recomputation_from_the_text(level: str, seed: int) -> None:
    items = load_task(f"arith-{level}", seed=seed, limit=300).items
    for item in items:
        assert item.gold == str(solve(item.question)), item.question
        assert int(item.gold) > 0


@pytest.mark.parametrize("level", LEVELS)
def test_same_seed_same_items_and_other_seed_other_items(level: str) -> None:
    first = load_task(f"arith-{level}", seed=3)
    again = load_task(f"arith-{level}", seed=3)
    other = load_task(f"arith-{level}", seed=4)
    assert first.items == again.items
    assert first.seed == 3 and other.seed == 4
    questions = [item.question for item in first.items]
    assert len(set(questions)) > 0.9 * len(questions)  # few repeats within a stream
    shared = set(questions) & {item.question for item in other.items}
    assert len(shared) < 0.1 * len(questions)


def test_default_seed_and_size_come_from_the_spec() -> None:
    loaded = load_task("arith-easy")
    assert loaded.seed == loaded.spec.generator.seed == 0  # type: ignore[union-attr]
    assert len(loaded.items) == loaded.spec.generator.n_items  # type: ignore[union-attr]
    assert loaded.source == "generated:arithmetic/easy"
    assert loaded.items[0].item_id == "s0-00000"


@pytest.mark.parametrize("limit", [1, 17, 500])
def test_limit_is_a_prefix_of_the_unbounded_stream(limit: int) -> None:
    longest = load_task("arith-medium", limit=600).items
    assert load_task("arith-medium", limit=limit).items == longest[:limit]
    assert len(longest) == 600  # more than the default n_items of 200


def test_levels_differ_in_steps_and_magnitude() -> None:
    generator = get_generator("arithmetic")
    problems = {level: [generator.generate(0, level, index) for index in range(300)] for level in LEVELS}
    steps = {level: [p.operations for p in found] for level, found in problems.items()}
    assert set(steps["easy"]) == {1, 2}
    assert set(steps["medium"]) == {3, 4}
    assert set(steps["hard"]) == {5, 6, 7}
    largest = {
        level: mean(max(map(int, re.findall(r"\d+", p.question))) for p in found)
        for level, found in problems.items()
    }
    assert largest["easy"] < 16 < largest["medium"] < 60 < largest["hard"]
    assert max(int(p.answer) for p in problems["easy"]) <= 15 + 2 * 9


def test_easy_items_read_naturally() -> None:
    item = load_task("arith-easy", limit=1).items[0]
    assert re.fullmatch(
        r"[A-Z][a-z]+ has \d+ \w+\. .+ How many \w+ does [A-Z][a-z]+ have now\?", item.question
    )


def test_registry_refuses_a_duplicate_and_suggests_on_a_miss() -> None:
    assert "arithmetic" in generator_names()
    with pytest.raises(ValueError, match="already registered"):
        register_generator(ArithmeticWordProblems())
    with pytest.raises(EvalsError, match="did you mean 'arithmetic'"):
        get_generator("arithmetik")
