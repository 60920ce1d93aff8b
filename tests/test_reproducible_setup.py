"""What `--reproducible` changes in the engine setup, and where it says it cannot deliver.

source: issue 14; the CPU choices were measured with SmolLM2 on gsm8k (README, "Reproducible
outputs"): one thread, no prefix cache, float32 batched or bf16 one sequence at a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.commands.run import _all_reproducible
from evals.generation.vllm_backend import reproducibility_note, resolve_engine_setup
from evals.suite import EngineSpec, parse_suite

# (case, spec, on_gpu, expected fields of the setup)
SETUPS = [
    ("default CPU: fastest, untouched", EngineSpec(), False,
     {"reproducible": False, "threads": None, "prefix_caching": None, "dtype": "bfloat16", "max_num_seqs": None}),
    ("reproducible CPU: float32, batched", EngineSpec(reproducible=True), False,
     {"reproducible": True, "threads": 1, "prefix_caching": False, "dtype": "float32", "max_num_seqs": None,
      "in_process": True}),
    ("reproducible CPU in bf16: each sequence alone", EngineSpec(reproducible=True, dtype="bfloat16"), False,
     {"dtype": "bfloat16", "max_num_seqs": 1, "threads": 1}),
    ("reproducible CPU, separate process asked: in-process to pin threads",
     EngineSpec(reproducible=True, in_process=False), False, {"in_process": True}),
    ("reproducible GPU: vLLM's batch-invariant mode", EngineSpec(reproducible=True), True,
     {"batch_invariant_env": True, "prefix_caching": False, "threads": None, "dtype": "auto"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spec", "on_gpu", "expected"), SETUPS, ids=[s[0] for s in SETUPS])
def test_engine_setup(case: str, spec: EngineSpec, on_gpu: bool, expected: dict[str, object]) -> None:
    setup = vars(resolve_engine_setup(spec, on_gpu))
    assert {key: setup[key] for key in expected} == expected, case


# (backend, on_gpu, reproducible, says something)
NOTES = [("vllm", False, True, False), ("vllm", True, True, True), ("hf", False, True, True),
         ("openai", False, True, True), ("vllm", True, False, False), ("hf", False, False, False)]  # fmt: skip


@pytest.mark.parametrize(("backend", "on_gpu", "reproducible", "says"), NOTES)
def test_one_line_where_it_cannot_be_given(
    backend: str, on_gpu: bool, reproducible: bool, says: bool
) -> None:
    note = reproducibility_note(EngineSpec(reproducible=reproducible), backend, on_gpu)
    assert (note is not None) is says
    assert note is None or "\n" not in note


def test_flag_sets_every_model_of_a_suite_file(tmp_path: Path) -> None:
    data = {"models": [{"model": "a"}, {"model": "b", "engine": {"dtype": "float16"}}], "tasks": ["gsm8k"]}
    suite = parse_suite(data, "t")
    changed = parse_suite(_all_reproducible(data), "t")
    assert [m.engine.reproducible for m in changed.models] == [True, True]
    assert changed.models[1].engine.dtype == "float16"
    assert changed.config_hash() != suite.config_hash()  # a reproducible run has its own directory
