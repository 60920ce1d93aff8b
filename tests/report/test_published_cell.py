"""The leaderboard shows the published score beside ours and where it lies against our CI."""

from __future__ import annotations

import pytest
from synthetic_runs import RunWriter, outcomes, task_samples

from evals.report import build_leaderboard, merge_runs
from evals.report.index_page import task_table
from evals.report.markdown import render_markdown

# The synthetic manifest's model ref is the label, so these labels are aliases with a
# published figure: smollm2-135m on gsm8k is 1.4% (its model card).
# (case, correct of 20 items, CI set by hand, expected standing)
CASES = [
    ("published below our CI", 10, (0.3, 0.7), "below"),
    ("published inside our CI", 0, (0.0, 0.05), "inside"),
]


@pytest.mark.parametrize(("case", "correct", "ci", "expected"), CASES, ids=[c[0] for c in CASES])
def test_published_beside_ours(
    make_run: RunWriter, case: str, correct: int, ci: tuple[float, float], expected: str
) -> None:
    rows = task_samples("smollm2-135m", "gsm8k", outcomes(20, correct))
    rows += task_samples("my-model", "gsm8k", outcomes(20, 5))
    overrides = {("smollm2-135m", "gsm8k"): {"ci_low": ci[0], "ci_high": ci[1]}}
    board = build_leaderboard(
        merge_runs([make_run("run", rows, overrides=overrides)]), redacted_tasks=frozenset(), publishable=True
    )
    results = {row.model: row.tasks["gsm8k"] for row in board.rows}
    ours = results["smollm2-135m"]
    assert ours.published.value == pytest.approx(0.014)
    assert ours.published_standing == expected, case
    assert ours.published.display == f"1.4% ({expected} our CI)"
    assert "SmolLM2-135M-Instruct model card" in (ours.published_source or "")
    assert results["my-model"].published.value is None  # no published figure: n/a
    assert f"1.4% ({expected} our CI)" in render_markdown(board)
    assert f"1.4% ({expected} our CI)" in task_table(board)  # the HTML page's per-task table too


def test_no_published_column_when_no_model_has_a_figure(make_run: RunWriter) -> None:
    rows = task_samples("my-model", "gsm8k", outcomes(20, 5))
    board = build_leaderboard(
        merge_runs([make_run("run", rows)]), redacted_tasks=frozenset(), publishable=True
    )
    assert "Published" not in task_table(board)
