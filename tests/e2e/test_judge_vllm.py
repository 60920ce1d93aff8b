"""``evals run --judge``: SmolLM2 judges on CPU, offline vLLM and through a real ``vllm serve``.

The run's own answers are written to its store first (hand-written outputs of the kinds
models give: no number at all, a right and a wrong answer), so ``evals run`` resumes
with nothing to generate and the judge has answers the rules cannot read. The judge's
quality with a 135M model is not the point; the plumbing is: which rows it sees, its
columns, its price, that a rerun does not judge again, and that its replies are parsed
or recorded as unparseable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from evals.judge import EQUIVALENT, NOT_EQUIVALENT, UNPARSEABLE
from evals.models import ensure_available, resolve_model
from evals.records import Completion, SampleKey
from evals.store import RunStore
from evals.tasks import load_task
from tests.conftest import REPO_ROOT, run_cli

pytestmark = pytest.mark.vllm
sys.path.insert(0, str(REPO_ROOT / "tests" / "backends"))
from vllm_server import VllmServer, running  # noqa: E402

# Outputs per item of arith-easy (golds 2, 15, 2, 11): no number, right, no number, wrong.
OUTPUTS = ["I am not sure how to count these.", "The answer is 15.", "Hard to say!", "The answer is 12."]
LIMIT = len(OUTPUTS)


def _seed_run(run_dir: Path, model_label: str) -> None:
    """The evaluated model's answers, stored as its backend would have stored them."""
    task = load_task("arith-easy", limit=LIMIT, seed=None)
    store = RunStore(run_dir)
    completions = [
        Completion(
            key=SampleKey(model_label, "arith-easy", item.item_id, 0),
            prompt_text=item.question,
            output=output,
            reasoning=None,
            prompt_tokens=40,
            completion_tokens=8,
            finish_reason="stop",
            engine_seconds=0.05,
            seed=0,
        )
        for item, output in zip(task.items, OUTPUTS, strict=True)
    ]
    store.write_part(model_label, "arith-easy", completions)


def _judge_run(tiny_model: Path, run_dir: Path, judge_args: list[str]) -> dict[str, object]:
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", str(LIMIT),
            "--out", str(run_dir), "--json", "--judge-sample", "1", *judge_args]  # fmt: skip
    result = run_cli(args, cwd=run_dir.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    payload: dict[str, object] = json.loads(result.stdout)
    assert payload["generated"] == 0
    return payload


def _check_judged(run_dir: Path, judge_label: str) -> pd.DataFrame:
    samples = pd.read_parquet(run_dir / "samples.parquet").sort_values("item_id").reset_index(drop=True)
    assert list(samples.status) == ["no_answer", "correct", "no_answer", "incorrect"]
    seen = samples[samples.judge_model.notna()]
    assert set(seen.judge_model) == {judge_label}
    assert set(seen.judge_verdict) <= {EQUIVALENT, NOT_EQUIVALENT, UNPARSEABLE}
    # Both unreadable answers, plus one rule-decided answer for the agreement figure.
    assert list(samples.judge_decides) == [True, False, True, False]
    assert len(seen) == 3 and seen.judge_cost_usd.notna().all()
    parts = list((run_dir / "judge" / judge_label).glob("parts/*/*/part-*.parquet"))
    assert parts, "judge generations are stored in the run directory"
    summary = json.loads((run_dir / "summary.json").read_text())[0]
    assert summary["accuracy"] == pytest.approx(1 / 4)  # the rules' figure, unchanged
    assert summary["judge_model"] == judge_label and summary["n_judge_agreement"] in (0, 1)
    assert summary["n_judge_decided"] + summary["n_judge_unparseable"] >= 2
    assert summary["accuracy_with_judge"] is not None and summary["judge_cost_usd"] > 0
    return samples


def _parts(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "judge").glob("*/parts/*/*/part-*.parquet"))


def test_offline_vllm_judge_end_to_end_and_resume(tiny_model: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _seed_run(run_dir, "tiny-llama")
    _judge_run(tiny_model, run_dir, ["--judge", "smollm2-135m"])
    samples = _check_judged(run_dir, "smollm2-135m")
    prompt = pd.read_parquet(_parts(run_dir)[0]).prompt.iloc[0]
    assert "Reference answer" in prompt and "Student's final answer" in prompt

    parts = _parts(run_dir)
    _judge_run(tiny_model, run_dir, ["--judge", "smollm2-135m"])
    assert _parts(run_dir) == parts, "a rerun does not judge again"
    again = pd.read_parquet(run_dir / "samples.parquet").sort_values("item_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, samples)


def test_served_judge_through_vllm_serve(tiny_model: Path, tmp_path: Path) -> None:
    judge_path = Path(ensure_available(resolve_model("smollm2-135m"), notify=None).path_or_id)
    run_dir = tmp_path / "run"
    with running(VllmServer(judge_path, tmp_path / "server.log")) as server:
        _seed_run(run_dir, "tiny-llama")
        _judge_run(tiny_model, run_dir, ["--judge", str(judge_path), "--judge-base-url", server.url])
    _check_judged(run_dir, judge_path.name)
