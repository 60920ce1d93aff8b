"""Merging runs: what is refused (one line, exit 2), what is merged, and what is warned about."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from synthetic_runs import RunWriter, outcomes, task_samples

from evals.errors import EvalsError
from evals.report import build_report, merge_runs
from evals.report.merge import load_group_samples
from tests.conftest import run_cli as run_evals


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """``python -m evals.cli ARGS`` as a user runs it: exit code, stdout, stderr."""
    done = run_evals(args, cwd=Path.cwd(), timeout=300)
    return done.returncode, done.stdout, done.stderr


def two_tasks(model: str, correct: int = 3) -> list[dict[str, object]]:
    return task_samples(model, "task-a", outcomes(4, correct)) + task_samples(model, "task-b", outcomes(4, 2))


def _missing_dir(make_run: RunWriter, root: Path) -> list[str]:
    return [str(root / "nope")]


def _a_file(make_run: RunWriter, root: Path) -> list[str]:
    (root / "file").write_text("x")
    return [str(root / "file")]


def _no_summary(make_run: RunWriter, root: Path) -> list[str]:
    run = make_run("r", two_tasks("m"))
    (run / "summary.json").unlink()
    return [str(run)]


def _no_samples(make_run: RunWriter, root: Path) -> list[str]:
    run = make_run("r", two_tasks("m"))
    (run / "samples.parquet").unlink()
    return [str(run)]


def _bad_summary(make_run: RunWriter, root: Path) -> list[str]:
    run = make_run("r", two_tasks("m"))
    (run / "summary.json").write_text('[{"model": "m"}]')
    return [str(run)]


def _stale_summary(make_run: RunWriter, root: Path) -> list[str]:
    run = make_run("r", two_tasks("m"))
    rows = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps(rows[:1]))
    return [str(run)]


def _empty_run(make_run: RunWriter, root: Path) -> list[str]:
    return [str(make_run("r", []))]


def _same_cell_twice(make_run: RunWriter, root: Path) -> list[str]:
    return [str(make_run("first", two_tasks("m"))), str(make_run("second", two_tasks("m")))]


def _same_label_other_setup(make_run: RunWriter, root: Path) -> list[str]:
    first = make_run("first", task_samples("m", "task-a", outcomes(4, 3)))
    second = make_run("second", task_samples("m", "task-b", outcomes(4, 3)))
    manifest = json.loads((second / "manifest.json").read_text())
    manifest["models"]["m"]["generation"]["temperature"] = 0.7
    (second / "manifest.json").write_text(json.dumps(manifest))
    return [str(first), str(second)]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (_missing_dir, "run directory .*nope does not exist"),
        (_a_file, "file is not a run directory"),
        (_no_summary, "has no summary.json: not a finished run"),
        (_no_samples, "has no samples.parquet: not a finished run"),
        (_bad_summary, "is not a summary of this version"),
        (_stale_summary, "summary.json and samples.parquet disagree on \\(model, task\\) m/task-b"),
        (_empty_run, "nothing to report"),
        (_same_cell_twice, "model 'm' on task 'task-a' is in two runs, first and second"),
        (_same_label_other_setup, "model label 'm' is in runs first and second with a different setup"),
    ],
)
def test_bad_runs_are_one_line_errors(
    make_run: RunWriter,
    tmp_path: Path,
    setup: Callable[[RunWriter, Path], list[str]],
    message: str,
) -> None:
    runs = setup(make_run, tmp_path)
    code, out, err = run_cli(["report", *runs, "--out", str(tmp_path / "report")])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("evals: error: ")
    assert re.search(message, err), err
    assert not (tmp_path / "report").exists()


def test_report_command_writes_the_report(make_run: RunWriter, tmp_path: Path) -> None:
    run = make_run("r", two_tasks("m") + two_tasks("n", 1))
    code, out, err = run_cli(["report", str(run), "--out", str(tmp_path / "report")])
    assert (code, err) == (0, "")
    assert out.startswith(f"report written to {tmp_path / 'report'}: index.html") and "4 sample pages" in out
    assert (tmp_path / "report" / "index.html").is_file()


def test_runs_with_different_models_and_tasks_merge(make_run: RunWriter, tmp_path: Path) -> None:
    first = make_run("first", two_tasks("m"))
    # The same setup (same manifest entry) on another task, and another model on both tasks.
    second = make_run("second", task_samples("m", "task-c", outcomes(4, 4)) + two_tasks("n")
                      + task_samples("n", "task-c", outcomes(4, 1)))  # fmt: skip
    merged = merge_runs([first, second])
    assert merged.models == ("m", "n") and merged.tasks == ("task-a", "task-b", "task-c")
    assert merged.run_of[("m", "task-a")] == "first" and merged.run_of[("m", "task-c")] == "second"
    paths = build_report([first, second], tmp_path / "report")
    row = next(r for r in json.loads(paths.json.read_text())["rows"] if r["model"] == "m")
    assert row["tasks"]["task-c"]["accuracy"]["runs"] == ["second"]
    assert row["overall"]["runs"] == ["first", "second"]


def test_without_long_text_only_the_texts_are_left_out(make_run: RunWriter) -> None:
    """source: issue 16 part 3, `evals report` held every text of a 60k-sample run (3.6 GB RSS)."""
    rows = two_tasks("m") + two_tasks("n", correct=1)
    rows[1]["reasoning"] = "a separate trace"
    run = make_run("r", rows)
    full, light = merge_runs([run]), merge_runs([run], long_text=False)
    assert light.samples[["prompt", "output", "reasoning"]].isna().all().all()
    rest = [c for c in full.samples.columns if c not in ("prompt", "output", "reasoning")]
    assert light.samples[rest].equals(full.samples[rest])
    assert full.samples["reasoning"].notna().sum() == 1


@pytest.mark.parametrize(("model", "task"), [("m", "task-a"), ("n", "task-b"), ("n", "task-z")])
def test_a_group_is_read_whole_and_alone(make_run: RunWriter, model: str, task: str) -> None:
    """source: issue 16 part 3, sample pages read one model x task's texts at a time (task-z: none)."""
    run = make_run("r", two_tasks("m") + two_tasks("n", correct=1))
    every = merge_runs([run]).samples.drop(columns="run_id")
    expected = every[(every["model"] == model) & (every["task"] == task)].reset_index(drop=True)
    assert load_group_samples(run, model, task).equals(expected)


def test_sample_pages_of_merged_runs_show_their_own_run_texts(make_run: RunWriter, tmp_path: Path) -> None:
    """source: issue 16 part 3, each page's texts are read from the run that owns its cell."""
    first = make_run("first", task_samples("m", "task-a", outcomes(3, 2), output="FIRST-RUN-TEXT"))
    second = make_run("second", task_samples("n", "task-a", outcomes(3, 1), output="SECOND-RUN-TEXT"))
    pages = {p.name: p.read_text() for p in build_report([first, second], tmp_path / "report").sample_pages}
    assert len(pages) == 2
    for name, text in pages.items():
        own, other = ("FIRST", "SECOND") if "m--" in name else ("SECOND", "FIRST")
        assert f"{own}-RUN-TEXT" in text and f"{other}-RUN-TEXT" not in text, name


def test_runs_with_the_same_directory_name_get_distinct_ids(make_run: RunWriter, tmp_path: Path) -> None:
    first = make_run("x/run", two_tasks("m"))
    second = make_run("y/run", two_tasks("n"))
    assert [run.run_id for run in merge_runs([first, second]).runs] == ["run", "run-2"]


def _rescored(make_run: RunWriter) -> list[Path]:
    return [make_run("first", two_tasks("m")), make_run("second", two_tasks("n"), scorer_version="test-2")]


def _other_items(make_run: RunWriter) -> list[Path]:
    other = task_samples("n", "task-a", outcomes(4, 3)) + task_samples("n", "task-b", outcomes(5, 2))
    return [make_run("first", two_tasks("m")), make_run("second", other)]


def _other_max_tokens(make_run: RunWriter) -> list[Path]:
    second = make_run("second", two_tasks("n"))
    manifest = json.loads((second / "manifest.json").read_text())
    manifest["tasks"]["task-a"]["max_tokens"] = 4096
    (second / "manifest.json").write_text(json.dumps(manifest))
    return [make_run("first", two_tasks("m")), second]


def _no_manifest(make_run: RunWriter) -> list[Path]:
    return [make_run("first", two_tasks("m")), make_run("second", two_tasks("n"), manifest=None)]


def _missing_task(make_run: RunWriter) -> list[Path]:
    return [make_run("first", two_tasks("m") + task_samples("n", "task-a", outcomes(4, 1)))]


@pytest.mark.parametrize(
    ("setup", "warnings"),
    [
        (_rescored, ["runs have different scorer versions (first: test-1, second: test-2)"]),
        (
            _other_items,
            ["task task-b: runs differ in item_ids_sha256",
             "task task-b: runs differ in n_items (first: 4, second: 5)",
             "task task-b: models answered different items (m: 4, n: 5; 4 in common)"],
        ),
        (_other_max_tokens, ["task task-a: runs differ in max_tokens (first: 512, second: 4096)"]),
        (_no_manifest, ["run second has no manifest.json: its item sets and scorer version cannot be"]),
        (_missing_task, ["model n has no result for task(s) task-b: its overall score, rank and aggregate"]),
    ],
)  # fmt: skip
def test_incomparable_runs_warn_and_fail_with_strict(
    make_run: RunWriter,
    tmp_path: Path,
    setup: Callable[[RunWriter], list[Path]],
    warnings: list[str],
) -> None:
    runs = setup(make_run)
    merged = merge_runs(runs)
    assert len(merged.warnings) == len(warnings)
    for expected, got in zip(warnings, merged.warnings, strict=True):
        assert got.startswith(expected), got
    code, _, err = run_cli(["report", *map(str, runs), "--out", str(tmp_path / "report")])
    assert code == 0 and err.count("evals: warning: ") == len(warnings)
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'id="warnings"' in page
    code, out, err = run_cli(["report", *map(str, runs), "--out", str(tmp_path / "strict"), "--strict"])
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("evals: error: runs are not comparable (--strict): ")
    assert not (tmp_path / "strict").exists()


def test_comparable_runs_have_no_warning(make_run: RunWriter) -> None:
    assert merge_runs([make_run("first", two_tasks("m")), make_run("second", two_tasks("n"))]).warnings == ()


def test_an_existing_unrelated_directory_is_never_replaced(make_run: RunWriter, tmp_path: Path) -> None:
    run = make_run("r", two_tasks("m"))
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(EvalsError, match="refusing to replace .*precious: it is not empty"):
        build_report([run], precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    first = build_report([run], tmp_path / "report")
    (first.root / "stale.html").write_text("from an older report")
    build_report([run], tmp_path / "report")  # an earlier report is replaced as a whole
    assert not (tmp_path / "report" / "stale.html").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_redact_options_do_not_combine(make_run: RunWriter, tmp_path: Path) -> None:
    run = str(make_run("r", two_tasks("m")))
    code, _, err = run_cli(
        ["report", run, "--out", str(tmp_path / "o"), "--redact-prompts", "--redact-task", "x"]
    )
    assert code == 2 and "--redact-task goes with neither" in err
    both = ["--redact-prompts", "--no-redact-prompts"]
    code, _, err = run_cli(["report", run, "--out", str(tmp_path / "o"), *both])
    assert code == 2 and "not allowed with argument" in err
