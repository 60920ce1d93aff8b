"""``PartWriter``: the Ray driver's results reach the store from a thread, in fewer parts (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.part_writer import PartWriter
from evals.probes import ProbeCompletion, ProbeRequest, done_probe_keys
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey
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


def probe(model: str, task: str, item: str, budget: int) -> ProbeCompletion:
    question = Item(task=task, item_id=item, question="Q?", gold="1", answer_type="number")
    prompt = Prompt(question, (ChatMessage("user", "Q?"),))
    request = ProbeRequest(SampleKey(model, task, item, 0), budget, "budget", prompt, "1", None, " So", 8)
    return ProbeCompletion(request, " So", "1", 3, 1, "stop", 0.1)


def test_probes_are_stored_after_their_samples(tmp_path: Path) -> None:
    # source: issue 12 (a kill between the two leaves samples to probe on resume, never probes without samples)
    store = RunStore(tmp_path)
    writer = PartWriter(store)
    for task in ("t", "u"):
        writer.put(
            "m", task, [completion("m", task, "a", 0)], [probe("m", task, "a", 4), probe("m", task, "a", 8)]
        )
    writer.put("m", "t", [], [probe("m", "t", "b", 4)])  # a probe of a sample stored earlier
    writer.close()
    assert done_probe_keys(store) == {
        ("m", task, item, 0, budget, "budget") for task, item, budget in
        [("t", "a", 4), ("t", "a", 8), ("u", "a", 4), ("u", "a", 8), ("t", "b", 4)]
    }  # fmt: skip
    samples = [p.name for p in tmp_path.glob("parts/*/*/part-*.parquet")]
    probes = [p.name for p in tmp_path.glob("probes/*/*/part-*.parquet")]
    assert max(samples) < min(probes)  # part names begin with the time they were written
