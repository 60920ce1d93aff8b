"""`evals extend`: truncated samples continue from their own tokens; nothing else is touched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from evals.budget_run import add_budgets
from evals.execute import LocalExecutor
from evals.extend import extend_run
from evals.generation.base import GenerationRequest
from evals.generation.replay import ReplayBackend
from evals.runner import RunOptions, run_suite
from evals.suite import parse_suite
from evals.tasks import load_task
from tests.conftest import run_cli

ITEMS = sorted(item.item_id for item in load_task("arith-easy", data_dir=None, limit=4, seed=None).items)
# source: hand-made lengths: two answers end within 128 words, two run past it.
LENGTHS = dict(zip(ITEMS, (10, 300, 150, 40), strict=True))
KEY = ["model", "task", "item_id", "sample_idx"]


def answer(request: GenerationRequest) -> str:
    length = LENGTHS[request.prompt.item.item_id]
    words = [f"w{i}" for i in range(length - 4)]
    return " ".join([*words, "The", "answer", "is", f"{request.prompt.item.gold}."])


class Factory:
    def __init__(self) -> None:
        self.backends: list[ReplayBackend] = []

    def __call__(self, model: Any, setup: Any, seed: int) -> ReplayBackend:
        self.backends.append(ReplayBackend(answer))
        return self.backends[-1]


def test_extend_grows_truncated_outputs_only_once(tmp_path: Path) -> None:
    suite = parse_suite(
        {"models": [{"model": "smollm2-135m", "generation": {"max_tokens": 128}}],
         "tasks": [{"name": "arith-easy", "limit": 4}]}, "t",
    )  # fmt: skip
    out = tmp_path / "run"
    first = run_suite(suite, RunOptions(out=out, quiet=True, executor=LocalExecutor(Factory())))
    assert (first.rows[0].accuracy, first.rows[0].truncated_rate) == (0.5, 0.5)
    before = pd.read_parquet(out / "samples.parquet").set_index("item_id")

    factory = Factory()
    grown = extend_run(out, 200, executor=LocalExecutor(factory))
    assert grown.generated == 2 and len(factory.backends[0].extended) == 2
    after = pd.read_parquet(out / "samples.parquet").set_index("item_id")
    assert len(after) == 4 and not after.reset_index().duplicated(KEY).any()
    for item_id, length in LENGTHS.items():
        old, new = before.loc[item_id], after.loc[item_id]
        assert new.output.startswith(old.output)  # the prefix is never regenerated
        assert new.completion_tokens == min(length, 200)
        assert new.output == " ".join(answer_words(item_id)[: min(length, 200)])
    # The 150-word answer now ends with its answer; the 300-word one is cut at 200.
    assert (grown.rows[0].accuracy, grown.rows[0].truncated_rate) == (0.75, 0.25)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [(e["max_tokens"], e["continued"]) for e in manifest["extended"]] == [(200, 2)]

    again = Factory()
    assert extend_run(out, 200, executor=LocalExecutor(again)).generated == 0 and again.backends == []
    pd.testing.assert_frame_equal(pd.read_parquet(out / "samples.parquet").set_index("item_id"), after)


def answer_words(item_id: str) -> list[str]:
    gold = next(
        i.gold
        for i in load_task("arith-easy", data_dir=None, limit=4, seed=None).items
        if i.item_id == item_id
    )
    length = LENGTHS[item_id]
    return [*(f"w{i}" for i in range(length - 4)), "The", "answer", "is", f"{gold}."]


def test_extend_to_a_cap_not_above_the_run_is_one_error(tmp_path: Path) -> None:
    suite = parse_suite(
        {"models": [{"model": "smollm2-135m", "generation": {"max_tokens": 128}}],
         "tasks": [{"name": "arith-easy", "limit": 2}]}, "t",
    )  # fmt: skip
    run_suite(suite, RunOptions(out=tmp_path / "run", quiet=True, executor=LocalExecutor(Factory())))
    before = (tmp_path / "run" / "manifest.json").read_text()
    for cap in ("128", "64", "0"):
        result = run_cli(["extend", str(tmp_path / "run"), "--max-tokens", cap], cwd=tmp_path, timeout=300)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "--max-tokens" in result.stderr
    assert (tmp_path / "run" / "manifest.json").read_text() == before


class ProbingFactory(Factory):
    def __call__(self, model: Any, setup: Any, seed: int) -> ReplayBackend:
        self.backends.append(ReplayBackend(answer, probe_answer=lambda request: "1."))
        return self.backends[-1]


def test_budget_checks_after_extend_use_the_new_cap(tmp_path: Path) -> None:
    """source: issue 12 (budget checks kept the original cap after an extend)."""
    suite = parse_suite(
        {"models": [{"model": "smollm2-135m", "generation": {"max_tokens": 128}}],
         "tasks": [{"name": "arith-easy", "limit": 4}]}, "t",
    )  # fmt: skip
    out = tmp_path / "run"
    run_suite(suite, RunOptions(out=out, quiet=True, executor=LocalExecutor(Factory())))
    extend_run(out, 200, executor=LocalExecutor(Factory()))

    # 150 was above the original cap (128), it is below the new one (200): probed, not refused.
    factory = ProbingFactory()
    added = add_budgets(out, (150,), executor=LocalExecutor(factory))
    assert [row.budget for row in added.rows] == [None, 150]
    # Only the 300-word answer (now 200 long) runs past 150: one budget probe, at 150.
    budget_probes = [(p.key.item_id, p.budget) for p in factory.backends[0].probed if p.kind == "budget"]
    assert budget_probes == [(ITEMS[1], 150)]
    # Every completion is within 200: at 200 the run's own figures, exactly.
    rows = {
        row.budget: row for row in add_budgets(out, (200,), executor=LocalExecutor(ProbingFactory())).rows
    }
    assert (rows[200].accuracy, rows[200].tokens_per_answer) == (
        rows[None].accuracy,
        rows[None].tokens_per_answer,
    )
    assert rows[200].cost_per_answer_usd == pytest.approx(rows[None].cost_per_answer_usd, rel=1e-12)

    before = (out / "manifest.json").read_text()
    cases = [  # (command, what the one error line names)
        (["budgets", str(out), "--budgets", "250"], "max_tokens 200"),
        (["extend", str(out), "--max-tokens", "160"], "max_tokens 200"),
    ]
    for args, named in cases:
        result = run_cli(args, cwd=tmp_path, timeout=300)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert named in result.stderr
    assert (out / "manifest.json").read_text() == before
