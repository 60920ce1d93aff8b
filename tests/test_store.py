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
