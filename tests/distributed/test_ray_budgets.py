"""Budget probes through Ray shards on real vLLM (the tiny model): the same probe rows as a
local run, with the same answers in the reproducible mode, whether the probes ride with the
shards that generate their samples (``run --budgets --ray``) or come as probe-only shards for
a finished run (``evals budgets RUN --ray``); none lost, none duplicated, a rerun probes nothing.

source: issue 12 (``--budgets`` with ``--ray`` was refused with one error line).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ray_helpers import cli_env, write_suite

from tests.conftest import run_cli

pytestmark = [pytest.mark.ray, pytest.mark.vllm]
PROBE_KEY = ["model", "task", "item_id", "sample_idx", "budget", "kind"]
BUDGETS = "8,16,32"
RAY = ["--ray", "local", "--num-workers", "2", "--shard-size", "3"]


def probe_rows(run: Path) -> pd.DataFrame:
    probes = pd.read_parquet(run / "probes.parquet")
    columns = [*PROBE_KEY, "closing", "output", "prompt_tokens", "completion_tokens", "finish_reason"]
    return probes[columns].sort_values(PROBE_KEY).reset_index(drop=True)


def stored_probe_rows(run: Path) -> pd.DataFrame:
    """Every row of every probe part, duplicates included."""
    return pd.concat([pd.read_parquet(p) for p in sorted(run.glob("probes/*/*/part-*.parquet"))])


def test_ray_probes_equal_local_probes(tiny_model: Path, tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path / "suite.yaml", tiny_model, limit=8, max_tokens=48, samples=2, temperature=0.8
    )
    data = yaml.safe_load(suite.read_text())
    suite.write_text(yaml.safe_dump({**data, "probes": {"max_tokens": 16}}))
    base = ["run", "--config", str(suite), "--reproducible", "--json"]
    env = cli_env()

    local = run_cli([*base, "--budgets", BUDGETS, "--out", str(tmp_path / "local")], cwd=tmp_path, env=env)
    assert local.returncode == 0, local.stderr
    expected = probe_rows(tmp_path / "local")
    assert set(expected["kind"]) <= {"budget", "fidelity"} and (expected["kind"] == "budget").sum() > 0

    # Probes ride with the shards that generate their samples.
    with_ray = run_cli(
        [*base, "--budgets", BUDGETS, *RAY, "--out", str(tmp_path / "ray")], cwd=tmp_path, env=env
    )
    assert with_ray.returncode == 0, with_ray.stderr
    payload = json.loads(with_ray.stdout)
    assert payload["probed"] == len(expected)
    pd.testing.assert_frame_equal(probe_rows(tmp_path / "ray"), expected)
    assert not stored_probe_rows(tmp_path / "ray").duplicated(PROBE_KEY).any()
    local_summary = json.loads(local.stdout)["summary"]
    assert [(r["budget"], r["accuracy"]) for r in payload["summary"]] == [
        (r["budget"], r["accuracy"]) for r in local_summary
    ]

    # A Ray-made run without budgets, then probe-only shards through `evals budgets --ray`.
    later = tmp_path / "later"
    plain = run_cli([*base, *RAY, "--out", str(later)], cwd=tmp_path, env=env)
    assert plain.returncode == 0, plain.stderr
    assert not (later / "probes").exists()
    parts = sorted(later.glob("parts/*/*/part-*.parquet"))
    added = run_cli(["budgets", str(later), "--budgets", BUDGETS, *RAY, "--json"], cwd=tmp_path, env=env)
    assert added.returncode == 0, added.stderr
    assert (json.loads(added.stdout)["generated"], json.loads(added.stdout)["probed"]) == (0, len(expected))
    pd.testing.assert_frame_equal(probe_rows(later), expected)
    assert sorted(later.glob("parts/*/*/part-*.parquet")) == parts  # no sample regenerated
    assert not stored_probe_rows(later).duplicated(PROBE_KEY).any()

    again = run_cli(["budgets", str(later), "--budgets", BUDGETS, *RAY, "--json"], cwd=tmp_path, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["probed"] == 0, again.stderr
