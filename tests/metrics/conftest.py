"""Builders of ``samples.parquet``-shaped frames for the metrics tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import pytest

_STATUS_OF = {True: "correct", False: "incorrect", None: "timeout"}


def samples_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A frame with every samples.parquet column; unspecified fields get plain defaults."""
    rows = []
    for record in records:
        correct = record.get("correct")
        row = {
            "record_version": 1,
            "model": "m",
            "task": "t",
            "subtask": None,
            "item_id": "q0",
            "sample_idx": 0,
            "prompt": "Q?",
            "output": "",
            "reasoning": None,
            "extracted": "42" if correct else None,
            "gold": "42",
            "answer_type": "number",
            "correct": correct,
            "status": _STATUS_OF[correct],
            "reason": None,
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "finish_reason": "stop",
            "engine_seconds": 1.0,
            "seed": None,
            "error": None,
        }
        row.update(record)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["correct"] = frame["correct"].astype("boolean")
    return frame


def grid_frame(outcomes: Sequence[Sequence[bool | None]], model: str = "m", task: str = "t") -> pd.DataFrame:
    """One item per inner list, one sample per entry (True/False judged, None timed out)."""
    return samples_frame(
        [
            {"model": model, "task": task, "item_id": f"q{i:03d}", "sample_idx": j, "correct": c}
            for i, item in enumerate(outcomes)
            for j, c in enumerate(item)
        ]
    )


@pytest.fixture(scope="session")
def make_samples() -> Callable[[Sequence[Mapping[str, Any]]], pd.DataFrame]:
    return samples_frame


@pytest.fixture(scope="session")
def make_grid() -> Callable[..., pd.DataFrame]:
    return grid_frame
