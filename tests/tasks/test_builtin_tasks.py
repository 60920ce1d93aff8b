"""Every built-in task loads from ../shared/data with its verified count and valid golds.

GPQA questions must never appear in committed files or logs: its checks compare
letters, ids and equality only, and failure messages name item ids, never text.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from evals.prompts import build_prompt
from evals.records import Item
from evals.scoring.boxed import last_boxed
from evals.tasks import LoadedTask, load_task, load_task_spec, task_names

# (task, verified item count) from each folder's SOURCE.md (`wc -l test.jsonl`).
FILE_TASKS = [
    ("gsm8k", 1319),
    ("math500", 500),
    ("math", 5000),
    ("aime2024", 30),
    ("aime2025", 30),
    ("amc2023", 40),
    ("gpqa_diamond", 198),
    ("arc_challenge", 1172),
    ("bbh", 6511),
]

# BBH items whose target is no single option: the source split "Monsters, Inc" (and two
# ruin_names answers) at the comma into two options. Kept, with the raw target as gold.
BBH_UNMATCHED_GOLDS = {
    ("movie_recommendation", "Monsters, Inc"),
    ("ruin_names", "dearth, wind, & fire"),
    ("ruin_names", "rita, sue and bob poo"),
}
# A snarks item truncated in the source to one option, "(A) The NB" (its gold is A).
BBH_SINGLE_OPTION = {"snarks-0088-e82e32b6"}


@cache
def _load(name: str, data_dir: Path, limit: int | None = None, seed: int | None = None) -> LoadedTask:
    return load_task(name, data_dir=data_dir, limit=limit, seed=seed)


def _raw_records(data_dir: Path, task: str) -> list[dict[str, object]]:
    """The file read with plain json, independently of the loader."""
    with (data_dir / task / "test.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_every_task_yaml_is_covered() -> None:
    generated = {name for name in task_names() if load_task_spec(name).generator is not None}
    assert set(task_names()) == {name for name, _ in FILE_TASKS} | generated
    assert generated == {"arith-easy", "arith-medium", "arith-hard"}


@pytest.mark.parametrize(("task", "count"), FILE_TASKS, ids=[name for name, _ in FILE_TASKS])
def test_task_loads_with_verified_count(shared_data: Path, task: str, count: int) -> None:
    loaded = _load(task, shared_data)
    assert len(loaded.items) == count == loaded.spec.expected_items
    ids = [item.item_id for item in loaded.items]
    assert len(set(ids)) == count, "item ids must be unique"
    # Problems are reported by item id only: never echo question text (GPQA).
    problems = [(item.item_id, problem) for item in loaded.items for problem in _gold_problems(item)]
    assert problems == []
    assert {item.task for item in loaded.items} == {task}


def _gold_problems(item: Item) -> list[str]:
    problems = []
    if not item.gold:
        problems.append("empty gold")
    if not item.question or item.question != item.question.strip():
        problems.append("empty or unstripped question")
    if item.answer_type == "number":
        try:
            Decimal(item.gold)
        except ArithmeticError:
            problems.append("number gold does not parse")
    if item.answer_type != "choice":
        return problems + (["options on a non-choice item"] if item.choices else [])
    if not all(item.choices):
        problems.append("empty option")
    if len(item.choices) < 2 and item.item_id not in BBH_SINGLE_OPTION:
        problems.append("fewer than two options")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(item.choices)]
    if (item.subtask, item.gold) not in BBH_UNMATCHED_GOLDS and not (
        len(item.gold) == 1 and item.gold in letters
    ):
        problems.append("choice gold is not an option letter")
    return problems


@pytest.mark.parametrize(("task", "count"), FILE_TASKS, ids=[name for name, _ in FILE_TASKS])
def test_every_item_renders_a_prompt(shared_data: Path, task: str, count: int) -> None:
    loaded = _load(task, shared_data)
    for item in loaded.items:
        prompt = build_prompt(item, loaded.spec)
        (user,) = prompt.messages
        assert user.role == "user" and item.question in user.content
        assert "{" + "question}" not in user.content


# Golds recomputed from the raw file with plain json and the rule in each SOURCE.md.
GOLD_RULES = {
    "gsm8k": lambda r: str(r["answer"]).split("####")[-1].strip().replace(",", ""),
    "math": lambda r: last_boxed(str(r["solution"])),
    "math500": lambda r: r["answer"],
    "aime2024": lambda r: str(int(str(r["answer"]))),
    "aime2025": lambda r: str(r["answer"]),
    "amc2023": lambda r: str(int(float(str(r["answer"])))),
}


@pytest.mark.parametrize("task", sorted(GOLD_RULES))
def test_golds_match_the_source_rule(shared_data: Path, task: str) -> None:
    expected = [GOLD_RULES[task](record) for record in _raw_records(shared_data, task)]
    assert [item.gold for item in _load(task, shared_data).items] == expected


def test_math_ids_are_the_dataset_ids(shared_data: Path) -> None:
    raw_ids = [record["unique_id"] for record in _raw_records(shared_data, "math")]
    assert [item.item_id for item in _load("math", shared_data).items] == raw_ids


def test_aime2025_question_drops_the_instruction_suffix(shared_data: Path) -> None:
    for item in _load("aime2025", shared_data).items:
        assert "Please reason step by step" not in item.question
        assert "\\boxed" not in item.question


def test_arc_gold_letter_points_at_the_answer_key_text(shared_data: Path) -> None:
    raw = {record["id"]: record for record in _raw_records(shared_data, "arc_challenge")}
    for item in _load("arc_challenge", shared_data).items:
        choices = raw[item.item_id]["choices"]
        assert isinstance(choices, dict)
        key_index = choices["label"].index(raw[item.item_id]["answerKey"])
        assert item.choices[ord(item.gold) - ord("A")] == choices["text"][key_index].strip()


def test_gpqa_gold_letter_points_at_the_correct_answer(shared_data: Path) -> None:
    raw = {record["Record ID"]: record for record in _raw_records(shared_data, "gpqa_diamond")}
    for item in _load("gpqa_diamond", shared_data).items:
        correct = str(raw[item.item_id]["Correct Answer"]).strip()
        shown = item.choices[ord(item.gold) - ord("A")]
        assert shown == correct, f"{item.item_id}: gold letter does not show the correct answer"
        assert len(item.choices) == 4


def test_gpqa_correct_option_is_spread_over_all_letters(shared_data: Path) -> None:
    letters = Counter(item.gold for item in _load("gpqa_diamond", shared_data).items)
    assert set(letters) == set("ABCD")
    assert min(letters.values()) >= 30, dict(letters)  # 198 items: ~50 each when uniform


def test_gpqa_shuffle_is_stable_across_calls_and_limits(shared_data: Path) -> None:
    full = load_task("gpqa_diamond", data_dir=shared_data)
    again = load_task("gpqa_diamond", data_dir=shared_data)
    first_ten = load_task("gpqa_diamond", data_dir=shared_data, limit=10)
    assert full.items == again.items
    assert first_ten.items == full.items[:10]
    assert full.seed == full.spec.dataset.choices.shuffle_seed  # type: ignore[union-attr]


def test_gpqa_other_seed_reshuffles_but_keeps_the_answer(shared_data: Path) -> None:
    recorded = _load("gpqa_diamond", shared_data)
    other = _load("gpqa_diamond", shared_data, seed=7)
    assert other.seed == 7
    moved = 0
    for a, b in zip(recorded.items, other.items, strict=True):
        assert sorted(a.choices) == sorted(b.choices), a.item_id
        assert a.choices[ord(a.gold) - 65] == b.choices[ord(b.gold) - 65], a.item_id
        moved += a.choices != b.choices
    assert moved > 150


def test_bbh_subtasks_and_answer_types(shared_data: Path) -> None:
    items = _load("bbh", shared_data).items
    spec = load_task_spec("bbh")
    counts = Counter(item.subtask for item in items)
    assert spec.dataset and spec.dataset.subtasks
    for name, member in spec.dataset.subtasks.members.items():
        assert counts[name] == member.expected_items, name
    types = {(item.subtask, item.answer_type) for item in items}
    assert ("boolean_expressions", "text") in types
    assert ("date_understanding", "choice") in types
    assert ("object_counting", "number") in types
    assert len(types) == 27  # one answer type per subtask
    unmatched = {(i.subtask, i.gold) for i in items if i.answer_type == "choice" and len(i.gold) > 1}
    assert unmatched == BBH_UNMATCHED_GOLDS


def test_bbh_choice_options_are_parsed_from_the_question(shared_data: Path) -> None:
    item = next(i for i in _load("bbh", shared_data).items if i.subtask == "date_understanding")
    assert len(item.choices) == 6
    assert f"(A) {item.choices[0]}" in item.question
    assert f"(F) {item.choices[5]}" in item.question


def test_bbh_single_subtask_matches_the_group(shared_data: Path) -> None:
    group = [i for i in _load("bbh", shared_data).items if i.subtask == "navigate"]
    alone = load_task("bbh:navigate", data_dir=shared_data)
    assert alone.name == "bbh:navigate" and alone.spec.answer_types == ("text",)
    assert [i.item_id for i in alone.items] == [i.item_id for i in group]
    assert {i.task for i in alone.items} == {"bbh:navigate"}
    assert len(load_task("bbh:navigate", data_dir=shared_data, limit=5).items) == 5


@pytest.mark.parametrize(
    ("task", "limit"),
    [("gsm8k", 1), ("math", 7), ("bbh", 300), ("arc_challenge", 5000)],
)
def test_limit_takes_the_first_items_in_file_order(shared_data: Path, task: str, limit: int) -> None:
    full = _load(task, shared_data).items
    assert load_task(task, data_dir=shared_data, limit=limit).items == full[:limit]


def test_data_dir_comes_from_the_environment(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALS_DATA_DIR", str(shared_data))
    loaded = load_task("aime2024", limit=3)
    assert loaded.source == str(shared_data / "aime2024" / "test.jsonl")
    assert [item.gold for item in loaded.items] == ["204", "113", "371"]
