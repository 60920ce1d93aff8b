"""``split_reasoning``: what is reasoning (never scored) and what is the answer."""

from __future__ import annotations

import pytest

from evals.scoring import ReasoningSplit, split_reasoning

CASES = [
    # (output, think_opened, expected split, source)
    ("plain answer", False, ReasoningSplit(None, "plain answer", False), "no reasoning at all"),
    ("<think>r</think>a", False, ReasoningSplit("r", "a", False), "Qwen3/QwQ think block"),
    ("r</think>a", True, ReasoningSplit("r", "a", False), "R1 distill: template opened the block"),
    ("r</think>a", False, ReasoningSplit("r", "a", False), "close tag alone implies an open block"),
    ("r no close", True, ReasoningSplit("r no close", "", True), "ran out inside the block"),
    ("<think>r", False, ReasoningSplit("r", "", True), "opened and never closed"),
    ("a<think>r", False, ReasoningSplit("r", "a", True), "answer text before an unclosed block"),
    ("<think>x</think>a<think>y</think>b", False, ReasoningSplit("x\n\ny", "a\n\nb", False),
     "interleaved blocks"),
    ("<think></think>a", False, ReasoningSplit(None, "a", False), "empty block (Qwen3 no-think)"),
    ("<think>r</think>", False, ReasoningSplit("r", "", False), "nothing after the reasoning"),
    ("", True, ReasoningSplit(None, "", True), "empty output with an open block"),
]  # fmt: skip


@pytest.mark.parametrize(("output", "think_opened", "expected", "source"), CASES, ids=[c[3] for c in CASES])
def test_split_reasoning(output: str, think_opened: bool, expected: ReasoningSplit, source: str) -> None:
    assert split_reasoning(output, think_opened) == expected, source
