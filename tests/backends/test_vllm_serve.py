"""``--backend openai`` against a real ``vllm serve`` of the tiny model, killed and restarted mid-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from backend_helpers import REPO_ROOT, run_evals
from vllm_server import VllmServer, running

from evals.generation.base import sample_seed
from evals.generation.chat_reply import prompt_transcript
from evals.generation.render import render_prompt
from evals.prompts import build_prompt
from evals.tasks import load_task

pytestmark = pytest.mark.vllm
KEY = ["model", "task", "item_id", "sample_idx"]


@pytest.fixture(scope="module")
def served(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """One server for the module (start-up is the slow part); tests may kill and restart it."""
    with running(VllmServer(tiny_model, tmp_path_factory.mktemp("vllm-serve") / "server.log")) as server:
        yield server


def test_served_run_records_usage_tokens_and_native_n(
    served: VllmServer, tiny_model: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "6", "--samples", "2",
            "--temperature", "0.8", "--max-tokens", "16", "--backend", "openai", "--base-url", served.url,
            "--out", str(out), "--json"]  # fmt: skip
    started = time.monotonic()
    result = run_evals(args, cwd=tmp_path)
    wall = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generated"] == 12
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 12 and not samples.duplicated(KEY).any() and samples.error.isna().all()

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    task = load_task("arith-easy", limit=6, seed=0)
    for item in task.items:
        rows = samples[samples.item_id == item.item_id].sort_values("sample_idx")
        rendered = render_prompt(tokenizer, build_prompt(item, task.spec))
        # The prompt is billed once for both choices (native n): its tokens are split between them.
        assert rows.prompt_tokens.sum() == len(rendered.token_ids)
        assert set(rows.prompt) == {prompt_transcript(build_prompt(item, task.spec))}
        for row in rows.itertuples():
            assert 1 <= row.completion_tokens <= 16 and row.finish_reason in {"stop", "length"}
            if row.finish_reason == "length":
                assert row.completion_tokens == 16
        assert set(rows.seed) == {sample_seed(0, item.item_id, 0)}  # one request, the first sample's seed
        assert rows.reasoning.isna().all()
    assert 0 < samples.engine_seconds.sum() <= wall
    summary = json.loads(result.stdout)["summary"][0]
    # our own server: priced by hardware time (vCPU-hours), not by API tokens
    assert "vCPU at $" in summary["cost_basis"] and "(cpu-core, list price of" in summary["cost_basis"]


def test_server_killed_mid_run_then_restarted_resumes_every_sample_once(
    served: VllmServer, tiny_model: Path, tmp_path: Path
) -> None:
    limit, samples = 60, 2
    suite = {
        "name": "served",
        "models": [{"model": str(tiny_model), "backend": "openai",
                    "generation": {"samples": samples, "temperature": 0.8, "max_tokens": 64},
                    "server": {"base_url": served.url, "max_concurrency": 4, "max_retries": 2}}],
        "tasks": ["arith-easy"],
        "limit": limit,
    }  # fmt: skip
    config = tmp_path / "suite.yaml"
    config.write_text(yaml.safe_dump(suite))
    out = tmp_path / "run"
    args = ["run", "--config", str(config), "--out", str(out), "--json"]
    command = [sys.executable, "-m", "evals.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        command, cwd=tmp_path, text=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not list(out.glob("parts/*/*/part-*.parquet")):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    served.kill()
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("evals: error: ") and "requests in a row" in last and "rerun" in last

    parts = pd.concat(pd.read_parquet(p) for p in out.glob("parts/*/*/part-*.parquet"))
    assert parts.error.isna().all()  # the failures after the crash were not stored as failed samples
    stored = len(parts)
    assert 0 < stored < limit * samples, "the kill came after the run finished"
    assert f"{stored} samples stored" in last

    served.start()
    resumed = run_evals(args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["generated"] == limit * samples - stored
    parts = pd.concat(pd.read_parquet(p) for p in out.glob("parts/*/*/part-*.parquet"))
    assert len(parts) == limit * samples and not parts.duplicated(KEY).any()  # every sample exactly once
    final = pd.read_parquet(out / "samples.parquet")
    assert len(final) == limit * samples and not final.duplicated(KEY).any() and final.error.isna().all()
