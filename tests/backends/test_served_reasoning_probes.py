"""Budget probes of a served model that returns its reasoning in a separate field: a real
``vllm serve --reasoning-parser deepseek_r1`` on 127.0.0.1 (tiny model with ``<think>`` tokens,
a chat template that opens the think block as R1's does).

The random model never closes its think block, so the server returns everything it wrote as
``reasoning`` and no content. The budget cut must count those reasoning tokens (the old probes
cut the empty visible answer: prompt + closing only).

source: issue 12 ("probes cut only the visible answer, so budget figures are meaningless").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from backend_helpers import run_evals
from vllm_server import VllmServer, running

pytestmark = pytest.mark.vllm

OPEN_THINK_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n<think>\\n' }}{% endif %}"
)


@pytest.fixture(scope="module")
def think_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from evals.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-think") / "model", seed=0, think_tokens=True)


@pytest.fixture(scope="module")
def reasoning_server(think_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    folder = tmp_path_factory.mktemp("vllm-serve-reasoning")
    (folder / "template.jinja").write_text(OPEN_THINK_TEMPLATE)
    extra = ("--reasoning-parser", "deepseek_r1", "--chat-template", str(folder / "template.jinja"))
    with running(VllmServer(think_model, folder / "server.log", *extra)) as server:
        yield server


def test_probes_cut_reasoning_returned_in_its_own_field(
    reasoning_server: VllmServer, think_model: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    out = tmp_path / "run"
    args = ["run", "--model", str(think_model), "--task", "arith-easy", "--limit", "4", "--max-tokens", "24",
            "--budgets", "8,16", "--backend", "openai", "--base-url", reasoning_server.url,
            "--out", str(out), "--json"]  # fmt: skip
    result = run_evals(args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    samples = pd.read_parquet(out / "samples.parquet").set_index("item_id")
    assert samples.reasoning.str.len().gt(0).all(), "the server returned no separate reasoning"
    probes = pd.read_parquet(out / "probes.parquet")
    budget_probes = probes[probes.kind == "budget"]
    assert len(budget_probes) == sum(b < n for n in samples.completion_tokens for b in (8, 16)) > 0
    assert probes.error.isna().all()

    tokenizer = AutoTokenizer.from_pretrained(think_model)
    kept_lengths = []
    for probe in budget_probes.itertuples():
        sample = samples.loc[probe.item_id]
        answer = f"</think>{sample.output}" if sample.output else ""
        written = tokenizer(sample.reasoning + answer, add_special_tokens=False)["input_ids"]
        kept = written[: probe.budget]
        closing = len(tokenizer(probe.closing, add_special_tokens=False)["input_ids"])
        # prompt (think block opened by the template) + the first b reasoning tokens + closing
        assert probe.prompt_tokens == sample.prompt_tokens + len(kept) + closing
        if "</think>" not in tokenizer.decode(kept):
            assert probe.closing.startswith("\n</think>")  # cut inside the reasoning: closed first
        kept_lengths.append(len(kept))
    assert sum(kept_lengths) > 0 and max(kept_lengths) == 16
