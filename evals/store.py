"""The run directory: manifest, generated parts, scored samples and summary.

Layout::

    RUN/manifest.json                      resolved config, versions, hardware, model hashes
    RUN/parts/<model>/<task>/part-*.parquet  completions, written atomically as they finish
    RUN/samples.parquet                    one scored row per (model, task, item_id, sample_idx)
    RUN/summary.json                       one row per (model, task)

Parts are never rewritten, only added, so a run killed at any moment keeps every
part it finished; a rerun reads them and generates only what is missing. Once a
model x task is finished, ``compact`` replaces its many small parts by one: the new
part is complete before the old ones go, and a key stored twice reads as once, so a
kill at any moment of a compaction loses nothing.
``RUN`` may also be an fsspec URL (``s3://``, ``gs://``): ``MirroredRunStore``
works in a local folder and uploads every file it writes, once written.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evals.atomic import atomic_write, atomic_write_json
from evals.errors import EvalsError
from evals.records import RECORD_VERSION, Completion
from evals.run_records import OPTIONAL_SAMPLE_COLUMNS, SAMPLE_COLUMNS, SAMPLE_KEY, Manifest, load_manifest

if TYPE_CHECKING:
    import pandas as pd

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
        ("output_token_ids", pa.list_(pa.int32())),  # null where the backend gives no ids
    ]
)


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
        "output_token_ids": None
        if completion.output_token_ids is None
        else list(completion.output_token_ids),
    }


def _safe_component(name: str) -> str:
    """A path component for a model or task name (names are validated; this guards '/')."""
    return name.replace("/", "__").replace(os.sep, "__")


@dataclass(frozen=True)
class RunStore:
    """Reads and writes one run directory."""

    root: Path

    @property
    def location(self) -> str:
        """Where the run lives, as the user named it."""
        return str(self.root)

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

    def read_manifest(self) -> Manifest | None:
        """The run's manifest (None before a run started here); EvalsError when unreadable."""
        if not self.manifest_path.is_file():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise EvalsError(f"{self.manifest_path}: unreadable manifest ({error})") from None
        return load_manifest(data, str(self.manifest_path))

    def write_manifest(self, manifest: Manifest) -> None:
        atomic_write_json(self.manifest_path, manifest.to_json())

    def update_manifest(self, **changes: Any) -> Manifest:
        """Rewrite the manifest with ``changes`` (typed field values); returns the new one."""
        manifest = self.read_manifest()
        if manifest is None:
            raise EvalsError(f"{self.root}: no manifest.json to update")
        updated = type(manifest).model_validate({**dict(manifest), **changes})
        self.write_manifest(updated)
        return updated

    def open_for(self, manifest: Manifest) -> None:
        """Start a run, or check that an existing one is the same config, then write the manifest."""
        existing = self.read_manifest()
        if existing is not None and existing.config_hash != manifest.config_hash:
            raise EvalsError(
                f"{self.root} holds a run of a different config "
                f"(hash {existing.config_hash[:12]} vs {manifest.config_hash[:12]}); "
                "choose another --out"
            )
        if existing is not None:
            resumed = (*existing.resumed, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            manifest = manifest.model_copy(update={"created": existing.created, "resumed": resumed})
        self.write_manifest(manifest)

    def read_samples(self, columns: Sequence[str] | None = None, *, whole_file: bool = False) -> pd.DataFrame:
        """``samples.parquet`` as a frame of ``SampleRecord`` columns (or ``columns`` of them).

        EvalsError when unreadable, missing a column, or written by a newer evals.
        """
        import pandas as pd

        wanted = list(columns or SAMPLE_COLUMNS)
        unknown = sorted(set(wanted) - set(SAMPLE_COLUMNS))
        if unknown:
            raise ValueError(f"not sample columns: {', '.join(unknown)}")
        reading = list(dict.fromkeys([*wanted, "record_version"]))
        try:
            stored = pq.read_schema(self.samples_path).names
            frame = pd.read_parquet(self.samples_path, columns=[name for name in reading if name in stored])
        except (OSError, ValueError, pa.ArrowException) as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise EvalsError(f"{self.samples_path}: unreadable ({first_line})") from None
        # ``whole_file``: every required column, not only those read (else not written by evals).
        every = dict.fromkeys([*reading, *(SAMPLE_COLUMNS if whole_file else ())])
        missing = [name for name in every if name not in stored and name not in OPTIONAL_SAMPLE_COLUMNS]
        if missing:
            raise EvalsError(f"{self.samples_path}: not a samples file (no {', '.join(missing)} column)")
        newest = int(frame["record_version"].max()) if len(frame) else RECORD_VERSION
        if newest > RECORD_VERSION:
            raise EvalsError(
                f"{self.samples_path}: written by a newer evals (record version {newest}; "
                f"this one reads up to {RECORD_VERSION}): upgrade evals"
            )
        return frame.reindex(columns=wanted)  # optional columns the file lacks: None

    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None:
        """Append finished completions as a new part file (atomic); returns its path."""
        if not completions:
            return None
        table = pa.Table.from_pylist([completion_row(c) for c in completions], COMPLETION_SCHEMA)
        directory = self.parts_dir(model, task)
        path = directory / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        atomic_write(path, lambda tmp: pq.write_table(table, tmp))
        return path

    def _part_files(self, directory: Path | None = None) -> list[Path]:
        """Part files in write order (their names start with the time they were written)."""
        base, pattern = (directory, "part-*.parquet") if directory else (self.root / "parts", "*/*/part-*")
        if not base.is_dir():
            return []
        found = (p for p in base.glob(pattern) if p.name.endswith(".parquet") and not p.name.startswith("."))
        return sorted(found, key=lambda p: p.name)

    def part_groups(self) -> list[PartGroup]:
        """Every model x task with stored parts, sorted by model then task."""
        groups = []
        parts = self.root / "parts"
        for directory in sorted(parts.glob("*/*")) if parts.is_dir() else []:
            files = self._part_files(directory)
            if files:
                names = pq.read_table(files[0], columns=["model", "task"]).slice(0, 1).to_pylist()
                groups.append(PartGroup(names[0]["model"], names[0]["task"], directory))
        return sorted(groups, key=lambda group: (group.model, group.task))

    def read_completions(self, directory: Path | None = None) -> pa.Table:
        """One completion per key (of one part folder if given): the longest success, else the first failure.

        A retried write adds nothing; a failed sample regenerated by a later run is
        replaced by its success; a continued one by its continuation.
        """
        return _first_per_key(_read_parts(self._part_files(directory)))

    def done_keys(self) -> set[tuple[str, str, str, int]]:
        """Keys with a successful completion: a rerun generates failed samples again.

        Reads only the key, error and length columns, never the text.
        """
        columns = [*SAMPLE_KEY, "error", "completion_tokens"]
        table = _first_per_key(_read_parts(self._part_files(), columns))
        table = table.filter(pc.is_null(table.column("error"))).select(list(SAMPLE_KEY))
        return set(zip(*(table.column(c).to_pylist() for c in SAMPLE_KEY), strict=True))

    def compact(self, group: PartGroup) -> pa.Table:
        """Replace a finished model x task's parts by one part of its completions; return them.

        The new part is written atomically and sorts after the old ones, which are
        removed only then: killed at any moment, the folder reads the same.
        """
        files = self._part_files(group.directory)
        table = _first_per_key(_read_parts(files))
        if len(files) > 1:
            name = f"part-{time.time_ns():020d}-{os.getpid()}-compacted.parquet"
            self.write_table(group.directory / name, table)
            # Newest first: what a kill leaves is the oldest parts and the compacted one, which read
            # as the same winners (an older part's row wins a tie only if it was the winner anyway).
            for old in reversed(files):
                old.unlink(missing_ok=True)
        return table

    def write_table(self, path: Path, table: pa.Table) -> None:
        self.write_file(path, lambda tmp: pq.write_table(table, tmp))

    def write_file(self, path: Path, write: Callable[[Path], None]) -> None:
        """Write ``path`` atomically by ``write(tmp)``: for a table written piece by piece."""
        atomic_write(path, write)

    def write_summary(self, rows: Iterable[dict[str, Any]]) -> None:
        atomic_write_json(self.summary_path, list(rows))


@dataclass(frozen=True)
class PartGroup:
    """The part folder of one model x task."""

    model: str
    task: str
    directory: Path


def _read_parts(files: Sequence[Path], columns: Sequence[str] | None = None) -> pa.Table:
    fields = COMPLETION_SCHEMA if columns is None else [COMPLETION_SCHEMA.field(c) for c in columns]
    schema = pa.schema(fields)
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(f, schema=schema, columns=columns) for f in files])


def _first_per_key(table: pa.Table) -> pa.Table:
    """One row per (model, task, item_id, sample_idx): the longest success, else the first failure.

    Among successes of equal length the first wins (a retried write adds nothing); a
    continued completion (``evals extend``) is longer than the one it continues.
    """
    columns = [table.column(c).to_pylist() for c in SAMPLE_KEY]
    failed = table.column("error").is_valid().to_pylist()
    lengths = table.column("completion_tokens").to_pylist()
    best: dict[tuple[Any, ...], int] = {}
    for index, (key, bad) in enumerate(zip(zip(*columns, strict=True), failed, strict=True)):
        kept = best.get(key)
        longer = kept is not None and (lengths[index] or 0) > (lengths[kept] or 0)
        if kept is None or (not bad and (failed[kept] or longer)):
            best[key] = index
    keep = sorted(best.values())
    if len(keep) == table.num_rows:
        return table
    return table.take(pa.array(keep, pa.int64()))


# "s3://bucket/run", or the same after argparse's Path collapsed it to "s3:/bucket/run".
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+):/+(?P<rest>.*)$")


def open_store(out: Path | str) -> RunStore:
    """The store for ``--out``: a local directory, or a mirror of an fsspec URL."""
    text = str(out)
    match = _URL.match(text)
    if match is None:
        return RunStore(Path(out))
    scheme, rest = match.group("scheme"), match.group("rest")
    # A single slash: argparse's Path collapsed it (file:/abs/path was file:///abs/path).
    collapsed = f"file:///{rest}" if scheme == "file" else f"{scheme}://{rest}"
    url = text if "://" in text else collapsed
    local = Path(tempfile.mkdtemp(prefix="evals-run-"))
    atexit.register(shutil.rmtree, local, ignore_errors=True)  # everything written is at the URL
    store = MirroredRunStore(local, url)
    store.download()
    return store


@dataclass(frozen=True)
class MirroredRunStore(RunStore):
    """A run directory at an fsspec URL, worked on in a local folder; the driver is its only writer."""

    url: str = ""

    @property
    def location(self) -> str:
        return self.url

    def _remote(self) -> tuple[Any, str]:
        import fsspec

        try:
            filesystem, path = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as error:  # e.g. s3:// without s3fs installed
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise EvalsError(f"--out {self.url}: {first}") from None
        return filesystem, str(path).rstrip("/")

    def download(self) -> None:
        """Fetch the manifest and parts a previous run left, so this run resumes from them."""
        filesystem, remote = self._remote()
        parts = [
            f"{kind}/{p}" for kind in ("parts", "probes") for p in _remote_parts(filesystem, remote, kind)
        ]
        for name in ["manifest.json", *parts]:
            if filesystem.exists(f"{remote}/{name}"):
                (self.root / name).parent.mkdir(parents=True, exist_ok=True)
                filesystem.get(f"{remote}/{name}", str(self.root / name))

    def upload(self, path: Path) -> None:
        """Copy a file written under the local folder to the same place under the URL."""
        filesystem, remote = self._remote()
        target = f"{remote}/{path.relative_to(self.root).as_posix()}"
        filesystem.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        filesystem.put(str(path), target)

    def write_manifest(self, manifest: Manifest) -> None:
        super().write_manifest(manifest)
        self.upload(self.manifest_path)

    def write_part(self, model: str, task: str, completions: Sequence[Completion]) -> Path | None:
        path = super().write_part(model, task, completions)
        if path is not None:
            self.upload(path)
        return path

    def write_file(self, path: Path, write: Callable[[Path], None]) -> None:
        super().write_file(path, write)
        self.upload(path)

    def compact(self, group: PartGroup) -> pa.Table:
        replaced = self._part_files(group.directory)
        table = super().compact(group)  # the compacted part is uploaded by write_table
        if len(replaced) > 1:
            filesystem, remote = self._remote()
            for old in reversed(replaced):  # newest first, as compact removes them
                filesystem.rm(f"{remote}/{old.relative_to(self.root).as_posix()}")
        return table

    def write_summary(self, rows: Iterable[dict[str, Any]]) -> None:
        super().write_summary(rows)
        self.upload(self.summary_path)


def _remote_parts(filesystem: Any, remote: str, kind: str = "parts") -> list[str]:
    """Part files under ``remote/<kind>`` (parts, or budget probes) as ``model/task/part-*.parquet``."""
    found = filesystem.glob(f"{remote}/{kind}/*/*/part-*.parquet")
    return sorted(str(p).split(f"/{kind}/", 1)[1] for p in found)
