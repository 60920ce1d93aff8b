"""Load finished run directories and check that they can share one leaderboard.

Rules for merging:

- every (model, task) cell comes from exactly one run; the same model label in
  two runs is allowed only for different tasks and only when both manifests
  describe the same setup (model reference, weights hash, generation settings);
- tasks, item sets (manifest ``tasks.<name>``), scorer versions and record
  versions must agree between runs, and every model must have answered the same
  items of a task; each disagreement is a warning in the report, and an error
  with ``strict``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evals.errors import EvalsError
from evals.metrics import SummaryRow, read_summary
from evals.run_records import Manifest, load_manifest

REQUIRED_SAMPLE_COLUMNS = (
    "model",
    "task",
    "item_id",
    "sample_idx",
    "prompt",
    "output",
    "extracted",
    "gold",
    "correct",
    "status",
    "completion_tokens",
)
OPTIONAL_SAMPLE_COLUMNS = (
    "subtask",
    "reasoning",
    "answer_type",
    "choices",
    "reason",
    "finish_reason",
    "error",
)
TEXT_COLUMNS = ("prompt", "output", "reasoning", "extracted", "gold", "reason", "error")
# The long texts (a reasoning run holds GBs of them): only the sample pages read them, a group at a time.
LONG_TEXT_COLUMNS = ("prompt", "output", "reasoning")
# Manifest fields of a task that must agree between runs for accuracies to be comparable.
TASK_IDENTITY_FIELDS = ("item_ids_sha256", "n_items", "answer_type", "max_tokens")
# Manifest fields of a model that must agree for one label to name one setup.
MODEL_IDENTITY_FIELDS = ("ref", "path_or_id", "weights_sha256", "generation")


@dataclass(frozen=True)
class Run:
    """One finished run directory as read from disk."""

    run_id: str
    path: Path
    manifest: Manifest | None
    summary: tuple[SummaryRow, ...]
    samples: pd.DataFrame


@dataclass(frozen=True)
class MergedRuns:
    """Several runs as one: samples and summary rows, each knowing the run it came from."""

    runs: tuple[Run, ...]
    samples: pd.DataFrame  # every run's samples with a ``run_id`` column
    summary: tuple[SummaryRow, ...]
    run_of: dict[tuple[str, str], str]  # (model, task) -> run_id
    warnings: tuple[str, ...]

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(sorted({row.task for row in self.summary}))

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted({row.model for row in self.summary}))


def load_run(path: Path, run_id: str, *, long_text: bool = True) -> Run:
    """Read manifest (optional), summary.json and samples.parquet; EvalsError on a missing part.

    ``long_text=False`` leaves out prompt, output and reasoning (None in every row):
    :func:`load_group_samples` reads them for one model x task when needed.
    """
    if not path.exists():
        raise EvalsError(f"run directory {path} does not exist")
    if not path.is_dir():
        raise EvalsError(f"{path} is not a run directory")
    for name in ("summary.json", "samples.parquet"):
        if not (path / name).is_file():
            raise EvalsError(f"{path} has no {name}: not a finished run (rerun 'evals run' to finish it)")
    manifest = _read_manifest(path / "manifest.json")
    # Rows at a thinking budget (evals.metrics.budgets) are not the run's own figures.
    summary = tuple(row for row in read_summary(path / "summary.json") if row.budget is None)
    samples = _read_samples(path / "samples.parquet", long_text=long_text)
    summary_keys = {(row.model, row.task) for row in summary}
    sample_keys = set(zip(samples["model"], samples["task"], strict=True))
    if summary_keys != sample_keys:
        only = sorted(summary_keys ^ sample_keys)[0]
        raise EvalsError(
            f"{path}: summary.json and samples.parquet disagree on (model, task) {only[0]}/{only[1]}; "
            "rerun 'evals run' on it to rewrite both"
        )
    return Run(run_id, path, manifest, summary, samples.assign(run_id=run_id))


def _read_manifest(path: Path) -> Manifest | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise EvalsError(f"{path}: unreadable manifest ({error})") from None
    return load_manifest(data, str(path))


def load_group_samples(path: Path, model: str, task: str) -> pd.DataFrame:
    """Every column of one model x task's samples of the run at ``path``, in file order."""
    return _read_samples(path / "samples.parquet", group=(model, task))


def _read_samples(
    path: Path, *, long_text: bool = True, group: tuple[str, str] | None = None
) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
        missing = [column for column in REQUIRED_SAMPLE_COLUMNS if column not in names]
        if missing:
            raise EvalsError(f"{path} lacks the columns {', '.join(missing)}")
        wanted = [c for c in (*REQUIRED_SAMPLE_COLUMNS, *OPTIONAL_SAMPLE_COLUMNS) if c in names]
        if not long_text:
            wanted = [c for c in wanted if c not in LONG_TEXT_COLUMNS]
        # Row groups of other cells are skipped by their statistics, not read and dropped.
        where = None if group is None else [("model", "=", group[0]), ("task", "=", group[1])]
        frame = pq.read_table(path, columns=wanted, filters=where).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise EvalsError(f"cannot read {path}: {str(error).splitlines()[0]}") from None
    for column in (*OPTIONAL_SAMPLE_COLUMNS, *LONG_TEXT_COLUMNS):
        if column not in frame.columns:
            frame[column] = None
    for column in ("model", "task", "item_id"):
        frame[column] = frame[column].astype(str)
    # Long texts as Python objects: grouping and slicing them is many times faster than
    # with Arrow-backed strings (measured by bench/report_speed.py).
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype(object)
    frame["correct"] = frame["correct"].astype("boolean")
    return frame


def run_ids(paths: Sequence[Path]) -> list[str]:
    """Each run is named by its directory name; a repeated name gets '-2', '-3', ..."""
    ids: list[str] = []
    for path in paths:
        base = path.resolve().name or "run"
        candidate, n = base, 1
        while candidate in ids:
            n += 1
            candidate = f"{base}-{n}"
        ids.append(candidate)
    return ids


def merge_runs(paths: Sequence[Path], *, strict: bool = False, long_text: bool = True) -> MergedRuns:
    """Load and merge runs; EvalsError when they cannot share a table.

    With ``strict``, any comparability warning is an error too. ``long_text``: see :func:`load_run`.
    """
    if not paths:
        raise EvalsError("no run directories given")
    ids = run_ids(paths)
    runs = tuple(load_run(Path(p), run_id, long_text=long_text) for p, run_id in zip(paths, ids, strict=True))
    run_of = _cell_owners(runs)
    _check_labels(runs)
    summary = tuple(row for run in runs for row in run.summary)
    if not summary:
        raise EvalsError(f"nothing to report: the runs {', '.join(str(p) for p in paths)} have no results")
    samples = pd.concat([run.samples for run in runs], ignore_index=True)
    warnings = [
        *_manifest_warnings(runs),
        *_item_set_warnings(samples),
        *_coverage_warnings(summary),
    ]
    if strict and warnings:
        raise EvalsError(f"runs are not comparable (--strict): {'; '.join(warnings)}")
    return MergedRuns(runs, samples, summary, run_of, tuple(warnings))


def _cell_owners(runs: Iterable[Run]) -> dict[tuple[str, str], str]:
    owners: dict[tuple[str, str], str] = {}
    for run in runs:
        for row in run.summary:
            key = (row.model, row.task)
            if key in owners:
                raise EvalsError(
                    f"model {row.model!r} on task {row.task!r} is in two runs, {owners[key]} and "
                    f"{run.run_id}: leave one out or rename the model in one suite"
                )
            owners[key] = run.run_id
    return owners


def _check_labels(runs: Sequence[Run]) -> None:
    """One model label in two runs must name one setup (same model, weights and decoding)."""
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for run in runs:
        entries = run.manifest.models if run.manifest is not None else {}
        for model in sorted({row.model for row in run.summary}):
            entry = entries.get(model)
            identity = {f: getattr(entry, f) for f in MODEL_IDENTITY_FIELDS} if entry is not None else {}
            if model not in seen:
                seen[model] = (run.run_id, identity)
                continue
            first_run, first = seen[model]
            differing = [f for f in MODEL_IDENTITY_FIELDS if first.get(f) != identity.get(f)]
            if not first or not identity:
                differing = ["manifest missing, setup unknown"]
            if differing:
                raise EvalsError(
                    f"model label {model!r} is in runs {first_run} and {run.run_id} with a different "
                    f"setup ({', '.join(differing)}); give each setup its own name"
                )


def _manifest_warnings(runs: Sequence[Run]) -> list[str]:
    warnings = [
        f"run {run.run_id} has no manifest.json: its item sets and scorer version cannot be checked"
        for run in runs
        if run.manifest is None
    ]
    with_manifest = [(run.run_id, run.manifest) for run in runs if run.manifest is not None]
    for field in ("scorer_version", "record_version"):
        values = {run_id: getattr(manifest, field) for run_id, manifest in with_manifest}
        if len(set(map(str, values.values()))) > 1:
            listed = ", ".join(f"{run_id}: {value}" for run_id, value in values.items())
            warnings.append(f"runs have different {field.replace('_', ' ')}s ({listed}); rescore them alike")
    tasks = sorted({task for _, manifest in with_manifest for task in manifest.tasks})
    for task in tasks:
        described = {
            run_id: manifest.tasks[task] for run_id, manifest in with_manifest if task in manifest.tasks
        }
        for field in TASK_IDENTITY_FIELDS:
            values = {run_id: getattr(entry, field) for run_id, entry in described.items()}
            if len(set(map(str, values.values()))) > 1:
                listed = ", ".join(f"{run_id}: {_short(value)}" for run_id, value in values.items())
                warnings.append(f"task {task}: runs differ in {field} ({listed})")
    return warnings


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text  # a sha256 is recognisable by its first 12


def _item_set_warnings(samples: pd.DataFrame) -> list[str]:
    """Within each task, every model should have answered the same items."""
    warnings = []
    for task, rows in samples[["task", "model", "item_id"]].groupby("task", sort=True):
        item_sets = {str(m): frozenset(g["item_id"]) for m, g in rows.groupby("model", sort=True)}
        if len(set(item_sets.values())) <= 1:
            continue
        common = frozenset.intersection(*item_sets.values())
        counts = ", ".join(f"{model}: {len(items)}" for model, items in item_sets.items())
        warnings.append(
            f"task {task}: models answered different items ({counts}; {len(common)} in common), "
            "so their accuracies are not over the same questions"
        )
    return warnings


def _coverage_warnings(summary: Sequence[SummaryRow]) -> list[str]:
    tasks = sorted({row.task for row in summary})
    have: dict[str, set[str]] = {}
    for row in summary:
        have.setdefault(row.model, set()).add(row.task)
    return [
        f"model {model} has no result for task(s) {', '.join(t for t in tasks if t not in done)}: "
        "its overall score, rank and aggregate costs are n/a"
        for model, done in sorted(have.items())
        if len(done) < len(tasks)
    ]
