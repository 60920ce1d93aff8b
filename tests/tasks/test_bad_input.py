"""Bad input ends in one EvalsError line that says what is wrong and where."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from evals.errors import ConfigError, EvalsError
from evals.tasks import load_task, load_task_spec, validate_task_names

# A valid file-backed spec written by the tests into a temporary task folder.
GOOD_SPEC = """\
name: {name}
description: A small test task.
answer_type: number
dataset:
  local_file: {name}/test.jsonl
  fields: {{question: question, gold: answer, gold_transform: after_hashes}}
prompt:
  template: "{{question}}"
"""


def write_task(folder: Path, name: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text if text is not None else GOOD_SPEC.format(name=name))
    return path


def write_data(data_dir: Path, name: str, lines: list[str]) -> Path:
    path = data_dir / name / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def record(question: str = "What is 2 + 3?", answer: str = "2 + 3 = 5\n#### 5") -> str:
    return json.dumps({"question": question, "answer": answer})


def test_unknown_task_suggests_the_closest_name() -> None:
    with pytest.raises(EvalsError, match=r"^unknown task 'gsm8kk' \(did you mean 'gsm8k'\?\)"):
        load_task_spec("gsm8kk")


def test_unknown_subtask_suggests_the_closest_subtask() -> None:
    with pytest.raises(EvalsError, match=r"no subtask 'navigat' \(did you mean 'navigate'\?\)"):
        load_task_spec("bbh:navigat")


def test_subtask_of_a_task_without_subtasks() -> None:
    with pytest.raises(EvalsError, match="task 'gsm8k' has no subtasks"):
        load_task_spec("gsm8k:main")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write_task(tmp_path, "broken", "name: broken\ndescription: [unclosed\nprompt: x\n")
    with pytest.raises(ConfigError) as caught:
        load_task_spec("broken", [tmp_path])
    (problem,) = caught.value.problems
    assert problem.startswith(f"{path}:3: malformed YAML")


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    write_task(tmp_path, "listy", "- name: listy\n")
    with pytest.raises(ConfigError, match="expected a mapping of task fields"):
        load_task_spec("listy", [tmp_path])


INVALID_SPEC = """\
name: invalid
description: Several mistakes at once.
answer_type: numeric
expected_items: 0
colour: blue
dataset:
  local_file: invalid/test.jsonl
  fields: {question: question, gold: answer, gold_transform: after_hash}
prompt:
  template: "{question} {questoin}"
generation: {max_tokens: -5}
"""


def test_invalid_spec_lists_every_problem_with_file_and_field(tmp_path: Path) -> None:
    path = write_task(tmp_path, "invalid", INVALID_SPEC)
    with pytest.raises(ConfigError) as caught:
        load_task_spec("invalid", [tmp_path])
    problems = caught.value.problems
    expected = [
        "answer_type: Input should be 'number', 'math', 'choice' or 'text'",
        "expected_items: Input should be greater than 0",
        "colour: unknown field",
        "dataset.fields.gold_transform: unknown transform 'after_hash'",
        "prompt.template: unknown placeholder {questoin}",
        "generation.max_tokens: Input should be greater than 0",
    ]
    assert len(problems) == len(expected), problems
    for fragment in expected:
        assert any(problem.startswith(f"{path}: {fragment}") for problem in problems), fragment
    assert "; " in str(caught.value)  # one line for the CLI


# Problems that only show once every field is well-formed, all reported together.
CROSS_FIELD_SPEC = """\
name: crossed
description: Fields that do not fit together.
answer_type: number
dataset:
  local_file: crossed/test.jsonl
  hub: {path: some/dataset, name: "{subtask}", split: test}
  fields: {question: question}
prompt:
  template: "{question}\\n{choices_block}"
"""


def test_cross_field_problems_are_listed_together(tmp_path: Path) -> None:
    write_task(tmp_path, "crossed", CROSS_FIELD_SPEC)
    with pytest.raises(ConfigError) as caught:
        load_task_spec("crossed", [tmp_path])
    fields = [problem.split(": ")[1] for problem in caught.value.problems]
    assert fields == ["dataset.fields.gold", "dataset.hub.name", "prompt.template"]


def test_name_must_match_the_file_name(tmp_path: Path) -> None:
    write_task(tmp_path, "renamed", GOOD_SPEC.format(name="other"))
    with pytest.raises(ConfigError, match="name: 'other' must match the file name 'renamed'"):
        load_task_spec("renamed", [tmp_path])


def test_validate_task_names_collects_problems_of_all_names(tmp_path: Path) -> None:
    write_task(tmp_path, "invalid", INVALID_SPEC)
    problems = validate_task_names(["gsm8k", "nosuch", "invalid", "bbh:navigate"], [tmp_path])
    assert problems[0].startswith("unknown task 'nosuch'")
    assert len(problems) == 1 + 6
    assert validate_task_names(["gsm8k", "bbh:navigate", "arith-easy"]) == []


def test_a_task_defined_twice_is_refused(tmp_path: Path) -> None:
    write_task(tmp_path, "gsm8k")
    with pytest.raises(EvalsError, match="task 'gsm8k' is defined twice"):
        load_task_spec("math", [tmp_path])


def test_task_path_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_task(tmp_path / "mine", "mytask")
    monkeypatch.setenv("EVALS_TASK_PATH", str(tmp_path / "mine"))
    assert load_task_spec("mytask").name == "mytask"
    monkeypatch.setenv("EVALS_TASK_PATH", str(tmp_path / "missing"))
    with pytest.raises(EvalsError, match="task folder .*missing does not exist"):
        load_task_spec("gsm8k")


@pytest.mark.parametrize("limit", [0, -3])
def test_limit_must_be_positive(limit: int) -> None:
    with pytest.raises(EvalsError, match=f"--limit must be a positive number of items, got {limit}"):
        load_task("arith-easy", limit=limit)


def test_missing_data_file_names_the_path_and_layout(tmp_path: Path) -> None:
    expected = f"data file {tmp_path / 'gsm8k' / 'test.jsonl'} not found"
    with pytest.raises(EvalsError, match=expected) as caught:
        load_task("gsm8k", data_dir=tmp_path)
    assert "--data-dir DIR must hold DIR/gsm8k/test.jsonl" in str(caught.value)


# (case, lines of the data file, expected message after "task 'tiny': line N of PATH: ")
BAD_RECORDS = [
    ("missing field", [record(), json.dumps({"question": "Q?"})], "line 2", "missing field 'answer'"),
    (
        "gold without ####",
        [record(), record(), record(answer="it is 5")],
        "line 3",
        "field 'answer' (after_hashes): no '####' marker",
    ),
    ("gold not a number", [record(answer="#### five")], "line 1", "field 'answer': 'five' is not a number"),
    (
        "null question",
        [json.dumps({"question": None, "answer": "#### 1"})],
        "line 1",
        "missing field 'question'",
    ),
    ("empty question", [record(question="  ")], "line 1", "field 'question' (strip): empty"),
]


@pytest.mark.parametrize(
    ("lines", "where", "message"),
    [case[1:] for case in BAD_RECORDS],
    ids=[case[0] for case in BAD_RECORDS],
)
def test_bad_record_names_line_and_field(tmp_path: Path, lines: list[str], where: str, message: str) -> None:
    write_task(tmp_path / "tasks", "tiny")
    path = write_data(tmp_path / "data", "tiny", lines)
    with pytest.raises(EvalsError) as caught:
        load_task("tiny", data_dir=tmp_path / "data", extra_dirs=[tmp_path / "tasks"])
    assert str(caught.value).startswith(f"task 'tiny': {where} of {path}: {message}")


def test_unreadable_json_is_one_line(tmp_path: Path) -> None:
    write_task(tmp_path / "tasks", "tiny")
    path = write_data(tmp_path / "data", "tiny", [record(), "{not json"])
    with pytest.raises(EvalsError, match=f"task 'tiny': cannot read {path}: ") as caught:
        load_task("tiny", data_dir=tmp_path / "data", extra_dirs=[tmp_path / "tasks"])
    assert "\n" not in str(caught.value)


def test_duplicate_item_ids_are_refused(tmp_path: Path) -> None:
    spec = GOOD_SPEC.format(name="tiny").replace("{question: question,", "{id: key, question: question,")
    write_task(tmp_path / "tasks", "tiny", spec)
    lines = [json.dumps({"key": "a", "question": "Q?", "answer": "#### 1"})] * 2
    write_data(tmp_path / "data", "tiny", lines)
    with pytest.raises(EvalsError, match="line 2 of .*: item id 'a' repeats line 1 of"):
        load_task("tiny", data_dir=tmp_path / "data", extra_dirs=[tmp_path / "tasks"])


def test_hub_failure_is_one_line_pointing_at_data_dir(tmp_path: Path) -> None:
    """Offline, the Hub path fails fast and tells the user about --data-dir."""
    code = dedent(
        """
        from evals.errors import EvalsError
        from evals.tasks import load_task
        try:
            load_task("gsm8k", data_dir=None)
        except EvalsError as error:
            print(error)
        """
    )
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HOME": str(tmp_path), "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("task 'gsm8k': cannot load openai/gsm8k (main) split 'test'")
    assert message.endswith("(offline? pass --data-dir DIR with DIR/gsm8k/test.jsonl)")
    assert "\n" not in message
