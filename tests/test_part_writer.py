"""``PartWriter``: parts written on a thread while the engine runs, none lost, failures reported.

source: issue 11 (overlap writing with generation; a killed run must lose no more than before).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.part_writer import PartWriter
from evals.records import Completion, SampleKey
from evals.store import RunStore


def completion(item: str, output: str) -> Completion:
    return Completion(SampleKey("m", "t", item, 0), "Q?", output, None, 3, 1, "stop", 0.5, 7)


def test_every_part_is_on_disk_when_the_block_ends(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with PartWriter(store) as parts:
        for index in range(20):
            parts.write_part("m", "t", [completion(f"i{index}", str(index))])
    # Parts that queue up together are stored as one: at most one file per hand-over.
    assert 1 <= len(list(tmp_path.glob("parts/*/*/part-*.parquet"))) <= 20
    assert store.done_keys() == {("m", "t", f"i{index}", 0) for index in range(20)}


def test_parts_are_written_in_the_order_handed_over(tmp_path: Path) -> None:
    # Of two equal successes of one sample the first stored wins (RunStore.read_completions).
    store = RunStore(tmp_path)
    with PartWriter(store) as parts:
        parts.write_part("m", "t", [completion("a", "first")])
        parts.write_part("m", "t", [completion("a", "second")])
    assert store.read_completions().to_pandas()["output"].tolist() == ["first"]


def test_parts_handed_over_before_a_failure_in_generation_are_written(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    with pytest.raises(KeyboardInterrupt), PartWriter(store) as parts:
        parts.write_part("m", "t", [completion("a", "1")])
        raise KeyboardInterrupt  # Ctrl-C in the engine loop
    assert store.done_keys() == {("m", "t", "a", 0)}


def test_a_write_that_fails_is_raised_in_the_callers_thread(tmp_path: Path) -> None:
    blocker = tmp_path / "run"
    blocker.write_text("a file where the run directory should be")
    with pytest.raises(OSError), PartWriter(RunStore(blocker)) as parts:
        parts.write_part("m", "t", [completion("a", "1")])
