"""``evals report`` of an adaptive run (``--until``): anytime-valid deltas, one line saying so, stopping record."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.plan import build_plan
from evals.records import Verdict
from evals.report import build_report
from evals.runner import RoundScoring, RunOptions, run_suite, scored_samples
from evals.scoring import Scorer, ScoreRequest
from evals.store import open_store
from evals.suite import SuiteSpec, parse_suite

# Per-item chance of a right answer: "strong" clearly beats "weak", so --until decided stops early.
RIGHT = {"strong": 0.9, "weak": 0.3}


def replay(model: Any, setup: Any, seed: int) -> ReplayBackend:
    """Right on a fixed share of the items (the same items in every run), wrong ("7") elsewhere."""

    def answer(request: Any) -> str:
        item = request.prompt.item
        label = request.key.model  # both entries share one engine group (one backend)
        draw = hashlib.sha256(f"{label}:{item.item_id}".encode()).digest()[0] / 256
        return f"The answer is \\boxed{{{item.gold if draw < RIGHT[label] else '7'}}}"

    return ReplayBackend(answer)


def _suite(name: str, until: dict[str, Any]) -> SuiteSpec:
    return parse_suite({
        "name": name, "seed": 0,
        "models": [{"name": "strong", "model": "smollm2-135m"}, {"name": "weak", "model": "smollm2-135m"}],
        "tasks": [{"name": "arith-easy", "limit": 200}, {"name": "arith-medium", "limit": 200}],
        **until,
    }, name)  # fmt: skip


def _run(tmp_path: Path, name: str, until: dict[str, Any]) -> Path:
    options = RunOptions(out=tmp_path / name, quiet=True, executor=LocalExecutor(backend=replay))
    return Path(run_suite(_suite(name, until), options).run_dir)


@pytest.fixture(scope="module")
def adaptive_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    tmp_path = tmp_path_factory.mktemp("adaptive-report")
    run = _run(tmp_path, "adaptive", {"until": "decided"})
    return run, build_report([run], tmp_path / "report")


def test_the_report_of_an_adaptive_run_uses_its_anytime_valid_pairs(
    adaptive_report: tuple[Path, Any],
) -> None:
    # source: issue 13 part 2 (under --until every reported CI and p-value is the anytime-valid one)
    run, paths = adaptive_report
    record = json.loads((run / "manifest.json").read_text())["adaptive"]
    pairs = {pair["task"]: pair for pair in record["pairs"]}
    assert all(t["stopped_by"] == "decided" and t["items"] < t["items_total"] for t in record["tracks"])
    board = json.loads(paths.json.read_text())
    (weak,) = [row for row in board["rows"] if row["model"] == "weak"]
    for task, result in weak["tasks"].items():
        pair = pairs[task]  # strong - weak, as the run checked its rule
        assert (pair["model_a"], pair["model_b"]) == ("strong", "weak")
        vs_leader = result["vs_leader"]  # weak - strong: the same interval, mirrored
        assert vs_leader["value"] == pytest.approx(-pair["difference"])
        assert (vs_leader["ci_low"], vs_leader["ci_high"]) == pytest.approx(
            (-pair["ci_high"], -pair["ci_low"])
        )
        assert result["vs_leader_p"]["value"] == pytest.approx(pair["p_value"])
    detail = weak["vs_leader_detail"]  # all tasks pooled: no single visiting order
    assert (detail["ci_low"], detail["p_value"], weak["vs_leader_p"]["value"]) == (None, None, None)
    assert "pooled over tasks" in detail["note"]
    for summary_row in json.loads((run / "summary.json").read_text()):
        cell = next(r for r in board["rows"] if r["model"] == summary_row["model"])["tasks"][
            summary_row["task"]
        ]
        assert (cell["accuracy"]["ci_low"], cell["accuracy"]["ci_high"]) == (
            summary_row["ci_low"],
            summary_row["ci_high"],
        )
        assert summary_row["ci_method"].startswith("anytime-valid")


def test_every_format_says_so_in_one_line_and_shows_the_stopping_record(
    adaptive_report: tuple[Path, Any],
) -> None:
    run, paths = adaptive_report
    board = json.loads(paths.json.read_text())
    line = board["statistics"]
    assert (
        line.startswith("Adaptive runs: adaptive (--until decided, alpha 0.05).") and "anytime-valid" in line
    )
    markdown = paths.markdown.read_text()
    assert f"**{line}**" in markdown and "## Adaptive runs" in markdown
    html = paths.index_html.read_text()
    assert 'id="statistics"' in html and 'id="adaptive"' in html and "anytime-valid" in html
    rows = list(csv.DictReader(io.StringIO(paths.csv.read_text())))
    assert {row["statistics"] for row in rows} == {line}
    tracks = json.loads((run / "manifest.json").read_text())["adaptive"]["tracks"]
    stopping = board["stopping"]
    assert [(s["model"], s["task"], s["items"], s["samples"], s["tokens_saved"]) for s in stopping] == [
        (t["model"], t["task"], t["items"], t["samples"], t["tokens_saved"]) for t in tracks
    ]
    for record in stopping:
        assert f"| {record['model']} | {record['task']} | decided | {record['items']}/200 |" in markdown


def test_a_full_run_report_is_unchanged(tmp_path: Path) -> None:
    run = _run(tmp_path, "full", {})
    paths = build_report([run], tmp_path / "report")
    board = json.loads(paths.json.read_text())
    assert (board["statistics"], board["stopping"]) == (None, [])
    assert "statistics" not in paths.csv.read_text().splitlines()[0].split(",")
    assert "Adaptive runs" not in paths.markdown.read_text()
    (weak,) = [row for row in board["rows"] if row["model"] == "weak"]
    assert weak["vs_leader_detail"]["test"].startswith("paired t")


class CountingScorer(Scorer):
    """The real scorer, counting the answers it is asked to judge."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def score_many(self, requests: Sequence[ScoreRequest]) -> list[Verdict]:
        self.asked += len(requests)
        return super().score_many(requests)


def test_rounds_score_each_sample_once_and_end_where_scoring_everything_does(
    adaptive_report: tuple[Path, Any],
) -> None:
    # source: issue 13 closing note (each round re-scored every visited item: quadratic)
    run, _ = adaptive_report
    plan = build_plan(_suite("adaptive", {"until": "decided"}), None)
    store = open_store(run)
    orders = json.loads((run / "manifest.json").read_text())["adaptive"]["orders"]
    keys = [(model.label, task.name) for model in plan.models for task in model.tasks]
    with CountingScorer() as scorer:
        scoring = RoundScoring(store, plan, scorer)
        for visited in (10, 20):
            scored = scoring({key: set(orders[key[1]][:visited]) for key in keys})
            assert scorer.asked == len(keys) * visited  # one sample per item: the new ones only
        everything = scored_samples(store, plan, scorer, {key: set(orders[key[1]][:20]) for key in keys})
    pd.testing.assert_frame_equal(scored, everything)
