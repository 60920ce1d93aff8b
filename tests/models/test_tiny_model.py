"""The tiny random Llama: deterministic files, loads in transformers and in real vLLM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evals.models import ensure_available, resolve_model
from evals.models.hashing import weights_sha256
from evals.models.tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


def test_same_seed_same_files_other_seed_other_weights(tiny: Path, tmp_path: Path) -> None:
    again = build_tiny_model(tmp_path / "again", seed=0)
    names = sorted(p.name for p in tiny.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= set(names)
    for name in names:
        assert (tiny / name).read_bytes() == (again / name).read_bytes(), name
    other = build_tiny_model(tmp_path / "other", seed=1)
    assert weights_sha256(other) != weights_sha256(tiny)


def test_architecture_fits_vllm_cpu(tiny: Path) -> None:
    config = json.loads((tiny / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["hidden_size"] // config["num_attention_heads"] == config["head_dim"] == 32
    assert config["max_position_embeddings"] == 1024
    assert 256 < config["vocab_size"] <= 2048


def test_tokenizer_splits_digits_and_renders_the_chat_template(tiny: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    config = json.loads((tiny / "config.json").read_text())
    assert len(tokenizer) == config["vocab_size"]
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == ("<s>", "</s>", "<pad>")
    assert tokenizer.eos_token_id == config["eos_token_id"]
    pieces = [tokenizer.convert_tokens_to_string([t]) for t in tokenizer.tokenize("has 2024 apples")]
    assert "".join(pieces) == "has 2024 apples"
    assert [p for p in pieces if p.strip().isdigit()] == ["2", "0", "2", "4"]
    rendered = tokenizer.apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+3?"}],
        add_generation_prompt=True,
        tokenize=False,
    )
    assert rendered == "<s><|system|>\nBe brief.</s>\n<|user|>\n2+3?</s>\n<|assistant|>\n"


def test_transformers_loads_and_generates(tiny: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    model: Any = AutoModelForCausalLM.from_pretrained(tiny)
    prompt = tokenizer("What is 12 plus 7?", return_tensors="pt")
    with torch.no_grad():
        output = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    new_tokens = output[0, prompt["input_ids"].shape[1] :]
    assert 1 <= len(new_tokens) <= 12
    assert len(set(new_tokens.tolist())) > 1, "greedy output should not be one repeated token"


def test_ensure_available_records_the_hash(tiny: Path, tmp_path: Path) -> None:
    ready = ensure_available(resolve_model(str(tiny)), cache_dir=tmp_path)
    assert ready.weights_sha256 == weights_sha256(tiny)
    assert ready.has_chat_template is True and ready.reasoning is False


# One engine start. Prints, per prompt, vLLM's prompt token ids and greedy output ids.
VLLM_SCRIPT = """
import json, sys
if __name__ == "__main__":
    from vllm import LLM, SamplingParams
    llm = LLM(model=sys.argv[1], dtype="bfloat16", enforce_eager=True, max_model_len=512, seed=0)
    conversations = json.loads(sys.argv[2])
    outputs = llm.chat(conversations, SamplingParams(temperature=0.0, max_tokens=16), use_tqdm=False)
    rows = [{"prompt_ids": list(o.prompt_token_ids), "ids": list(o.outputs[0].token_ids),
             "finish": o.outputs[0].finish_reason} for o in outputs]
    print("RESULT " + json.dumps(rows))
"""
CONVERSATIONS = [
    [{"role": "user", "content": "What is 12 plus 7?"}],
    [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": "3 * 4"}],
    [{"role": "user", "content": "Ana has 5 apples and gets 2 more."}],
]


@pytest.mark.vllm
def test_vllm_generates_with_the_chat_template(tiny: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    done = subprocess.run(
        [sys.executable, "-c", VLLM_SCRIPT, str(tiny), json.dumps(CONVERSATIONS)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    rows = json.loads(line.removeprefix("RESULT "))

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    for conversation, row in zip(CONVERSATIONS, rows, strict=True):
        expected_ids: Any = tokenizer.apply_chat_template(conversation, add_generation_prompt=True)
        if not isinstance(expected_ids, list):  # transformers 5 returns a BatchEncoding
            expected_ids = list(expected_ids["input_ids"])
        assert row["prompt_ids"] == expected_ids, "vLLM must render the model's own chat template"
        assert row["finish"] in ("stop", "length") and 1 <= len(row["ids"]) <= 16
        # Teacher-force vLLM's tokens through transformers in float32: each must be the
        # argmax up to bf16 noise. Near ties can flip between kernels, so exact equality
        # would be flaky; a wrong model (weights, rope, template) picks tokens far below.
        with torch.no_grad():
            logits = model(torch.tensor([expected_ids + row["ids"]])).logits[0]
        start = len(expected_ids) - 1
        for offset, token in enumerate(row["ids"]):
            position = logits[start + offset]
            gap = float(position.max() - position[token])
            assert gap <= 0.5, f"token {offset}: {gap:.2f} below transformers' choice"
