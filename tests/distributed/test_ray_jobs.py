"""``evals submit / status / logs / stop`` against a real ``ray start --head`` with its Jobs API."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ray_helpers import JobsCluster, expected_keys, shard_events, write_suite

from tests.conftest import run_cli

pytestmark = [pytest.mark.ray, pytest.mark.vllm]


def job_status(head: JobsCluster, job_id: str, cwd: Path) -> dict[str, str]:
    result = run_cli(["status", job_id, "--address", head.address, "--json"], cwd=cwd, env=head.env)
    assert result.returncode == 0, result.stderr
    status: dict[str, str] = json.loads(result.stdout)
    return status


def submit(head: JobsCluster, suite: Path, out: Path, cwd: Path) -> str:
    result = run_cli(["submit", "--address", head.address, "--config", str(suite), "--out", str(out),
                      "--shard-size", "4"], cwd=cwd, env=head.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, "a loopback address needs no warning"
    job_id = result.stdout.strip()
    assert job_id.startswith("raysubmit_"), result.stdout
    return job_id


def follow(head: JobsCluster, job_id: str, cwd: Path) -> str:
    """``evals logs --follow`` returns when the job ends; its output is the whole log."""
    result = run_cli(
        ["logs", job_id, "--address", head.address, "--follow"], cwd=cwd, env=head.env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_submitted_suite_succeeds_and_writes_the_run_directory(
    ray_head: JobsCluster, tiny_model: Path, tmp_path: Path
) -> None:
    # source: issue 4 (submit a small suite, follow it to SUCCEEDED, check the run directory)
    suite = write_suite(tmp_path / "suite.yaml", tiny_model, limit=8, max_tokens=16)
    out = tmp_path / "run"
    job_id = submit(ray_head, suite, out, tmp_path)
    logs = follow(ray_head, job_id, tmp_path)
    status = job_status(ray_head, job_id, tmp_path)
    assert status["status"] == "SUCCEEDED", logs[-3000:]
    assert status["run_dir"] == str(out)
    assert status["progress"] and "shards 2/2 done" in status["progress"]
    assert "evals progress:" in logs and "tiny-llama" in logs

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["name"] == "ray-test" and manifest["models"]["tiny-llama"]["weights_sha256"]
    samples = pd.read_parquet(out / "samples.parquet")
    keys = set(map(tuple, samples[["model", "task", "item_id", "sample_idx"]].itertuples(index=False)))
    assert keys == expected_keys("tiny-llama", 8, 1) and len(samples) == 8
    assert json.loads((out / "summary.json").read_text())[0]["n_samples"] == 8
    assert [e["event"] for e in shard_events(out)].count("shard_done") == 2

    stopped = run_cli(["stop", job_id, "--address", ray_head.address], cwd=tmp_path, env=ray_head.env)
    assert stopped.returncode == 0 and "already ended (SUCCEEDED)" in stopped.stdout


def test_a_config_the_cluster_rejects_fails_before_any_engine_starts(
    ray_head: JobsCluster, tiny_model: Path, tmp_path: Path
) -> None:
    # source: issue 4 (a job whose config is invalid fails before any engine starts, errors in its logs).
    # Model paths are the cluster's: only the job can tell that this one is missing.
    suite = write_suite(tmp_path / "suite.yaml", tmp_path / "no-such-model", limit=4, max_tokens=8)
    out = tmp_path / "run"
    job_id = submit(ray_head, suite, out, tmp_path)
    logs = follow(ray_head, job_id, tmp_path)
    assert job_status(ray_head, job_id, tmp_path)["status"] == "FAILED"
    assert "evals: error:" in logs and "no-such-model: no such directory" in logs
    assert "ShardWorker" not in logs and "safetensors" not in logs
    assert not out.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("samples", 0, "models.0.generation.samples"),  # source: suite schema (GenerationSpec.samples >= 1)
        ("task", "arith-eazy", "did you mean 'arith-easy'"),  # source: task registry did-you-mean
    ],
)
def test_a_bad_suite_is_refused_before_anything_is_submitted(
    field: str, value: object, message: str, ray_head: JobsCluster, tmp_path: Path
) -> None:
    suite = write_suite(tmp_path / "suite.yaml", tmp_path / "model", limit=4, max_tokens=8)
    data = yaml.safe_load(suite.read_text())
    if field == "task":
        data["tasks"] = [value]
    else:
        data["models"][0]["generation"][field] = value
    suite.write_text(yaml.safe_dump(data))
    before = _job_count(ray_head)
    result = run_cli(["submit", "--address", ray_head.address, "--config", str(suite)], cwd=tmp_path,
                     env=ray_head.env)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert _job_count(ray_head) == before


def test_status_of_an_unknown_job_is_one_line(ray_head: JobsCluster, tmp_path: Path) -> None:
    result = run_cli(
        ["status", "raysubmit_nope", "--address", ray_head.address], cwd=tmp_path, env=ray_head.env
    )
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("evals:")]
    assert ours == ["evals: error: no job 'raysubmit_nope' on this cluster (see 'ray job list')"]


def _job_count(head: JobsCluster) -> int:
    """Jobs on the cluster, asked over the REST API with the cluster's token."""
    import urllib.request

    headers = {"Authorization": f"Bearer {head.env['RAY_AUTH_TOKEN']}"}
    request = urllib.request.Request(f"{head.address}/api/jobs/", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return len(json.loads(response.read()))


def test_a_client_without_the_cluster_token_is_told_what_to_set(
    ray_head: JobsCluster, tmp_path: Path
) -> None:
    # source: Ray >= 2.52 token authentication (docs.ray.io ray-security/token-auth)
    env = {k: v for k, v in ray_head.env.items() if k != "RAY_AUTH_TOKEN"} | {"RAY_AUTH_MODE": "disabled"}
    result = run_cli(["status", "raysubmit_nope", "--address", ray_head.address], cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "refused the request" in result.stderr and "RAY_AUTH_TOKEN" in result.stderr
