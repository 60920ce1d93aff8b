"""Reasoning controls of served models against a stdlib server on 127.0.0.1 (issue 12, part 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml
from backend_helpers import run_evals
from fake_chat_server import FakeChatServer, Reply, Seen, ok

from evals.generation.controls import RequestControls, with_controls

BASE = {"model": "m", "messages": [], "max_tokens": 64, "temperature": 0.6, "top_p": 1.0, "stream": False}

# source: issue 12 part 5; OpenAI's reasoning models take max_completion_tokens and reasoning_effort,
# vLLM/SGLang read chat_template_kwargs; extra_body is sent as given and wins over everything.
CONTROL_CASES = [
    (RequestControls(), True, BASE),
    (RequestControls(max_completion_tokens=True), True,
     {**{k: v for k, v in BASE.items() if k != "max_tokens"}, "max_completion_tokens": 64}),
    (RequestControls(reasoning_effort="low", chat_template_kwargs={"enable_thinking": True}), True,
     {**BASE, "reasoning_effort": "low", "chat_template_kwargs": {"enable_thinking": True}}),
    (RequestControls(extra_body={"top_k": 20, "temperature": 0.0}), True, {**BASE, "top_k": 20, "temperature": 0.0}),
    (RequestControls(), False, {k: v for k, v in BASE.items() if k != "temperature"}),
]  # fmt: skip


def test_controls_shape_the_request_body() -> None:
    for controls, send_temperature, expected in CONTROL_CASES:
        assert with_controls(BASE, controls, send_temperature) == expected


def refuses_temperature(seen: Seen) -> Reply:
    if "temperature" in seen.payload:
        message = {
            "error": {"message": "Unsupported parameter: 'temperature' is not supported with this model."}
        }
        return Reply(400, json.dumps(message).encode())
    return ok(seen)


def write_suite(path: Path, base_url: str, generation: dict[str, object]) -> Path:
    suite = {
        "name": "controls",
        "models": [{"name": "api", "model": "o-mini", "backend": "openai", "generation": generation,
                    "server": {"base_url": base_url, "max_retries": 0, "max_concurrency": 1}}],
        "tasks": ["arith-easy"],
        "limit": 5,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(suite))
    return path


def test_a_server_refusing_temperature_gets_requests_without_it_after_the_first(tmp_path: Path) -> None:
    generation = {"max_completion_tokens": 200, "reasoning_effort": "high",
                  "chat_template_kwargs": {"enable_thinking": True}, "extra_body": {"store": False}}  # fmt: skip
    out = tmp_path / "run"
    with FakeChatServer(refuses_temperature) as server:
        suite = write_suite(tmp_path / "suite.yaml", server.url, generation)
        result = run_evals(["run", "--config", str(suite), "--out", str(out), "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("refuses temperature") == 1
    with_temperature = [s for s in server.seen if "temperature" in s.payload]
    assert len(with_temperature) == 1 and len(server.seen) == 6  # one refusal, then 5 answered
    for seen in server.seen:
        assert seen.payload["max_completion_tokens"] == 200 and "max_tokens" not in seen.payload
        assert seen.payload["reasoning_effort"] == "high" and seen.payload["store"] is False
        assert seen.payload["chat_template_kwargs"] == {"enable_thinking": True}
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 5 and samples.error.isna().all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sent"]["api"]["temperature_refused"] is True
    assert "temperature" not in manifest["sent"]["api"]["fields"]
    assert "max_completion_tokens" in manifest["sent"]["api"]["fields"]
    assert manifest["models"]["api"]["generation"]["extra_body"] == {"store": False}


def test_chat_template_kwargs_reach_the_chat_template_offline(tiny_model: Path) -> None:
    from transformers import AutoTokenizer

    from evals.generation.render import render_prompt
    from evals.records import ChatMessage, Item, Prompt

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    # source: the shape of Qwen3's template: enable_thinking decides whether a think block opens.
    tokenizer.chat_template = (
        "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}<|assistant|>"
        "{% if enable_thinking is defined and enable_thinking %}<think>\n{% endif %}"
    )
    prompt = Prompt(Item("t", "1", "q", "1", "number"), (ChatMessage("user", "2+2?"),))
    assert render_prompt(tokenizer, prompt).text.endswith("<|assistant|>")
    thinking = render_prompt(tokenizer, prompt, {"enable_thinking": True})
    assert thinking.text.endswith("<|assistant|><think>\n")
    assert len(thinking.token_ids) > len(render_prompt(tokenizer, prompt).token_ids)
