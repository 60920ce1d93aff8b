"""The typed run records: what a run directory holds, and the one-line errors for what it must not.

Source of each bad case: a hand-edited, truncated or future run directory given to
``evals rescore`` (which reads the manifest and samples, then rewrites both).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evals import finalize, store
from evals.metrics import summary
from evals.report import merge, redact
from evals.run_records import SAMPLE_COLUMNS, SAMPLE_SCHEMA, SampleRecord
from tests.conftest import REPO_ROOT, run_cli

OLD_RUN = REPO_ROOT / "tests" / "fixtures" / "runs" / "v1-replay"


def _manifest_edit(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        data = json.loads((run / "manifest.json").read_text())
        (run / "manifest.json").write_text(json.dumps(change(data)))

    return edit


def _samples_edit(change: Callable[[pa.Table], pa.Table]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        pq.write_table(change(pq.read_table(run / "samples.parquet")), run / "samples.parquet")

    return edit


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name != key}


def _future(table: pa.Table) -> pa.Table:
    index = table.schema.get_field_index("record_version")
    return table.set_column(index, "record_version", pa.array([99] * table.num_rows, pa.int32()))


# (case, how the run is spoilt, what the one error line says)
BAD_RUNS = [
    ("manifest from a newer evals", _manifest_edit(lambda m: {**m, "record_version": 99}),
     "written by a newer evals (record version 99"),
    ("manifest without record_version", _manifest_edit(lambda m: _without(m, "record_version")),
     "manifest has no valid record_version"),
    ("manifest without tasks", _manifest_edit(lambda m: _without(m, "tasks")), "invalid manifest: tasks: Field required"),
    ("manifest with an unknown key", _manifest_edit(lambda m: {**m, "colour": "blue"}),
     "invalid manifest: colour: Extra inputs are not permitted"),
    ("manifest that is a list", _manifest_edit(lambda m: [m]), "a manifest is a JSON object, got list"),
    ("samples without status", _samples_edit(lambda t: t.drop_columns(["status"])),
     "not a samples file (no status column)"),
    ("samples from a newer evals", _samples_edit(_future), "written by a newer evals (record version 99"),
    ("samples that are not parquet", lambda run: (run / "samples.parquet").write_bytes(b"PAR1 cut"),
     "samples.parquet: unreadable ("),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spoil", "message"), BAD_RUNS, ids=[c[0] for c in BAD_RUNS])
def test_a_bad_run_directory_is_one_error_line(
    case: str, spoil: Callable[[Path], None], message: str, tmp_path: Path
) -> None:
    run = Path(shutil.copytree(OLD_RUN, tmp_path / "run"))
    spoil(run)
    before = {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()}
    result = run_cli(["rescore", str(run)], cwd=tmp_path, timeout=300)
    assert result.returncode == 2, (case, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("evals: error: "), result.stderr
    assert message in result.stderr, result.stderr
    assert {path.name: path.read_bytes() for path in run.iterdir() if path.is_file()} == before


def test_samples_are_written_with_the_schema_of_sample_record(tmp_path: Path) -> None:
    run = Path(shutil.copytree(OLD_RUN, tmp_path / "run"))
    result = run_cli(["rescore", str(run)], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert pq.read_schema(run / "samples.parquet").remove_metadata() == SAMPLE_SCHEMA
    assert SAMPLE_SCHEMA.names == list(SampleRecord.model_fields)


# Column names other modules spell: each must be a SampleRecord field (source: issue 9).
COLUMN_LISTS = [
    ("store.SAMPLE_KEY", store.SAMPLE_KEY),
    ("finalize.VERDICT_COLUMNS", finalize.VERDICT_COLUMNS),
    ("metrics.summary.REQUIRED_COLUMNS", summary.REQUIRED_COLUMNS),
    ("report.merge.REQUIRED_SAMPLE_COLUMNS", merge.REQUIRED_SAMPLE_COLUMNS),
    ("report.merge.OPTIONAL_SAMPLE_COLUMNS", merge.OPTIONAL_SAMPLE_COLUMNS),
    ("report.merge.TEXT_COLUMNS", merge.TEXT_COLUMNS),
    ("report.redact.TEXT_COLUMNS", redact.TEXT_COLUMNS),
]


@pytest.mark.parametrize(("where", "columns"), COLUMN_LISTS, ids=[c[0] for c in COLUMN_LISTS])
def test_column_names_elsewhere_are_sample_record_fields(where: str, columns: tuple[str, ...]) -> None:
    assert set(columns) <= set(SAMPLE_COLUMNS), (where, sorted(set(columns) - set(SAMPLE_COLUMNS)))
