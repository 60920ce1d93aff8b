"""Publish a built report: to a directory, to a git branch, or to a Hugging Face Hub dataset repo.

Every destination first checks that the folder is a report written by
``evals report`` and that it is publishable (no task whose text must never be
published was left unredacted).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.errors import EvalsError
from evals.report.outdir import MARKER, is_report_dir, replace_dir
from evals.report.redact import unpublished_tasks

_HUB_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
# A fixed identity for publish commits when the user has none configured.
_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "evals publish",
    "GIT_AUTHOR_EMAIL": "evals-publish@localhost",
    "GIT_COMMITTER_NAME": "evals publish",
    "GIT_COMMITTER_EMAIL": "evals-publish@localhost",
}


def check_report(report_dir: Path) -> dict[str, Any]:
    """The report's leaderboard.json; EvalsError when it is not a publishable report."""
    if not report_dir.is_dir():
        raise EvalsError(f"report directory {report_dir} does not exist")
    if not is_report_dir(report_dir):
        raise EvalsError(f"{report_dir} is not a report built by 'evals report' (no valid {MARKER})")
    data: dict[str, Any] = json.loads((report_dir / MARKER).read_text(encoding="utf-8"))
    exposed = unpublished_tasks(data.get("tasks", []), data.get("redacted_tasks", []))
    if exposed or not data.get("publishable", False):
        names = ", ".join(exposed) or "a task that must stay private"
        raise EvalsError(
            f"{report_dir} holds unredacted text of {names}; rebuild it without --no-redact-prompts"
        )
    return data


def default_message(data: dict[str, Any]) -> str:
    runs = ", ".join(run.get("run_id", "?") for run in data.get("runs", []))
    return f"Publish leaderboard of {data.get('created', 'unknown date')} (runs: {runs})"


def publish_to_dir(report_dir: Path, target: Path) -> Path:
    """Copy the report to ``target`` as a whole (built beside it, then renamed into place)."""
    check_report(report_dir)
    source, destination = report_dir.resolve(), Path(os.path.abspath(target))
    if destination == source or source in destination.parents or destination in source.parents:
        raise EvalsError(f"cannot publish {report_dir} into {target}: one contains the other")
    replace_dir(destination, lambda staging: _copy_into(source, staging))
    return destination


def _copy_into(source: Path, staging: Path) -> None:
    shutil.copytree(source, staging, dirs_exist_ok=True, symlinks=False)


@dataclass(frozen=True)
class GitPublish:
    """The outcome of a publish to a branch: its new commit, or None when nothing changed."""

    branch: str
    commit: str | None
    tree: str


def _git(repo_git_dir: Path, args: Sequence[str], env: dict[str, str] | None = None, **kwargs: Any) -> str:
    result = subprocess.run(
        ["git", f"--git-dir={repo_git_dir}", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        **kwargs,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip() or "failed").splitlines()[-1]
        raise EvalsError(f"git {args[0]} failed: {detail}")
    return result.stdout.strip()


def _git_dir(repo: Path) -> Path:
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--absolute-git-dir"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise EvalsError(f"{repo} is not a git repository")
    return Path(result.stdout.strip())


def publish_to_git_branch(
    report_dir: Path, branch: str, repo: Path = Path("."), message: str | None = None
) -> GitPublish:
    """Commit the report as the whole tree of ``branch`` (gh-pages style), one commit per change.

    Uses git plumbing with a temporary index: the user's working tree, index and
    checked-out branch are never touched. A branch checked out in a worktree is
    refused (moving it would leave that worktree out of step).
    """
    data = check_report(report_dir)
    git_dir = _git_dir(repo)
    if subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True).returncode:
        raise EvalsError(f"{branch!r} is not a valid branch name")
    ref = f"refs/heads/{branch}"
    if f"branch {ref}" in _git(git_dir, ["worktree", "list", "--porcelain"]).splitlines():
        raise EvalsError(f"branch {branch} is checked out in a worktree of {repo}; publish to another branch")
    parent = _branch_head(git_dir, ref)
    tree = _report_tree(git_dir, report_dir.resolve())
    if parent is not None and _git(git_dir, ["rev-parse", f"{parent}^{{tree}}"]) == tree:
        return GitPublish(branch, None, tree)
    parents = ["-p", parent] if parent is not None else []
    commit = _git(
        git_dir,
        ["commit-tree", tree, *parents, "-m", message or default_message(data)],
        env=_identity_env(git_dir),
    )
    _git(git_dir, ["update-ref", "-m", "evals publish", ref, commit, parent or ""])
    return GitPublish(branch, commit, tree)


def _branch_head(git_dir: Path, ref: str) -> str | None:
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _report_tree(git_dir: Path, report_dir: Path) -> str:
    """Write the report's files (plus .nojekyll, for GitHub Pages) as a tree object."""
    with tempfile.TemporaryDirectory(prefix="evals-publish-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        work_tree = [f"--work-tree={report_dir}"]
        _git(git_dir, [*work_tree, "add", "--all", "--force", "--", "."], env=env, cwd=report_dir)
        blob = _git(git_dir, ["hash-object", "-w", "--stdin"], input="")
        _git(git_dir, ["update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll"], env=env)
        return _git(git_dir, ["write-tree"], env=env)


def _identity_env(git_dir: Path) -> dict[str, str]:
    """A fallback author/committer only when neither the environment nor git config has one."""
    env: dict[str, str] = {}
    for key in ("name", "email"):
        configured = subprocess.run(
            ["git", f"--git-dir={git_dir}", "config", f"user.{key}"], capture_output=True, check=False
        )
        if configured.returncode == 0:
            continue
        for role in ("AUTHOR", "COMMITTER"):
            variable = f"GIT_{role}_{key.upper()}"
            if variable not in os.environ:
                env[variable] = _FALLBACK_IDENTITY[variable]
    return env


@dataclass(frozen=True)
class HubUpload:
    """The arguments of ``HfApi.upload_folder`` for one report (prepared and checked offline)."""

    repo_id: str
    folder_path: str
    commit_message: str
    repo_type: str = "dataset"

    def upload_folder_kwargs(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "repo_type": self.repo_type,
            "folder_path": self.folder_path,
            "commit_message": self.commit_message,
        }


def prepare_hub_upload(report_dir: Path, repo_id: str, message: str | None = None) -> HubUpload:
    """Check the report and the repo id; everything short of the network call."""
    data = check_report(report_dir)
    if not _HUB_REPO_ID.match(repo_id):
        raise EvalsError(f"{repo_id!r} is not a Hub repo id of the form 'namespace/name'")
    return HubUpload(repo_id, str(report_dir.resolve()), message or default_message(data))


def upload_to_hub(upload: HubUpload, api: Any = None) -> str:
    """Create the dataset repo if needed and upload the report; returns the commit URL.

    Needs network and a token (``HF_TOKEN`` or ``huggingface-cli login``).
    """
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        api.create_repo(upload.repo_id, repo_type=upload.repo_type, exist_ok=True)
        info = api.upload_folder(**upload.upload_folder_kwargs())
    # The Hub client fails in many ways (HTTP, auth, offline, OS); each is one user-facing line.
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        raise EvalsError(
            f"upload to Hugging Face Hub dataset {upload.repo_id} failed: "
            f"{type(error).__name__}: {first_line}"
        ) from error
    return str(getattr(info, "commit_url", info))
