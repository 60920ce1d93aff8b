"""After generation: join completions with gold answers, score them, summarize.

``evals rescore`` uses the same functions on a finished run's samples, so a
scorer upgrade never needs generation again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from evals.metrics import CostBasis, SummaryRow, summarize
from evals.records import Item, Status
from evals.run_records import SAMPLE_COLUMNS, SAMPLE_SCHEMA
from evals.scoring import Scorer, ScoreRequest
from evals.store import RunStore

VERDICT_COLUMNS = ("extracted", "correct", "status", "reason")


def join_items(completions: pa.Table, items: Mapping[tuple[str, str], Item]) -> pd.DataFrame:
    """Completions with each item's gold answer, answer type, choices and subtask."""
    frame = completions.to_pandas()
    keys = list(zip(frame["task"], frame["item_id"], strict=True))
    missing = [k for k in keys if k not in items]
    if missing:
        # A stored sample for an item the plan no longer has: the data changed under the run.
        task, item_id = missing[0]
        raise ValueError(f"stored sample for {task}/{item_id} has no item in the loaded task")
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
    return scored.sort_values(["model", "task", "item_id", "sample_idx"]).reset_index(drop=True)[
        list(SAMPLE_COLUMNS)
    ]


def write_results(
    store: RunStore,
    samples: pd.DataFrame,
    costs: Mapping[str, CostBasis],
    *,
    ks: tuple[int, ...] | None,
    seed: int,
) -> list[SummaryRow]:
    """Write samples.parquet and summary.json (each atomically); return the summary rows."""
    table = pa.Table.from_pandas(samples[list(SAMPLE_COLUMNS)], schema=SAMPLE_SCHEMA, preserve_index=False)
    store.write_table(store.samples_path, table)
    rows = summarize(samples, costs, ks=ks, seed=seed)
    store.write_summary(row.model_dump(mode="json") for row in rows)
    return rows
