"""Synthetic finished runs for report tests.

Each has samples.parquet, summary.json (from the real ``evals.metrics.summarize``)
and a manifest shaped like the runner's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evals.metrics import CostBasis, SelfHosted, UnknownPrice, summarize, write_summary

# $3.60 an hour for one core: one engine second costs exactly $0.001.
PRICE = SelfHosted("test-cpu", 1, 3.6, "test price", date(2025, 1, 1), "vCPU")
UNPRICED = UnknownPrice("no price for accelerator 'mystery' in the price table")

SAMPLE_COLUMNS = (
    "record_version", "model", "task", "subtask", "item_id", "sample_idx", "prompt", "output",
    "reasoning", "extracted", "gold", "answer_type", "choices", "correct", "status", "reason",
    "prompt_tokens", "completion_tokens", "finish_reason", "engine_seconds", "seed", "error",
)  # fmt: skip
WRONG_STATUSES = ("incorrect", "no_answer", "truncated")


def sample(
    model: str,
    task: str,
    item: str,
    status: str = "correct",
    *,
    idx: int = 0,
    tokens: int = 100,
    seconds: float = 1.0,
    output: str | None = None,
    prompt: str | None = None,
    reasoning: str | None = None,
    extracted: str | None = "1",
    gold: str = "1",
    choices: list[str] | None = None,
) -> dict[str, Any]:
    correct = {"correct": True, "incorrect": False, "no_answer": False, "truncated": False}.get(status)
    return {
        "record_version": 1,
        "model": model,
        "task": task,
        "subtask": None,
        "item_id": item,
        "sample_idx": idx,
        "prompt": prompt if prompt is not None else f"Question {item} of {task}?",
        "output": output if output is not None else f"{model} says {extracted}",
        "reasoning": reasoning,
        "extracted": None if status == "no_answer" else extracted,
        "gold": gold,
        "answer_type": "number",
        "choices": choices or [],
        "correct": correct,
        "status": status,
        "reason": None if status == "correct" else f"{status} by the test",
        "prompt_tokens": 20,
        "completion_tokens": tokens,
        "finish_reason": "length" if status == "truncated" else "stop",
        "engine_seconds": seconds,
        "seed": 0,
        "error": "engine died" if status == "error" else None,
    }


def task_samples(
    model: str, task: str, statuses: Iterable[str], *, tokens: int = 100, seconds: float = 1.0, **extra: Any
) -> list[dict[str, Any]]:
    """One sample per item: item i of ``task`` gets the i-th status."""
    return [
        sample(model, task, f"{task}-{i:03d}", status, tokens=tokens, seconds=seconds, **extra)
        for i, status in enumerate(statuses)
    ]


def outcomes(n_items: int, n_correct: int, wrong: Iterable[str] = ()) -> list[str]:
    """Items 0..n_correct-1 correct, the rest wrong with the given statuses, then 'incorrect'."""
    wrong = list(wrong)
    tail = [wrong[i] if i < len(wrong) else "incorrect" for i in range(n_items - n_correct)]
    return ["correct"] * n_correct + tail


def manifest_for(samples: pd.DataFrame, scorer_version: str = "test-1", **extra: Any) -> dict[str, Any]:
    tasks = {}
    for task, rows in samples.groupby("task"):
        ids = sorted(set(rows["item_id"]))
        tasks[str(task)] = {
            "n_items": len(ids),
            "item_ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
            "answer_type": "number",
            "max_tokens": 512,
        }
    models = {
        str(m): {"ref": str(m), "kind": "path", "path_or_id": f"/models/{m}", "source": None,
                 "weights_sha256": "0" * 64, "generation": {"samples": 1, "temperature": 0.0, "seed": 0},
                 "engine": {}, "engine_setup": None}
        for m in sorted(set(samples["model"]))
    }  # fmt: skip
    manifest = {
        "record_version": 1,
        "evals_version": "0.1.0",
        "created": "2025-01-01T00:00:00+0000",
        "command": ["evals", "run"],
        "config": {"name": "test-suite"},
        "config_hash": hashlib.sha256(json.dumps(sorted(tasks)).encode()).hexdigest(),
        "scorer_version": scorer_version,
        "versions": {"evals": "0.1.0", "python": "3.11"},
        "seeds": {"suite": 0},
        "hardware": {
            "accelerator": "test-cpu",
            "count": 1,
            "gpu_names": [],
            "cpu_model": "Test CPU",
            "cpu_cores": 1,
            "platform": "test",
        },  # fmt: skip
        "models": models,
        "tasks": tasks,
    }
    manifest.update(extra)
    return manifest


RunWriter = Callable[..., Path]


def write_run(
    root: Path,
    rows: Iterable[Mapping[str, Any]],
    *,
    costs: Mapping[str, CostBasis] | None = None,
    overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    manifest: dict[str, Any] | None | bool = True,
    scorer_version: str = "test-1",
) -> Path:
    """A finished run directory; ``overrides`` replace fields of summary rows by (model, task)."""
    samples = pd.DataFrame(list(rows), columns=list(SAMPLE_COLUMNS))
    samples["correct"] = samples["correct"].astype("boolean")
    if costs is None:
        costs = {str(model): PRICE for model in samples["model"].unique()}
    summary = [
        row.model_copy(update=dict((overrides or {}).get((row.model, row.task), {})))
        for row in summarize(samples, costs, seed=0, n_bootstrap=200)
    ]
    root.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(samples, preserve_index=False), root / "samples.parquet")
    write_summary(summary, root / "summary.json")
    if manifest is True:
        manifest = manifest_for(samples, scorer_version)
    if isinstance(manifest, dict):
        (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return root


def reasoning_rows(n: int = 90, trace_chars: int = 120_000) -> list[dict[str, Any]]:
    """One model x task of reasoning-length samples (a ``<think>`` trace of ``trace_chars`` each)."""
    return [
        sample("r1", "task-a", f"task-a-{i:03d}", "correct" if i % 3 else "incorrect",
               output=f"<think>{chr(97 + i % 26) * trace_chars}</think>The answer is {i}.")
        for i in range(n)
    ]  # fmt: skip
