from __future__ import annotations

from pathlib import Path

import pytest

from evals.errors import EvalsError
from evals.records import Completion, SampleKey
from evals.store import RunStore
from tests.conftest import run_manifest


def completion(item: str, sample: int, output: str = "42", model: str = "m", task: str = "t") -> Completion:
    return Completion(
        key=SampleKey(model, task, item, sample),
        prompt_text="Q?",
        output=output,
        reasoning=None,
        prompt_tokens=3,
        completion_tokens=1,
        finish_reason="stop",
        engine_seconds=0.5,
        seed=7,
    )


def test_parts_accumulate_and_first_write_of_a_key_wins(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.write_part("m", "t", [completion("a", 0, "first"), completion("a", 1)])
    # source: a Ray shard retried after its first attempt already wrote must not duplicate samples
    store.write_part("m", "t", [completion("a", 0, "second"), completion("b", 0)])
    table = store.read_completions().to_pandas()
    assert sorted(zip(table.item_id, table.sample_idx, strict=True)) == [("a", 0), ("a", 1), ("b", 0)]
    assert table.set_index(["item_id", "sample_idx"]).loc[("a", 0), "output"] == "first"
    assert store.done_keys() == {("m", "t", "a", 0), ("m", "t", "a", 1), ("m", "t", "b", 0)}


def test_empty_store_and_empty_part(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "run")
    assert store.read_completions().num_rows == 0
    assert store.write_part("m", "t", []) is None
    assert store.done_keys() == set()


def test_leftover_temporary_files_are_ignored(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.write_part("m", "t", [completion("a", 0)])
    # source: what a SIGKILL during a write leaves behind
    (store.parts_dir("m", "t") / ".part-000.parquet.abc.tmp").write_bytes(b"PAR1 half written")
    assert store.read_completions().num_rows == 1


def test_reopening_with_a_different_config_is_refused(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.open_for(run_manifest("a" * 64, created="then"))
    store.open_for(run_manifest("a" * 64, created="now"))
    manifest = store.read_manifest()
    assert manifest is not None and manifest.created == "then" and len(manifest.resumed) == 1
    with pytest.raises(EvalsError, match="different config"):
        store.open_for(run_manifest("b" * 64))


def test_model_names_with_slashes_stay_inside_the_run(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    path = store.write_part("org/model", "t", [completion("a", 0, model="org/model")])
    assert path is not None and tmp_path in path.parents
    assert store.done_keys() == {("org/model", "t", "a", 0)}


def _rows(store: RunStore, task: str = "t") -> list[tuple[object, ...]]:
    rows = store.read_completions().to_pylist()
    return sorted((r["item_id"], r["sample_idx"], r["output"], r["error"]) for r in rows if r["task"] == task)


def test_compaction_keeps_what_the_parts_read_as(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    failed = Completion(**{**vars(completion("b", 0, "")), "error": "engine died"})
    # source: retried shard (duplicate "a"/0), a failure then its success on resume, another task beside
    store.write_part("m", "t", [completion("a", 0, "first"), failed])
    store.write_part("m", "t", [completion("a", 0, "retry"), completion("b", 0, "fixed")])
    store.write_part("m", "u", [completion("a", 0, task="u")])
    before = _rows(store)
    [group] = [g for g in store.part_groups() if g.task == "t"]
    assert store.compact(group).num_rows == 2
    assert len(list(group.directory.glob("part-*.parquet"))) == 1
    assert _rows(store) == before and ("a", 0, "first", None) in before and ("b", 0, "fixed", None) in before
    store.write_part("m", "t", [completion("c", 0)])  # written after compaction: still read
    assert ("m", "t", "c", 0) in store.done_keys() and len(store.done_keys()) == 4


def test_part_groups_name_model_and_task(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.write_part("org/model", "t", [completion("a", 0, model="org/model")])
    store.write_part("a-model", "t", [completion("a", 0, model="a-model")])
    assert [(g.model, g.task) for g in store.part_groups()] == [("a-model", "t"), ("org/model", "t")]


def test_compaction_at_a_url_replaces_the_parts_there_too(tmp_path: Path) -> None:
    # source: issue 16 with issue 4's fsspec run directories (file:// is fsspec's local filesystem)
    from evals.store import MirroredRunStore, open_store

    url = f"file://{tmp_path}/bucket/run"
    store = open_store(url)
    assert isinstance(store, MirroredRunStore)
    store.write_part("m", "t", [completion("a", 0)])
    store.write_part("m", "t", [completion("b", 0)])
    [group] = store.part_groups()
    store.compact(group)
    remote = sorted((tmp_path / "bucket/run/parts/m/t").glob("part-*.parquet"))
    assert len(remote) == 1 and remote[0].name.endswith("-compacted.parquet")
    assert open_store(url).done_keys() == {("m", "t", "a", 0), ("m", "t", "b", 0)}
