"""What a reader of the leaderboard sees (issue 10): pass@k and maj@k, ranking by a chosen
metric, costs in plain decimals per 1,000 answers, the reference named, bars scaled to the data,
the question on each sample card."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import RunWriter, outcomes, sample, task_samples

from evals import cli
from evals.report import build_report, merge_runs
from evals.report.cells import usd, usd_per_answers
from evals.report.csv_json import render_csv
from evals.report.leaderboard import Leaderboard, build_leaderboard
from evals.report.markdown import render_markdown
from evals.report.plots import accuracy_ticks
from evals.report.viewer import question_of

EXPONENT = re.compile(r"\d[eE]-\d")  # "4.14e-05" (hex hashes have no '-')


def sampled(model: str, task: str, n_items: int, n_hit: int) -> list[dict[str, Any]]:
    """4 samples per item; items below n_hit right on sample 0 only, the 3 others all say "7"."""
    rows = []
    for i in range(n_items):
        for idx in range(4):
            right = i < n_hit and idx == 0
            rows.append(sample(model, task, f"{task}-{i:03d}", "correct" if right else "incorrect",
                               idx=idx, extracted="1" if right else "7", seconds=1e-4))  # fmt: skip
    return rows


def greedy_and_sampled() -> list[dict[str, Any]]:
    """greedy: 3 of 10 items right on both tasks (30%); sampled: 6 of 10 items right once in 4
    samples (accuracy 15%, pass@4 60%, maj@4 0%: the wrong answer "7" always outvotes)."""
    rows: list[dict[str, Any]] = []
    for task in ("task-a", "task-b"):
        rows += task_samples("greedy", task, outcomes(10, 3), seconds=1e-4)
        rows += sampled("sampled", task, 10, 6)
    return rows


@pytest.fixture
def board(make_run: RunWriter) -> Leaderboard:
    merged = merge_runs([make_run("mixed", greedy_and_sampled())])
    return build_leaderboard(merged, redacted_tasks=frozenset(), publishable=True)


def test_pass_and_maj_at_k_are_shown_for_sampled_models(board: Leaderboard) -> None:
    assert board.shown_metrics == ("pass@4", "maj@4")
    greedy, sampled_row = board.rows  # ranked by accuracy: greedy 30% before sampled 15%
    assert (greedy.model, sampled_row.model) == ("greedy", "sampled")
    assert sampled_row.sample_metrics["pass@4"].value == pytest.approx(0.6)
    assert sampled_row.sample_metrics["maj@4"].value == pytest.approx(0.0)
    assert sampled_row.tasks["task-a"].sample_metrics["pass@4"].display == "60.0%"
    assert "pass@4" not in greedy.sample_metrics  # one sample per item: pass@4 is undefined, not 0
    markdown = render_markdown(board)
    assert "| Overall [95% CI] | task-a | task-b | pass@4 | maj@4 |" in markdown
    assert "| 15.0% [" in markdown and "| 60.0% | 0.0% |" in markdown
    greedy_line = next(line for line in markdown.splitlines() if line.startswith("| =1 | greedy |"))
    assert "| n/a | n/a |" in greedy_line
    table = {row["model"]: row for row in csv.DictReader(io.StringIO(render_csv(board)))}
    assert float(table["sampled"]["pass@4"]) == pytest.approx(0.6)
    assert float(table["sampled"]["task-b_maj@4"]) == pytest.approx(0.0)
    assert table["greedy"]["pass@4"] == ""


@pytest.mark.parametrize(
    ("rank_by", "order", "ranks", "reference"),
    [
        ("accuracy", ["greedy", "sampled"], ["=1", "=1"], "greedy"),  # 30% vs 15%: the CIs overlap
        ("pass@4", ["sampled", "greedy"], ["1", "n/a"], "sampled"),  # greedy has no pass@4
        ("pass@1", ["greedy", "sampled"], ["1", "2"], "greedy"),  # no CI: a higher mean ranks first
        ("maj@4", ["sampled", "greedy"], ["1", "n/a"], "sampled"),
    ],
)
def test_rank_by_a_chosen_metric(
    make_run: RunWriter, rank_by: str, order: list[str], ranks: list[str], reference: str
) -> None:
    merged = merge_runs([make_run("mixed", greedy_and_sampled())])
    board = build_leaderboard(merged, redacted_tasks=frozenset(), publishable=True, rank_by=rank_by)
    assert [row.model for row in board.rows] == order
    assert [row.rank.display for row in board.rows] == ranks
    assert board.leader == reference and board.delta_header() == f"Delta vs {reference}"
    assert board.rows[0].vs_leader.display == "-"  # the reference is named in the header
    assert f"Ranked by {rank_by}" in render_markdown(board) or rank_by == "accuracy"


def test_unknown_rank_metric_is_one_line_and_writes_nothing(
    make_run: RunWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("report",))
    run = make_run("mixed", greedy_and_sampled())
    out = tmp_path / "report"
    assert cli.main(["report", str(run), "--out", str(out), "--rank-by", "pass@8"]) == 2
    stdout, stderr = capsys.readouterr()
    assert stdout == ""
    assert stderr == (
        "evals: error: cannot rank by 'pass@8': choose one of accuracy, pass@1, maj@1, pass@2, maj@2, "
        "pass@4, maj@4\n"
    )
    assert not out.exists()
    assert cli.main(["report", str(run), "--out", str(out), "--rank-by", "pass@4"]) == 0
    assert "Ranked by pass@4 (mean over tasks)" in (out / "leaderboard.md").read_text()


@pytest.mark.parametrize(
    ("value", "plain", "per_1k"),
    [
        (4.14e-05, "$0.0000414", "$0.0414"),  # source: issue 10, "$4.14e-05" on the terminal
        (8.53e-06, "$0.00000853", "$0.00853"),  # source: reports/default, $/answer of the greedy run
        (0.0025, "$0.00250", "$2.50"),
        (1.5, "$1.50", "$1,500.00"),
        (None, "n/a", "n/a"),  # unpriced: never $0
    ],
)
def test_money_in_plain_decimals(value: float | None, plain: str, per_1k: str) -> None:
    assert (usd(value), usd_per_answers(value)) == (plain, per_1k)


def test_no_exponent_notation_in_any_table_or_plot(make_run: RunWriter, tmp_path: Path) -> None:
    paths = build_report([make_run("mixed", greedy_and_sampled())], tmp_path / "report")
    for path in (paths.markdown, paths.csv, paths.index_html, *paths.plots):
        text = path.read_text(encoding="utf-8")
        assert not EXPONENT.findall(re.sub(r"<script>.*?</script>", "", text, flags=re.DOTALL)), path
    assert "$ per 1k answers" in paths.markdown.read_text()
    assert "Cost per 1k answers (USD" in paths.plots[0].read_text()
    assert (
        "Run on: mixed: accelerator: test-cpu, count: 1, cpu_model: Test CPU." in paths.markdown.read_text()
    )


def _board_with_accuracies(make_run: RunWriter, correct: list[int]) -> Leaderboard:
    rows: list[dict[str, Any]] = []
    for m, n_correct in enumerate(correct):
        rows += task_samples(f"m{m}", "task-a", outcomes(40, n_correct))
    return build_leaderboard(merge_runs([make_run("r", rows)]), redacted_tasks=frozenset(), publishable=True)


@pytest.mark.parametrize(
    ("correct", "top"),
    [
        ([6, 1], 0.3),  # source: issue 10, every value under 25% on a 0-100% axis; 15% CI reaches ~27%
        ([40, 20], 1.0),  # a perfect model: the axis ends at 100%, never beyond
        # nothing right: a small axis, not a division by zero (the CI's upper end, 6.6% for 0 of 40
        # items, rounds up to the next 2-point tick)
        ([0, 0], 0.08),
    ],
)
def test_task_bars_are_scaled_to_the_data(make_run: RunWriter, correct: list[int], top: float) -> None:
    board = _board_with_accuracies(make_run, correct)
    ticks = accuracy_ticks(board)
    assert ticks[0] == 0.0 and ticks[-1] == pytest.approx(top)
    highs = [c for row in board.rows for c in (row.overall.ci_high, row.overall.value) if c is not None]
    assert max(highs) <= ticks[-1]


@pytest.mark.parametrize(
    ("prompt", "question"),
    [
        # SmolLM2's ChatML template, as vLLM renders the default suite's prompts
        (
            "<|im_start|>system\nYou are a helpful AI assistant<|im_end|>\n<|im_start|>user\nTom has 3 apples."
            "\n\nGive the final answer.<|im_end|>\n<|im_start|>assistant\n",
            "Tom has 3 apples.\n\nGive the final answer.",
        ),  # fmt: skip
        # Llama 3
        (
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            "What is 2+2?",
        ),  # fmt: skip
        # a served model's transcript (evals.generation.chat_reply.prompt_transcript)
        ("[system]\nBe brief.\n\n[user]\nWhat is 3?", "What is 3?"),
        ("Plain prompt, no chat markup", "Plain prompt, no chat markup"),
        (None, None),
    ],
)
def test_sample_cards_show_the_question(prompt: str | None, question: str | None) -> None:
    assert question_of(prompt) == question
