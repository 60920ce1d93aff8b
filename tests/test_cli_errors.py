"""Bad input ends with one clear line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _setup_missing_field(tmp: Path) -> list[str]:
    rows = [{"question": "1+1?", "answer": "#### 2"}, {"question": "2+2?"}]
    _write(tmp / "data" / "gsm8k" / "test.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    return ["--data-dir", str(tmp / "data")]


def _setup_config(text: str) -> object:
    def setup(tmp: Path) -> list[str]:
        return ["--config", str(_write(tmp / "suite.yaml", text))]

    return setup


def _setup_model_dir_without_config(tmp: Path) -> list[str]:
    (tmp / "empty-model").mkdir()
    return []


CASES = [
    # (id, extra args, setup -> more args, expected substrings of the one error line)
    ("unknown task", ["--model", "smollm2-135m", "--task", "gsm8kk"], None, ["gsm8kk", "gsm8k"]),
    ("unknown model alias", ["--model", "smollm2-13m", "--task", "gsm8k"], None, ["smollm2-13m", "smollm2-135m"]),
    ("missing model dir", ["--model", "./no-such-model", "--task", "gsm8k"], None, ["no-such-model"]),
    ("model dir without config.json", ["--model", "./empty-model", "--task", "gsm8k"],
     _setup_model_dir_without_config, ["config.json"]),
    ("limit 0", ["--model", "smollm2-135m", "--task", "gsm8k", "--limit", "0"], None, ["--limit"]),
    ("negative samples", ["--model", "smollm2-135m", "--task", "gsm8k", "--samples", "-1"], None, ["--samples"]),
    ("missing data file", ["--model", "smollm2-135m", "--task", "gsm8k", "--data-dir", "."], None,
     ["gsm8k", "test.jsonl"]),
    ("missing data dir", ["--model", "smollm2-135m", "--task", "gsm8k", "--data-dir", "nowhere"], None,
     ["nowhere"]),
    ("record missing a field", ["--model", "smollm2-135m", "--task", "gsm8k"], _setup_missing_field,
     ["answer"]),
    ("malformed yaml", [], _setup_config("models:\n  - model: a\n tasks: [x\n"), ["suite.yaml", "line"]),
    ("invalid yaml, every problem at once", [],
     _setup_config("models:\n  - model: smollm2-13m\n    colour: red\ntasks: [gsm8kk]\nlimit: 0\n"),
     ["colour", "limit"]),
    ("unknown names in a valid yaml, all at once", [],
     _setup_config("models:\n  - model: smollm2-13m\ntasks: [gsm8kk, math500]\n"),
     ["smollm2-13m", "gsm8kk"]),
    ("missing config file", ["--config", "no-such-suite.yaml"], None, ["no-such-suite.yaml"]),
    ("config and flags", ["--config", "default", "--model", "x"], None, ["--config"]),
    ("unknown flag", ["--modle", "x"], None, ["--modle"]),
    # issue 13: stopping rules are checked before any engine starts
    ("until ci=0", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "ci=0"], None,
     ["--until", "ci=0", "0 < W"]),
    ("until ci=2", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "ci=2"], None,
     ["--until", "ci=2", "0 < W"]),
    ("until ci=abc", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "ci=abc"], None,
     ["--until", "number"]),
    ("unknown until rule", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "sometimes"], None,
     ["--until", "unknown rule 'sometimes'", "decided"]),
    ("margin without until", ["--model", "smollm2-135m", "--task", "arith-easy", "--margin", "0.01"], None,
     ["--margin", "decided"]),
    ("margin with until ci", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "ci=0.05",
                              "--margin", "0.01"], None, ["--margin", "decided"]),
    ("decided with one model", ["--model", "smollm2-135m", "--task", "arith-easy", "--until", "decided"], None,
     ["decided", "two"]),
    ("negative max-usd", ["--model", "smollm2-135m", "--task", "arith-easy", "--max-usd", "-1"], None,
     ["--max-usd"]),
    ("margin on a suite without until", ["--margin", "0.01"],
     _setup_config("models:\n  - model: smollm2-135m\ntasks: [arith-easy]\n"), ["--margin", "decided"]),
    ("unknown until rule in a suite file", [],
     _setup_config("models:\n  - model: smollm2-135m\ntasks: [arith-easy]\nuntil: soon\n"),
     ["suite.yaml", "until", "unknown rule 'soon'"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "setup", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, args: list[str], setup: object, expected: list[str]
) -> None:
    extra = setup(tmp_path) if callable(setup) else []
    out = tmp_path / "out"
    result = run_cli(["run", *args, *extra, "--out", str(out)], cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("evals: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]
    assert not out.exists()
    assert result.stdout == ""
