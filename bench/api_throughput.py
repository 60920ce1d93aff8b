"""Items per second through `vllm serve` (openai backend) at several concurrencies vs the offline engine.

Both sides run the same vLLM on the same model, dtype, eager mode and KV-cache size, on
greedy chat prompts of one task. The offline side generates its prompts in one engine loop
(`VLLMBackend`); the served side sends them through `OpenAIBackend` with at most C requests
in flight. Engine start-up is excluded (only `generate` is timed) and each side first
generates a few warm-up prompts. Every measurement gets its own items of the task (the
next LIMIT of the stream): the server's prefix cache would otherwise hold the prompts and
outputs of an earlier measurement. The offline side runs in a child process while the
server idles; they never generate at once. Rounds alternate the sides (offline, C=1, C=8,
C=32, offline, ...) so drift on a shared machine hits all of them; medians are printed.
Ratios are served / offline, for items/s and for completion tokens/s, measured in one run.

    .venv/bin/python bench/api_throughput.py --limit 96 --max-tokens 64 --concurrency 1,8,32 --rounds 2
    .venv/bin/python bench/api_throughput.py --model smollm2-135m --task gsm8k --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evals.generation.base import GenerationBackend, GenerationRequest
    from evals.records import Completion

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "backends"))  # the VllmServer helper of the served tests


def build_requests(task: str, limit: int, max_tokens: int, data_dir: Path | None) -> list[GenerationRequest]:
    """Greedy requests for the first ``limit`` items of ``task``."""
    from evals.generation.base import GenerationRequest, SamplingSettings
    from evals.prompts import build_prompt
    from evals.records import SampleKey
    from evals.tasks import load_task

    loaded = load_task(task, data_dir=data_dir, limit=limit, seed=0)
    sampling = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    return [
        GenerationRequest(
            SampleKey("bench", task, item.item_id, 0), build_prompt(item, loaded.spec), sampling
        )
        for item in loaded.items
    ]


def timed_generate(backend: GenerationBackend, requests: Sequence[GenerationRequest]) -> tuple[float, int]:
    """Seconds to generate every request, and the completion tokens generated."""
    stored: list[Completion] = []
    started = time.perf_counter()
    backend.generate(requests, stored.extend)
    seconds = time.perf_counter() - started
    failed = [c for c in stored if c.error]
    if len(stored) != len(requests) or failed:
        sys.exit(f"generation incomplete: {len(stored)} of {len(requests)}, {len(failed)} failed")
    return seconds, sum(c.completion_tokens for c in stored)


def offline(
    model: str, warmup: Sequence[GenerationRequest], requests: Sequence[GenerationRequest], kv_gib: float
) -> tuple[float, int]:
    from evals.generation.vllm_backend import VLLMBackend, resolve_engine_setup
    from evals.suite import EngineSpec

    spec = EngineSpec.model_validate({"dtype": "bfloat16", "enforce_eager": True, "kv_cache_gib": kv_gib})
    backend = VLLMBackend(model, spec, resolve_engine_setup(spec, on_gpu=False), seed=0)
    try:
        timed_generate(backend, warmup)
        return timed_generate(backend, requests)
    finally:
        backend.close()


@contextlib.contextmanager
def vllm_server(model: str, kv_gib: float) -> Iterator[str]:
    """`vllm serve` of ``model``, with the offline side's dtype, eager mode and KV cache; yields its URL."""
    from vllm_server import VllmServer

    os.environ["VLLM_CPU_KVCACHE_SPACE"] = f"{kv_gib:g}"
    with tempfile.TemporaryDirectory() as tmp:
        server = VllmServer(Path(model), Path(tmp) / "server.log", "--dtype", "bfloat16")
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def served(
    url: str, model: str, requests: Sequence[GenerationRequest], concurrency: int
) -> tuple[float, int]:
    from evals.generation.http_retry import RetryPolicy
    from evals.generation.openai_backend import OpenAIBackend, OpenAISettings

    settings = OpenAISettings(url, model, None, concurrency, 600.0, RetryPolicy(max_retries=0))
    return timed_generate(OpenAIBackend(settings), requests)


def offline_in_child(chunk: int) -> tuple[float, int]:
    """The offline measurement of ``chunk`` in a fresh process: no engine thread of it outlives it."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "offline.json"
        command = [sys.executable, *sys.argv, "--offline-chunk", str(chunk), "--offline-out", str(result)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        seconds, tokens = json.loads(result.read_text())
    return float(seconds), int(tokens)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="alias or local dir (default: the tiny random test model)")
    parser.add_argument("--task", default="arith-easy")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--limit", type=int, default=96, help="items per measurement")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument(
        "--rounds", type=int, default=2, help="measurements of each side; medians are printed"
    )
    parser.add_argument("--kv-cache-gib", type=float, default=2.0)
    # Internal: the child process that measures the offline side.
    parser.add_argument("--offline-chunk", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--offline-out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    from evals.models import ensure_available, resolve_model
    from evals.models.tiny import build_tiny_model

    concurrencies = [int(c) for c in args.concurrency.split(",")]
    sides = 1 + len(concurrencies)
    n, warm = args.limit, 8
    with tempfile.TemporaryDirectory() as tmp:
        if args.model is None:  # the tiny model is rebuilt byte-identical, in the child too
            args.model = str(build_tiny_model(Path(tmp) / "tiny", seed=0))
        model = str(ensure_available(resolve_model(args.model)).path_or_id)
        needed = warm * 2 + n * sides * args.rounds
        pool = build_requests(args.task, needed, args.max_tokens, args.data_dir)
        if len(pool) < needed:
            sys.exit(f"{args.task} has {len(pool)} items; {needed} needed")
        chunks = [pool[warm * 2 + i * n : warm * 2 + (i + 1) * n] for i in range(sides * args.rounds)]
        if args.offline_out is not None:
            result = offline(model, pool[:warm], chunks[args.offline_chunk], args.kv_cache_gib)
            args.offline_out.write_text(json.dumps(result))
            return
        times: dict[str, list[tuple[float, int]]] = {}
        with vllm_server(model, args.kv_cache_gib) as url:
            served(url, model, pool[warm : warm * 2], 8)  # warm-up
            for round_index in range(args.rounds):  # sides alternate, so drift hits all of them
                first = round_index * sides
                times.setdefault("offline vllm.LLM", []).append(offline_in_child(first))
                for offset, concurrency in enumerate(concurrencies, start=1):
                    measured = served(url, model, chunks[first + offset], concurrency)
                    times.setdefault(f"vllm serve, C={concurrency}", []).append(measured)
    print_table(args, n, times)


def print_table(args: argparse.Namespace, n: int, times: dict[str, list[tuple[float, int]]]) -> None:
    medians = {side: (statistics.median(n / s for s, _ in runs), statistics.median(t / s for s, t in runs))
               for side, runs in times.items()}  # fmt: skip
    base_rate, base_tokens = medians["offline vllm.LLM"]
    print(f"model {Path(args.model).name}, task {args.task}, {n} greedy prompts each, max "
          f"{args.max_tokens} tokens, {args.rounds} rounds (medians), {os.cpu_count()} cores")  # fmt: skip
    print(f"{'side':<20}{'items/s':>9}{'tokens/s':>10}{'ratio':>7}{'tok ratio':>10}   items/s per round")
    for side, (rate, token_rate) in medians.items():
        rounds = " ".join(f"{n / seconds:.2f}" for seconds, _ in times[side])
        print(f"{side:<20}{rate:>9.2f}{token_rate:>10.1f}{rate / base_rate:>7.2f}"
              f"{token_rate / base_tokens:>10.2f}   {rounds}")  # fmt: skip


if __name__ == "__main__":
    main()
