"""After generation: join completions with gold answers, score them, summarize.

``evals rescore`` uses the same functions on a finished run's samples, so a
scorer upgrade never needs generation again. ``finalize_by_group`` does it one
model x task at a time, so a run of any size needs the memory of its largest
model x task plus the text-free columns of the summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evals.errors import EvalsError
from evals.metrics import CostBasis, SummaryRow, summarize
from evals.metrics.summary import REQUIRED_COLUMNS
from evals.profile import Profile
from evals.records import Item, Status
from evals.run_records import SAMPLE_SCHEMA, with_sample_columns
from evals.scoring import Scorer, ScoreRequest
from evals.store import SAMPLE_KEY, RunStore

VERDICT_COLUMNS = ("extracted", "correct", "status", "reason")


def join_items(completions: pa.Table, items: Mapping[tuple[str, str], Item]) -> pd.DataFrame:
    """Completions with each item's gold answer, answer type, choices and subtask."""
    frame = completions.to_pandas()
    keys = list(zip(frame["task"], frame["item_id"], strict=True))
    missing = [k for k in keys if k not in items]
    if missing:
        # A stored sample for an item the plan no longer has: the data changed under the run.
        task, item_id = missing[0]
        raise EvalsError(
            f"the run holds a sample of {task} item {item_id!r}, which the loaded data lacks: the data "
            "changed since the run started; give the data it was run on, or another --out"
        )
    frame["gold"] = [items[k].gold for k in keys]
    frame["answer_type"] = [items[k].answer_type for k in keys]
    frame["choices"] = [list(items[k].choices) for k in keys]
    frame["question"] = [items[k].question for k in keys]  # for scoring; not stored
    frame["subtask"] = [items[k].subtask for k in keys]
    return frame


def score_frame(frame: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """Add verdict columns to a frame of samples; failed generations are status ``error``."""
    failed = frame["error"].notna().to_numpy()
    rows: Any = frame.itertuples(index=False)  # named tuples of the sample columns
    requests = [
        ScoreRequest(
            output=row.output,
            gold=row.gold,
            answer_type=row.answer_type,
            choices=tuple(row.choices) if row.choices is not None else (),
            reasoning_in_prompt=str(row.prompt).rstrip().endswith("<think>"),
            finish_reason=row.finish_reason,
            question=getattr(row, "question", None) or "",  # rescoring a stored run has none
        )
        for row, is_failed in zip(rows, failed, strict=True)
        if not is_failed
    ]
    verdicts = iter(scorer.score_many(requests))
    columns: dict[str, list[Any]] = {name: [] for name in VERDICT_COLUMNS}
    for is_failed, error in zip(failed, frame["error"], strict=True):
        if is_failed:
            values: tuple[Any, ...] = (None, None, Status.ERROR.value, f"generation failed: {error}")
        else:
            verdict = next(verdicts)
            values = (verdict.extracted, verdict.correct, verdict.status.value, verdict.reason)
        for name, value in zip(VERDICT_COLUMNS, values, strict=True):
            columns[name].append(value)
    scored = frame.assign(**{name: columns[name] for name in VERDICT_COLUMNS})
    scored["correct"] = scored["correct"].astype("boolean")
    return with_sample_columns(
        scored.sort_values(["model", "task", "item_id", "sample_idx"]).reset_index(drop=True)
    )


def write_results(
    store: RunStore,
    samples: pd.DataFrame,
    costs: Mapping[str, CostBasis],
    *,
    ks: tuple[int, ...] | None,
    seed: int,
) -> list[SummaryRow]:
    """Write samples.parquet and summary.json (each atomically); return the summary rows."""
    table = pa.Table.from_pandas(with_sample_columns(samples), schema=SAMPLE_SCHEMA, preserve_index=False)
    store.write_table(store.samples_path, table)
    rows = summarize(samples, costs, ks=ks, seed=seed)
    store.write_summary(row.model_dump(mode="json") for row in rows)
    return rows


def finalize_by_group(
    store: RunStore,
    items: Mapping[tuple[str, str], Item],
    scorer: Scorer,
    costs: Mapping[str, CostBasis],
    *,
    ks: tuple[int, ...] | None,
    seed: int,
    wanted: Set[tuple[str, str]] | None = None,
    profile: Profile | None = None,
) -> list[SummaryRow]:
    """Compact, score and write each finished model x task (of ``wanted``) in turn; then summarize.

    samples.parquet is written atomically, one row group per model x task, in the
    (model, task, item_id, sample_idx) order of ``score_frame``. ``profile`` gets the
    scoring and the writing (compaction included) apart, though they alternate.
    """
    light: list[pd.DataFrame] = []
    profile = profile or Profile()

    def write(tmp: Path) -> None:
        with pq.ParquetWriter(tmp, SAMPLE_SCHEMA) as writer:
            for group in store.part_groups():
                if wanted is not None and (group.model, group.task) not in wanted:
                    continue
                with profile.phase("writing"):
                    completions = store.compact(group)
                with profile.phase("scoring"):
                    scored = score_frame(join_items(completions, items), scorer)
                with profile.phase("writing"):
                    writer.write_table(pa.Table.from_pandas(scored, SAMPLE_SCHEMA, preserve_index=False))
                light.append(scored[list(REQUIRED_COLUMNS)])

    store.write_file(store.samples_path, write)
    frame = pd.concat(light, ignore_index=True) if light else SAMPLE_SCHEMA.empty_table().to_pandas()
    with profile.phase("scoring"):
        rows = summarize(frame, costs, ks=ks, seed=seed)
    with profile.phase("writing"):
        store.write_summary(row.model_dump(mode="json") for row in rows)
    return rows


class Rescored(NamedTuple):
    rows: list[SummaryRow]
    n_samples: int
    changed: int  # verdicts whose status changed


def rescore_by_group(
    store: RunStore, scorer: Scorer, costs: Mapping[str, CostBasis], *, ks: tuple[int, ...] | None, seed: int
) -> Rescored:
    """Score a finished run's samples.parquet again, a model x task at a time; rewrite it and the summary."""
    source = store.samples_path
    # EvalsError if not a whole samples file (rescore rewrites every column).
    groups = store.read_samples(["model", "task"], whole_file=True).drop_duplicates()
    light: list[pd.DataFrame] = []
    changed = 0

    def write(tmp: Path) -> None:
        nonlocal changed
        with pq.ParquetWriter(tmp, SAMPLE_SCHEMA) as writer:
            for model, task in sorted(zip(groups["model"], groups["task"], strict=True)):
                where = [("model", "==", model), ("task", "==", task)]
                samples = pq.read_table(source, filters=where).to_pandas()
                samples = samples.sort_values(list(SAMPLE_KEY)).reset_index(drop=True)
                rescored = score_frame(samples, scorer)
                changed += int((rescored["status"].to_numpy() != samples["status"].to_numpy()).sum())
                writer.write_table(pa.Table.from_pandas(rescored, SAMPLE_SCHEMA, preserve_index=False))
                light.append(rescored[list(REQUIRED_COLUMNS)])

    store.write_file(source, write)
    frame = pd.concat(light, ignore_index=True) if light else SAMPLE_SCHEMA.empty_table().to_pandas()
    rows = summarize(frame, costs, ks=ks, seed=seed)
    store.write_summary(row.model_dump(mode="json") for row in rows)
    return Rescored(rows, len(frame), changed)
