"""A synthetic run directory at any size, written through the project's own store.

    .venv/bin/python bench/workload.py OUT_DIR --models 10 --items 30 --samples 64 --max-chars 128000 --seed 0

Writes a finished run (manifest, parts of ``--part-size`` samples, samples.parquet,
summary.json, and workload.json with the shape) of ``models x 3 tasks x items x samples`` samples: outputs with a
``<think>`` block of plausible arithmetic reasoning whose length follows a long
tail (lognormal, capped at ``--max-chars``, ~4 characters a token), then a boxed
answer; statuses correct, incorrect, no_answer, truncated (cut at the cap) and
error. Parts go through ``RunStore.write_part``, the manifest through
``RunStore.open_for`` and the verdicts through ``evals.finalize``, so the schema
is the project's. ``--parts-only`` leaves the run unfinalized (for timing finalize).
Every task is synthetic (``syn-*``, number answers): no benchmark text.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from evals import __version__
from evals.atomic import atomic_write_json
from evals.finalize import finalize_by_group
from evals.hardware import detect_hardware
from evals.manifest import package_versions
from evals.metrics import SelfHosted
from evals.records import RECORD_VERSION, Completion, Item, SampleKey
from evals.run_records import HardwareRecord, Manifest, ModelRecord, TaskRecord
from evals.scoring import SCORER_VERSION, Scorer
from evals.store import RunStore
from evals.suite import SuiteSpec

PRICE = SelfHosted("cpu-core", 2, 0.04, "workload price", date(2025, 1, 1), "vCPU")
WORKLOAD_FILE = "workload.json"
TASKS = ("syn-aime", "syn-math", "syn-arith")
CHARS_PER_TOKEN = 4
_TEXT = (
    "so we need the sum of all values then check each case carefully first note that if x is even "
    "then y must be odd wait let me recompute the product modulo seven which gives remainder three "
    "hence the total equals twice the count minus one and by symmetry the other half matches"
)
_WORDS = _TEXT.split()


@dataclass(frozen=True)
class WorkloadSpec:
    """How big the synthetic run is and how its outputs are shaped."""

    models: int = 3
    items: int = 30
    samples: int = 4
    max_chars: int = 128_000
    seed: int = 0
    part_size: int = 64  # samples per part file, as a shard of that size would write them
    median_chars: int | None = None  # of the lognormal output length; default max_chars / 10

    @property
    def n_samples(self) -> int:
        return self.models * len(TASKS) * self.items * self.samples


def model_names(spec: WorkloadSpec) -> list[str]:
    return [f"syn-model-{m:02d}" for m in range(spec.models)]


def suite_for(spec: WorkloadSpec) -> SuiteSpec:
    """The suite a real run of this shape would have had (its hash names the run)."""
    models = [
        {
            "name": name,
            "model": f"synthetic/{name}",
            "generation": {"samples": spec.samples, "temperature": 0.6},
        }
        for name in model_names(spec)
    ]
    return SuiteSpec.model_validate({"name": "synthetic-workload", "models": models, "tasks": list(TASKS)})


def synthetic_items(spec: WorkloadSpec) -> dict[tuple[str, str], Item]:
    """Items with integer gold answers and short synthetic questions."""
    rng = np.random.default_rng(spec.seed)
    items = {}
    for task in TASKS:
        for i in range(spec.items):
            gold = str(int(rng.integers(0, 1000)))
            question = f"Synthetic problem {i} of {task}: find the value (it is {gold})."
            items[(task, f"{task}-{i:05d}")] = Item(task, f"{task}-{i:05d}", question, gold, "number")
    return items


def manifest_for(spec: WorkloadSpec, suite: SuiteSpec, items: dict[tuple[str, str], Item]) -> Manifest:
    """The manifest ``evals.manifest.build_manifest`` would write for this run."""
    models = {
        name: ModelRecord(
            ref=f"synthetic/{name}", kind="synthetic", path_or_id=f"synthetic/{name}", source=None,
            weights_sha256=None, generation=entry.generation.model_dump(mode="json"),
            engine=entry.engine.model_dump(mode="json"), engine_setup=None,
        )
        for name, entry in zip(model_names(spec), suite.models, strict=True)
    }  # fmt: skip
    tasks = {}
    for task in TASKS:
        ids = [item_id for (of_task, item_id) in items if of_task == task]
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
        tasks[task] = TaskRecord(
            n_items=len(ids), item_ids_sha256=digest, answer_type="number", max_tokens=None
        )
    return Manifest(
        record_version=RECORD_VERSION,
        evals_version=__version__,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        command=("bench/workload.py", *sys.argv[1:]),
        config=suite.model_dump(mode="json"),
        config_hash=suite.config_hash(),
        scorer_version=SCORER_VERSION,
        versions=package_versions(),
        seeds={"suite": suite.seed, **{name: 0 for name in model_names(spec)}},
        hardware=HardwareRecord.of(detect_hardware()),
        models=models,
        tasks=tasks,
    )


class _Texts:
    """Slices of one long pool of reasoning text: plausible, varied, and cheap at any size."""

    def __init__(self, rng: np.random.Generator, max_chars: int) -> None:
        words = rng.choice(np.array(_WORDS), max(4_000, 2 * max_chars // 5))
        self.pool = " ".join(words)
        self.rng = rng

    def reasoning(self, chars: int) -> str:
        start = int(self.rng.integers(0, max(1, len(self.pool) - chars)))
        return self.pool[start : start + chars]


def _completions(spec: WorkloadSpec, items: dict[tuple[str, str], Item]) -> Iterator[list[Completion]]:
    """One list per part: every sample of every model, task and item, in shard-sized parts."""
    rng = np.random.default_rng(spec.seed + 1)
    texts = _Texts(rng, spec.max_chars)
    median = spec.median_chars or max(50, spec.max_chars // 10)
    part: list[Completion] = []
    for m, model in enumerate(model_names(spec)):
        for i, ((task, item_id), item) in enumerate(items.items()):
            skill = 0.45 + 0.04 * m - 0.5 * ((i * 37 % 100) / 100 - 0.5)  # items differ in difficulty
            lengths = np.minimum(rng.lognormal(np.log(median), 1.2, spec.samples), spec.max_chars)
            if part and (part[0].key.model, part[0].key.task) != (model, task):
                yield part  # a part holds one model x task, as a shard's write does
                part = []
            draws = rng.random(spec.samples)
            for s, (length, draw) in enumerate(zip(lengths.astype(int), draws, strict=True)):
                key = SampleKey(model, task, item_id, s)
                part.append(_completion(key, item, texts, int(length), float(draw), skill, spec.max_chars))
                if len(part) == spec.part_size:
                    yield part
                    part = []
    if part:
        yield part


def _completion(
    key: SampleKey, item: Item, texts: _Texts, chars: int, draw: float, skill: float, cap: int
) -> Completion:
    prompt = f"<|im_start|>user\n{item.question}<|im_end|>\n<|im_start|>assistant\n"
    error = "synthetic engine failure" if draw > 0.995 else None
    finish = "length" if chars >= cap else "error" if error else "stop"
    if error:
        output = ""
    elif finish == "length":
        output = "<think>\n" + texts.reasoning(cap - 8)  # cut inside its reasoning: truncated
    elif draw > 0.97:
        output = f"<think>\n{texts.reasoning(chars)}\n</think>\n\nI could not settle on a value."
    else:
        answer = item.gold if draw < skill else str(int(item.gold) + 1 + int(draw * 50))
        output = f"<think>\n{texts.reasoning(chars)}\n</think>\n\nThe answer is $\\boxed{{{answer}}}$."
    tokens = 0 if error else max(1, len(output) // CHARS_PER_TOKEN)
    return Completion(
        key=key, prompt_text=prompt, output=output, reasoning=None, prompt_tokens=len(prompt) // 4,
        completion_tokens=tokens, finish_reason=finish, engine_seconds=tokens / 2_000.0, seed=key.sample_idx,
        error=error,
    )  # fmt: skip


def write_workload(out: Path, spec: WorkloadSpec, *, finalize: bool = True) -> RunStore:
    """Write the run directory ``out`` (which must not hold another run); return its store."""
    store = RunStore(out)
    suite = suite_for(spec)
    items = synthetic_items(spec)
    store.open_for(manifest_for(spec, suite, items))
    atomic_write_json(out / WORKLOAD_FILE, vars(spec))  # beside the run: how to make its items again
    for part in _completions(spec, items):
        store.write_part(part[0].key.model, part[0].key.task, part)
    if finalize:
        costs = {name: PRICE for name in model_names(spec)}
        with Scorer() as scorer:
            finalize_by_group(store, items, scorer, costs, ks=None, seed=suite.seed)
    return store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, metavar="OUT_DIR")
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--max-chars", type=int, default=128_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part-size", type=int, default=64)
    parser.add_argument("--parts-only", action="store_true", help="leave the run unfinalized")
    args = parser.parse_args(argv)
    spec = WorkloadSpec(args.models, args.items, args.samples, args.max_chars, args.seed, args.part_size)
    started = time.perf_counter()
    write_workload(args.out, spec, finalize=not args.parts_only)
    print(f"{spec.n_samples} samples in {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
