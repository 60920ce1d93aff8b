"""How long `evals report` takes on a big synthetic merge, and whether its sample pages stay usable.

Builds two synthetic runs (10 models x 8 tasks x 2,000 samples by default, 160,000
samples with prompts of ~400 and outputs of ~1,500 characters, half with a
<think> part), then times ``build_report`` (target: under 60 s on this machine)
and opens the largest sample page in headless Chromium to time its first render
and a filter click.

    .venv/bin/python bench/report_speed.py [--models 10] [--tasks 8] [--samples 2000] [--per-item 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evals.metrics import SelfHosted, summarize, write_summary
from evals.report import build_report

_TEXT = (
    "the of and a to in is that it for as with was on be by this are at from or an which we can "
    "answer so therefore compute value sum product equals let x y n total number each step first then"
)
WORDS = np.array(_TEXT.split())
PRICE = SelfHosted("cpu-core", 2, 0.04, "bench", date(2025, 1, 1), "vCPU")
TARGET_SECONDS = 60.0
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def text(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(rng.choice(WORDS, n_words))


def synthetic_samples(models: int, tasks: int, samples: int, per_item: int, seed: int = 0) -> pd.DataFrame:
    """Models 3 points of accuracy apart (40% to 67%), errors correlated through item difficulty."""
    rng = np.random.default_rng(seed)
    items = samples // per_item
    prompts = {(t, i): text(rng, 70) for t in range(tasks) for i in range(items)}
    difficulty = rng.random((tasks, items))
    rows = []
    for m in range(models):
        for t in range(tasks):
            for i in range(items):
                chance = float(np.clip(0.40 + 0.03 * m + 0.6 * (0.5 - difficulty[t, i]), 0.02, 0.98))
                for s in range(per_item):
                    rows.append(_row(rng, m, t, i, s, chance, prompts[(t, i)]))
    frame = pd.DataFrame(rows)
    frame["correct"] = frame["correct"].astype("boolean")
    return frame


def _row(rng: np.random.Generator, m: int, t: int, i: int, s: int, chance: float, prompt: str) -> dict:
    draw = rng.random()
    status = (
        "correct"
        if draw < chance
        else "truncated"
        if draw > 0.985
        else "no_answer"
        if draw > 0.96
        else "incorrect"
    )
    body = text(rng, 250)
    output = f"<think>{text(rng, 120)}</think>{body}" if m % 2 else body
    tokens = int(rng.integers(200, 600))
    return {
        "record_version": 1, "model": f"model-{m:02d}-greedy", "task": f"task-{t}", "subtask": None,
        "item_id": f"t{t}-{i:05d}", "sample_idx": s, "prompt": prompt, "output": output, "reasoning": None,
        "extracted": None if status == "no_answer" else str(int(rng.integers(0, 100))), "gold": "42",
        "answer_type": "number", "choices": [], "correct": {"correct": True, "incorrect": False,
        "no_answer": False, "truncated": False}[status], "status": status, "reason": None,
        "prompt_tokens": 120, "completion_tokens": tokens,
        "finish_reason": "length" if status == "truncated" else "stop", "engine_seconds": tokens / 400,
        "seed": 0, "error": None,
    }  # fmt: skip


def _task_entry(item_ids: list[str]) -> dict[str, object]:
    digest = hashlib.sha256("\n".join(item_ids).encode()).hexdigest()
    return {"n_items": len(item_ids), "answer_type": "number", "max_tokens": 600, "item_ids_sha256": digest}


def write_runs(samples: pd.DataFrame, root: Path, n_runs: int = 2) -> list[Path]:
    models = sorted(samples["model"].unique())
    runs = []
    for r in range(n_runs):
        part = samples[samples["model"].isin(models[r::n_runs])]
        run = root / f"run-{r}"
        run.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), run / "samples.parquet")
        write_summary(summarize(part, {m: PRICE for m in models}, seed=0), run / "summary.json")
        tasks = {str(t): _task_entry(sorted(set(g["item_id"]))) for t, g in part.groupby("task")}
        manifest = {
            "record_version": 1,
            "scorer_version": "bench",
            "created": "bench",
            "tasks": tasks,
            "config_hash": f"{r:064d}",
            "hardware": {"accelerator": "cpu-core", "count": 2},
        }
        (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        runs.append(run)
    return runs


def _time_paired_comparisons() -> dict[str, float]:
    """Wrap the report's paired_comparison to add up its calls and seconds."""
    from evals.report import leaderboard

    totals = {"calls": 0.0, "seconds": 0.0}
    original = leaderboard.paired_comparison

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals["calls"] += 1
            totals["seconds"] += time.perf_counter() - start

    leaderboard.paired_comparison = timed
    return totals


def browse(page_path: Path) -> dict[str, float]:
    """Milliseconds to the first rendered page of samples, and for a filter click, in Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(page_path.as_uri())
        page.wait_for_selector("body[data-ready='1']")
        first_render = float(page.evaluate("window.__viewerReadyMs"))
        click = float(
            page.evaluate(
                "() => { const t = performance.now();"
                " document.querySelector('#status-filter input[value=correct]').click();"
                " return performance.now() - t; }"
            )
        )
        shown = int(page.evaluate("document.body.dataset.shown"))
        browser.close()
    return {"first_render_ms": first_render, "filter_click_ms": click, "rows_shown": shown}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--samples", type=int, default=2000, help="samples per model and task")
    parser.add_argument("--per-item", type=int, default=1, help="samples per item")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="evals-report-bench-"))
    try:
        start = time.perf_counter()
        samples = synthetic_samples(args.models, args.tasks, args.samples, args.per_item)
        runs = write_runs(samples, root / "runs")
        print(f"synthetic runs: {len(samples):,} samples in {time.perf_counter() - start:.1f} s (not timed)")
        paired = _time_paired_comparisons()
        start = time.perf_counter()
        paths = build_report(runs, root / "report")
        seconds = time.perf_counter() - start
        size = sum(f.stat().st_size for f in paths.root.rglob("*") if f.is_file())
        print(
            f"build_report: {seconds:.1f} s for {args.models} models x {args.tasks} tasks x "
            f"{args.samples:,} samples ({seconds / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s "
            f"target); {len(paths.sample_pages)} sample pages, {size / 1e6:.0f} MB"
        )
        calls = f"{paired['calls']:.0f} calls"
        print(f"  of which evals.metrics.paired_comparison ({calls}): {paired['seconds']:.1f} s")
        largest = max(paths.sample_pages, key=lambda p: p.stat().st_size)
        print(f"largest sample page: {largest.name}, {largest.stat().st_size / 1e6:.1f} MB")
        if not args.no_browser:
            timing = browse(largest)
            print(
                f"chromium: first render {timing['first_render_ms']:.0f} ms after navigation start, "
                f"status filter click {timing['filter_click_ms']:.0f} ms, {timing['rows_shown']} rows shown"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
