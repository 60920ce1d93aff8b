"""``evals run --until --ray`` on a real two-node Ray cluster on this machine, with the tiny random Llama."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from ray_helpers import KEY, cli_env, shard_events, stored_parts, write_suite

from tests.conftest import run_cli

pytestmark = [pytest.mark.ray, pytest.mark.vllm]


def _tracks(run: Path) -> list[dict[str, Any]]:
    tracks = json.loads((run / "manifest.json").read_text())["adaptive"]["tracks"]
    return [{k: t[k] for k in ("model", "task", "stopped_by", "items", "samples")} for t in tracks]


def test_until_on_ray_stops_handing_out_shards_and_matches_the_local_run(
    two_node_cluster: Any, tiny_model: Path, tmp_path: Path
) -> None:
    # source: issue 13 (Ray: --until with 2 workers stops issuing shards; no sample lost or duplicated)
    suite = write_suite(tmp_path / "suite.yaml", tiny_model, limit=200, max_tokens=16, samples=2,
                        temperature=0.8, engine={"reproducible": True})  # fmt: skip
    until = ["--until", "ci=0.1", "--json"]
    local = run_cli(["run", "--config", str(suite), "--out", str(tmp_path / "local"), *until],
                    cwd=tmp_path, env=cli_env())  # fmt: skip
    assert local.returncode == 0, local.stderr
    ray = run_cli(["run", "--config", str(suite), "--ray", two_node_cluster.address, "--num-workers", "2",
                   "--out", str(tmp_path / "ray"), *until], cwd=tmp_path, env=cli_env())  # fmt: skip
    assert ray.returncode == 0, ray.stderr

    tracks = _tracks(tmp_path / "ray")
    assert tracks == _tracks(tmp_path / "local")
    ((_, _, stopped_by, items, samples),) = [tuple(t.values()) for t in tracks]
    assert stopped_by == "ci=0.1" and 0 < items < 200 and samples == 2 * items
    # Nothing handed out after the rule was met, nothing lost, nothing stored twice.
    parts = stored_parts(tmp_path / "ray")
    assert not parts.duplicated(KEY).any() and len(parts) == samples
    done = [e for e in shard_events(tmp_path / "ray") if e["event"] == "shard_done"]
    assert sum(e["samples"] for e in done) == samples
    # Which worker takes which shard depends on engine start-up times: not asserted.
    ray_samples = pd.read_parquet(tmp_path / "ray" / "samples.parquet").drop(columns=["engine_seconds"])
    local_samples = pd.read_parquet(tmp_path / "local" / "samples.parquet").drop(columns=["engine_seconds"])
    pd.testing.assert_frame_equal(ray_samples, local_samples)
    ray_summary = json.loads((tmp_path / "ray" / "summary.json").read_text())
    local_summary = json.loads((tmp_path / "local" / "summary.json").read_text())
    for key in ("accuracy", "ci_low", "ci_high", "ci_method", "stopped_by"):
        assert [row[key] for row in ray_summary] == [row[key] for row in local_summary]
