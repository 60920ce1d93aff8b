"""A run resumed on data that changed under it stops with one clear error, writing nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evals.errors import EvalsError
from evals.execute import LocalExecutor
from evals.generation.replay import ReplayBackend
from evals.runner import RunOptions, run_suite
from evals.suite import parse_suite


def always_gold(model: Any, setup: Any, seed: int) -> ReplayBackend:
    return ReplayBackend(lambda request: f"The answer is {request.prompt.item.gold}.")


def _write_gsm8k(data_dir: Path, questions: list[str]) -> None:
    path = data_dir / "gsm8k" / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"question": q, "answer": f"#### {i}"} for i, q in enumerate(questions)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_resume_on_changed_data_is_one_evals_error_and_keeps_the_results(tmp_path: Path) -> None:
    # source: issue 9, finalize raised a bare ValueError (a traceback) when the data changed under a run
    data_dir, out = tmp_path / "data", tmp_path / "run"
    suite = parse_suite({"models": [{"model": "smollm2-135m"}], "tasks": ["gsm8k"]}, "t")
    options = RunOptions(out=out, data_dir=data_dir, quiet=True, executor=LocalExecutor(always_gold))
    _write_gsm8k(data_dir, ["What is 0 + 0?", "What is 1 + 0?"])
    run_suite(suite, options)
    written = {name: (out / name).read_bytes() for name in ("samples.parquet", "summary.json")}

    _write_gsm8k(data_dir, ["What is 0 + 0?", "What is 0 + 1?"])  # the second item's text (and id) changed
    with pytest.raises(EvalsError) as caught:
        run_suite(suite, options)

    message = str(caught.value)
    assert "\n" not in message and "gsm8k item '00001-" in message and "data changed" in message
    assert {name: (out / name).read_bytes() for name in written} == written
