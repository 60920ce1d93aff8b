"""Golden outputs: summary.json and every report format of two runs, compared text for text.

Cases (the files live in ``tests/golden/<case>/``):

- ``default-suite-replay``: the default suite (suites/default.yaml) run by the real runner with a
  deterministic replay backend whose answers cover every status (correct with and without a
  ``<think>`` part, incorrect, no answer, truncated), priced as 2 CPU cores on any machine.
- ``synthetic-mixed``: a finished run written directly (tests/report/synthetic_runs.py): one
  model priced, one unpriced, one without task-b, so undefined figures show as n/a.

Each output is regenerated and compared whole. Only what legitimately varies between machines
and runs is pinned first: timestamps, the command line, package versions, the detected hardware,
model paths and weight hashes, and the engine setup chosen for the machine (all in the manifest).

After a deliberate change of an output, rewrite the files and review their diff:
``EVALS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/report/test_golden_outputs.py``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import PRICE, UNPRICED, outcomes, task_samples, write_run

from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.metrics import read_summary
from evals.report import build_report
from evals.runner import RunOptions, run_suite
from evals.suite import HardwareSpec, load_suite_file
from evals.table import format_summary

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("EVALS_UPDATE_GOLDEN") == "1"

PINNED = "<varies>"  # what replaces a figure that legitimately differs between machines and runs


def replayed_answer(request: Any) -> str:
    """One answer per sample, chosen by a hash of its key (never by the order of requests)."""
    key = request.key
    draw = hashlib.sha256(f"{key.model}|{key.task}|{key.item_id}|{key.sample_idx}".encode()).digest()[0] % 10
    gold = request.prompt.item.gold
    if draw < 5:
        return f"<think>add the numbers</think> The answer is \\boxed{{{gold}}}"
    if draw < 7:
        return "The answer is \\boxed{7}"
    if draw == 7:
        return "I cannot tell."
    if draw == 8:
        return "<think>" + " so" * 400  # past max_tokens: truncated
    return f"The answer is {gold}."


def replay(model: Any, setup: Any, seed: int) -> ReplayBackend:
    return ReplayBackend(replayed_answer)


def default_suite_run(root: Path) -> Path:
    suite = load_suite_file(REPO / "suites" / "default.yaml")
    # Priced as 2 CPU cores whatever this machine is, so costs are the same everywhere.
    suite = suite.model_copy(update={"hardware": HardwareSpec(accelerator="cpu-core", count=2)})
    options = RunOptions(out=root / "run", quiet=True, executor=LocalExecutor(backend=replay))
    run_dir = Path(run_suite(suite, options).run_dir)
    pin_manifest(run_dir)
    return run_dir


def synthetic_run(root: Path) -> Path:
    rows = task_samples("A", "task-a", outcomes(20, 15, ["truncated", "no_answer"]), tokens=120)
    rows += task_samples("A", "task-b", outcomes(20, 12), tokens=300, seconds=3.0)
    rows += task_samples("B", "task-a", outcomes(20, 11, ["no_answer"]), tokens=60, seconds=0.5)
    rows += task_samples("B", "task-b", outcomes(20, 14), tokens=60, seconds=0.5)
    rows += task_samples("C", "task-a", outcomes(20, 5))
    return write_run(root / "run", rows, costs={"A": PRICE, "B": UNPRICED, "C": PRICE})


CASES: dict[str, Callable[[Path], Path]] = {
    "default-suite-replay": default_suite_run,
    "synthetic-mixed": synthetic_run,
}


def pin_manifest(run_dir: Path) -> None:
    """Replace the manifest's machine- and time-dependent values by :data:`PINNED` (0 for a count)."""
    path = run_dir / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(created=PINNED, command=[PINNED])
    manifest["versions"] = {package: PINNED for package in manifest["versions"]}
    manifest["hardware"].update(gpu_names=[PINNED], cpu_model=PINNED, cpu_cores=0, platform=PINNED)
    if "profile" in manifest:  # wall seconds per phase: which phases ran is compared, not how long
        manifest["profile"] = {phase: 0.0 for phase in manifest["profile"]}
    for model in manifest["models"].values():
        model.update(path_or_id=PINNED, weights_sha256=PINNED, engine_setup={PINNED: PINNED})
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end) + len(end)]


def outputs(run_dir: Path, report_dir: Path) -> dict[str, str]:
    """Every output of the run and of its report, by golden file name."""
    paths = build_report([run_dir], report_dir)
    texts = {
        "summary.json": (run_dir / "summary.json").read_text(encoding="utf-8"),
        "summary-table.txt": format_summary(read_summary(run_dir / "summary.json")) + "\n",
        "leaderboard.csv": paths.csv.read_text(encoding="utf-8"),
        "leaderboard.json": paths.json.read_text(encoding="utf-8"),
        "leaderboard.md": paths.markdown.read_text(encoding="utf-8"),
        # The page without its inline CSS and scripts (assets, not figures).
        "index-body.html": re.sub(
            r"<script>.*?</script>",
            "",
            _between(paths.index_html.read_text(encoding="utf-8"), "<body>", "</body>"),
            flags=re.DOTALL,
        ),
        "sample-headers.html": "".join(
            _between(page.read_text(encoding="utf-8"), "<header>", "</header>") + "\n"
            for page in sorted(paths.sample_pages)
        ),
    }
    created = json.loads(texts["leaderboard.json"])["created"]  # when the report was built
    return {name: text.replace(created, PINNED) for name, text in texts.items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_match_the_golden_files(case: str, tmp_path: Path) -> None:
    produced = outputs(CASES[case](tmp_path), tmp_path / "report")
    folder = GOLDEN / case
    if UPDATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in produced.items():
            (folder / name).write_text(text, encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == sorted(produced)
    for name, text in produced.items():
        golden = (folder / name).read_text(encoding="utf-8")
        diff = "".join(
            difflib.unified_diff(golden.splitlines(True), text.splitlines(True), f"golden/{name}", "now", n=1)
        )
        assert text == golden, f"{case}/{name} differs from its golden file:\n{diff[:4000]}"
