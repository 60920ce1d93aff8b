"""Bad input ends with one clear line on stderr, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import json
import socket
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


def _setup_out_is_a_file(tmp: Path) -> list[str]:
    (tmp / "a-file").write_text("")
    return ["--out", "a-file"]


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
     ["colour", "limit", "smollm2-13m", "gsm8kk"]),
    ("unknown names in a valid yaml, all at once", [],
     _setup_config("models:\n  - model: smollm2-13m\ntasks: [gsm8kk, math500]\n"),
     ["smollm2-13m", "gsm8kk"]),
    ("missing config file", ["--config", "no-such-suite.yaml"], None, ["no-such-suite.yaml"]),
    ("unknown judge alias", ["--model", "smollm2-135m", "--task", "gsm8k", "--judge", "smollm2-13m"], None,
     ["--judge", "smollm2-135m"]),
    ("judge flags without --judge", ["--model", "smollm2-135m", "--task", "gsm8k", "--judge-all-incorrect"],
     None, ["--judge MODEL"]),
    ("negative judge sample", ["--model", "smollm2-135m", "--task", "gsm8k", "--judge", "smollm2-135m",
     "--judge-sample", "-1"], None, ["--judge-sample"]),
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
     _setup_config("models:\n  - model: smollm2-135m\ntasks: [arith-easy]\n"), ["margin", "decided"]),
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


_TASK_HINT = "list tasks with 'evals tasks'"
_MODEL_HINT = "run 'evals models' to list aliases, or pass a Hugging Face id (org/name) or a local directory"
# The whole error line of each case (issue 10 "Errors"); {tmp} is the test's folder.
PINNED = [
    ("extra key and task typo: both, with did-you-mean, no tuple noise", [],
     _setup_config("models:\n  - model: smollm2-135m\n    generation: {sample: 4}\ntasks: [arith-medum]\n"),
     "{tmp}/suite.yaml: models.0.generation.sample: unknown key (did you mean 'samples'?); "
     f"{{tmp}}/suite.yaml: unknown task 'arith-medum' (did you mean 'arith-medium'?); {_TASK_HINT}"),
    ("a wrong type does not hide an unknown model and task", [],
     _setup_config("models:\n  - model: smollm2-13m\n    generation: {samples: many}\ntasks: [gsm8kk]\n"),
     "{tmp}/suite.yaml: models.0.generation.samples: Input should be a valid integer, unable to parse "
     f"string as an integer; {{tmp}}/suite.yaml: unknown task 'gsm8kk' (did you mean 'gsm8k'?); {_TASK_HINT}; "
     f"{{tmp}}/suite.yaml: unknown model 'smollm2-13m' (did you mean 'smollm2-135m'?); {_MODEL_HINT}"),
    ("models not a list", [], _setup_config("models: 3\ntasks: [gsm8kk]\n"),
     "{tmp}/suite.yaml: models: should be a list; "
     f"{{tmp}}/suite.yaml: unknown task 'gsm8kk' (did you mean 'gsm8k'?); {_TASK_HINT}"),
    ("unknown key at the top level", [], _setup_config("model: [smollm2-135m]\ntasks: [gsm8k]\n"),
     "{tmp}/suite.yaml: models: Field required; {tmp}/suite.yaml: model: unknown key (did you mean 'models'?)"),
    ("built-in suite name typo", ["--config", "defualt"], None,
     "defualt: no such suite file or built-in suite (did you mean 'default'?)"),
    ("samples 0 names the flag only", ["--model", "smollm2-135m", "--task", "gsm8k", "--samples", "0"], None,
     "--samples: Input should be greater than or equal to 1"),
    ("bad flag value does not hide unknown names", ["--model", "smollm2-13m", "--task", "gsm8kk", "--limit", "0"],
     None, f"--limit: Input should be greater than or equal to 1; unknown task 'gsm8kk' (did you mean 'gsm8k'?); "
     f"{_TASK_HINT}; unknown model 'smollm2-13m' (did you mean 'smollm2-135m'?); {_MODEL_HINT}"),
    ("missing model folder", ["--model", "./my-local-model", "--task", "gsm8k"], None,
     "model ./my-local-model: no such directory"),
    ("model folder without config.json", ["--model", "./empty-model", "--task", "gsm8k"],
     _setup_model_dir_without_config, "model ./empty-model: no config.json in the directory"),
    ("--out is a file: checked before the model", ["--model", "./my-local-model", "--task", "gsm8k"],
     _setup_out_is_a_file, "--out a-file: exists and is not a directory"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "setup", "expected"), [c[1:] for c in PINNED], ids=[c[0] for c in PINNED])
def test_error_text_is_pinned(tmp_path: Path, args: list[str], setup: object, expected: str) -> None:
    extra = setup(tmp_path) if callable(setup) else []
    if "--out" not in extra:
        extra += ["--out", str(tmp_path / "out")]
    result = run_cli(["run", *args, *extra], cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"evals: error: {expected.format(tmp=tmp_path)}\n"
    assert not (tmp_path / "out").exists()


def test_unreachable_hub_goes_to_the_cache_without_retrying(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE unset and the Hub unreachable: offline mode at once (no ~25 s of retries)."""
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_OFFLINE": "", "HF_DATASETS_OFFLINE": "",
           "HF_HOME": str(tmp_path / "hf"), "EVALS_DATA_DIR": ""}  # fmt: skip
    result = run_cli(
        ["run", "--model", "smollm2-135m", "--task", "gsm8k"], cwd=tmp_path, env=env, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "evals: error: task 'gsm8k': cannot load openai/gsm8k (main) split 'test' from the Hugging Face Hub: "
        "Couldn't reach 'openai/gsm8k' on the Hub (OfflineModeIsEnabled) "
        "(offline? pass --data-dir DIR with DIR/gsm8k/test.jsonl)\n"
    )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        # source: issue 13 (Ray stopping not built yet); issue 12's budgets on Ray now run
        (["--until", "ci=0.1"], "--until runs on this machine's engines for now; drop --ray or --until"),
    ],
)
def test_features_not_on_ray_yet_are_refused_before_anything_is_written(
    tiny_model: Path, tmp_path: Path, flags: list[str], expected: str
) -> None:
    args = ["run", "--model", str(tiny_model), "--task", "arith-easy", "--limit", "4", "--max-tokens", "16",
            "--ray", "local", "--out", str(tmp_path / "out"), *flags]  # fmt: skip
    result = run_cli(args, cwd=tmp_path, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"evals: error: {expected}"
    assert not (tmp_path / "out").exists()
