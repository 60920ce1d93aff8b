"""Reasoning budgets from one run: forced-answer probes, per-budget figures, `evals budgets`.

Golden curves on a replay run (tokens are words), computed by hand in the table below.
Real-vLLM checks are in tests/e2e/test_budgets_vllm.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evals.budget_run import add_budgets
from evals.execute import LocalExecutor
from evals.generation.base import GenerationRequest
from evals.generation.replay import ReplayBackend
from evals.probes import ProbeRequest, has_open_think, parse_budgets
from evals.runner import RunOptions, RunOutcome, run_suite
from evals.suite import parse_suite
from evals.tasks import load_task
from tests.conftest import run_cli

MAX_TOKENS = 128
ITEMS = sorted(item.item_id for item in load_task("arith-easy", data_dir=None, limit=4, seed=None).items)
# Per item (in item_id order): completion length in words and whether its final answer is right.
# The last one runs past max_tokens: cut at 128 words with no answer (status truncated).
LENGTHS = dict(zip(ITEMS, (10, 40, 100, 200), strict=True))
RIGHT = dict(zip(ITEMS, (True, True, False, False), strict=True))


def completion_text(request: GenerationRequest) -> str:
    item = request.prompt.item
    length = LENGTHS[item.item_id]
    if length > MAX_TOKENS:
        return " ".join(["think"] * length)
    answer = item.gold if RIGHT[item.item_id] else "-1"
    return " ".join(["think"] * (length - 4) + ["The", "answer", "is", f"{answer}."])


def forced_answer(request: ProbeRequest) -> str:
    """Right from a budget of 50 words on, and at a sample's own length (fidelity)."""
    gold = int(request.prompt.item.gold)
    right = request.kind == "fidelity" or request.budget >= 50
    return f"{gold if right else gold + 1}."


class ReplayFactory:
    def __init__(self) -> None:
        self.backends: list[ReplayBackend] = []

    def __call__(self, model: Any, setup: Any, seed: int) -> ReplayBackend:
        backend = ReplayBackend(completion_text, probe_answer=forced_answer)
        self.backends.append(backend)
        return backend


def suite_with(budgets: list[int]) -> Any:
    data = {
        "models": [{"model": "smollm2-135m", "generation": {"max_tokens": MAX_TOKENS}}],
        "tasks": [{"name": "arith-easy", "limit": 4}],
        "budgets": budgets,
    }
    return parse_suite(data, "test")


def run(out: Path, budgets: list[int], factory: ReplayFactory) -> RunOutcome:
    return run_suite(suite_with(budgets), RunOptions(out=out, quiet=True, executor=LocalExecutor(factory)))


# source: hand computation from LENGTHS, RIGHT and forced_answer (probe answers are one word).
#  budget 32: item0 own (10, right); items 1-3 probed at 32 (wrong) -> 1/4, 3/4 still thinking,
#             tokens 10 + 3 x (32 + 1) = 109 / 4
#  budget 64: items 0, 1 own (right); items 2, 3 probed at 64 (right) -> 4/4, tokens 10+40+65+65
#  budget 128: nobody is longer: the run's own verdicts -> 2/4 (item 2 wrong, item 3 truncated)
GOLDEN = [
    # budget, accuracy, tokens per answer, still thinking
    (None, 0.5, (10 + 40 + 100 + 128) / 4, None),
    (32, 0.25, (10 + 33 * 3) / 4, 0.75),
    (64, 1.0, (10 + 40 + 65 + 65) / 4, 0.5),
    (128, 0.5, (10 + 40 + 100 + 128) / 4, 0.0),
]


def test_golden_budget_curve_and_fidelity(tmp_path: Path) -> None:
    factory = ReplayFactory()
    outcome = run(tmp_path / "run", [32, 64, 128], factory)
    rows = {row.budget: row for row in outcome.rows}
    assert sorted(rows, key=lambda b: b or 0) == [None, 32, 64, 128]
    for budget, accuracy, tokens, thinking in GOLDEN:
        row = rows[budget]
        assert (row.accuracy, row.tokens_per_answer, row.still_thinking_rate) == (accuracy, tokens, thinking)
        # Fidelity: items 0 and 1 finish right and their forced answer is right; item 2 finishes
        # wrong ("-1") but its forced answer is right; item 3 never finished: not probed.
        assert (row.probe_fidelity, row.n_fidelity) == (2 / 3, 3)
    # Cost as if run at the budget: the run's rate per token times prompt + tokens at b.
    base = rows[None]
    assert base.cost_per_answer_usd is not None
    for budget in (32, 64):
        row = rows[budget]
        assert row.cost_per_answer_usd is not None
        expected = base.cost_per_answer_usd * (base.prompt_tokens_per_answer + row.tokens_per_answer)
        expected /= base.prompt_tokens_per_answer + base.tokens_per_answer
        assert row.cost_per_answer_usd == pytest.approx(expected, rel=1e-9)
    # Probes: 3 at 32, 2 at 64, none at 128, 3 fidelity; each sample's probes adjacent.
    probed = factory.backends[0].probed
    assert sorted((p.kind, p.budget) for p in probed).count(("fidelity", 10)) == 1
    assert len(probed) == 8 and outcome.probed == 8
    order = [p.key.item_id for p in probed]
    assert order == sorted(order)
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert [r["budget"] for r in summary] == [None, 32, 64, 128]
    probes = pd.read_parquet(outcome.run_dir / "probes.parquet")
    assert len(probes) == 8 and not probes.duplicated(["item_id", "budget", "kind"]).any()


def test_rerun_probes_nothing_and_budgets_add_rows_without_generating(tmp_path: Path) -> None:
    first = ReplayFactory()
    outcome = run(tmp_path / "run", [32], first)
    assert outcome.generated == 4 and outcome.probed == 3 + 3
    again = ReplayFactory()
    rerun = run(tmp_path / "run", [32], again)
    assert (rerun.generated, rerun.probed, again.backends) == (0, 0, [])  # no engine started

    more = ReplayFactory()
    added = add_budgets(tmp_path / "run", (64,), quiet=True, executor=LocalExecutor(more))
    assert added.generated == 0 and added.probed == 2 and more.backends[0].generated == []
    rows = {row.budget: row for row in added.rows}
    assert (rows[32].accuracy, rows[64].accuracy) == (0.25, 1.0)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["budgets"] == [32, 64] and len(manifest["budgets_added"]) == 1


def test_budgets_do_not_change_the_run_identity() -> None:
    assert suite_with([]).config_hash() == suite_with([32, 64]).config_hash()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("32,64,128", (32, 64, 128)), ("128, 32,32", (32, 128)), ("7", (7,))],
)
def test_parse_budgets(text: str, expected: tuple[int, ...]) -> None:
    assert parse_budgets(text) == expected


@pytest.mark.parametrize(
    ("text", "kept", "expected"),
    [
        ("<|im_start|>assistant\n", "Let me", False),  # no think block at all
        ("<|im_start|>assistant\n<think>\n", "Let me", True),  # the template opened it
        ("assistant\n", "<think>\nLet me", True),  # the model opened it
        ("assistant\n", "<think>\nok</think>\nSo", False),  # already closed
    ],
)
def test_open_think_is_closed_before_the_closing_text(text: str, kept: str, expected: bool) -> None:
    assert has_open_think(text + kept) is expected


# source: issue 12 checks: bad --budgets is one error line, exit 2, nothing written.
BAD_BUDGETS = [
    ("0", "'0' is not a positive number of tokens"),
    ("32,abc", "'abc' is not a positive number of tokens"),
    ("-5", "'-5' is not a positive number of tokens"),
    ("", "'' is not a positive number of tokens"),
    ("32,512", "budget 512 is above max_tokens 256"),
]


@pytest.mark.parametrize(("budgets", "message"), BAD_BUDGETS)
def test_bad_budgets_on_run(tmp_path: Path, budgets: str, message: str) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", "smollm2-135m", "--task", "arith-easy", "--limit", "2", "--max-tokens", "256",
            "--budgets", budgets, "--out", str(out)]  # fmt: skip
    result = run_cli(args, cwd=tmp_path, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("budgets", "message"), [*BAD_BUDGETS[:2], ("200", "budget 200 is above max_tokens 128")]
)
def test_bad_budgets_on_a_finished_run(tmp_path: Path, budgets: str, message: str) -> None:
    run(tmp_path / "run", [], ReplayFactory())
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")}
    result = run_cli(["budgets", str(tmp_path / "run"), "--budgets", budgets], cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, (
        result.stderr
    )
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")} == before


def test_paired_comparison_between_budget_points(tmp_path: Path) -> None:
    outcome = run(tmp_path / "run", [32, 64], ReplayFactory())
    # source: GOLDEN: at 64 all 4 right, at 32 only item 0 -> 3 items better at 64, none worse.
    args = ["compare", str(outcome.run_dir), "--a", "smollm2-135m", "--a-budget", "64",
            "--b", "smollm2-135m", "--b-budget", "32", "--task", "arith-easy", "--json"]  # fmt: skip
    result = run_cli(args, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    [comparison] = json.loads(result.stdout)
    assert (comparison["accuracy_a"], comparison["accuracy_b"]) == (1.0, 0.25)
    assert (comparison["items_a_better"], comparison["items_b_better"]) == (3, 0)
    # The run's own answers (no budget) against budget 64: item 2 wrong, item 3 truncated.
    own = run_cli(
        [*args[:6], "--b", "smollm2-135m", "--task", "arith-easy", "--json"], cwd=tmp_path, timeout=300
    )
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout)[0]["difference"] == 0.5
    missing = run_cli([*args[:4], "--a-budget", "100", "--b", "smollm2-135m"], cwd=tmp_path, timeout=300)
    assert missing.returncode == 2 and "no figures at budget 100" in missing.stderr


def test_report_shows_budget_curves_plots_and_truncation_flag(tmp_path: Path) -> None:
    from evals.report.build import build_report

    outcome = run(tmp_path / "run", [32, 64], ReplayFactory())
    paths = build_report([outcome.run_dir], tmp_path / "report")
    markdown = paths.markdown.read_text()
    # source: GOLDEN; the run's own row sits at its max_tokens (128); item 3 of 4 hit the cap.
    assert "| smollm2-135m | arith-easy | 32 | 25.0%" in markdown
    assert "| smollm2-135m | arith-easy | 64 | 100.0%" in markdown
    assert "| smollm2-135m | arith-easy | 128 (max) | 50.0%" in markdown
    assert "**flag:** smollm2-135m / arith-easy: 25.0% of answers hit the token cap" in markdown
    html = paths.index_html.read_text()
    assert 'id="accuracy-budget"' in html and 'id="budget-cost"' in html
    assert html.count('class="budget-point"') == 3
    # Pareto frontier over (cost, accuracy): budget 64 (all right) is cheaper than the own run
    # (128 max, 50%), so the own point is dominated; budget 32 is the cheapest of all.
    assert html.count('class="cost-point pareto"') == 2 and html.count('class="cost-point"') == 1
    # Budget rows never enter the leaderboard itself: one task row there, three in the budget table.
    board, budgets = markdown.split("## Accuracy vs reasoning budget")
    assert board.count("| smollm2-135m | arith-easy |") == 1 and budgets.count("| smollm2-135m |") == 3


def test_probes_at_an_fsspec_url_resume_from_the_url(tmp_path: Path) -> None:
    url = f"file://{tmp_path / 'remote'}"
    first = run_suite(
        suite_with([32]), RunOptions(out=url, quiet=True, executor=LocalExecutor(ReplayFactory()))
    )
    assert first.probed == 6 and list((tmp_path / "remote" / "probes").glob("*/*/part-*.parquet"))
    again = ReplayFactory()
    rerun = run_suite(suite_with([32]), RunOptions(out=url, quiet=True, executor=LocalExecutor(again)))
    assert (rerun.generated, rerun.probed, again.backends) == (0, 0, [])
    assert json.loads((tmp_path / "remote" / "summary.json").read_text())[1]["budget"] == 32


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns).assign(model="m", task="t", sample_idx=0)


# source: issue 12 review. Two answers timed at different rates (a long one finishing in a thin
# batch: 1.0 s for 10 + 90 tokens; a short one: 0.4 s for 10 + 10) and one failed generation.
# The model x task rate is (1.0 + 0.4) / 120 s per token; at a budget every judged answer costs
# that rate x (prompt + its tokens at the budget); the failure keeps its own (unknown) time.
RATE = 1.4 / 120
BUDGET_SECONDS = [
    # budget, seconds of a (cut at b: b + 5 probe tokens), of b, of the failure
    (20, RATE * (10 + 20 + 5), RATE * (10 + 10)),
    (90, RATE * (10 + 90), RATE * (10 + 10)),  # nobody cut: the run's own total, 1.4 s
    (200, RATE * (10 + 90), RATE * (10 + 10)),
]


@pytest.mark.parametrize(("budget", "seconds_a", "seconds_b"), BUDGET_SECONDS)
def test_time_at_a_budget_uses_one_rate_per_model_and_task(
    budget: int, seconds_a: float, seconds_b: float
) -> None:
    from evals.metrics.budgets import budget_frame

    samples = _frame(
        [("a", 10, 90, 1.0, "x", True, "correct"), ("b", 10, 10, 0.4, "y", True, "correct"),
         ("c", 10, 0, float("nan"), None, None, "error")],
        ["item_id", "prompt_tokens", "completion_tokens", "engine_seconds", "extracted", "correct", "status"],
    )  # fmt: skip
    probes = _frame(
        [("a", 20, "budget", "x", True, "correct", 5)],
        ["item_id", "budget", "kind", "extracted", "correct", "status", "completion_tokens"],
    )
    frame = budget_frame(samples, probes, budget).set_index("item_id")
    assert frame.loc["a", "engine_seconds"] == pytest.approx(seconds_a, rel=1e-12)
    assert frame.loc["b", "engine_seconds"] == pytest.approx(seconds_b, rel=1e-12)
    assert pd.isna(frame.loc["c", "engine_seconds"])
    if budget >= 90:
        assert frame["engine_seconds"].sum() == pytest.approx(1.4, rel=1e-12)


# source: issue 12 (servers returning reasoning apart: reasoning_content / reasoning).
GENERATED_TEXT = [
    # prompt text, reasoning field, visible answer, the text probes cut (generation order)
    ("<|assistant|>\n", None, "The answer is 4.", "The answer is 4."),
    ("<|assistant|>\n<think>\n", "2 + 2 = 4", "The answer is 4.", "2 + 2 = 4</think>The answer is 4."),
    ("<|assistant|>\n", "2 + 2 = 4", "The answer is 4.", "<think>\n2 + 2 = 4</think>The answer is 4."),
    ("<|assistant|>\n<think>\n", "still thinking", "", "still thinking"),  # cut inside the reasoning
]


@pytest.mark.parametrize(("prompt_text", "reasoning", "output", "expected"), GENERATED_TEXT)
def test_separate_reasoning_counts_first_inside_a_think_block(
    prompt_text: str, reasoning: str | None, output: str, expected: str
) -> None:
    from evals.records import ChatMessage, Item, Prompt, SampleKey

    item = Item("t", "q", "What is 2 + 2?", "4", "number")
    request = ProbeRequest(SampleKey("m", "t", "q", 0), 4, "budget", Prompt(item, (ChatMessage("user", "?"),)),
                           output, None, "\n\nThe final answer is ", 32, reasoning)  # fmt: skip
    text = request.generated_text(prompt_text)
    assert text == expected
    # A cut inside the reasoning leaves the think block open: the closing closes it first.
    cut = text[: len(text) // 2]
    closes = request.closing_after(prompt_text, cut).startswith("\n</think>")
    assert closes == (reasoning is not None and "</think>" not in cut)
