"""Figures per (model, task, budget): each sample's answer as if the run had stopped at b tokens.

At budget b a sample of length L <= b keeps its own verdict and tokens; a longer
one takes its forced-answer probe's verdict (:mod:`evals.probes`), with
``completion_tokens = b + probe tokens``. Engine time at a budget is the model x
task's own rate times each answer's tokens at b: ``R x (prompt + tokens at b)`` with
``R`` = the run's engine seconds / (prompt + completion tokens) over that model x
task's answers. One rate, not each sample's own: a sample's share of a window's time
depends on which other sequences ran beside it (a long sample's last tokens run in a
thin batch), so its own rate would mis-price its first b tokens; with one rate, time
and token prices scale alike and a budget above every length costs exactly what the
run did. The closing text's few prompt tokens are counted in neither. A missing or
failed probe is status ``error`` (unjudged, counted apart). The frame then goes
through :func:`evals.metrics.summary.summarize` like the run's own samples, so
accuracy, CI, cost per answer and per correct answer are defined the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evals.errors import EvalsError
from evals.metrics.cost import CostBasis
from evals.metrics.sampling import normalize_answer
from evals.metrics.summary import summarize
from evals.metrics.summary_file import SummaryRow, read_summary

KEY = ["model", "task", "item_id", "sample_idx"]
VERDICT = ["extracted", "correct", "status"]


def budget_frame(samples: pd.DataFrame, probes: pd.DataFrame, budget: int) -> pd.DataFrame:
    """The scored samples as they would have been at ``budget`` (see the module docstring)."""
    at_budget = probes[(probes["kind"] == "budget") & (probes["budget"] == budget)]
    probe = at_budget.set_index(KEY)[[*VERDICT, "completion_tokens"]].add_prefix("probe_")
    frame = samples.join(probe, on=KEY)
    length = frame["completion_tokens"].to_numpy(dtype=np.float64)
    cut = (length > budget) & (frame["status"] != "error").to_numpy()
    has_probe = frame["probe_status"].notna().to_numpy()
    probe_tokens = frame["probe_completion_tokens"].to_numpy(dtype=np.float64, na_value=0.0)
    tokens = np.where(cut, budget + probe_tokens, length)
    prompt = frame["prompt_tokens"].to_numpy(dtype=np.float64)
    rate = seconds_per_token(frame).to_numpy(dtype=np.float64)
    judged = (frame["status"] != "error").to_numpy()
    seconds = np.where(judged, rate * (prompt + tokens), frame["engine_seconds"].to_numpy(dtype=np.float64))
    out = frame[samples.columns].copy()
    out["completion_tokens"] = tokens
    out["engine_seconds"] = seconds
    out["extracted"] = np.where(
        cut, frame["probe_extracted"].astype(object), frame["extracted"].astype(object)
    )
    correct = frame["correct"].astype("boolean").copy()
    correct[cut] = frame["probe_correct"].astype("boolean")[cut]
    out["correct"] = correct
    status = frame["status"].astype(str).copy()
    status[cut] = np.where(has_probe[cut], frame["probe_status"].astype(str)[cut], "error")
    out["status"] = status
    out["still_thinking"] = cut
    return out


def seconds_per_token(samples: pd.DataFrame) -> pd.Series:
    """Each row's model x task engine seconds per token (prompt + completion), over answers with a time."""
    seconds = samples["engine_seconds"].astype(np.float64)
    usable = (samples["status"] != "error") & seconds.notna()
    tokens = (samples["prompt_tokens"] + samples["completion_tokens"]).astype(np.float64)
    frame = samples[["model", "task"]].assign(
        seconds=seconds.where(usable, 0.0), tokens=tokens.where(usable, 0.0)
    )
    totals = frame.groupby(["model", "task"])[["seconds", "tokens"]].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        return totals["seconds"] / totals["tokens"].where(totals["tokens"] > 0)


def fidelity(samples: pd.DataFrame, probes: pd.DataFrame) -> pd.DataFrame:
    """Per (model, task): how often the forced answer at a finished sample's own length is its answer.

    Equal means both correct, or the same normalized extracted answer (both none counts).
    """
    forced = probes[(probes["kind"] == "fidelity") & probes["status"].ne("error")]
    joined = samples.merge(forced[[*KEY, *VERDICT]], on=KEY, suffixes=("", "_forced"))
    if joined.empty:
        return pd.DataFrame(columns=["model", "task", "probe_fidelity", "n_fidelity"])
    both_correct = joined["correct"].astype("boolean").fillna(False) & joined["correct_forced"].astype(
        "boolean"
    ).fillna(False)
    natural = joined["extracted"].map(_key)
    same = both_correct.to_numpy(dtype=bool) | (natural == joined["extracted_forced"].map(_key)).to_numpy()
    grouped = joined.assign(same=same).groupby(["model", "task"])["same"]
    return grouped.agg(probe_fidelity="mean", n_fidelity="size").reset_index()


def _key(text: Any) -> str:
    return (normalize_answer(text) or "") if isinstance(text, str) else ""


def budget_rows(
    samples: pd.DataFrame,
    probes: pd.DataFrame,
    budgets: Sequence[int],
    costs: Mapping[str, CostBasis],
    *,
    ks: tuple[int, ...] | None,
    seed: int,
    base: Sequence[SummaryRow],
) -> list[SummaryRow]:
    """The run's own rows with probe fidelity, then one row per (model, task, budget)."""
    table = fidelity(samples, probes).to_dict("records")
    fid = {
        (str(r["model"]), str(r["task"])): (float(r["probe_fidelity"]), int(r["n_fidelity"])) for r in table
    }
    rows = [_with_fidelity(row, fid) for row in base]
    for budget in budgets:
        frame = budget_frame(samples, probes, budget)
        thinking = frame[frame["status"] != "error"].groupby(["model", "task"])["still_thinking"].mean()
        for row in summarize(frame, costs, ks=ks, seed=seed):
            share = thinking.get((row.model, row.task))
            update = {"budget": budget, "still_thinking_rate": None if share is None else float(share)}
            rows.append(_with_fidelity(row.model_copy(update=update), fid))
    return rows


def _with_fidelity(row: SummaryRow, fid: Mapping[tuple[str, str], tuple[float, int]]) -> SummaryRow:
    figure = fid.get((row.model, row.task))
    if figure is None:
        return row
    return row.model_copy(update={"probe_fidelity": figure[0], "n_fidelity": figure[1]})


def budget_points(run_dir: Path, points: Sequence[tuple[str, int | None]]) -> tuple[pd.DataFrame, list[str]]:
    """Samples of (model, budget) points as models named ``model@budget`` (None: as run), and those names.

    The answers at a budget are :func:`budget_frame`'s; a point twice is one model.
    """
    from evals.store import RunStore

    samples = RunStore(run_dir).read_samples()
    budgets = {b for _, b in points if b is not None}
    probes_path = run_dir / "probes.parquet"
    if budgets and not probes_path.is_file():
        raise EvalsError(
            f"{run_dir} has no budget probes; add them with 'evals budgets {run_dir} --budgets ...'"
        )
    probes = pd.read_parquet(probes_path) if budgets else pd.DataFrame()
    rows = read_summary(run_dir / "summary.json") if budgets else []
    known = sorted({row.budget for row in rows if row.budget is not None})
    frames, names = [], []
    for model, budget in points:
        if budget is not None and budget not in known:
            raise EvalsError(f"{run_dir} has no figures at budget {budget} (it has {known or 'none'})")
        frame = samples if budget is None else budget_frame(samples, probes, budget)
        name = model if budget is None else f"{model}@{budget}"
        if name not in names:
            frames.append(frame[frame["model"] == model].assign(model=name))
        names.append(name)
    columns = ["model", "task", "item_id", "correct"]
    return pd.concat([f[columns] for f in frames], ignore_index=True), names
