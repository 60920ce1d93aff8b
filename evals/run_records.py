"""What a run directory stores, as typed records: one ``SampleRecord`` per scored row, one ``Manifest``.

``samples.parquet``'s columns and Arrow schema are generated from ``SampleRecord``
and ``manifest.json`` from ``Manifest``; the store reads both back through them
(``RunStore.read_manifest``, ``RunStore.read_samples``). Both carry
``record_version``: a reader accepts every version up to ``RECORD_VERSION`` (older
ones are upgraded on load, see ``_upgrade_manifest``) and refuses newer ones with
one clear error. Bump ``RECORD_VERSION`` (in ``records.py``) when a field changes
meaning, and add the upgrade from the previous version here.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.errors import EvalsError
from evals.hardware import Hardware
from evals.records import RECORD_VERSION, AnswerType, Status

if TYPE_CHECKING:
    import pandas as pd

_INT32 = pa.int32()


class SampleRecord(BaseModel):
    """One scored sample: a row of ``samples.parquet``.

    ``correct`` is None when the answer could not be judged (see ``Status.correct``);
    ``extracted`` is None when nothing was extracted; ``error`` is set when generation failed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_version: Annotated[int, _INT32]
    model: str
    task: str
    subtask: str | None
    item_id: str
    sample_idx: Annotated[int, _INT32]
    prompt: str
    output: str
    reasoning: str | None
    extracted: str | None
    gold: str
    answer_type: AnswerType
    choices: tuple[str, ...] | None
    correct: bool | None
    status: Status
    reason: str | None
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    engine_seconds: float
    seed: int | None
    error: str | None
    # Set by ``--judge`` (evals/judge.py); absent from files of runs without a judge.
    judge_verdict: str | None = None
    judge_model: str | None = None
    judge_decides: bool | None = None
    judge_cost_usd: float | None = None


def _arrow_type(annotation: Any, metadata: list[Any]) -> pa.DataType:
    """The Arrow type of a field: an ``Annotated`` Arrow type, else by its Python type."""
    for extra in metadata:
        if isinstance(extra, pa.DataType):
            return extra
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    base = args[0] if args and typing.get_origin(annotation) is not tuple else annotation
    if typing.get_origin(base) is tuple:
        return pa.list_(pa.string())
    by_type: dict[Any, pa.DataType] = {int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
    return by_type.get(base, pa.string())  # str, StrEnum and Literal of strings


SAMPLE_COLUMNS: tuple[str, ...] = tuple(SampleRecord.model_fields)
SAMPLE_SCHEMA = pa.schema(
    [
        (name, _arrow_type(field.annotation, field.metadata))
        for name, field in SampleRecord.model_fields.items()
    ]
)
SAMPLE_KEY = ("model", "task", "item_id", "sample_idx")
# Columns a samples file may lack (older runs, runs without a judge): read as None.
OPTIONAL_SAMPLE_COLUMNS: tuple[str, ...] = tuple(
    name for name, field in SampleRecord.model_fields.items() if not field.is_required()
)


def with_sample_columns(samples: pd.DataFrame) -> pd.DataFrame:
    """``samples`` with exactly the ``SampleRecord`` columns, in order; optional ones None where absent."""
    return samples.reindex(columns=list(SAMPLE_COLUMNS))


def sample_records(samples: pd.DataFrame) -> list[SampleRecord]:
    """Each row of a samples frame as a validated record (for checks and small runs: slow at scale)."""
    rows = samples[list(SAMPLE_COLUMNS)].astype(object).where(samples.notna(), None)
    return [SampleRecord.model_validate(row) for row in rows.to_dict("records")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HardwareRecord(_Record):
    """The hardware a run was made on (``evals.hardware.Hardware``)."""

    accelerator: str
    count: int
    gpu_names: tuple[str, ...]
    cpu_model: str
    cpu_cores: int
    platform: str

    @classmethod
    def of(cls, hardware: Hardware) -> HardwareRecord:
        return cls(**hardware.as_dict())

    def hardware(self) -> Hardware:
        return Hardware(**dict(self))


class ModelRecord(_Record):
    """One model of the run: where its weights came from and how it was set up."""

    ref: str
    kind: str
    path_or_id: str
    source: str | None
    weights_sha256: str | None
    generation: dict[str, Any]
    engine: dict[str, Any]
    engine_setup: dict[str, Any] | None


class TaskRecord(_Record):
    """One task of the run: which items it had."""

    n_items: int
    item_ids_sha256: str
    answer_type: AnswerType | None  # None: each subtask has its own
    max_tokens: int | None


class RescoreStamp(_Record):
    """One ``evals rescore``: when, and from which scorer version to which."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    at: str
    from_version: str | None = Field(alias="from")
    to: str


class Manifest(_Record):
    """``manifest.json``: what a run was and how to reproduce it.

    ``resumed``, ``rescored``, ``extended``, ``budgets_added``, ``sent``, ``adaptive`` and
    ``profile`` are added by later commands or steps (a resumed run, ``evals rescore``,
    ``evals extend``, ``evals budgets``, served models, ``--until``, the end of a run).
    """

    record_version: int
    evals_version: str
    created: str
    command: tuple[str, ...]
    config: dict[str, Any]
    config_hash: str
    scorer_version: str
    versions: dict[str, str | None]
    seeds: dict[str, int]
    hardware: HardwareRecord
    models: dict[str, ModelRecord]
    tasks: dict[str, TaskRecord]
    resumed: tuple[str, ...] = ()
    rescored: tuple[RescoreStamp, ...] = ()
    extended: tuple[dict[str, Any], ...] = ()
    budgets_added: tuple[dict[str, Any], ...] = ()
    sent: dict[str, Any] = {}
    adaptive: dict[str, Any] | None = None
    profile: dict[str, float] = {}  # wall seconds per phase (evals.profile), rewritten at the end of a run

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to ``manifest.json`` (fields later commands add only once set)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def _upgrade_manifest(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of an older manifest, in the current version's form (version 1 is current)."""
    return data


def load_manifest(data: Any, where: str) -> Manifest:
    """The manifest in ``data`` (a parsed JSON object); EvalsError naming ``where`` if it is none."""
    if not isinstance(data, dict):
        raise EvalsError(f"{where}: a manifest is a JSON object, got {type(data).__name__}")
    version = data.get("record_version")
    if not isinstance(version, int) or version < 1:
        raise EvalsError(f"{where}: manifest has no valid record_version ({version!r})")
    if version > RECORD_VERSION:
        raise EvalsError(
            f"{where}: written by a newer evals (record version {version}; this one reads up to "
            f"{RECORD_VERSION}): upgrade evals"
        )
    try:
        return Manifest.model_validate(_upgrade_manifest(data))
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise EvalsError(f"{where}: invalid manifest: {field}: {first['msg']}") from None
