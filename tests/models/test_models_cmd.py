"""``evals models``: the alias listing, as a table and as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from evals.commands import models_cmd
from evals.models import default_registry
from evals.models.cache import write_marker


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="evals")
    models_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", *argv])
    assert args.handler(args) == 0
    return capsys.readouterr().out


def _fake_finished_smollm2(cache: Path) -> None:
    directory = cache / "models" / "smollm2-135m"
    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    (directory / "model.safetensors").write_bytes(b"\0" * 2_000_000)
    write_marker(directory, {"weights_sha256": "0" * 64})


def test_json_lists_every_alias_with_source_and_cache_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_finished_smollm2(tmp_path)
    rows = json.loads(_run(["--json", "--cache-dir", str(tmp_path)], capsys))
    assert [row["alias"] for row in rows] == list(default_registry().aliases)
    by_alias = {row["alias"]: row for row in rows}
    smol = by_alias["smollm2-135m"]
    assert (smol["source"], smol["cached"], smol["params"]) == ("embedded:smollm2-135m", True, "135M")
    assert smol["cached_path"] == str(tmp_path / "models" / "smollm2-135m")
    directory = tmp_path / "models" / "smollm2-135m"
    assert smol["cached_bytes"] == sum(p.stat().st_size for p in directory.iterdir()) > 2_000_000
    r1 = by_alias["deepseek-r1-distill-qwen-7b"]
    assert (r1["source"], r1["reasoning"]) == ("hub:deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", True)
    assert "Hub access" in r1["notes"]


def test_table_shows_cached_size_and_thinking_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_finished_smollm2(tmp_path / "cached")
    cached = _run(["--cache-dir", str(tmp_path / "cached")], capsys).splitlines()
    empty = _run(["--cache-dir", str(tmp_path / "empty")], capsys).splitlines()
    assert cached[0].split() == ["ALIAS", "PARAMS", "SOURCE", "CACHED", "THINKS", "NOTES"]
    assert cached[1].split()[:5] == ["smollm2-135m", "135M", "embedded:smollm2-135m", "yes,", "2"]
    assert empty[1].split()[:4] == ["smollm2-135m", "135M", "embedded:smollm2-135m", "no"]
    r1_line = next(line for line in cached if line.startswith("deepseek-r1-distill-llama-70b "))
    assert " yes " in r1_line
    assert len(cached) == len(default_registry()) + 2  # header, rows, footnote
