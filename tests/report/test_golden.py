"""Golden leaderboard values for a small synthetic run, each computed by hand below.

The run: tasks task-a and task-b, 20 items each, one sample per item; models A, B,
F, D on both tasks and C on task-a only. Item i is correct for the first n_correct
items of a model, so the paired discordant items can be counted by hand. Accuracy,
tokens and costs come from the real ``summarize``; the task CIs are set by hand
(overrides) so the overall CI and the ranks are hand-computable too.

Price: $3.60/h for one core, so one engine second costs $0.001.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from synthetic_runs import PRICE, UNPRICED, RunWriter, outcomes, task_samples

from evals.report import build_leaderboard, build_report, merge_runs
from evals.report.csv_json import render_csv
from evals.report.leaderboard import Leaderboard
from evals.report.markdown import render_markdown
from tests.metrics.independent import t_two_sided_p

# model: ((correct on task-a, task-b), tokens per answer, engine seconds per sample, (CI a, CI b))
MODELS = {
    "A": ((15, 17), 100, 1.0, ((0.69, 0.81), (0.77, 0.93))),
    "B": ((14, 16), 50, 0.5, ((0.64, 0.76), (0.72, 0.88))),
    "F": ((13, 14), 80, 1.0, ((0.59, 0.71), (0.62, 0.78))),
    "D": ((10, 12), 100, 1.0, ((0.44, 0.56), (0.52, 0.68))),
}


def golden_rows() -> list[dict[str, object]]:
    rows = []
    for model, ((a, b), tokens, seconds, _) in MODELS.items():
        # A: task-b answers are 3x as long and as slow as task-a's (tokens 300, 3 s).
        scale = 3 if model == "A" else 1
        wrong = ["truncated", "no_answer"] if model == "A" else []
        rows += task_samples(model, "task-a", outcomes(20, a, wrong), tokens=tokens, seconds=seconds)
        rows += task_samples(model, "task-b", outcomes(20, b), tokens=tokens * scale, seconds=seconds * scale)
    rows += task_samples("C", "task-a", outcomes(20, 4))
    return rows


@pytest.fixture
def golden(make_run: RunWriter) -> Leaderboard:
    overrides = {
        (model, task): {"ci_low": ci[0], "ci_high": ci[1]}
        for model, (_, _, _, cis) in MODELS.items()
        for task, ci in zip(("task-a", "task-b"), cis, strict=True)
    }
    costs = {"A": PRICE, "B": PRICE, "F": PRICE, "C": PRICE, "D": UNPRICED}
    run = make_run("golden", golden_rows(), costs=costs, overrides=overrides)
    merged = merge_runs([run])
    return build_leaderboard(merged, redacted_tasks=frozenset(), publishable=True)


def test_rows_are_ordered_by_overall_and_ranked_by_ci_overlap(golden: Leaderboard) -> None:
    rows = {row.model: row for row in golden.rows}
    assert [row.model for row in golden.rows] == ["A", "B", "F", "D", "C"]
    # A [.75,.85] and B [.70,.80] overlap: both 1. F [.625,.725]: only A is above (.75 > .725): 2.
    # D [.50,.60]: A, B and F (.625 > .60) are above: 4. C lacks task-b: no overall, no rank.
    assert {m: r.rank.display for m, r in rows.items()} == {
        "A": "=1",
        "B": "=1",
        "F": "2",
        "D": "4",
        "C": "n/a",
    }
    assert [rows[m].rank.value for m in "ABFDC"] == [1.0, 1.0, 2.0, 4.0, None]
    assert golden.leader == "A"


@pytest.mark.parametrize(
    ("model", "overall", "low", "high"),
    [
        # overall = mean of task accuracies; half-width = sqrt(.06^2 + .08^2) / 2 = .05
        ("A", (0.75 + 0.85) / 2, 0.75, 0.85),
        ("B", (0.70 + 0.80) / 2, 0.70, 0.80),
        ("F", (0.65 + 0.70) / 2, 0.625, 0.725),
        ("D", (0.50 + 0.60) / 2, 0.50, 0.60),
    ],
)
def test_overall_score_and_its_interval(
    golden: Leaderboard, model: str, overall: float, low: float, high: float
) -> None:
    row = next(r for r in golden.rows if r.model == model)
    assert row.overall.value == pytest.approx(overall)
    assert row.overall.ci_low == pytest.approx(low)
    assert row.overall.ci_high == pytest.approx(high)
    assert row.overall.runs == ("golden",)


def test_model_without_every_task_has_no_aggregate(golden: Leaderboard) -> None:
    c = next(r for r in golden.rows if r.model == "C")
    assert c.overall.value is None and c.overall.display == "n/a (no task-b)"
    assert c.missing_tasks == ("task-b",)
    assert c.figures["tokens_per_answer"].value is None and c.figures["cost_per_answer"].display == "n/a"
    assert c.tasks["task-a"].accuracy.value == pytest.approx(4 / 20)
    assert any("model C has no result for task(s) task-b" in w for w in golden.warnings)


@pytest.mark.parametrize(
    ("model", "tokens", "cost", "cost_display", "per_correct", "per_correct_display"),
    [
        # A: task-a 100 tokens, 1 s = $0.001; task-b 300 tokens, 3 s = $0.003.
        # per correct = (0.001 + 0.003) / (0.75 + 0.85); displayed per 1,000 answers.
        ("A", 200.0, 0.002, "$2.00", 0.004 / 1.6, "$2.50"),
        # B: 50 tokens, 0.5 s = $0.0005 on both; per correct = 0.001 / 1.5
        ("B", 50.0, 0.0005, "$0.500", 0.001 / 1.5, "$0.667"),
        # D is unpriced: n/a, never $0.
        ("D", 100.0, None, "n/a", None, "n/a"),
    ],
)
def test_tokens_and_costs(
    golden: Leaderboard,
    model: str,
    tokens: float,
    cost: float | None,
    cost_display: str,
    per_correct: float | None,
    per_correct_display: str,
) -> None:
    row = next(r for r in golden.rows if r.model == model)
    assert row.figures["tokens_per_answer"].value == pytest.approx(tokens)
    assert row.figures["cost_per_answer"].value == pytest.approx(cost)
    assert row.figures["cost_per_answer"].display == cost_display
    assert row.figures["cost_per_correct"].value == pytest.approx(per_correct)
    assert row.figures["cost_per_correct"].display == per_correct_display


def test_rates_and_task_cells(golden: Leaderboard) -> None:
    a = golden.rows[0]
    # A task-a: 1 truncated and 1 no-answer of 20 judged; task-b none: means .025 each.
    assert (
        a.figures["truncated_rate"].value == pytest.approx(0.025)
        and a.figures["truncated_rate"].display == "2.5%"
    )
    assert a.figures["no_answer_rate"].value == pytest.approx(0.025)
    cell = a.tasks["task-a"].accuracy
    assert (cell.value, cell.ci_low, cell.ci_high, cell.display) == (0.75, 0.69, 0.81, "75.0% [69.0, 81.0]")
    assert cell.runs == ("golden",)
    assert a.tasks["task-b"].figures["cost_per_answer"].value == pytest.approx(0.003)


def paired_t_p(worse: int, items: int) -> float:
    """Paired t p-value when ``worse`` of ``items`` differences are -1 and the rest 0, by hand.

    mean = -w/m, sd^2 = (w - w^2/m) / (m - 1), t = mean / (sd / sqrt(m)) on m - 1 df; the
    tail integrates the t density (tests/metrics/independent.py).
    """
    sd = math.sqrt((worse - worse**2 / items) / (items - 1))
    return t_two_sided_p(worse / items / (sd / math.sqrt(items)), items - 1)


@pytest.mark.parametrize(
    ("model", "difference", "worse", "items", "p_display"),
    [
        # B vs A: A alone right on a-014 and b-016, B alone on none: t = 1.43 on 39 df.
        ("B", -2 / 40, 2, 40, "p = 0.160"),
        # F vs A: 2 + 3 items where only A is right: t = 2.36 on 39 df.
        ("F", -5 / 40, 5, 40, "p = 0.023"),
        # D vs A: 5 + 5 items: t = 3.61 on 39 df.
        ("D", -10 / 40, 10, 40, "p < 0.001"),
        # C vs A on the 20 task-a items they share: 11 items (4..14): t = 4.82 on 19 df.
        ("C", -11 / 20, 11, 20, "p < 0.001"),
    ],
)
def test_paired_difference_to_the_leader(
    golden: Leaderboard, model: str, difference: float, worse: int, items: int, p_display: str
) -> None:
    row = next(r for r in golden.rows if r.model == model)
    assert row.vs_leader.value == pytest.approx(difference)
    assert row.vs_leader.display.startswith(f"{100 * difference:+.1f} pts")
    assert row.vs_leader_p.value == pytest.approx(paired_t_p(worse, items), rel=1e-9)
    assert row.vs_leader_p.display == p_display
    assert row.vs_leader_detail is not None and row.vs_leader_detail.test == "paired t over items (m-1 df)"
    assert ("(on 20 common items)" in row.vs_leader.display) == (model == "C")


def test_leader_row_and_pareto_front(golden: Leaderboard) -> None:
    a = golden.rows[0]
    assert (a.vs_leader.value, a.vs_leader.display, a.vs_leader_p.value) == (0.0, "-", None)
    # B is cheaper than F and more accurate: F is dominated; A is the most accurate.
    assert golden.pareto_front == ("A", "B")
    assert set(golden.not_plotted) == {"C", "D"}
    assert golden.not_plotted["D"].startswith("unknown price")
    assert golden.not_plotted["C"] == "no overall score (no task-b)"


def test_markdown_and_csv_carry_the_same_figures(golden: Leaderboard) -> None:
    markdown = render_markdown(golden)
    assert (
        "| =1 | A | 80.0% [75.0, 85.0] | 75.0% [69.0, 81.0] | 85.0% [77.0, 93.0] | 200 | $2.00 | $2.50 "
        "| 2.5% | 2.5% | - | - |"
    ) in markdown
    assert (
        "| $ per 1k answers | $ per 1k correct | Truncated | No answer | Delta vs A [95% CI] | p |"
        in markdown
    )
    d_line = next(line for line in markdown.splitlines() if line.startswith("| 4 | D |"))
    assert "| n/a | n/a |" in d_line and "$0 " not in d_line
    table = list(csv.DictReader(io.StringIO(render_csv(golden))))
    assert [r["model"] for r in table] == ["A", "B", "F", "D", "C"]
    a, d, c = table[0], table[3], table[4]
    assert (a["rank"], float(a["overall"]), float(a["task-a_ci_low"])) == ("1", pytest.approx(0.8), 0.69)
    assert float(a["cost_per_correct_usd"]) == pytest.approx(0.0025) and a["pareto"] == "yes"
    assert d["cost_per_answer_usd"] == "" and d["rank"] == "4"
    assert c["overall"] == "" and c["rank"] == "" and c["task-b"] == ""


def test_build_report_writes_every_format(make_run: RunWriter, tmp_path: Path) -> None:
    run = make_run("golden", golden_rows())
    paths = build_report([run], tmp_path / "report")
    for path in (paths.index_html, paths.markdown, paths.csv, paths.json, *paths.plots):
        assert path.is_file() and path.stat().st_size > 0
    assert len(paths.sample_pages) == 9  # 4 models x 2 tasks + C x 1
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    cell = data["rows"][0]["tasks"]["task-a"]["accuracy"]
    assert set(cell) == {"value", "display", "ci_low", "ci_high", "runs"} and cell["runs"] == ["golden"]
    assert data["definitions"]["overall"].startswith("Overall: the unweighted mean of the task accuracies")
    assert data["publishable"] is True
