"""The transformers backend on the tiny model: prompts as vLLM renders them, padding, seeds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from backend_helpers import run_evals

from evals.generation.base import GenerationRequest, SamplingSettings, sample_seed
from evals.generation.hf_backend import HFBackend
from evals.generation.render import render_prompt
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey

QUESTIONS = (
    "What is 2 plus 3?",
    "Ana has 12 apples and gets 7 more. How many apples does Ana have now? Solve it step by step.",
    "Ben had 40 coins.",
    "What is 100 minus 1? Give the final answer as a single number on the last line, please.",
)


def requests_for(samples: int, temperature: float, max_tokens: int = 24) -> list[GenerationRequest]:
    requests = []
    for index, question in enumerate(QUESTIONS):
        item = Item("t", f"q{index}", question, "5", "number")
        prompt = Prompt(item, (ChatMessage("user", question),))
        for s in range(samples):
            sampling = SamplingSettings(temperature, 0.95, max_tokens, sample_seed(0, item.item_id, s))
            requests.append(GenerationRequest(SampleKey("m", "t", item.item_id, s), prompt, sampling))
    return requests


def generate(backend: HFBackend, requests: Sequence[GenerationRequest]) -> dict[tuple[str, int], Completion]:
    stored: list[Completion] = []
    backend.generate(requests, stored.extend)
    assert len(stored) == len(requests)
    return {(c.key.item_id, c.key.sample_idx): c for c in stored}


@pytest.fixture(scope="module")
def backends(tiny_model: Path) -> tuple[HFBackend, HFBackend]:
    """The same model with batches of 1 and of 4 (float32, as for cross-backend checks)."""
    return HFBackend(str(tiny_model), "float32", batch_size=1), HFBackend(
        str(tiny_model), "float32", batch_size=4
    )


def test_greedy_records_and_left_padding_change_nothing(
    tiny_model: Path, backends: tuple[HFBackend, ...]
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    requests = requests_for(samples=1, temperature=0.0)
    alone, batched = (generate(backend, requests) for backend in backends)
    # Prompts of different lengths share a left-padded batch: outputs equal those generated alone.
    assert {k: c.output for k, c in batched.items()} == {k: c.output for k, c in alone.items()}
    for request in requests:
        row = batched[(request.key.item_id, 0)]
        rendered = render_prompt(tokenizer, request.prompt)
        assert row.prompt_text == rendered.text and row.prompt_text.endswith("<|assistant|>\n")
        assert row.prompt_tokens == len(rendered.token_ids)
        assert 1 <= row.completion_tokens <= 24
        assert row.finish_reason == ("length" if row.completion_tokens == 24 else "stop")
        assert row.engine_seconds > 0 and row.seed == request.sampling.seed and row.error is None
        assert "</s>" not in row.output and "<pad>" not in row.output


def test_sampled_outputs_follow_their_seed_not_their_batch(backends: tuple[HFBackend, ...]) -> None:
    requests = requests_for(samples=3, temperature=1.0)
    alone, batched = (generate(backend, requests) for backend in backends)
    assert {k: c.output for k, c in batched.items()} == {k: c.output for k, c in alone.items()}
    for index in range(len(QUESTIONS)):
        assert len({batched[(f"q{index}", s)].output for s in range(3)}) > 1  # seeds differ, so do samples
    greedy = generate(backends[1], requests_for(samples=1, temperature=0.0))
    assert any(batched[(k[0], 0)].output != g.output for k, g in greedy.items())


def test_evals_run_with_the_hf_backend(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "4", "--backend", "hf",
            "--max-tokens", "12", "--out", str(out), "--json"]  # fmt: skip
    result = run_evals(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generated"] == 4
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 4 and samples.error.isna().all()
    assert samples.prompt.str.endswith("<|assistant|>\n").all()
    assert samples.completion_tokens.between(1, 12).all() and (samples.engine_seconds > 0).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["models"][0]["backend"] == "hf"


def test_budget_probes_on_the_hf_backend(tiny_model: Path, backends: tuple[HFBackend, ...]) -> None:
    """source: issue 12 (``--budgets`` with ``--backend hf`` was refused)."""
    from transformers import AutoTokenizer

    from evals.probes import PROBE_STOP, ProbeCompletion, probe_requests, stored_sample

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    requests = requests_for(samples=1, temperature=0.0, max_tokens=24)
    completions = generate(backends[0], requests)
    prompts = {r.key: r.prompt for r in requests}
    samples = [stored_sample(c, prompts[c.key]) for c in completions.values()]
    assert all(s.output_token_ids is not None for s in samples)
    closings = {("t", r.key.item_id): "\n\nThe final answer is " for r in requests}
    wanted = probe_requests(samples, (4, 8, 16), closings, 12, set())
    assert len(wanted) >= sum(b < s.completion_tokens for s in samples for b in (4, 8, 16)) > 0
    answers: dict[str, list[ProbeCompletion]] = {}
    for name, backend in zip(("alone", "batched"), backends, strict=True):
        answers[name] = []
        backend.probe(wanted, answers[name].extend)
    alone, batched = answers["alone"], answers["batched"]
    assert [p.request for p in alone] == wanted == [p.request for p in batched]
    for one, many in zip(alone, batched, strict=True):
        request = one.request
        rendered = render_prompt(tokenizer, request.prompt)
        kept = (request.output_token_ids or ())[: request.budget]
        closing = tokenizer(one.closing, add_special_tokens=False)["input_ids"]
        assert one.prompt_tokens == len(rendered.token_ids) + len(kept) + len(closing)
        assert 0 < one.completion_tokens <= 12 and PROBE_STOP[0] not in one.output
        # Greedy on the probe prompt: the same answer alone and in a left-padded batch.
        assert (many.output, many.completion_tokens, many.finish_reason) == (
            one.output, one.completion_tokens, one.finish_reason
        )  # fmt: skip


def test_evals_run_with_budgets_on_the_hf_backend(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "4", "--backend", "hf",
            "--max-tokens", "24", "--budgets", "8,16", "--out", str(out), "--json"]  # fmt: skip
    result = run_evals(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [row["budget"] for row in payload["summary"]] == [None, 8, 16]
    samples = pd.read_parquet(out / "samples.parquet")
    probes = pd.read_parquet(out / "probes.parquet")
    assert (probes.kind == "budget").sum() == sum(b < n for n in samples.completion_tokens for b in (8, 16))
    assert payload["probed"] == len(probes) > 0 and probes.error.isna().all()
