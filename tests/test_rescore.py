"""`evals rescore` re-judges stored outputs without generating, and rewrites the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.runner import RunOptions, run_suite
from evals.suite import parse_suite
from tests.conftest import run_cli


def always_gold(model: Any, setup: Any, seed: int) -> ReplayBackend:
    return ReplayBackend(lambda request: f"The answer is {request.prompt.item.gold}.")


def test_rescore_restores_tampered_verdicts_and_summary(tmp_path: Path) -> None:
    suite = parse_suite(
        {"models": [{"model": "smollm2-135m"}], "tasks": [{"name": "arith-easy", "limit": 5}]}, "t"
    )
    outcome = run_suite(
        suite, RunOptions(out=tmp_path / "run", quiet=True, executor=LocalExecutor(always_gold))
    )
    assert [row.accuracy for row in outcome.rows] == [1.0]

    # source: an older scorer that judged these answers wrong; rescoring must fix them.
    samples_path = outcome.run_dir / "samples.parquet"
    samples = pd.read_parquet(samples_path)
    samples["status"], samples["correct"] = "incorrect", False
    samples.to_parquet(samples_path)

    result = run_cli(["rescore", str(outcome.run_dir), "--json"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert [row["accuracy"] for row in json.loads(result.stdout)] == [1.0]
    assert pd.read_parquet(samples_path)["status"].eq("correct").all()
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary[0]["accuracy"] == 1.0
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    assert len(manifest["rescored"]) == 1


def test_rescore_of_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = run_cli(["rescore", str(tmp_path)], cwd=tmp_path, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "not a finished run" in result.stderr
