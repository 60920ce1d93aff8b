"""Rounds of extra samples (issue 13 part 1): a small task has every item in, then more samples per item.

Replayed answers (right with a fixed chance per model, item and sample), real scoring and the
real runner; generation itself is tested on vLLM in tests/e2e/test_adaptive_vllm.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evals.adaptive import SMALL_TASK_ITEMS, sample_round_tasks
from evals.adaptive_stats import anytime_paired
from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.plan import build_plan
from evals.report import build_report
from evals.runner import RunOptions, run_suite
from evals.suite import SuiteSpec, parse_suite

RIGHT = {"strong": 0.8, "weak": 0.3}
SAMPLES = 20


def replay(model: Any, setup: Any, seed: int) -> ReplayBackend:
    """Right with RIGHT[model]'s chance, decided by a hash of (model, item, sample)."""

    def answer(request: Any) -> str:
        key, item = request.key, request.prompt.item
        draw = hashlib.sha256(f"{key.model}:{key.item_id}:{key.sample_idx}".encode()).digest()[0] / 256
        return f"The answer is \\boxed{{{item.gold if draw < RIGHT[key.model] else '7'}}}"

    return ReplayBackend(answer)


def _suite(until: str, limit: int = 20, samples: tuple[int, int] = (SAMPLES, SAMPLES)) -> SuiteSpec:
    models = [{"name": name, "model": "smollm2-135m", "generation": {"samples": n, "temperature": 0.7}}
              for name, n in zip(RIGHT, samples, strict=True)]  # fmt: skip
    return parse_suite({"name": "rounds", "seed": 0, "models": models, "until": until,
                        "tasks": [{"name": "arith-easy", "limit": limit}]}, "test")  # fmt: skip


def _run(out: Path, until: str) -> int:
    options = RunOptions(out=out, quiet=True, executor=LocalExecutor(backend=replay))
    return run_suite(_suite(until), options).generated


def _record(run: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((run / "manifest.json").read_text())["adaptive"]
    return record


def _samples(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "samples.parquet").drop(columns=["engine_seconds"])


@pytest.mark.parametrize(
    ("limit", "samples", "expected"),
    [
        (20, (SAMPLES, SAMPLES), {"arith-easy"}),  # source: issue 13 part 1 (small task, every item in)
        (SMALL_TASK_ITEMS, (4, 4), {"arith-easy"}),  # the largest small task
        (SMALL_TASK_ITEMS + 1, (4, 4), set()),  # rounds of items: the items are the unit
        (20, (1, 1), set()),  # one sample per item: nothing to add
        (20, (4, 1), set()),  # models with different n cannot be paired by sample index
    ],
)
def test_which_tasks_go_on_in_rounds_of_samples(
    limit: int, samples: tuple[int, int], expected: set[str]
) -> None:
    assert sample_round_tasks(build_plan(_suite("decided", limit, samples), None)) == expected


def test_decided_on_a_small_task_stops_after_some_samples_of_every_item(tmp_path: Path) -> None:
    _run(tmp_path / "run", "decided")
    record = _record(tmp_path / "run")
    assert record["sample_rounds"] == ["arith-easy"]
    samples = _samples(tmp_path / "run")
    drawn = samples.groupby(["model", "item_id"])["sample_idx"].agg(["count", "max"])
    (per_item,) = set(drawn["count"])  # every item with the same samples 0..k-1
    assert (drawn["max"] == per_item - 1).all() and 1 <= per_item < SAMPLES
    for track in record["tracks"]:
        assert (track["stopped_by"], track["items"], track["samples"]) == ("decided", 20, 20 * per_item)
    (pair,) = record["pairs"]
    assert pair["decision"] == "a better" and pair["ci_low"] > 0
    assert not pair["method"].endswith("items")  # independent draws: no finite population of samples
    again = anytime_paired(
        samples, "strong", "weak", "arith-easy", record["orders"]["arith-easy"], 0.05, True
    )
    assert again is not None and (again.low, again.high) == (pair["ci_low"], pair["ci_high"])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert {row["stopped_by"] for row in summary} == {
        f"decided after {per_item} of {SAMPLES} samples per item"
    }
    board = json.loads(build_report([tmp_path / "run"], tmp_path / "report").json.read_text())
    (weak,) = [row["tasks"]["arith-easy"] for row in board["rows"] if row["model"] == "weak"]
    interval = (weak["vs_leader"]["ci_low"], weak["vs_leader"]["ci_high"])
    assert interval == pytest.approx((-pair["ci_high"], -pair["ci_low"]))  # anytime-valid, over samples


def test_a_stricter_rule_continues_sample_rounds_to_what_it_would_have_given(tmp_path: Path) -> None:
    extended, fresh = tmp_path / "extended", tmp_path / "fresh"
    first = _run(extended, "ci=0.3")
    second = _run(extended, "ci=0.2")
    total = _run(fresh, "ci=0.2")
    assert 0 < first < total < 2 * 20 * SAMPLES and second == total - first
    assert _record(extended)["tracks"] == _record(fresh)["tracks"]
    pd.testing.assert_frame_equal(_samples(extended), _samples(fresh))
    looser = _run(extended, "ci=0.3")  # back to the looser rule: its own rounds, nothing generated
    assert looser == 0 and len(_samples(extended)) == first
