"""Budget probes of a served model through a real ``vllm serve``'s completions endpoint (tiny model)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from backend_helpers import run_evals
from vllm_server import VllmServer, running

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def served(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    with running(VllmServer(tiny_model, tmp_path_factory.mktemp("vllm-serve") / "server.log")) as server:
        yield server


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


# A chat template that adds words only when the request's chat_template_kwargs ask for them: the
# prompt's token count then shows whether the kwargs reached the server's template.
MARKED_TEMPLATE = (
    "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}</s>{% endfor %}"
    "{% if evals_marker %}words the template adds when asked{% endif %}<|assistant|>"
)


@pytest.fixture(scope="module")
def served_with_template(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    folder = tmp_path_factory.mktemp("vllm-serve-template")
    (folder / "template.jinja").write_text(MARKED_TEMPLATE)
    with running(
        VllmServer(tiny_model, folder / "server.log", "--chat-template", str(folder / "template.jinja"))
    ) as server:
        yield server


def test_chat_template_kwargs_and_extra_body_reach_a_real_server(
    served_with_template: VllmServer, tiny_model: Path, tmp_path: Path
) -> None:
    # source: issue 12 checks ("chat_template_kwargs and extra_body reach the server")
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    only_token = tokenizer("7", add_special_tokens=False)["input_ids"][-1]
    runs = {}
    for name, generation in {
        "plain": {"max_tokens": 8},
        # vLLM's allowed_token_ids: a random model then writes nothing but that one token
        "controlled": {"max_tokens": 8, "chat_template_kwargs": {"evals_marker": True},
                       "extra_body": {"allowed_token_ids": [only_token]}},
    }.items():  # fmt: skip
        suite = {
            "name": f"controls-{name}",
            "models": [{"model": str(tiny_model), "backend": "openai", "generation": generation,
                        "server": {"base_url": served_with_template.url, "max_retries": 0}}],
            "tasks": ["arith-easy"],
            "limit": 3,
        }  # fmt: skip
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(suite))
        out = tmp_path / name
        result = run_evals(["run", "--config", str(tmp_path / f"{name}.yaml"), "--out", str(out), "--json"],
                           cwd=tmp_path)  # fmt: skip
        assert result.returncode == 0, result.stderr
        runs[name] = pd.read_parquet(out / "samples.parquet").set_index("item_id").sort_index()
    plain, controlled = runs["plain"], runs["controlled"]
    added = len(tokenizer("words the template adds when asked", add_special_tokens=False)["input_ids"])
    assert ((controlled.prompt_tokens - plain.prompt_tokens) >= added - 1).all() and added > 2
    token_text = tokenizer.decode([only_token]).strip()
    for output in controlled.output:
        assert output.strip() and set(output.replace(" ", "")) <= set(token_text), output
    assert any(set(output.replace(" ", "")) - set(token_text) for output in plain.output)
