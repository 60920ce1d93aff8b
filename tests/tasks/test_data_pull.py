"""``evals data pull``: Hub datasets into DIR/<task>/test.jsonl, loading as the Hub copy does.

No Hub here: the "Hub" copies are local dataset folders (a README with ``configs:``, which
``datasets.load_dataset`` reads like a Hub repository) built from the benchmark fixtures,
named by task YAMLs that are the built-in ones with only their name and ``hub.path`` changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.errors import EvalsError
from evals.tasks import load_task
from evals.tasks.loader import PULLED_MARKER
from evals.tasks.registry import builtin_task_dir
from tests.conftest import FIXTURE_DATA, run_cli

OFFLINE = {"HF_HUB_OFFLINE": "1"}  # same answer with or without a network, and fast


@pytest.fixture(autouse=True)
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Offline, with a datasets cache per test (it keys local folders by their name)."""
    import datasets

    cache = tmp_path / "hf-datasets-cache"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(cache))
    return {**OFFLINE, "HF_DATASETS_CACHE": str(cache)}


def _fixture_rows(task: str) -> list[dict[str, Any]]:
    lines = (FIXTURE_DATA / task / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _hub_copy(root: Path, configs: dict[str, list[dict[str, Any]]], split: str) -> Path:
    """A local dataset folder with one config per entry, each with one split."""
    lines = ["---", "configs:"]
    for config, rows in configs.items():
        (root / config).mkdir(parents=True)
        text = "".join(json.dumps(row) + "\n" for row in rows)
        (root / config / f"{split}.jsonl").write_text(text, encoding="utf-8")
        lines += [f"- config_name: {config}", "  data_files:", f"  - split: {split}", f"    path: {config}/{split}.jsonl"]  # fmt: skip
    (root / "README.md").write_text("\n".join([*lines, "---", ""]), encoding="utf-8")
    return root


def _task_like(builtin: str, task_dir: Path, hub_path: Path) -> str:
    """A copy of a built-in task YAML whose Hub copy is ``hub_path``; returns its name."""
    spec = yaml.safe_load((builtin_task_dir() / f"{builtin}.yaml").read_text(encoding="utf-8"))
    name = f"pulled-{builtin}"
    spec["name"] = name
    spec["dataset"]["local_file"] = f"{name}/test.jsonl"
    spec["dataset"]["hub"]["path"] = str(hub_path)
    task_dir.mkdir(exist_ok=True)
    (task_dir / f"{name}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return name


def _gsm8k() -> tuple[str, dict[str, list[dict[str, Any]]]]:
    return "gsm8k", {"main": _fixture_rows("gsm8k")}  # openai/gsm8k: config "main", same fields


def _math() -> tuple[str, dict[str, list[dict[str, Any]]]]:
    # The Hub copy of MATH has no unique_id: the task reads it with its own hub.fields.
    rows = [{key: value for key, value in row.items() if key != "unique_id"} for row in _fixture_rows("math")]
    return "math", {"default": rows}  # math.yaml names no config: the default one loads


def _bbh() -> tuple[str, dict[str, list[dict[str, Any]]]]:
    # lukaemon/bbh: one config per subtask, rows without the "task" field.
    configs: dict[str, list[dict[str, Any]]] = {}
    for row in _fixture_rows("bbh"):
        configs.setdefault(row.pop("task"), []).append(row)
    return "bbh", configs


HUB_COPIES = [_gsm8k, _math, _bbh]


@pytest.mark.parametrize("hub_copy", HUB_COPIES, ids=[f.__name__.strip("_") for f in HUB_COPIES])
def test_pulled_files_load_the_items_of_the_hub_copy(
    hub_copy: Any, hub_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builtin, configs = hub_copy()
    split = yaml.safe_load((builtin_task_dir() / f"{builtin}.yaml").read_text())["dataset"]["hub"]["split"]
    hub = _hub_copy(tmp_path / "hub", configs, split)
    name = _task_like(builtin, tmp_path / "tasks", hub)
    out = tmp_path / "data"
    args = ["data", "pull", name, "--task-dir", str(tmp_path / "tasks"), "--to", str(out)]
    result = run_cli(args, cwd=tmp_path, env=hub_env)
    assert result.returncode == 0, result.stderr
    rows = sum(len(rows) for rows in configs.values())
    assert result.stdout.startswith(f"{name}: {rows} items from hub:{hub} -> {out / name / 'test.jsonl'}")
    assert sorted(path.name for path in (out / name).iterdir()) == [PULLED_MARKER, "test.jsonl"]

    monkeypatch.delenv("EVALS_DATA_DIR", raising=False)
    from_hub = load_task(name, extra_dirs=[tmp_path / "tasks"])
    pulled = load_task(name, data_dir=out, extra_dirs=[tmp_path / "tasks"])
    assert pulled.items == from_hub.items and len(pulled.items) == rows
    assert pulled.source == str(out / name / "test.jsonl")


def test_without_its_marker_a_hub_layout_file_is_refused(hub_env: dict[str, str], tmp_path: Path) -> None:
    """The marker is what makes MATH's Hub layout readable: without it, one clear error."""
    _, configs = _math()
    (tmp_path / "hub").mkdir()
    (tmp_path / "hub" / "test.jsonl").write_text(json.dumps(configs["default"][0]) + "\n", encoding="utf-8")
    name = _task_like("math", tmp_path / "tasks", tmp_path / "hub")
    out = tmp_path / "data"
    args = ["data", "pull", name, "--task-dir", str(tmp_path / "tasks"), "--to", str(out)]
    assert run_cli(args, cwd=tmp_path, env=hub_env).returncode == 0
    (out / name / PULLED_MARKER).unlink()
    with pytest.raises(EvalsError, match="missing field 'unique_id'"):
        load_task(name, data_dir=out, extra_dirs=[tmp_path / "tasks"])


def test_a_hub_copy_the_task_cannot_read_writes_nothing(hub_env: dict[str, str], tmp_path: Path) -> None:
    rows = _fixture_rows("gsm8k")[:3]
    del rows[1]["answer"]
    hub = _hub_copy(tmp_path / "hub", {"main": rows}, "test")
    name = _task_like("gsm8k", tmp_path / "tasks", hub)
    out = tmp_path / "data"
    (out / name).mkdir(parents=True)
    (out / name / "test.jsonl").write_text("kept\n", encoding="utf-8")
    args = ["data", "pull", name, "--task-dir", str(tmp_path / "tasks"), "--to", str(out)]
    result = run_cli(args, cwd=tmp_path, env=hub_env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"line 2 of the records of hub:{hub}:" in result.stderr
    assert "missing field 'answer'" in result.stderr
    assert sorted(path.name for path in (out / name).iterdir()) == ["test.jsonl"]
    assert (out / name / "test.jsonl").read_text(encoding="utf-8") == "kept\n"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["gsm8", "--to", "d"], "unknown task 'gsm8' (did you mean 'gsm8k'?)"),  # source: a typo
        (["bbh:navigate", "--to", "d"], "task 'bbh:navigate': pull the whole task ('bbh')"),
        (["arith-easy", "--to", "d"], "task 'arith-easy' is generated by evals: there is no dataset"),
        (
            ["gsm8k", "mth", "--to", "d"],
            "unknown task 'mth' (did you mean 'math'?)",
        ),  # all before any download
        (["gsm8k"], "the following arguments are required: --to"),
        ([], "the following arguments are required: TASK"),
        # No Hub: the one line says what to do instead.
        (["gsm8k", "--to", "d"], "cannot load openai/gsm8k (main) split 'test' from the Hugging Face Hub"),
    ],
)
def test_bad_pulls_end_in_one_error_line(argv: list[str], expected: str, tmp_path: Path) -> None:
    result = run_cli(["data", "pull", *argv], cwd=tmp_path, env=OFFLINE)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("evals: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert expected in result.stderr
    assert not (tmp_path / "d").exists()


def test_offline_error_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli(["data", "pull", "math500", "--to", "d"], cwd=tmp_path, env=OFFLINE)
    assert "offline? run 'evals data pull' on a machine that reaches the Hub" in result.stderr
