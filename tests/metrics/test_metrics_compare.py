"""``evals compare`` on a run folder holding a real samples.parquet."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from evals.commands import compare
from evals.errors import EvalsError


def run_compare(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    compare.register(parser.add_subparsers())
    args = parser.parse_args(["compare", *argv])
    return int(args.handler(args))


@pytest.fixture
def run_dir(tmp_path: Path, make_grid: Callable[..., pd.DataFrame]) -> Path:
    frames = [
        make_grid([[True], [True], [False], [True]], "big", "gsm8k"),
        make_grid([[False], [True], [False], [False]], "small", "gsm8k"),
        make_grid([[True, True], [True, False]], "big", "math500"),
        make_grid([[True, False], [False, False]], "small", "math500"),
        make_grid([[True]], "other", "aime2024"),
    ]
    pd.concat(frames, ignore_index=True).to_parquet(tmp_path / "samples.parquet")
    return tmp_path


def test_table_has_one_line_per_shared_task_then_pooled(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_compare([str(run_dir), "--a", "big", "--b", "small"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("A = big, B = small")
    assert [line.split()[0] for line in lines[2:]] == ["gsm8k", "math500", "all"]
    gsm8k = lines[2].split()
    assert gsm8k[1:5] == ["4", "75.0", "25.0", "+50.0"] and "paired t" in lines[2]


def test_json_for_one_task(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_compare([str(run_dir), "--a", "small", "--b", "big", "--task", "math500", "--json"])
    (result,) = json.loads(capsys.readouterr().out)
    # both items a half point behind: no spread to scale a t by, so no interval and no p-value
    assert (result["task"], result["difference"], result["test"], result["p_value"]) == (
        "math500",
        -0.5,
        None,
        None,
    )
    assert result["note"] == "every common item has the same difference: no interval"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--a", "big", "--b", "smal"], "no samples for model 'smal'", id="typo in a model"),
        pytest.param(["--a", "big", "--b", "other"], "share no task", id="no common task"),
        pytest.param(
            ["--a", "big", "--b", "small", "--task", "gsm"], "no samples for task 'gsm'", id="bad task"
        ),
        pytest.param(["--a", "big", "--b", "small", "--n-bootstrap", "0"], "at least 1", id="no replicates"),
    ],
)
def test_user_errors(run_dir: Path, argv: list[str], message: str) -> None:
    with pytest.raises(EvalsError, match=message):
        run_compare([str(run_dir), *argv])


def test_not_a_run_folder(tmp_path: Path) -> None:
    with pytest.raises(EvalsError, match="no samples.parquet in"):
        run_compare([str(tmp_path), "--a", "x", "--b", "y"])
