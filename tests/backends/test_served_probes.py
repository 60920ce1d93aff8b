"""Budget probes of a served model through a real ``vllm serve``'s completions endpoint (tiny model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from backend_helpers import run_evals
from vllm_server import VllmServer

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def served(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    server = VllmServer(tiny_model, tmp_path_factory.mktemp("vllm-serve") / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_probes_through_the_completions_endpoint(
    served: VllmServer, tiny_model: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    out = tmp_path / "run"
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "4", "--max-tokens", "24",
            "--budgets", "8,16", "--backend", "openai", "--base-url", served.url, "--out", str(out), "--json"]  # fmt: skip
    result = run_evals(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    samples = pd.read_parquet(out / "samples.parquet")
    probes = pd.read_parquet(out / "probes.parquet")
    wanted = sum(b < n for n in samples.completion_tokens for b in (8, 16))
    assert (probes.kind == "budget").sum() == wanted > 0 and probes.error.isna().all()
    # Each probe prompt: the server's prompt ids + b answer ids + the closing text's ids.
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    prompt_tokens = dict(zip(samples.item_id, samples.prompt_tokens, strict=True))
    for probe in probes.itertuples():
        closing = len(tokenizer(probe.closing, add_special_tokens=False)["input_ids"])
        assert probe.prompt_tokens == prompt_tokens[probe.item_id] + probe.budget + closing
        assert 0 < probe.completion_tokens <= 32
    rows = {row["budget"]: row for row in json.loads(result.stdout)["summary"]}
    assert sorted(rows, key=lambda b: b or 0) == [None, 8, 16]
    again = run_evals(args, cwd=tmp_path)
    assert again.returncode == 0 and json.loads(again.stdout)["probed"] == 0
