"""``evals run --backend openai`` as a user runs it, against a scripted server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from backend_helpers import free_port, run_evals
from fake_chat_server import FakeChatServer, Reply, Seen, ok

KEY = "sk-evals-test-7f3a9c1e5b"
KEY_ENV = "EVALS_TEST_API_KEY"


def write_suite(path: Path, base_url: str, **server: object) -> Path:
    suite = {
        "name": "api-test",
        "models": [{"name": "fake-api", "model": "deepseek-chat", "backend": "openai",
                    "server": {"base_url": base_url, "max_retries": 1, **server}}],
        "tasks": ["arith-easy"],
        "limit": 6,
    }  # fmt: skip
    path.write_text(yaml.safe_dump(suite))
    return path


def test_api_run_prices_by_tokens_stores_a_failed_item_and_never_writes_the_key(tmp_path: Path) -> None:
    questions: list[str] = []

    def script(seen: Seen) -> Reply:
        if seen.question not in questions:
            questions.append(seen.question)
        if seen.question == questions[0]:  # the first item asked: its 400 echoes the key
            return Reply(400, json.dumps({"error": {"message": f"rejected {seen.authorization}"}}).encode())
        return ok(seen)

    out = tmp_path / "run"
    with FakeChatServer(script) as server:
        suite = write_suite(tmp_path / "suite.yaml", server.url, api_key_env=KEY_ENV, price="deepseek-chat",
                            max_concurrency=1)  # fmt: skip
        result = run_evals(["run", "--config", str(suite), "--out", str(out), "--json"], cwd=tmp_path,
                         env={KEY_ENV: KEY})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {s.authorization for s in server.seen} == {f"Bearer {KEY}"}  # the key did reach the server

    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 6 and not samples.duplicated(["item_id", "sample_idx"]).any()
    failed = samples[samples.status == "error"]
    assert len(failed) == 1 and failed.error.iloc[0] == "HTTP 400: rejected Bearer ***"
    answered = samples[samples.status != "error"]
    assert (answered.prompt_tokens == 10).all() and (answered.completion_tokens == 5).all()
    assert answered.prompt.str.startswith("[user]\n").all()

    summary = json.loads(result.stdout)["summary"][0]
    assert summary["cost_basis"].startswith("deepseek-chat @ $0.2700/M input, $1.1000/M output")
    assert summary["cost_per_answer_usd"] == pytest.approx((10 * 0.27 + 5 * 1.10) / 1e6)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"]["fake-api"]["kind"] == "api"
    assert manifest["config"]["models"][0]["server"]["api_key_env"] == KEY_ENV

    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in result.stdout and KEY not in result.stderr


def test_a_server_that_is_down_ends_the_run_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    out = tmp_path / "run"
    result = run_evals(["run", "--config", str(write_suite(tmp_path / "s.yaml", url)), "--out", str(out),
                      "--quiet"], cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evals: error: ")
    assert url in lines[0] and "no request succeeded" in lines[0]
    assert not list(out.glob("parts/*/*/part-*.parquet")) and not (out / "samples.parquet").exists()


def test_a_missing_key_variable_is_a_config_error_naming_the_field(tmp_path: Path) -> None:
    suite = write_suite(tmp_path / "s.yaml", "http://127.0.0.1:9/v1", api_key_env="EVALS_TEST_UNSET_KEY")
    result = run_evals(["run", "--config", str(suite), "--quiet"], cwd=tmp_path)
    assert result.returncode == 2
    assert (
        "models.0.server.api_key_env: environment variable EVALS_TEST_UNSET_KEY is not set" in result.stderr
    )
