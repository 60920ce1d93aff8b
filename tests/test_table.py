"""The terminal table of ``evals run``: pass@k and maj@k, costs per 1,000 answers, price basis."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from evals.metrics import SelfHosted, summarize
from evals.table import format_summary

CPU = SelfHosted("cpu-core", 2, 0.0446, "AWS", date(2025, 3, 1), "vCPU")


def _samples(model: str, n_samples: int, seconds: float) -> list[dict[str, object]]:
    """10 items; item i is right on sample 0 when i < 3."""
    return [
        {"model": model, "task": "arith-easy", "item_id": f"i{i}", "sample_idx": s,
         "extracted": "1" if i < 3 and s == 0 else "2", "correct": i < 3 and s == 0,
         "status": "correct" if i < 3 and s == 0 else "incorrect", "prompt_tokens": 20,
         "completion_tokens": 40, "engine_seconds": seconds}
        for i in range(10) for s in range(n_samples)
    ]  # fmt: skip


def test_terminal_table_shows_sampling_metrics_plain_costs_and_price_basis() -> None:
    frame = pd.DataFrame(_samples("greedy", 1, 0.35) + _samples("sampled-x4", 4, 0.35))
    frame["correct"] = frame["correct"].astype("boolean")
    rows = summarize(frame, {"greedy": CPU, "sampled-x4": CPU}, n_bootstrap=50)
    text = format_summary(rows)
    lines = text.splitlines()
    assert lines[0].split()[:8] == ["model", "task", "items", "samples", "accuracy", "[95%", "CI]", "pass@4"]
    assert "$ per 1k answers" in lines[0] and "$ per 1k correct" in lines[0]
    greedy, sampled = lines[2], lines[3]
    # pass@4: 3 of 10 items have a right sample; maj@4: "2" outvotes it on every item.
    assert re.search(r"\s30\.0%\s+0\.0%\s", sampled), sampled
    assert re.search(r"\]\s+-\s+-\s", greedy), greedy  # one sample per item: no pass@4
    # 0.35 s x 2 vCPU x $0.0446/h = $8.67e-06 per answer: $0.00867 per 1,000 answers
    assert "$0.00867" in greedy
    assert not re.search(r"\d[eE][-+]?\d", text)
    assert lines[-1] == "costs: 2 vCPU at $0.0446/vCPU-h (cpu-core, list price of 2025-03-01)"
