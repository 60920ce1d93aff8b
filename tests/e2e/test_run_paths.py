"""Paths of ``evals run`` that only a real run shows: the terminal table, Ctrl-C, the default
run directory, the suite's hardware override with a price file (real vLLM, the tiny model)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, run_cli

pytestmark = pytest.mark.vllm


def _first_part_written(run_dir: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 600
    while not list(run_dir.glob("parts/*/*/part-*.parquet")):
        assert process.poll() is None, "run ended before its first part was written"
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_default_suite_prints_its_table(tmp_path: Path) -> None:
    """`evals run --config default --limit 2`, as `make demo` runs it: no --json, no --quiet."""
    out = tmp_path / "demo"
    result = run_cli(["run", "--config", "default", "--limit", "2", "--out", str(out)], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    # --limit caps the suite's own per-task limits (60 and 40): 2 items each, 1 + 4 samples per item.
    assert sorted((r["model"], r["task"], r["n_items"], r["n_samples"]) for r in summary) == [
        ("smollm2-135m-greedy", "arith-easy", 2, 2), ("smollm2-135m-greedy", "arith-medium", 2, 2),
        ("smollm2-135m-sampled-x4", "arith-easy", 2, 8), ("smollm2-135m-sampled-x4", "arith-medium", 2, 8),
    ]  # fmt: skip
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["model", "task", "items", "samples"]
    assert set(lines[1]) <= {"-", " "}
    for row in summary:  # one line per row, in the table's order, with its counts and accuracy
        line = lines[2 + sorted((r["model"], r["task"]) for r in summary).index((row["model"], row["task"]))]
        assert line.split()[:4] == [row["model"], row["task"], str(row["n_items"]), str(row["n_samples"])]
        assert f"{100 * row['accuracy']:.1f}%" in line
    assert lines[-1] == f"run directory: {out}  (generated 20 new samples)"


def test_ctrl_c_exits_130_and_the_run_resumes(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "160", "--max-tokens", "64",
            "--dtype", "float32", "--out", str(out), "--json"]  # fmt: skip
    env = {**os.environ, "EVALS_FLUSH_SECONDS": "0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "evals.cli", *args], cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _first_part_written(out, process)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert stderr.splitlines()[-1] == "evals: interrupted; rerun the same command to resume"
    assert stdout == "" and not (out / "samples.parquet").exists()
    stored = len(pd.concat(pd.read_parquet(p) for p in out.glob("parts/*/*/part-*.parquet")))
    assert 0 < stored < 160

    resumed = run_cli(args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["generated"] == 160 - stored
    assert len(pd.read_parquet(out / "samples.parquet")) == 160


def test_hardware_override_prices_and_the_default_run_directory(tiny_model: Path, tmp_path: Path) -> None:
    """Cost = engine seconds x count x price / 3600 for the suite's declared hardware; two runs
    without --out share runs/<suite>-<config hash>."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        f"name: priced\nhardware: {{accelerator: Test-Chip, count: 3}}\n"
        f"models:\n  - model: {tiny_model}\n    engine: {{dtype: float32}}\n    generation: {{max_tokens: 16}}\n"
        "tasks: [arith-easy]\nlimit: 4\n"
    )
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "accelerators:\n  Test-Chip:\n    usd_per_hour: 7.2\n    source: this test\n    read: 2026-01-01\n"
    )
    args = ["run", "--config", str(suite), "--prices", str(prices), "--json"]
    first = run_cli(args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_cli(args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    run_dir = tmp_path / json.loads(first.stdout)["run_dir"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert run_dir.parent == tmp_path / "runs" and run_dir.name == f"priced-{manifest['config_hash'][:12]}"
    assert json.loads(second.stdout)["run_dir"] == json.loads(first.stdout)["run_dir"]
    assert (json.loads(first.stdout)["generated"], json.loads(second.stdout)["generated"]) == (4, 0)

    assert (manifest["hardware"]["accelerator"], manifest["hardware"]["count"]) == ("Test-Chip", 3)
    samples = pd.read_parquet(run_dir / "samples.parquet")
    [row] = json.loads((run_dir / "summary.json").read_text())
    seconds = float(samples.engine_seconds.sum())
    assert seconds > 0
    assert row["total_cost_usd"] == pytest.approx(seconds * 3 * 7.2 / 3600)
    assert row["cost_per_answer_usd"] == pytest.approx(seconds * 3 * 7.2 / 3600 / 4)
