"""The real runner's output feeds the report: default suite, replayed answers, real scoring."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.report import build_report
from evals.runner import RunOptions, run_suite
from evals.suite import load_suite_file

REPO = Path(__file__).resolve().parents[2]


def replay(model: Any, setup: Any, seed: int) -> ReplayBackend:
    """Right about 60% of the time, with a <think> part, like a small reasoning model."""
    rng = random.Random(model.label)

    def answer(request: Any) -> str:
        gold = request.prompt.item.gold if rng.random() < 0.6 else "7"
        return f"<think>add the numbers</think> The answer is \\boxed{{{gold}}}"

    return ReplayBackend(answer)


def test_report_of_a_real_run(tmp_path: Path) -> None:
    suite = load_suite_file(REPO / "suites" / "default.yaml")
    options = RunOptions(out=tmp_path / "run", quiet=True, executor=LocalExecutor(backend=replay))
    outcome = run_suite(suite, options)
    paths = build_report([outcome.run_dir], tmp_path / "report")
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert paths.warnings == ()
    assert {row["model"] for row in data["rows"]} == {m.name for m in suite.models}
    assert data["tasks"] == sorted(t.name for t in suite.tasks)
    summary = {(r.model, r.task): r for r in outcome.rows}
    for row in data["rows"]:
        for task, result in row["tasks"].items():
            assert result["accuracy"]["value"] == summary[(row["model"], task)].accuracy
        assert row["cost_per_answer"]["value"] is not None  # the runner priced this machine
    manifest = data["runs"][0]["manifest"]
    assert manifest["scorer_version"] and manifest["tasks"].keys() == set(data["tasks"])
    page = paths.sample_pages[0].read_text(encoding="utf-8")
    assert "add the numbers" in page  # the reasoning part travels to the viewer
