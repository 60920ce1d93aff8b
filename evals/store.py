"""The run directory: manifest, generated parts, scored samples and summary.

Layout::

    RUN/manifest.json                      resolved config, versions, hardware, model hashes
    RUN/parts/<model>/<task>/part-*.parquet  completions, written atomically as they finish
    RUN/samples.parquet                    one scored row per (model, task, item_id, sample_idx)
    RUN/summary.json                       one row per (model, task)

Parts are never rewritten, only added, so a run killed at any moment keeps every
part it finished; a rerun reads them and generates only what is missing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from evals.atomic import atomic_write, atomic_write_json
from evals.errors import EvalsError
from evals.records import RECORD_VERSION, Completion

COMPLETION_SCHEMA = pa.schema(
    [
        ("record_version", pa.int32()),
        ("model", pa.string()),
        ("task", pa.string()),
        ("item_id", pa.string()),
        ("sample_idx", pa.int32()),
        ("prompt", pa.string()),
        ("output", pa.string()),
        ("reasoning", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("finish_reason", pa.string()),
        ("engine_seconds", pa.float64()),
        ("seed", pa.int64()),
        ("error", pa.string()),
    ]
)

SAMPLE_KEY = ("model", "task", "item_id", "sample_idx")


def completion_row(completion: Completion) -> dict[str, Any]:
    key = completion.key
    return {
        "record_version": RECORD_VERSION,
        "model": key.model,
        "task": key.task,
        "item_id": key.item_id,
        "sample_idx": key.sample_idx,
        "prompt": completion.prompt_text,
        "output": completion.output,
        "reasoning": completion.reasoning,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "finish_reason": completion.finish_reason,
        "engine_seconds": completion.engine_seconds,
        "seed": completion.seed,
        "error": completion.error,
    }


def _safe_component(name: str) -> str:
    """A path component for a model or task name (names are validated; this guards '/')."""
    return name.replace("/", "__").replace(os.sep, "__")


@dataclass(frozen=True)
class RunStore:
    """Reads and writes one run directory."""

    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def samples_path(self) -> Path:
        return self.root / "samples.parquet"

    @property
    def summary_path(self) -> Path:
        return self.root / "summary.json"

    def parts_dir(self, model: str, task: str) -> Path:
        return self.root / "parts" / _safe_component(model) / _safe_component(task)

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        try:
            data: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise EvalsError(f"{self.manifest_path}: unreadable manifest ({error})") from None
        return data

    def open_for(self, manifest: dict[str, Any]) -> None:
        """Start a run, or check that an existing one is the same config, then write the manifest."""
        existing = self.read_manifest()
        if existing is not None and existing.get("config_hash") != manifest["config_hash"]:
            raise EvalsError(
                f"{self.root} holds a run of a different config "
                f"(hash {str(existing.get('config_hash'))[:12]} vs {manifest['config_hash'][:12]}); "
                "choose another --out"
            )
        if existing is not None:
            manifest = {**manifest, "created": existing.get("created", manifest.get("created"))}
            manifest["resumed"] = [*existing.get("resumed", []), time.strftime("%Y-%m-%dT%H:%M:%S%z")]
        atomic_write_json(self.manifest_path, manifest)

    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None:
        """Append finished completions as a new part file (atomic); returns its path."""
        if not completions:
            return None
        table = pa.Table.from_pylist([completion_row(c) for c in completions], COMPLETION_SCHEMA)
        directory = self.parts_dir(model, task)
        path = directory / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
        return path

    def _part_files(self) -> list[Path]:
        parts = self.root / "parts"
        if not parts.is_dir():
            return []
        return sorted(p for p in parts.glob("*/*/part-*.parquet") if not p.name.startswith("."))

    def read_completions(self) -> pa.Table:
        """Every stored completion, first write of a key wins (a retried write adds nothing)."""
        files = self._part_files()
        if not files:
            return COMPLETION_SCHEMA.empty_table()
        table = pa.concat_tables([pq.read_table(f, schema=COMPLETION_SCHEMA) for f in files])
        return _first_per_key(table)

    def done_keys(self) -> set[tuple[str, str, str, int]]:
        table = self.read_completions().select(list(SAMPLE_KEY))
        return set(zip(*(table.column(c).to_pylist() for c in SAMPLE_KEY), strict=True))

    def write_table(self, path: Path, table: pa.Table) -> None:
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))

    def write_summary(self, rows: Iterable[dict[str, Any]]) -> None:
        atomic_write_json(self.summary_path, list(rows))


def _first_per_key(table: pa.Table) -> pa.Table:
    """Drop rows whose (model, task, item_id, sample_idx) appeared in an earlier part."""
    seen: set[tuple[Any, ...]] = set()
    keep: list[int] = []
    columns = [table.column(c).to_pylist() for c in SAMPLE_KEY]
    for index, key in enumerate(zip(*columns, strict=True)):
        if key not in seen:
            seen.add(key)
            keep.append(index)
    if len(keep) == table.num_rows:
        return table
    return table.take(pa.array(keep, pa.int64()))
