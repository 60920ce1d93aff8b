"""Every built-in task loads from a data folder with valid golds and ids.

Each test runs on the benchmark fixtures in tests/fixtures/data and, when EVALS_DATA_DIR
names the full data, again on it (marked ``fulldata``), where the counts are the verified
ones of each task's YAML.

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
from tests.conftest import BenchmarkData

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
# A snarks item truncated in the source to one option, "(A) The NB" (its gold is A); its id
# is "snarks-<position>-e82e32b6" (position 0088 in the full file).
BBH_SINGLE_OPTION = {("snarks", "e82e32b6")}


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
def test_task_loads_with_verified_count(benchmark_data: BenchmarkData, task: str, count: int) -> None:
    loaded = _load(task, benchmark_data.path)
    assert loaded.spec.expected_items == count
    # Every line is an item: the verified count on the full data, the line count on fixtures.
    assert len(loaded.items) == (
        count if benchmark_data.full else len(_raw_records(benchmark_data.path, task))
    )
    ids = [item.item_id for item in loaded.items]
    assert len(set(ids)) == len(ids), "item ids must be unique"
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
    if len(item.choices) < 2 and (item.subtask, item.item_id.rsplit("-", 1)[-1]) not in BBH_SINGLE_OPTION:
        problems.append("fewer than two options")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(item.choices)]
    if (item.subtask, item.gold) not in BBH_UNMATCHED_GOLDS and not (
        len(item.gold) == 1 and item.gold in letters
    ):
        problems.append("choice gold is not an option letter")
    return problems


@pytest.mark.parametrize(("task", "count"), FILE_TASKS, ids=[name for name, _ in FILE_TASKS])
def test_every_item_renders_a_prompt(benchmark_data: BenchmarkData, task: str, count: int) -> None:
    loaded = _load(task, benchmark_data.path)
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
def test_golds_match_the_source_rule(benchmark_data: BenchmarkData, task: str) -> None:
    expected = [GOLD_RULES[task](record) for record in _raw_records(benchmark_data.path, task)]
    assert [item.gold for item in _load(task, benchmark_data.path).items] == expected


def test_math_ids_are_the_dataset_ids(benchmark_data: BenchmarkData) -> None:
    raw_ids = [record["unique_id"] for record in _raw_records(benchmark_data.path, "math")]
    assert [item.item_id for item in _load("math", benchmark_data.path).items] == raw_ids


def test_aime2025_question_drops_the_instruction_suffix(benchmark_data: BenchmarkData) -> None:
    for item in _load("aime2025", benchmark_data.path).items:
        assert "Please reason step by step" not in item.question
        assert "\\boxed" not in item.question


def test_arc_gold_letter_points_at_the_answer_key_text(benchmark_data: BenchmarkData) -> None:
    raw = {record["id"]: record for record in _raw_records(benchmark_data.path, "arc_challenge")}
    for item in _load("arc_challenge", benchmark_data.path).items:
        choices = raw[item.item_id]["choices"]
        assert isinstance(choices, dict)
        key_index = choices["label"].index(raw[item.item_id]["answerKey"])
        assert item.choices[ord(item.gold) - ord("A")] == choices["text"][key_index].strip()


def test_gpqa_gold_letter_points_at_the_correct_answer(benchmark_data: BenchmarkData) -> None:
    raw = {record["Record ID"]: record for record in _raw_records(benchmark_data.path, "gpqa_diamond")}
    for item in _load("gpqa_diamond", benchmark_data.path).items:
        correct = str(raw[item.item_id]["Correct Answer"]).strip()
        shown = item.choices[ord(item.gold) - ord("A")]
        assert shown == correct, f"{item.item_id}: gold letter does not show the correct answer"
        assert len(item.choices) == 4


def test_gpqa_correct_option_is_spread_over_all_letters(benchmark_data: BenchmarkData) -> None:
    letters = Counter(item.gold for item in _load("gpqa_diamond", benchmark_data.path).items)
    assert set(letters) == set("ABCD")
    # 198 items: ~50 each when uniform; the 20 synthetic fixture items: 5 each.
    assert min(letters.values()) >= (30 if benchmark_data.full else 2), dict(letters)


def test_gpqa_shuffle_is_stable_across_calls_and_limits(benchmark_data: BenchmarkData) -> None:
    full = load_task("gpqa_diamond", data_dir=benchmark_data.path)
    again = load_task("gpqa_diamond", data_dir=benchmark_data.path)
    first_ten = load_task("gpqa_diamond", data_dir=benchmark_data.path, limit=10)
    assert full.items == again.items
    assert first_ten.items == full.items[:10]
    assert full.seed == full.spec.dataset.choices.shuffle_seed  # type: ignore[union-attr]


def test_gpqa_other_seed_reshuffles_but_keeps_the_answer(benchmark_data: BenchmarkData) -> None:
    recorded = _load("gpqa_diamond", benchmark_data.path)
    other = _load("gpqa_diamond", benchmark_data.path, seed=7)
    assert other.seed == 7
    moved = 0
    for a, b in zip(recorded.items, other.items, strict=True):
        assert sorted(a.choices) == sorted(b.choices), a.item_id
        assert a.choices[ord(a.gold) - 65] == b.choices[ord(b.gold) - 65], a.item_id
        moved += a.choices != b.choices
    assert moved > 0.75 * len(recorded.items)  # 23 of 24 orders differ from a given one


def test_bbh_subtasks_and_answer_types(benchmark_data: BenchmarkData) -> None:
    items = _load("bbh", benchmark_data.path).items
    spec = load_task_spec("bbh")
    counts = Counter(item.subtask for item in items)
    raw_counts = Counter(str(record["task"]) for record in _raw_records(benchmark_data.path, "bbh"))
    assert spec.dataset and spec.dataset.subtasks
    for name, member in spec.dataset.subtasks.members.items():
        assert counts[name] == (member.expected_items if benchmark_data.full else raw_counts[name]) > 0, name
    types = {(item.subtask, item.answer_type) for item in items}
    assert ("boolean_expressions", "text") in types
    assert ("date_understanding", "choice") in types
    assert ("object_counting", "number") in types
    assert len(types) == 27  # one answer type per subtask
    unmatched = {(i.subtask, i.gold) for i in items if i.answer_type == "choice" and len(i.gold) > 1}
    assert unmatched == BBH_UNMATCHED_GOLDS


def test_bbh_choice_options_are_parsed_from_the_question(benchmark_data: BenchmarkData) -> None:
    item = next(i for i in _load("bbh", benchmark_data.path).items if i.subtask == "date_understanding")
    assert len(item.choices) == 6
    assert f"(A) {item.choices[0]}" in item.question
    assert f"(F) {item.choices[5]}" in item.question


def test_bbh_single_subtask_matches_the_group(benchmark_data: BenchmarkData) -> None:
    group = [i for i in _load("bbh", benchmark_data.path).items if i.subtask == "navigate"]
    alone = load_task("bbh:navigate", data_dir=benchmark_data.path)
    assert alone.name == "bbh:navigate" and alone.spec.answer_types == ("text",)
    assert [i.item_id for i in alone.items] == [i.item_id for i in group]
    assert {i.task for i in alone.items} == {"bbh:navigate"}
    assert len(load_task("bbh:navigate", data_dir=benchmark_data.path, limit=1).items) == 1


@pytest.mark.parametrize(
    ("task", "limit"),
    [("gsm8k", 1), ("math", 7), ("bbh", 30), ("arc_challenge", 5000)],
)
def test_limit_takes_the_first_items_in_file_order(
    benchmark_data: BenchmarkData, task: str, limit: int
) -> None:
    full = _load(task, benchmark_data.path).items
    assert load_task(task, data_dir=benchmark_data.path, limit=limit).items == full[:limit]


def test_data_dir_comes_from_the_environment(
    benchmark_data: BenchmarkData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALS_DATA_DIR", str(benchmark_data.path))
    loaded = load_task("aime2024", limit=3)
    assert loaded.source == str(benchmark_data.path / "aime2024" / "test.jsonl")
    assert [item.gold for item in loaded.items] == ["204", "113", "371"]
