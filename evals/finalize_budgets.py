"""After probing: score the forced answers and add per-budget rows to the summary.

Probes are scored by the same scorer as samples, on the text the model saw after its
reasoning ended: the closing text (after any ``</think>``) and what it wrote. Scored
probes are written to ``RUN/probes.parquet`` (atomically) for inspection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from evals.metrics import CostBasis, SummaryRow
from evals.metrics.budgets import budget_rows
from evals.probes import read_probes
from evals.records import Item, Status
from evals.scoring import Scorer, ScoreRequest
from evals.store import RunStore


def score_probes(probes: pd.DataFrame, items: Mapping[tuple[str, str], Item], scorer: Scorer) -> pd.DataFrame:
    """Probes with ``extracted``, ``correct``, ``status``; a failed probe is status ``error``."""
    probes = probes[[(t, i) in items for t, i in zip(probes["task"], probes["item_id"], strict=True)]]
    ok = probes["error"].isna().to_numpy()
    requests = []
    for row in probes[ok].itertuples(index=False):
        item = items[(str(row.task), str(row.item_id))]
        requests.append(
            ScoreRequest(
                output=str(row.closing) + str(row.output),
                gold=item.gold,
                answer_type=item.answer_type,
                choices=item.choices,
                # A forced answer cut at the probe's few tokens may still hold its answer.
                finish_reason=None,
            )
        )
    verdicts = iter(scorer.score_many(requests))
    extracted: list[Any] = []
    correct: list[Any] = []
    status: list[Any] = []
    for good in ok:
        verdict = next(verdicts) if good else None
        extracted.append(verdict.extracted if verdict else None)
        correct.append(verdict.correct if verdict else None)
        status.append(verdict.status.value if verdict else Status.ERROR.value)
    scored = probes.assign(extracted=extracted, correct=pd.array(correct, dtype="boolean"), status=status)
    return scored.sort_values(["model", "task", "item_id", "sample_idx", "kind", "budget"]).reset_index(
        drop=True
    )


def write_budget_results(
    store: RunStore,
    samples: pd.DataFrame,
    base: Sequence[SummaryRow],
    budgets: Sequence[int],
    items: Mapping[tuple[str, str], Item],
    costs: Mapping[str, CostBasis],
    *,
    ks: tuple[int, ...] | None,
    seed: int,
) -> list[SummaryRow]:
    """Score stored probes, write probes.parquet and the summary with budget rows."""
    with Scorer() as scorer:
        probes = score_probes(read_probes(store).to_pandas(), items, scorer)
    store.write_table(store.root / "probes.parquet", pa.Table.from_pandas(probes, preserve_index=False))
    rows = budget_rows(samples, probes, budgets, costs, ks=ks, seed=seed, base=base)
    store.write_summary(row.model_dump(mode="json") for row in rows)
    return rows
