"""Publishing a report: to a directory, to a git branch (real git), to the Hub (up to the call)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from synthetic_runs import RunWriter, outcomes, sample, task_samples

from evals.errors import EvalsError
from evals.report import build_report
from evals.report.publish import (
    check_report,
    prepare_hub_upload,
    publish_to_dir,
    publish_to_git_branch,
    upload_to_hub,
)
from tests.conftest import run_cli


@pytest.fixture
def report(make_run: RunWriter, tmp_path: Path) -> Path:
    rows = task_samples("m", "task-a", outcomes(4, 3)) + task_samples("n", "task-a", outcomes(4, 1))
    return build_report([make_run("r", rows)], tmp_path / "report").root


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one commit on main, a staged change and an untracked file."""
    # No user or system git config: the publish commit must work without an identity.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for variable in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(variable, raising=False)
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "code.py").write_text("print('hi')\n")
    git(path, "add", "code.py")
    git(path, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "first")
    (path / "code.py").write_text("print('work in progress')\n")
    git(path, "add", "code.py")
    (path / "notes.txt").write_text("untracked\n")
    return path


def test_publish_to_a_directory_replaces_an_earlier_copy(report: Path, tmp_path: Path) -> None:
    target = tmp_path / "site" / "leaderboard"
    publish_to_dir(report, target)
    (target / "stale.txt").write_text("old")
    publish_to_dir(report, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in report.iterdir())
    assert (target / "index.html").read_bytes() == (report / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("report/inner", "one contains the other"),
        ("report", "one contains the other"),
        ("elsewhere", "refusing to replace .*elsewhere: it is not empty and holds no evals report"),
    ],
)
def test_publish_to_a_directory_refuses_unsafe_targets(
    report: Path, tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("keep")
    with pytest.raises(EvalsError, match=message):
        publish_to_dir(report, tmp_path / target)
    assert (tmp_path / "elsewhere" / "keep.txt").read_text() == "keep"


def test_only_built_and_redacted_reports_are_published(make_run: RunWriter, tmp_path: Path) -> None:
    with pytest.raises(EvalsError, match="does not exist"):
        check_report(tmp_path / "nothing")
    (tmp_path / "plain").mkdir()
    with pytest.raises(EvalsError, match="is not a report built by 'evals report'"):
        check_report(tmp_path / "plain")
    run = make_run(
        "gpqa", [sample("m", "gpqa_diamond", "rec1"), sample("m", "gpqa_diamond", "rec2", "incorrect")]
    )
    private = build_report([run], tmp_path / "private", redact_tasks=False).root
    with pytest.raises(EvalsError, match="holds unredacted text of gpqa_diamond; rebuild it without"):
        publish_to_dir(private, tmp_path / "public")
    with pytest.raises(EvalsError, match="unredacted"):
        prepare_hub_upload(private, "me/leaderboard")
    assert not (tmp_path / "public").exists()


def test_publish_to_a_git_branch_leaves_the_working_tree_alone(
    report: Path, repo: Path, make_run: RunWriter
) -> None:
    before = (
        git(repo, "status", "--porcelain"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
    )
    first = publish_to_git_branch(report, "gh-pages", repo)
    assert first.commit is not None
    assert (
        git(repo, "status", "--porcelain"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
    ) == before
    files = set(git(repo, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    expected = {str(p.relative_to(report)) for p in report.rglob("*") if p.is_file()}
    assert files == expected | {".nojekyll"}
    assert git(repo, "show", "gh-pages:index.html") == (report / "index.html").read_text().strip()
    assert git(repo, "log", "--format=%an", "-1", "gh-pages") == "evals publish"
    # The same report again: nothing to commit. A rebuilt one: one more commit on top.
    assert publish_to_git_branch(report, "gh-pages", repo).commit is None
    rebuilt = build_report([make_run("r2", task_samples("m", "task-a", outcomes(4, 2)))], report)
    second = publish_to_git_branch(rebuilt.root, "gh-pages", repo, message="second")
    assert git(repo, "rev-list", "--count", "gh-pages") == "2"
    assert git(repo, "rev-parse", "gh-pages^") == first.commit and second.commit == git(
        repo, "rev-parse", "gh-pages"
    )
    assert git(repo, "log", "--format=%s", "-1", "gh-pages") == "second"
    assert (git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD")) == before[:2]


@pytest.mark.parametrize(
    ("branch", "message"),
    [
        ("main", "branch main is checked out in a worktree"),
        ("bad..name", "'bad..name' is not a valid branch name"),
    ],
)
def test_publish_to_a_git_branch_refuses(report: Path, repo: Path, branch: str, message: str) -> None:
    with pytest.raises(EvalsError, match=message):
        publish_to_git_branch(report, branch, repo)


def test_publish_to_git_needs_a_repository(report: Path, tmp_path: Path) -> None:
    (tmp_path / "not-a-repo").mkdir()
    with pytest.raises(EvalsError, match="is not a git repository"):
        publish_to_git_branch(report, "gh-pages", tmp_path / "not-a-repo")


def test_hub_upload_is_prepared_offline(report: Path) -> None:
    upload = prepare_hub_upload(report, "someone/evals-leaderboard", "my message")
    assert upload.upload_folder_kwargs() == {
        "repo_id": "someone/evals-leaderboard",
        "repo_type": "dataset",
        "folder_path": str(report.resolve()),
        "commit_message": "my message",
    }
    assert prepare_hub_upload(report, "a/b").commit_message.startswith("Publish leaderboard of ")
    with pytest.raises(EvalsError, match="is not a Hub repo id of the form 'namespace/name'"):
        prepare_hub_upload(report, "no-namespace")


def test_hub_upload_failure_is_one_line(report: Path) -> None:
    from huggingface_hub import HfApi

    # The real client against a port nobody listens on: fails at once, like a machine offline.
    api = HfApi(endpoint="http://127.0.0.1:9", token="hf_not_a_real_token")
    with pytest.raises(EvalsError) as failure:
        upload_to_hub(prepare_hub_upload(report, "someone/evals-leaderboard"), api)
    assert str(failure.value).startswith(
        "upload to Hugging Face Hub dataset someone/evals-leaderboard failed: "
    )
    assert "\n" not in str(failure.value)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--repo", ".", "--to", "x"], "--repo goes with --git-branch"),
        ([], "one of the arguments --to --git-branch --hf-dataset is required"),
        (["--to", "x", "--git-branch", "y"], "not allowed with argument"),
    ],
)
def test_publish_command_errors(report: Path, tmp_path: Path, extra: list[str], message: str) -> None:
    done = run_cli(["publish", str(report), *extra], cwd=tmp_path, timeout=300)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_publish_command_to_a_directory(report: Path, tmp_path: Path) -> None:
    done = run_cli(["publish", str(report), "--to", str(tmp_path / "out")], cwd=tmp_path, timeout=300)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.strip() == f"published {report} to {tmp_path / 'out'}"
    assert (tmp_path / "out" / "leaderboard.json").is_file()
