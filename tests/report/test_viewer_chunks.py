"""Sample pages at size: the first rows inline, the rest in data files of bounded size."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from synthetic_runs import sample, write_run

from evals.report import ReportPaths, build_report
from evals.report.viewer import CHUNK_CHARS, split_chunks

MAX_FILE_BYTES = 5_000_000  # issue 16: no page file over 5 MB


def _data(rows_per_item: list[int], text: int) -> dict[str, Any]:
    rows, prompts = [], {}
    for i, count in enumerate(rows_per_item):
        prompts[f"q{i}"] = f"prompt {i}"
        rows += [[f"q{i}", s, "correct", "x" * text] for s in range(count)]
    return {"rows": rows, "prompts": prompts, "questions": {}, "votes": {}}


@pytest.mark.parametrize(
    ("rows_per_item", "text", "chunk_chars", "n_chunks"),
    [
        ([1] * 10, 100, 10_000, 1),  # source: today's small pages stay one inline block
        ([3] * 10, 1_000, 2_500, 10),  # source: an item's samples spread over several chunks (3 a chunk)
        ([1, 1], 50_000, 10_000, 2),  # source: a single row larger than a chunk gets its own
        ([], 0, 10_000, 1),  # source: a page with no rows still has its (empty) first chunk
    ],
)
def test_chunks_keep_every_row_in_order_and_each_prompt_once(
    rows_per_item: list[int], text: int, chunk_chars: int, n_chunks: int
) -> None:
    data = _data(rows_per_item, text)
    chunks = split_chunks(data, chunk_chars)
    assert len(chunks) == n_chunks
    assert [row for chunk in chunks for row in chunk["rows"]] == data["rows"]
    for item in data["prompts"]:
        holders = [i for i, chunk in enumerate(chunks) if item in chunk["prompts"]]
        first = next(i for i, chunk in enumerate(chunks) if any(row[0] == item for row in chunk["rows"]))
        assert holders == [first]


def test_big_page_is_split_into_files_under_5_mb(reasoning_report: ReportPaths) -> None:
    big_report = reasoning_report.root
    files = sorted(big_report.rglob("*"))
    assert max(p.stat().st_size for p in files if p.is_file()) < MAX_FILE_BYTES
    [page] = list((big_report / "samples").glob("*.html"))
    chunks = sorted((big_report / "samples").glob("*.data/*.js"))
    assert len(chunks) >= 90 * 120_000 // CHUNK_CHARS - 1
    text = page.read_text(encoding="utf-8")
    block = re.search(r'id="samples-data">(.*?)</script>', text, re.DOTALL)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["n_rows"] == 90 and data["statuses"] == {"correct": 60, "incorrect": 30}
    assert [str(page.parent / name) for name in data["chunk_files"]] == [str(p) for p in chunks]
    assert "script-src" in text and "&#x27;self&#x27;" in text  # the page may load its own data files
    for chunk in chunks:
        script = chunk.read_text(encoding="utf-8")
        assert script.startswith("evalsViewerChunk({") and script.endswith("});\n")
        assert "<" not in script  # escaped like the JSON block: no markup can hide in a data file
    loaded = [json.loads(c.read_text()[len("evalsViewerChunk(") : -len(");\n")]) for c in chunks]
    assert len(data["rows"]) + sum(len(chunk["rows"]) for chunk in loaded) == 90


def test_small_pages_stay_one_file(tmp_path: Path) -> None:
    rows = [sample("m", "task-a", f"task-a-{i:03d}") for i in range(20)]
    site = build_report([write_run(tmp_path / "run", rows)], tmp_path / "site").root
    assert list(site.rglob("*.js")) == []
    [page] = list((site / "samples").glob("*.html"))
    assert "&#x27;self&#x27;" not in page.read_text(encoding="utf-8")
