"""A compaction SIGKILLed at any moment loses and duplicates nothing, and can run again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evals.store import RunStore
from tests.test_store import completion

PARTS = 400
COMPACT = """
import sys
from pathlib import Path
from evals.store import RunStore
store = RunStore(Path(sys.argv[1]))
for group in store.part_groups():
    store.compact(group)
"""


def _rows(store: RunStore) -> list[dict[str, object]]:
    return sorted(store.read_completions().to_pylist(), key=lambda row: (row["item_id"], row["sample_idx"]))


def _store_with_parts(root: Path) -> RunStore:
    store = RunStore(root)
    for part in range(PARTS):  # a shard of 2 samples each, and every 10th retried
        store.write_part("m", "t", [completion(f"i{part}", s, f"out {part}") for s in range(2)])
        if part % 10 == 0:
            store.write_part("m", "t", [completion(f"i{part}", 0, "retried")])
    return store


def _kill_when(store: RunStore, moment: str) -> None:
    """Start a compaction; SIGKILL it at ``moment``: while its new part is written, or once renamed."""
    directory = store.parts_dir("m", "t")
    process = subprocess.Popen([sys.executable, "-c", COMPACT, str(store.root)])
    pattern = ".part-*compacted*.tmp" if moment == "writing" else "part-*compacted.parquet"
    deadline = time.monotonic() + 120
    while not list(directory.glob(pattern)):
        assert process.poll() is None, f"compaction ended before the moment {moment!r}"
        assert time.monotonic() < deadline
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.parametrize(
    "moment",
    [
        "writing",  # source: killed before the rename; the old parts are whole, a tmp file is left
        "renamed",  # source: killed after the rename, while old parts are being removed (duplicates)
    ],
)
def test_compaction_killed_at_any_moment_loses_nothing(tmp_path: Path, moment: str) -> None:
    store = _store_with_parts(tmp_path)
    expected = _rows(store)
    _kill_when(store, moment)
    assert _rows(store) == expected
    assert len(store.done_keys()) == 2 * PARTS
    for group in store.part_groups():  # the next finalize compacts again
        store.compact(group)
    assert len(list(store.parts_dir("m", "t").glob("part-*.parquet"))) == 1
    assert _rows(store) == expected
