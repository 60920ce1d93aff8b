"""Submitting a suite as a Ray job, and following it, through the Jobs API (dashboard port).

The job carries this project and the suite file in its ``working_dir`` and runs
``evals run --ray auto`` on the cluster, so a bad config fails there before any
engine starts, with the errors in the job's logs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.distributed.progress import PROGRESS_PREFIX
from evals.errors import EvalsError
from evals.net import is_loopback

DEFAULT_ADDRESS = "http://127.0.0.1:8265"
# What a job needs of the project; the rest (.venv, runs, .git) stays home.
PROJECT_PARTS = ("evals", "tasks", "suites", "pyproject.toml", "README.md")
STAGED_CONFIG_DIR = "evals-submit"


def dashboard_address(value: str | None) -> str:
    """``--address``, else ``$RAY_ADDRESS``, else the local dashboard; ``http://`` added if missing."""
    address = value or os.environ.get("RAY_ADDRESS") or DEFAULT_ADDRESS
    if address == "auto":
        address = DEFAULT_ADDRESS
    return address if "://" in address else f"http://{address}"


def warn_if_exposed(address: str) -> None:
    if not is_loopback(address):
        print(
            f"evals: warning: {address} is not on loopback; Ray's dashboard and Jobs API have no "
            "authentication, so reach them through an SSH tunnel or kubectl port-forward (cluster/README.md)",
            file=sys.stderr,
        )


def job_client(address: str) -> Any:
    """A ``JobSubmissionClient`` for the dashboard at ``address``; one-line error if unreachable."""
    warn_if_exposed(address)
    import ray.exceptions
    from ray.job_submission import JobSubmissionClient

    # Ray >= 2.52 can require a token (RAY_AUTH_MODE=token); older Ray has no such error.
    refused: type[Exception] = getattr(ray.exceptions, "AuthenticationError", PermissionError)
    try:
        return JobSubmissionClient(address)
    except refused as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise EvalsError(
            f"{address} refused the request ({first}); set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN "
            "(or ~/.ray/auth_token) to the cluster's token"
        ) from None
    except (ConnectionError, RuntimeError, ValueError) as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise EvalsError(f"cannot reach the Ray Jobs API at {address}: {first}") from None


def project_root() -> Path:
    """The checkout or install holding the ``evals`` package and its ``tasks/``."""
    import evals

    root = Path(evals.__file__).resolve().parents[1]
    if not (root / "tasks").is_dir():
        raise EvalsError(f"{root} has no tasks/ folder next to evals/; submit from a checkout of evals")
    return root


def stage_project(config: Path, staging: Path) -> str:
    """Copy the project and the suite into ``staging``; return the suite's path inside it."""
    root = project_root()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in PROJECT_PARTS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, staging / name, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, staging / name)
    target = Path(STAGED_CONFIG_DIR) / config.name
    (staging / STAGED_CONFIG_DIR).mkdir()
    shutil.copy2(config, staging / target)
    return target.as_posix()


@dataclass(frozen=True)
class JobRequest:
    config: str  # path inside the staged working_dir
    out: str | None  # run directory on the cluster (or an fsspec URL); None: $HOME/evals-runs/NAME
    default_name: str
    data_dir: str | None
    num_workers: int | None
    shard_size: int
    python: str

    def entrypoint(self) -> str:
        command = [self.python, "-m", "evals.cli", "run", "--config", self.config, "--ray", "auto"]
        if self.data_dir:
            command += ["--data-dir", self.data_dir]
        if self.num_workers:
            command += ["--num-workers", str(self.num_workers)]
        command += ["--shard-size", str(self.shard_size)]
        out = shlex.quote(self.out) if self.out else f'"$HOME/evals-runs/{self.default_name}"'
        return f"{shlex.join(command)} --out {out}"

    def out_label(self) -> str:
        return self.out or f"~/evals-runs/{self.default_name}"


def last_progress_line(logs: str) -> str | None:
    lines = [line for line in logs.splitlines() if line.startswith(PROGRESS_PREFIX)]
    return lines[-1][len(PROGRESS_PREFIX) :].strip() if lines else None


def job_error(error: Exception, job_id: str) -> EvalsError:
    """A Jobs API failure as one line (an unknown job id answers 404)."""
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    if "404" in text or "does not exist" in text:
        return EvalsError(f"no job {job_id!r} on this cluster (see 'ray job list')")
    return EvalsError(f"job {job_id}: {text}")
