"""Runs written by an earlier evals still load, report and rescore to the same figures.

Source: tests/fixtures/runs/v1-replay, written by evals at commit 34d5b31 (record
version 1) with tests/fixtures/runs/build.py; it must never be regenerated.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evals.run_records import sample_records
from evals.store import RunStore
from tests.conftest import REPO_ROOT, run_cli

OLD_RUNS = REPO_ROOT / "tests" / "fixtures" / "runs"
# (run directory, samples, statuses in it): each old format the code must keep reading.
CASES = [
    ("v1-replay", 26, {"correct": 11, "incorrect": 4, "no_answer": 9, "truncated": 2}),
]


@pytest.fixture(params=[case[0] for case in CASES])
def old_run(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A copy of the old run (rescoring rewrites files in place)."""
    return Path(shutil.copytree(OLD_RUNS / request.param, tmp_path / request.param))


def test_the_store_reads_an_old_run(old_run: Path) -> None:
    name, n_samples, statuses = next(case for case in CASES if case[0] == old_run.name)
    store = RunStore(old_run)
    manifest = store.read_manifest()
    assert manifest is not None
    assert manifest.config["name"] == name
    assert store.read_completions().num_rows == n_samples
    assert len(store.done_keys()) == n_samples
    samples = store.read_samples()
    assert samples["status"].value_counts().to_dict() == statuses
    records = sample_records(samples)
    assert len(records) == n_samples and all(r.record_version == 1 for r in records)


def test_an_old_manifest_is_written_back_unchanged(old_run: Path) -> None:
    """Reading and writing back a manifest keeps every field (none dropped, none added)."""
    stored = json.loads((old_run / "manifest.json").read_text())
    manifest = RunStore(old_run).read_manifest()
    assert manifest is not None and manifest.to_json() == stored


def test_rescoring_an_old_run_gives_its_summary(old_run: Path) -> None:
    stored = json.loads((old_run / "summary.json").read_text())
    result = run_cli(["rescore", str(old_run), "--json"], cwd=old_run.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == stored
    assert json.loads((old_run / "summary.json").read_text()) == stored


def test_an_old_run_reports(old_run: Path) -> None:
    stored = json.loads((old_run / "summary.json").read_text())
    out = old_run.parent / "report"
    result = run_cli(["report", str(old_run), "--out", str(out)], cwd=old_run.parent, timeout=300)
    assert result.returncode == 0, result.stderr
    leaderboard = (out / "leaderboard.csv").read_text()
    for row in stored:
        assert row["task"] in leaderboard
    assert (out / "index.html").is_file()
