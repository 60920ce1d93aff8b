"""`evals diagnose`: one run built to show each cause, and the cause ranked first with its numbers.

Runs are synthetic finished runs (tests/report/synthetic_runs.py) of the alias
deepseek-r1-distill-qwen-7b on math500, whose published score is 92.8% (DeepSeek-R1
card: 64 samples, temperature 0.6, max_tokens 32768); the nondeterminism run is a real
run of the replay backend, re-run with a backend that answers differently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.diagnose import diagnose_run
from evals.diagnose.lenient import lenient_correct
from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.published import PublishedScores, parse_published
from evals.runner import RunOptions, run_suite
from evals.suite import parse_suite
from tests.conftest import run_cli
from tests.report.synthetic_runs import sample, write_run

MODEL, TASK = "deepseek-r1-distill-qwen-7b", "math500"


def answers(*groups: tuple[int, str, str]) -> list[dict[str, Any]]:
    """Items with (count, status, output) each; the gold is always 1."""
    rows, index = [], 0
    for count, status, output in groups:
        for _ in range(count):
            extracted = None if status == "no_answer" else ("1" if status == "correct" else "7")
            rows.append(sample(MODEL, TASK, f"i{index:03d}", status, output=output, extracted=extracted))
            index += 1
    return rows


# (case, answers of 20 items, CI set by hand, the cause ranked first, its figure, expected value)
CASES = [
    (
        "truncation: 9 of 20 cut at max_tokens",
        answers((10, "correct", "so 1"), (9, "truncated", "let me think"), (1, "incorrect", "so 7")),
        (0.3, 0.7),
        "truncation",
        "accuracy_if_truncated_right",
        0.95,
    ),
    (
        "extraction: the gold stated without an extractable answer",
        answers((10, "correct", "so 1"), (10, "no_answer", "I count 1 apple and stop")),
        (0.3, 0.7),
        "extraction",
        "accuracy_lenient",
        1.0,
    ),
    (
        "unjudged: 8 answers with no verdict",
        answers((10, "correct", "so 1"), (2, "incorrect", "so 7"), (8, "error", "")),
        (0.6, 0.9),
        "unjudged",
        "accuracy_if_right",
        0.9,
    ),
]


@pytest.mark.parametrize(
    ("case", "rows", "ci", "first", "figure", "value"), CASES, ids=[c[0].split(":")[0] for c in CASES]
)
def test_cause_ranked_first(
    tmp_path: Path,
    case: str,
    rows: list[dict[str, Any]],
    ci: tuple[float, float],
    first: str,
    figure: str,
    value: float,
) -> None:
    run = write_run(tmp_path / "run", rows, overrides={(MODEL, TASK): {"ci_low": ci[0], "ci_high": ci[1]}})
    [diagnosis] = diagnose_run(run)
    assert diagnosis.standing == "above" and diagnosis.published.value == 92.8
    top = diagnosis.causes[0]
    assert top.name == first, (case, [c.name for c in diagnosis.causes])
    assert top.present and top.explains is not None and top.explains > 0
    assert top.figures[figure] == pytest.approx(value)
    assert top.explains <= diagnosis.gap  # never more than the gap


def test_protocol_differences_are_listed_ours_against_published(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", answers((10, "correct", "so 1"), (10, "incorrect", "so 7")))
    [diagnosis] = diagnose_run(run)
    protocol = next(c for c in diagnosis.causes if c.name == "protocol")
    # The synthetic manifest: 1 sample, temperature 0, max_tokens 512 (top_p not recorded).
    assert protocol.present and protocol.explains is None
    assert protocol.figures["differences"] == {
        "samples": {"ours": 1, "published": 64},
        "temperature": {"ours": 0.0, "published": 0.6},
        "max_tokens": {"ours": 512, "published": 32768},
    }
    assert "max_tokens 512 vs 32768" in protocol.summary
    ruled_out = [c.name for c in diagnosis.causes if not c.present]
    assert ruled_out == ["truncation", "extraction", "unjudged"]


def test_published_inside_our_ci_has_nothing_to_diagnose(tmp_path: Path) -> None:
    rows = answers((19, "correct", "so 1"), (1, "incorrect", "so 7"))
    run = write_run(tmp_path / "run", rows, overrides={(MODEL, TASK): {"ci_low": 0.85, "ci_high": 1.0}})
    [diagnosis] = diagnose_run(run)
    assert diagnosis.standing == "inside" and diagnosis.causes == ()


# (output, gold, answer type, choices, lenient verdict): the lenient reading's rules.
LENIENT = [
    ("so the total is 18 apples", "18", "number", (), True),
    ("18 apples, minus 3", "15", "number", (), False),
    ("<think>15</think>I give up", "15", "number", (), False),  # reasoning is never read
    ("It must be (C) I think", "C", "choice", ("a", "b", "c", "d"), True),
    ("Clearly A is wrong", "C", "choice", ("a", "b", "c", "d"), False),
    ("we get x = \\frac{1}{2} here", "\\frac{1}{2}", "math", (), True),
]


@pytest.mark.parametrize(("output", "gold", "answer_type", "choices", "expected"), LENIENT)
def test_lenient_reading(
    output: str, gold: str, answer_type: str, choices: tuple[str, ...], expected: bool
) -> None:
    assert lenient_correct(output, gold, answer_type, choices) is expected


def replay_factory(answer: Any) -> Any:
    return lambda model, setup, seed: ReplayBackend(answer)


def test_nondeterminism_rerun_measures_agreement(tmp_path: Path) -> None:
    suite = parse_suite(
        {"models": [{"model": "smollm2-135m"}], "tasks": [{"name": "arith-easy", "limit": 8}]}, "t"
    )
    gold = replay_factory(lambda request: f"The answer is {request.prompt.item.gold}.")
    outcome = run_suite(suite, RunOptions(out=tmp_path / "run", quiet=True, executor=LocalExecutor(gold)))
    assert [row.accuracy for row in outcome.rows] == [1.0]
    # A published 50%: below our CI. The re-run answers items whose id sorts first wrong.
    raw = [{"model": "smollm2-135m", "task": "arith-easy", "metric": "accuracy", "value": 50.0,
            "protocol": {"samples": 1, "temperature": 0.0, "top_p": None, "max_tokens": None, "prompt": None},
            "source": "a test table, 2026-12-01"}]  # fmt: skip
    table = PublishedScores(parse_published(raw, "test", ("smollm2-135m",), ("arith-easy",)))
    changed = sorted(_item_ids(outcome.run_dir))[:2]  # the re-run takes the first 4 item ids
    flaky = replay_factory(lambda r: "The answer is 100000." if r.key.item_id in changed else
                           f"The answer is {r.prompt.item.gold}.")  # fmt: skip
    [diagnosis] = diagnose_run(Path(outcome.run_dir), rerun=4, backend=flaky, published=table)
    cause = diagnosis.causes[0]
    assert cause.name == "nondeterminism" and cause.present
    assert cause.figures == {"n_items": 4, "identical": 2, "same_verdict": 2, "accuracy_stored": 1.0,
                             "accuracy_rerun": 0.5}  # fmt: skip
    assert cause.explains == pytest.approx(0.5)  # the whole gap: 100% ours, 50% published


def _item_ids(run_dir: Any) -> set[str]:
    import pandas as pd

    return set(pd.read_parquet(Path(run_dir) / "samples.parquet")["item_id"])


def test_cli_text_and_json(tmp_path: Path) -> None:
    rows = CASES[0][1]
    run = write_run(tmp_path / "run", rows, overrides={(MODEL, TASK): {"ci_low": 0.3, "ci_high": 0.7}})
    text = run_cli(["diagnose", str(run)], cwd=tmp_path, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "published 92.8% (above our CI)" in text.stdout and "1. truncation (explains up to" in text.stdout
    as_json = run_cli(["diagnose", str(run), "--json", "--task", TASK], cwd=tmp_path, timeout=120)
    [cell] = json.loads(as_json.stdout)
    assert cell["causes"][0]["name"] == "truncation" and cell["published"]["value"] == 92.8


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    missing = run_cli(["diagnose", str(tmp_path / "nope")], cwd=tmp_path, timeout=120)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "does not exist" in missing.stderr
    run = write_run(tmp_path / "run", CASES[0][1])
    other = run_cli(["diagnose", str(run), "--model", "other"], cwd=tmp_path, timeout=120)
    assert other.returncode == 2 and "no results for other" in other.stderr
