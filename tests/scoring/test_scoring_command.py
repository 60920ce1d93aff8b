"""``evals score``: scoring a JSONL file of existing outputs, and its input errors."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evals.commands import score
from evals.errors import EvalsError

ROWS = [
    {"id": 1, "output": "so $\\boxed{\\frac{1}{2}}$", "gold": "0.5"},
    {"id": 2, "output": "The answer is 27", "gold": 27.0},
    {"id": 3, "output": "<think>still going", "gold": "3"},
    {"id": 4, "output": "I give up.", "gold": "3"},
    {"id": 5, "output": "\\boxed{4}", "gold": "\\frac{3}{4"},
]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    score.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_scores_each_line(tmp_path: Path) -> None:
    source = _write_jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out" / "scored.jsonl"
    assert _run(["score", "--answer-type", "math", str(source), "--out", str(out)]) == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in scored] == [1, 2, 3, 4, 5]
    assert scored[0]["output"] == ROWS[0]["output"], "input fields are kept"
    assert [row["status"] for row in scored] == [
        "correct", "correct", "truncated", "no_answer", "gold_unparseable",
    ]  # fmt: skip
    assert [row["correct"] for row in scored] == [True, True, False, False, None]
    assert scored[0]["extracted"] == "\\frac{1}{2}" and scored[0]["reason"] is None
    assert all(row["reason"] for row in scored[2:])


def test_choice_with_option_texts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"output": "Answer: B", "gold": "B", "choices": ["red", "blue", "green"]},
        {"output": "The answer is green.", "gold": "green", "choices": ["red", "blue", "green"]},
        {"output": "(A)", "gold": "(B)"},
    ]
    source = _write_jsonl(tmp_path / "mc.jsonl", rows)
    assert _run(["score", "--answer-type", "choice", str(source)]) == 0
    captured = capsys.readouterr()
    scored = [json.loads(line) for line in captured.out.splitlines()]
    assert [(row["extracted"], row["status"]) for row in scored] == [
        ("B", "correct"), ("C", "correct"), ("A", "incorrect"),
    ]  # fmt: skip
    assert "scored 3 answers: 2 correct, 1 incorrect" in captured.err


BAD_INPUTS = [
    ('{"output": "x", "gold": "1"}\n{"output": "y", "gold"\n', "bad.jsonl:2: not valid JSON",
     "malformed JSON names its line"),
    ('{"output": "x"}\n', "bad.jsonl:1: missing field 'gold'", "missing field"),
    ('{"gold": "1"}\n', "bad.jsonl:1: missing field 'output'", "missing output"),
    ('{"output": 3, "gold": "1"}\n', "field 'output' must be a string", "wrong type"),
    ('[1, 2]\n', "expected a JSON object", "not an object"),
    ('{"output": "x", "gold": "1", "reasoning_in_prompt": "no"}\n',
     "'reasoning_in_prompt' must be true or false", "flag not a boolean"),
    ('{"output": "x", "gold": "1", "choices": "ABCD"}\n', "'choices' must be a list",
     "choices not a list"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message", "source"), BAD_INPUTS, ids=[c[2] for c in BAD_INPUTS])
def test_bad_input_is_one_error_and_no_output(tmp_path: Path, text: str, message: str, source: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(EvalsError) as error:
        _run(["score", "--answer-type", "number", str(bad), "--out", str(out)])
    assert message in str(error.value), source
    assert "\n" not in str(error.value)
    assert not out.exists(), "no partial output file"
    assert list(tmp_path.iterdir()) == [bad], "no temporary file left behind"


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(EvalsError, match="input file not found"):
        _run(["score", "--answer-type", "text", str(tmp_path / "nope.jsonl")])


def test_existing_output_untouched_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json}\n")
    with pytest.raises(EvalsError):
        _run(["score", "--answer-type", "math", str(bad), "--out", str(out)])
    assert out.read_text() == "previous results\n"


def test_through_the_installed_cli(tmp_path: Path) -> None:
    """The real entry point: exit 2 and one line on stderr for bad input."""
    source = _write_jsonl(tmp_path / "in.jsonl", ROWS[:2])
    done = subprocess.run(
        [sys.executable, "-m", "evals.cli", "score", "--answer-type", "math", str(source)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["status"] for line in done.stdout.splitlines()] == ["correct"] * 2
    failed = subprocess.run(
        [sys.executable, "-m", "evals.cli", "score", "--answer-type", "math", str(tmp_path / "x")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert failed.returncode == 2
    assert failed.stderr.startswith("evals: error: input file not found")
    assert failed.stderr.count("\n") == 1
