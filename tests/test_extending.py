"""README "Extending evals": the benchmark recipe followed end to end, and every file it names exists.

source: issue 9 (each recipe names its files, kept true by a test that follows one of them).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.runner import RunOptions, run_suite
from evals.suite import parse_suite
from evals.tasks.registry import TASK_PATH_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Extending evals") : README.index("## Development")]

# (question, gold) of the recipe's benchmark; the replayed model answers every other request right.
ITEMS = [("What is twelve plus thirty?", "42"), ("What is ten plus five?", "15"),
         ("What is nine plus nine?", "18"), ("What is one plus one?", "2"),
         ("What is seven plus six?", "13"), ("What is four plus four?", "8")]  # fmt: skip


def recipe_yaml() -> str:
    """The task spec of the benchmark recipe, as the README shows it."""
    found = re.search(r"```yaml\n(.*?)```", SECTION, re.S)
    assert found, "the benchmark recipe's YAML block"
    return found.group(1)


def test_every_file_the_recipes_name_exists() -> None:
    named = set(re.findall(r"`((?:evals|tests|tasks)/[\w/.]+\.(?:py|json|yaml|md))`", SECTION))
    assert len(named) >= 10
    missing = sorted(path for path in named if "<" not in path and not (REPO_ROOT / path).exists())
    assert missing == [] or missing == ["tests/fixtures/data/mybench/test.jsonl"]


def test_the_benchmark_recipe_runs_end_to_end(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, data = tmp_path / "tasks", tmp_path / "data" / "mybench"
    tasks.mkdir()
    data.mkdir(parents=True)
    (tasks / "mybench.yaml").write_text(recipe_yaml(), encoding="utf-8")
    rows = [json.dumps({"question": q, "answer": a}) for q, a in ITEMS]
    (data / "test.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")

    argv = ["tasks", "--task-dir", str(tasks), "--data-dir", str(tmp_path / "data")]
    # As a user would: the CLI in a process of its own.
    listed = subprocess.run(
        [sys.executable, "-m", "evals.cli", *argv], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith("mybench"))
    assert line.split()[1:3] == ["6", "number"]

    monkeypatch.setenv(TASK_PATH_ENV, str(tasks))
    suite = parse_suite({"models": [{"model": str(tiny_model)}], "tasks": [{"name": "mybench"}]}, "recipe")
    seen: list[str] = []

    def replay(model: Any, setup: Any, seed: int) -> ReplayBackend:
        def reply(request: Any) -> str:
            seen.append(request.prompt.item.item_id)
            return f"The answer is {request.prompt.item.gold}." if len(seen) % 2 else "The answer is 1000."

        return ReplayBackend(reply)

    options = RunOptions(
        out=tmp_path / "run", data_dir=tmp_path / "data", quiet=True, executor=LocalExecutor(backend=replay)
    )
    outcome = run_suite(suite, options)
    (row,) = outcome.rows
    assert (row.task, row.n_items, row.n_judged) == ("mybench", 6, 6)
    assert row.accuracy == pytest.approx(0.5)  # every other reply was right
    samples = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert samples[0]["task"] == "mybench"
