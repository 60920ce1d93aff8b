"""Spec parsing details, gold transforms, prompt rendering and the `evals tasks` listing."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from evals.commands import catalog
from evals.errors import ConfigError, EvalsError
from evals.prompts import build_prompt
from evals.records import Item
from evals.tasks import load_task, load_task_spec
from evals.tasks.gold import TransformError, apply_transform
from evals.tasks.spec import template_problems

# (transform, raw value, expected text) -- source of each format in the comment.
TRANSFORM_CASES = [
    ("after_hashes", "Janet sells 9 eggs.\n#### 18", "18"),  # GSM8K answer field
    ("after_hashes", "so 2,125 in all\n#### 2,125", "2125"),  # GSM8K golds with commas
    ("after_hashes", "#### -3", "-3"),
    ("last_boxed", "so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),  # MATH solution
    ("last_boxed", "\\boxed{1} then \\boxed{\\{2\\}}", "\\{2\\}"),  # last box, nested braces
    ("int", "025", "25"),  # AIME 2024 zero-padded strings
    ("int", 70, "70"),  # AIME 2025 integers
    ("int", 7.0, "7"),
    ("number", 27.0, "27"),  # AMC 2023 floats
    ("number", "2.50", "2.5"),
    ("number", "-1", "-1"),
    (
        "strip_instruction",
        "Find x.\nPlease reason step by step, and put your final answer within \\boxed{}.",
        "Find x.",
    ),  # QwQ aime25
    ("strip_instruction", "Find x.", "Find x."),
    ("strip", "  (B) \n", "(B)"),
]


@pytest.mark.parametrize(("name", "value", "expected"), TRANSFORM_CASES)
def test_transform(name: str, value: object, expected: str) -> None:
    assert apply_transform(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("after_hashes", "no marker here", "no '####' marker"),
        ("after_hashes", "####  ", "nothing after"),
        ("last_boxed", "no box", "no complete \\boxed"),
        ("last_boxed", "\\boxed{unclosed", "no complete \\boxed"),
        ("int", "2.5", "not an integer"),
        ("int", "abc", "not a number"),
        ("number", "nan", "not a finite number"),
        ("strip", ["a list"], "expected text or a number"),
        ("strip", True, "expected text or a number"),
        ("strip", "   ", "empty"),
    ],
)
def test_transform_refuses(name: str, value: object, message: str) -> None:
    with pytest.raises(TransformError, match=message.replace("\\", "\\\\")):
        apply_transform(name, value)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{question}", None),
        ("{question}\n{choices_block}\n{letters} {subtask} \\boxed{{}}", None),
        ("{question} {answer}", "unknown placeholder {answer}"),
        ("{}", "unknown placeholder {}"),
        ("{question.__class__}", "unknown placeholder {question.__class__}"),
        ("{question!r}", "takes no format spec or conversion"),
        ("{question:>10}", "takes no format spec or conversion"),
        ("\\boxed{}", "unknown placeholder {}"),
        ("{question", "malformed template"),
        ("question}", "malformed template"),
    ],
)
def test_template_validation(template: str, problem: str | None) -> None:
    found = template_problems(template)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0], found


def test_specs_are_frozen() -> None:
    spec = load_task_spec("gsm8k")
    with pytest.raises(pydantic.ValidationError):
        spec.name = "other"


def test_loading_specs_imports_no_heavy_packages() -> None:
    code = (
        "import sys; from evals.tasks import load_all_specs, validate_task_names; "
        "load_all_specs(); validate_task_names(['bbh:navigate', 'gsm8k']); "
        "print(sorted(m for m in ('datasets', 'vllm', 'torch', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _item(**fields: object) -> Item:
    defaults: dict[str, object] = dict(
        task="t", item_id="1", question="What is 2+2?", gold="4", answer_type="number"
    )
    return Item(**{**defaults, **fields})  # type: ignore[arg-type]


def test_number_prompt_asks_for_a_parseable_answer() -> None:
    prompt = build_prompt(_item(), load_task_spec("gsm8k"))
    (user,) = prompt.messages
    assert user.content.startswith("What is 2+2?\n\n")
    assert 'in the form "The answer is N."' in user.content
    assert prompt.item == _item()


def test_math_prompt_keeps_the_literal_boxed_braces() -> None:
    (user,) = build_prompt(_item(answer_type="math"), load_task_spec("math500")).messages
    assert user.content.endswith("put your final answer within \\boxed{}.")


def test_choice_prompt_lists_lettered_options() -> None:
    item = _item(answer_type="choice", gold="B", choices=("red", "blue {x}", "green"))
    (user,) = build_prompt(item, load_task_spec("arc_challenge")).messages
    assert "(A) red\n(B) blue {x}\n(C) green" in user.content
    assert "where X is one of A, B or C." in user.content


def test_group_prompt_follows_the_item_answer_type() -> None:
    spec = load_task_spec("bbh")
    choice = _item(answer_type="choice", gold="A", choices=("x", "y"), subtask="snarks")
    text = _item(answer_type="text", gold="True", subtask="boolean_expressions")
    assert "letter of the correct option (A or B)" in build_prompt(choice, spec).messages[0].content
    assert '"Answer: <answer>"' in build_prompt(text, spec).messages[0].content


def test_system_prompt_precedence() -> None:
    spec = load_task_spec("gsm8k")
    with_system = spec.model_copy(
        update={"prompt": spec.prompt.model_copy(update={"system": "You are careful."})}
    )
    assert [m.role for m in build_prompt(_item(), spec).messages] == ["user"]
    from_spec = build_prompt(_item(), with_system).messages
    assert (from_spec[0].role, from_spec[0].content) == ("system", "You are careful.")
    assert build_prompt(_item(), with_system, "Be brief.").messages[0].content == "Be brief."
    assert [m.role for m in build_prompt(_item(), with_system, "").messages] == ["user"]


def test_arc_numeric_labels_become_letters(tmp_path: Path) -> None:
    # The original ARC release labels some items "1".."4" (e.g. NYSEDREGENTS ids).
    row = {
        "id": "NYSED_0001",
        "question": "Which is a liquid at room temperature?",
        "choices": {"text": ["iron", "water", "salt", "sand"], "label": ["1", "2", "3", "4"]},
        "answerKey": "2",
    }
    (tmp_path / "arc_challenge").mkdir()
    (tmp_path / "arc_challenge" / "test.jsonl").write_text(json.dumps(row) + "\n")
    (item,) = load_task("arc_challenge", data_dir=tmp_path).items
    assert (item.gold, item.choices) == ("B", ("iron", "water", "salt", "sand"))


def test_inline_gold_must_name_an_option_unless_kept(tmp_path: Path) -> None:
    spec = load_task_spec("bbh")
    assert spec.dataset and spec.dataset.choices
    strict = spec.model_copy(
        update={
            "dataset": spec.dataset.model_copy(
                update={"choices": spec.dataset.choices.model_copy(update={"unmatched_gold": "error"})}
            )
        }
    )
    row = {"task": "snarks", "input": "Which?\nOptions:\n(A) one\n(B) two", "target": "(C)"}
    (tmp_path / "bbh").mkdir()
    (tmp_path / "bbh" / "test.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(EvalsError, match="field 'target': '\\(C\\)' names none of the options AB"):
        load_task(strict, data_dir=tmp_path)
    (item,) = load_task(spec, data_dir=tmp_path).items
    assert (item.gold, item.choices) == ("(C)", ("one", "two"))


def test_unlisted_subtask_in_the_data_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "bbh").mkdir()
    row = {"task": "new_task", "input": "x", "target": "y"}
    (tmp_path / "bbh" / "test.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(EvalsError, match="field 'task': 'new_task' is not a listed subtask"):
        load_task("bbh", data_dir=tmp_path)


def test_a_spec_object_is_checked_across_fields() -> None:
    spec = load_task_spec("gsm8k")
    broken = spec.model_copy(update={"answer_type": "choice"})
    with pytest.raises(ConfigError, match="dataset.choices: required for answer_type 'choice'"):
        load_task(broken, data_dir=Path("unused"))


def _run_tasks_command(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser()
    catalog.register(parser.add_subparsers())
    args = parser.parse_args(["tasks", *argv])
    assert args.handler(args) == 0
    return capsys.readouterr().out


def test_tasks_command_counts_local_files(fixture_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(_run_tasks_command("--json", "--data-dir", str(fixture_data), capsys=capsys))
    by_name = {row["name"]: row for row in rows}
    assert (by_name["gsm8k"]["items"], by_name["gsm8k"]["items_from"]) == (30, "file")  # 30 lines
    assert by_name["bbh"]["answer_types"] == ["text", "choice", "number"]
    assert by_name["arith-easy"]["items"] == 200
    assert "bbh:navigate" not in by_name


def test_tasks_command_without_data_uses_the_yaml_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVALS_DATA_DIR", raising=False)
    table = _run_tasks_command("--subtasks", "--data-dir", str(tmp_path), capsys=capsys)
    lines = {line.split()[0]: line.split() for line in table.splitlines()[1:-1]}
    assert lines["math"][1:3] == ["5000*", "math"]
    assert lines["bbh:navigate"][1:3] == ["250*", "text"]
    assert table.splitlines()[0].split() == ["TASK", "ITEMS", "ANSWER", "DESCRIPTION"]
