"""bench/workload.py writes a run the project's own tools read, and finalize by group equals finalize at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from bench.workload import PRICE, TASKS, WorkloadSpec, model_names, synthetic_items, write_workload
from evals.finalize import finalize_by_group, join_items, score_frame, write_results
from evals.scoring import Scorer
from evals.store import RunStore
from tests.conftest import run_cli

SPEC = WorkloadSpec(models=2, items=12, samples=8, max_chars=40_000, seed=3, part_size=16)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    return write_workload(tmp_path_factory.mktemp("workload") / "run", SPEC)


def test_the_run_has_the_shape_asked_for(finished: RunStore) -> None:
    samples = pd.read_parquet(finished.samples_path)
    assert len(samples) == SPEC.n_samples == 2 * len(TASKS) * 12 * 8
    assert set(samples["model"]) == set(model_names(SPEC)) and set(samples["task"]) == set(TASKS)
    lengths = samples["output"].str.len()
    assert lengths.max() <= SPEC.max_chars and lengths.max() > 4 * lengths.median()  # a long tail
    assert samples["output"].str.contains("<think>").mean() > 0.9
    assert {"correct", "incorrect", "no_answer", "truncated"} <= set(samples["status"])
    summary = json.loads(finished.summary_path.read_text())
    assert len(summary) == 2 * len(TASKS) and all(row["n_samples"] == 12 * 8 for row in summary)
    manifest = finished.read_manifest()
    assert manifest is not None and manifest.tasks["syn-aime"].n_items == 12
    assert json.loads((finished.root / "workload.json").read_text())["samples"] == 8
    # finalize compacted each model x task into one part
    assert all(len(list(g.directory.glob("part-*.parquet"))) == 1 for g in finished.part_groups())


def test_rescore_reads_the_run_and_changes_no_verdict(finished: RunStore, tmp_path: Path) -> None:
    result = run_cli(["rescore", str(finished.root)], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "0 verdicts changed" in result.stdout


def test_finalize_by_group_equals_scoring_the_whole_run(tmp_path: Path) -> None:
    spec = WorkloadSpec(models=2, items=6, samples=4, max_chars=8_000, seed=5, part_size=5)
    store = write_workload(tmp_path / "run", spec, finalize=False)
    items = synthetic_items(spec)
    costs = {name: PRICE for name in model_names(spec)}
    with Scorer() as scorer:
        whole = score_frame(join_items(store.read_completions(), items), scorer)
        expected = write_results(store, whole, costs, ks=None, seed=0)
        written_whole = pq.read_table(store.samples_path).to_pylist()
        rows = finalize_by_group(store, items, scorer, costs, ks=None, seed=0)
    assert rows == expected
    assert pq.read_table(store.samples_path).to_pylist() == written_whole


def test_rescore_by_group_restores_tampered_verdicts(finished: RunStore, tmp_path: Path) -> None:
    # source: issue 16 (rescore at size reads one model x task at a time); tampering like test_rescore's
    run = tmp_path / "run"
    shutil.copytree(finished.root, run)
    path = run / "samples.parquet"
    original = pq.read_table(path).to_pylist()
    samples = pd.read_parquet(path)
    tampered = (samples["model"] == "syn-model-01") & (samples["status"] == "correct")
    samples.loc[tampered, "status"] = "incorrect"
    samples.to_parquet(path)
    result = run_cli(["rescore", str(run)], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{int(tampered.sum())} verdicts changed" in result.stdout and tampered.sum() > 0
    assert pq.read_table(path).to_pylist() == original
