"""Forced-answer probes: a sample's answer at a thinking budget, read from one run.

A probe of sample s at budget b is the exact prompt, the first b tokens of s's
completion and a closing text that ends the reasoning (closing an open ``<think>``
block first) and asks for the answer; the model then writes at most a few dozen
tokens greedily (s1, Muennighoff et al. 2025). A sample that finished within b
needs no probe: its answer at b is its final answer. A sample that finished by
itself is also probed at its own length ("fidelity"): how often that forced
answer equals the natural one says how far the budget curves can be trusted.

Probes are stored as their own rows, ``RUN/probes/<model>/<task>/part-*.parquet``,
keyed by sample key + budget + kind, and resume like samples.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from evals.atomic import atomic_write
from evals.errors import EvalsError
from evals.records import AnswerType, Completion, Prompt, SampleKey
from evals.store import MirroredRunStore, RunStore

ProbeKind = Literal["budget", "fidelity"]

# Ends the reasoning and asks for the answer in the form the task's extractor reads.
DEFAULT_CLOSING: dict[AnswerType, str] = {
    "number": "\n\nTime is up. The final answer is ",
    "math": "\n\nTime is up. The final answer is $\\boxed{",
    "choice": "\n\nTime is up. The final answer is (",
    "text": "\n\nTime is up. The final answer is: ",
}
THINK_CLOSE = "\n</think>"
THINK_OPEN = "<think>\n"
# A forced answer is one line: generation stops at the first blank line (or max_tokens).
PROBE_STOP = ("\n\n",)

PROBE_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("task", pa.string()),
        ("item_id", pa.string()),
        ("sample_idx", pa.int32()),
        ("budget", pa.int32()),
        ("kind", pa.string()),
        ("closing", pa.string()),  # the text appended after the kept tokens
        ("output", pa.string()),  # what the model wrote after it
        ("prompt_tokens", pa.int64()),  # the probe prompt: prompt + kept tokens + closing
        ("completion_tokens", pa.int64()),
        ("finish_reason", pa.string()),
        ("engine_seconds", pa.float64()),
        ("error", pa.string()),
        ("cached_tokens", pa.int64()),  # prompt tokens the prefix cache served (null: unknown)
    ]
)
PROBE_KEY = ("model", "task", "item_id", "sample_idx", "budget", "kind")


def parse_budgets(text: str) -> tuple[int, ...]:
    """``"32,64,128"`` -> (32, 64, 128); EvalsError on anything but positive integers."""
    budgets = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise EvalsError(f"--budgets {text!r}: {part!r} is not a positive number of tokens")
        budgets.append(int(part))
    return tuple(sorted(set(budgets)))


def has_open_think(text: str) -> bool:
    """True when the last ``<think>`` of ``text`` has no ``</think>`` after it."""
    opened = text.rfind("<think>")
    return opened != -1 and text.find("</think>", opened) == -1


@dataclass(frozen=True)
class ProbeRequest:
    """Continue a stored completion from its first ``budget`` tokens after ``closing``.

    Backends cut ``output_token_ids`` exactly where they have them (else they tokenize
    :meth:`generated_text`) and call :meth:`closing_after` on the kept text.
    """

    key: SampleKey
    budget: int
    kind: ProbeKind
    prompt: Prompt
    output: str
    output_token_ids: tuple[int, ...] | None
    closing: str
    max_tokens: int
    reasoning: str | None = None  # a server's separate reasoning field (generated before ``output``)

    def generated_text(self, prompt_text: str) -> str:
        """What the model wrote, in generation order.

        A server that returns reasoning apart (``reasoning_content``, ``reasoning``) split
        ``<think>reasoning</think>answer``: put back together, inside a think block opened
        by the prompt (as the model's template does) or else here, so the budget counts
        reasoning tokens first and a cut inside the reasoning leaves the block open.
        """
        if self.reasoning is None:
            return self.output
        opened = "" if has_open_think(prompt_text) else THINK_OPEN
        answer = "</think>" + self.output if self.output else ""
        return opened + self.reasoning + answer

    def closing_after(self, prompt_text: str, kept_text: str) -> str:
        """The closing text, after ``</think>`` when the reasoning is still open."""
        open_think = has_open_think(prompt_text + kept_text)
        return (THINK_CLOSE if open_think else "") + self.closing


@dataclass(frozen=True)
class ProbeCompletion:
    request: ProbeRequest
    closing: str  # as appended (with any </think>)
    output: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    engine_seconds: float
    error: str | None = None
    cached_tokens: int | None = None


@dataclass(frozen=True)
class StoredSample:
    """What probing needs of a stored completion."""

    key: SampleKey
    prompt: Prompt
    output: str
    output_token_ids: tuple[int, ...] | None
    completion_tokens: int  # reasoning and answer tokens, as the backend counted them
    finished: bool  # stopped by itself (not at the token limit)
    reasoning: str | None = None  # a server's separate reasoning field


def stored_sample(completion: Completion, prompt: Prompt) -> StoredSample:
    """What probing needs of a completion just generated from ``prompt``."""
    return StoredSample(
        key=completion.key,
        prompt=prompt,
        output=completion.output,
        output_token_ids=completion.output_token_ids,
        completion_tokens=completion.completion_tokens,
        finished=completion.finish_reason == "stop",
        reasoning=completion.reasoning,
    )


def closing_text(
    answer_type: AnswerType, task_closing: str | None, suite_closing: Mapping[AnswerType, str]
) -> str:
    """The task's closing text, else the suite's for the answer type, else the default."""
    if task_closing is not None:
        return task_closing
    return suite_closing.get(answer_type, DEFAULT_CLOSING[answer_type])


def probe_requests(
    samples: Iterable[StoredSample],
    budgets: Sequence[int],
    closing: Mapping[tuple[str, str], str],
    max_tokens: int,
    done: set[tuple[Any, ...]],
) -> list[ProbeRequest]:
    """Probes still missing, each sample's probes adjacent so the prefix cache serves them.

    ``closing`` maps (task, item_id) to the item's closing text.
    """
    requests = []
    for sample in sorted(samples, key=lambda s: s.key.as_tuple()):
        wanted: list[tuple[int, ProbeKind]] = [(b, "budget") for b in budgets if b < sample.completion_tokens]
        if sample.finished and sample.completion_tokens > 0:
            wanted.append((sample.completion_tokens, "fidelity"))
        for budget, kind in wanted:
            if (*sample.key.as_tuple(), budget, kind) in done:
                continue
            requests.append(
                ProbeRequest(
                    key=sample.key,
                    budget=budget,
                    kind=kind,
                    prompt=sample.prompt,
                    output=sample.output,
                    output_token_ids=sample.output_token_ids,
                    closing=closing[(sample.key.task, sample.key.item_id)],
                    max_tokens=max_tokens,
                    reasoning=sample.reasoning,
                )
            )
    return requests


def probe_row(probe: ProbeCompletion) -> dict[str, Any]:
    key = probe.request.key
    return {
        "model": key.model,
        "task": key.task,
        "item_id": key.item_id,
        "sample_idx": key.sample_idx,
        "budget": probe.request.budget,
        "kind": probe.request.kind,
        "closing": probe.closing,
        "output": probe.output,
        "prompt_tokens": probe.prompt_tokens,
        "completion_tokens": probe.completion_tokens,
        "finish_reason": probe.finish_reason,
        "engine_seconds": probe.engine_seconds,
        "error": probe.error,
        "cached_tokens": probe.cached_tokens,
    }


def write_probe_part(store: RunStore, probes: Sequence[ProbeCompletion]) -> None:
    """Append probes as one part per model x task (atomic), like completions."""
    by_task: dict[tuple[str, str], list[ProbeCompletion]] = {}
    for probe in probes:
        by_task.setdefault((probe.request.key.model, probe.request.key.task), []).append(probe)
    for (model, task), rows in by_task.items():
        table = pa.Table.from_pylist([probe_row(p) for p in rows], PROBE_SCHEMA)
        directory = store.root / "probes" / store.parts_dir(model, task).relative_to(store.root / "parts")
        path = directory / f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        _write_parquet(path, table)
        if isinstance(store, MirroredRunStore):
            store.upload(path)


def _write_parquet(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_probes(store: RunStore) -> pa.Table:
    """One probe per key: the first success, else the first failure."""
    probes = store.root / "probes"
    files = sorted(p for p in probes.glob("*/*/part-*.parquet") if not p.name.startswith("."))
    if not files:
        return PROBE_SCHEMA.empty_table()
    table = pa.concat_tables([pq.read_table(f, schema=PROBE_SCHEMA) for f in files])
    keys = list(zip(*(table.column(c).to_pylist() for c in PROBE_KEY), strict=True))
    failed = table.column("error").is_valid().to_pylist()
    succeeded = {key for key, bad in zip(keys, failed, strict=True) if not bad}
    seen: set[tuple[Any, ...]] = set()
    keep = []
    for index, (key, bad) in enumerate(zip(keys, failed, strict=True)):
        if key not in seen and not (bad and key in succeeded):
            seen.add(key)
            keep.append(index)
    return table.take(pa.array(keep, pa.int64()))


def done_probe_keys(store: RunStore) -> set[tuple[Any, ...]]:
    """Probe keys with a successful row: a rerun probes failed ones again."""
    table = read_probes(store)
    table = table.filter(pc.is_null(table.column("error"))).select(list(PROBE_KEY))
    return set(zip(*(table.column(c).to_pylist() for c in PROBE_KEY), strict=True))
