"""An optional judge model for the answers the rules cannot read (``evals run --judge MODEL``).

A stage between scoring and metrics. The judge sees only answers the rules mark
``no_answer`` or ``ambiguous`` (with ``all_incorrect``, ``incorrect`` ones too), plus a
fixed sample of rule-decided answers whose only use is to measure how often judge and
rules agree. It gets the question, the gold and the final answer (never the reasoning)
and replies equivalent / not equivalent. Its generations go through the same backends
as any model (offline vLLM or an OpenAI-compatible server), are stored under
``judge/<judge>/`` in the run directory, so a rerun does not judge again, and are priced
like any generation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evals.generation.base import GenerationBackend, GenerationRequest, SamplingSettings
from evals.metrics.cost import CostBasis, sample_costs
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey
from evals.scoring.reasoning import split_reasoning
from evals.store import RunStore
from evals.suite import ModelEntrySpec

EQUIVALENT = "equivalent"
NOT_EQUIVALENT = "not_equivalent"
UNPARSEABLE = "unparseable"
JUDGE_COLUMNS = ("judge_verdict", "judge_model", "judge_decides", "judge_cost_usd")
JUDGED_STATUSES = ("no_answer", "ambiguous")
_RULE_DECIDED = ("correct", "incorrect")
_ANSWER_CHARS = 1000  # a final answer longer than this is cut (the judge needs no more)
_VERDICT = re.compile(
    r"\b(not[\s_-]+equivalent|non[\s_-]?equivalent|inequivalent|equivalent)\b", re.IGNORECASE
)
_SYSTEM = (
    "You grade answers. Given a question, its reference answer and a student's final answer, "
    "say whether the student's answer is mathematically or semantically equivalent to the "
    "reference. Reply with exactly one phrase: 'equivalent' or 'not equivalent'."
)


@dataclass(frozen=True)
class JudgeOptions:
    """Which model judges, which answers it sees, and how many rule-decided ones it re-checks."""

    entry: ModelEntrySpec
    all_incorrect: bool = False
    agreement_sample: int = 20  # rule-decided answers also judged, per run, to measure agreement
    max_tokens: int = 16

    @property
    def label(self) -> str:
        return self.entry.label


def judge_entry(model: str, base_url: str | None) -> ModelEntrySpec:
    """The judge as a suite entry: greedy, one sample; served when ``base_url`` is given."""
    if base_url is None:
        return ModelEntrySpec(model=model)
    return ModelEntrySpec(model=model, backend="openai", server={"base_url": base_url})


def judge_messages(question: str, gold: str, answer: str) -> tuple[ChatMessage, ...]:
    """The judge's prompt: question, reference answer and final answer, no reasoning."""
    user = (
        f"Question:\n{question.strip()}\n\nReference answer:\n{gold.strip()}\n\n"
        f"Student's final answer:\n{answer.strip()[:_ANSWER_CHARS]}\n\n"
        "Is the student's final answer equivalent to the reference answer? "
        "Reply 'equivalent' or 'not equivalent'."
    )
    return (ChatMessage("system", _SYSTEM), ChatMessage("user", user))


def parse_judge_reply(text: str) -> str:
    """``equivalent``, ``not_equivalent``, or ``unparseable`` when the reply says neither.

    Think blocks are dropped; the last verdict phrase stated wins (a judge may restate
    the options before answering); a reply naming both as its final words is unparseable.
    """
    answer = split_reasoning(text, False).answer
    found = [match.group(1).lower() for match in _VERDICT.finditer(answer)]
    if not found:
        return UNPARSEABLE
    return EQUIVALENT if found[-1] == EQUIVALENT else NOT_EQUIVALENT


def _stable_rank(keys: pd.DataFrame) -> np.ndarray:
    """A per-row order that depends only on the row's identity (reproducible samples)."""
    texts = ["\x00".join(map(str, row)) for row in keys.itertuples(index=False)]
    return np.array([int(hashlib.sha256(t.encode()).hexdigest()[:12], 16) for t in texts], dtype=np.int64)


def rows_to_judge(samples: pd.DataFrame, options: JudgeOptions) -> tuple[np.ndarray, np.ndarray]:
    """(the judge decides these rows, the judge also sees these rows) as boolean masks.

    The second mask adds up to ``agreement_sample`` rule-decided rows, chosen by a
    hash of their keys, whose verdicts only measure agreement.
    """
    status = samples["status"].astype(str)
    decided_statuses = JUDGED_STATUSES + (("incorrect",) if options.all_incorrect else ())
    decides = status.isin(decided_statuses).to_numpy() & samples["extracted"].notna().to_numpy()
    decides |= status.isin(JUDGED_STATUSES).to_numpy()
    candidates = np.flatnonzero(status.isin(_RULE_DECIDED).to_numpy() & ~decides)
    rank = _stable_rank(samples.iloc[candidates][["model", "task", "item_id", "sample_idx"]])
    chosen = candidates[np.argsort(rank, kind="stable")[: options.agreement_sample]]
    sees = decides.copy()
    sees[chosen] = True
    return decides, sees


def _final_answer(row: pd.Series) -> str:
    """What the judge is shown as the answer: the extracted one, else the answer text."""
    if isinstance(row["extracted"], str) and row["extracted"]:
        return str(row["extracted"])
    reasoning_in_prompt = str(row["prompt"]).rstrip().endswith("<think>")
    answer = split_reasoning(str(row["output"] or ""), reasoning_in_prompt).answer
    return answer[-_ANSWER_CHARS:] if answer else "(no answer)"


def judge_requests(
    samples: pd.DataFrame,
    rows: np.ndarray,
    questions: Mapping[tuple[str, str], str],
    done: set[SampleKey],
    max_tokens: int,
) -> list[GenerationRequest]:
    """One greedy request per row to judge that the judge store does not hold yet."""
    sampling = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    requests = []
    for _, row in samples.iloc[np.flatnonzero(rows)].iterrows():
        key = SampleKey(str(row["model"]), str(row["task"]), str(row["item_id"]), int(row["sample_idx"]))
        if key in done:
            continue
        question = questions.get((key.task, key.item_id), "")
        item = Item(key.task, key.item_id, question, str(row["gold"]), "text")
        messages = judge_messages(question, str(row["gold"]), _final_answer(row))
        requests.append(GenerationRequest(key, Prompt(item, messages), sampling))
    return requests


def _judge_store(store: RunStore, label: str) -> RunStore:
    return RunStore(Path(store.root) / "judge" / label.replace("/", "__"))


def _stored_judgements(judge_store: RunStore) -> dict[SampleKey, tuple[str, float, float, float]]:
    """Key -> (verdict, prompt tokens, completion tokens, engine seconds) of stored judgements."""
    frame = judge_store.read_completions().to_pandas()
    frame = frame[frame["error"].isna()]
    return {
        SampleKey(m, t, i, int(s)): (parse_judge_reply(out), float(pt), float(ct), float(sec))
        for m, t, i, s, out, pt, ct, sec in zip(
            frame["model"], frame["task"], frame["item_id"], frame["sample_idx"], frame["output"],
            frame["prompt_tokens"], frame["completion_tokens"], frame["engine_seconds"], strict=True,
        )
    }  # fmt: skip


def judge_samples(
    samples: pd.DataFrame,
    questions: Mapping[tuple[str, str], str],
    store: RunStore,
    options: JudgeOptions,
    make_backend: Callable[[], GenerationBackend],
    basis: CostBasis,
) -> pd.DataFrame:
    """``samples`` with the judge columns; generates only judgements not stored yet."""
    decides, sees = rows_to_judge(samples, options)
    judge_store = _judge_store(store, options.label)
    stored = _stored_judgements(judge_store)
    requests = judge_requests(samples, sees, questions, set(stored), options.max_tokens)
    if requests:
        backend = make_backend()
        try:
            backend.generate(requests, lambda done: _write(judge_store, done))
        finally:
            backend.close()
        stored = _stored_judgements(judge_store)
    return _with_judge_columns(samples, stored, decides, sees, options.label, basis)


def _write(judge_store: RunStore, completions: Sequence[Completion]) -> None:
    by_part: dict[tuple[str, str], list[Completion]] = {}
    for completion in completions:
        by_part.setdefault((completion.key.model, completion.key.task), []).append(completion)
    for (model, task), part in by_part.items():
        judge_store.write_part(model, task, part)


def _with_judge_columns(
    samples: pd.DataFrame,
    stored: Mapping[SampleKey, tuple[str, float, float, float]],
    decides: np.ndarray,
    sees: np.ndarray,
    label: str,
    basis: CostBasis,
) -> pd.DataFrame:
    keys = [
        SampleKey(str(m), str(t), str(i), int(s))
        for m, t, i, s in zip(
            samples["model"], samples["task"], samples["item_id"], samples["sample_idx"], strict=True
        )
    ]
    found = [stored.get(key) if seen else None for key, seen in zip(keys, sees, strict=True)]
    usage = np.array([f[1:] if f else (np.nan, np.nan, np.nan) for f in found], dtype=np.float64).reshape(
        -1, 3
    )
    costs = sample_costs(basis, usage[:, 0], usage[:, 1], usage[:, 2])
    priced = [None if f is None or costs is None else float(costs[n]) for n, f in enumerate(found)]
    return samples.assign(
        judge_verdict=pd.Series([f[0] if f else None for f in found], index=samples.index, dtype=object),
        judge_model=pd.Series([label if f else None for f in found], index=samples.index, dtype=object),
        judge_decides=[bool(d) and f is not None for d, f in zip(decides, found, strict=True)],
        judge_cost_usd=pd.Series(priced, index=samples.index, dtype="float64"),
    )
