"""``PartWriter``: the Ray driver's results reach the store from a thread, in fewer parts (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.distributed.writer import PartWriter
from evals.records import Completion, SampleKey
from evals.store import RunStore


def completion(model: str, task: str, item: str, sample: int, error: str | None = None) -> Completion:
    return Completion(SampleKey(model, task, item, sample), "Q?", "" if error else "1", None, 3, 1,
                      "error" if error else "stop", 0.5, 7, error)  # fmt: skip


@pytest.mark.parametrize(
    "shards",
    [
        [("m", "t", 1)],  # source: one shard, one part
        [("m", "t", 4)] * 50,  # source: issue 16, hundreds of small shards a second on one model x task
        [("m", "t", 3), ("m", "u", 2), ("n", "t", 5)] * 20,  # source: several models and tasks interleaved
        [("m", "t", 0), ("m", "t", 2)],  # source: an empty result stores nothing
    ],
)
def test_every_put_completion_is_stored_once(tmp_path: Path, shards: list[tuple[str, str, int]]) -> None:
    store = RunStore(tmp_path)
    writer = PartWriter(store, max_queued=8)  # small: put waits for the writer now and then
    expected = set()
    for index, (model, task, samples) in enumerate(shards):
        batch = [completion(model, task, f"i{index}", sample) for sample in range(samples)]
        writer.put(model, task, batch)
        expected |= {c.key.as_tuple() for c in batch}
    writer.close()
    rows = (
        RunStore(tmp_path).read_completions().select(["model", "task", "item_id", "sample_idx"]).to_pylist()
    )
    assert sorted(tuple(row.values()) for row in rows) == sorted(expected)  # none lost, none twice
    parts = list(tmp_path.glob("parts/*/*/part-*.parquet"))
    assert 1 <= len(parts) <= sum(1 for *_, samples in shards if samples)  # one per put at most


def test_a_write_error_reaches_the_driver(tmp_path: Path) -> None:
    (tmp_path / "parts").write_text("not a directory")  # source: a run directory the driver cannot write
    writer = PartWriter(RunStore(tmp_path))
    writer.put("m", "t", [completion("m", "t", "a", 0)])
    with pytest.raises(OSError):
        writer.close()
    with pytest.raises(OSError):
        writer.put("m", "t", [completion("m", "t", "b", 0)])  # later results are not silently dropped
