"""``evals submit / status / logs / stop``: run a suite as a Ray job and follow it.

The Jobs API listens on the dashboard port (8265) without authentication: keep it on
the cluster's loopback and reach it through an SSH tunnel or ``kubectl port-forward``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from evals.errors import ConfigError, EvalsError

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
ADDRESS_HELP = "Ray dashboard address (default: $RAY_ADDRESS or http://127.0.0.1:8265)"


def register(subparsers: Any) -> None:
    submit = subparsers.add_parser(
        "submit", help="run a suite on a Ray cluster as a job", description=__doc__
    )
    submit.add_argument("--address", help=ADDRESS_HELP)
    submit.add_argument("--config", required=True, type=Path, help="suite YAML file")
    submit.add_argument("--out", help="run directory on the cluster, or s3://, gs:// URL "
                        "(default: ~/evals-runs/<suite>-<config hash> on the head node)")  # fmt: skip
    submit.add_argument("--data-dir", help="benchmark data folder on the cluster nodes")
    submit.add_argument("--num-workers", type=int, help="engine workers per model (default: all GPUs)")
    submit.add_argument("--shard-size", type=int, default=32, help="items per shard (default 32)")
    submit.add_argument("--python", default="python", help="python on the cluster (default: python)")
    submit.set_defaults(handler=handle_submit)

    for name, help_text, handler in (
        ("status", "show a submitted job's status and progress", handle_status),
        ("logs", "print a submitted job's logs", handle_logs),
        ("stop", "stop a submitted job", handle_stop),
    ):
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("job_id", metavar="JOB_ID", help="the id 'evals submit' printed")
        parser.add_argument("--address", help=ADDRESS_HELP)
        if name == "logs":
            parser.add_argument(
                "--follow", "-f", action="store_true", help="keep printing until the job ends"
            )
        if name == "status":
            parser.add_argument("--json", action="store_true", help="print the job record as JSON")
        parser.set_defaults(handler=handler)


def _check_suite(config: Path) -> Any:
    """The suite's schema and task names, checked here; model paths are the cluster's to check."""
    from evals.suite import load_suite_file
    from evals.tasks import validate_task_names

    suite = load_suite_file(config)
    problems = [f"{config}: {p}" for p in validate_task_names([t.name for t in suite.tasks])]
    if problems:
        raise ConfigError(problems)
    return suite


def handle_submit(args: argparse.Namespace) -> int:
    from evals.distributed import check_worker_flags
    from evals.distributed.jobs import JobRequest, dashboard_address, job_client, stage_project

    suite = _check_suite(args.config)
    check_worker_flags(args.num_workers, args.shard_size)
    address = dashboard_address(args.address)
    client = job_client(address)
    with tempfile.TemporaryDirectory(prefix="evals-submit-") as staging:
        config = stage_project(args.config, Path(staging))
        request = JobRequest(config, args.out, f"{suite.name}-{suite.config_hash()[:12]}", args.data_dir,
                             args.num_workers, args.shard_size, args.python)  # fmt: skip
        try:
            job_id = client.submit_job(
                entrypoint=request.entrypoint(),
                runtime_env={"working_dir": staging},
                metadata={"evals_suite": suite.name, "evals_out": request.out_label()},
            )
        except (RuntimeError, ConnectionError) as error:
            raise EvalsError(
                f"submitting to {address} failed: {str(error).strip().splitlines()[0]}"
            ) from None
    print(job_id)
    return 0


def handle_status(args: argparse.Namespace) -> int:
    from evals.distributed.jobs import dashboard_address, job_client, job_error, last_progress_line

    client = job_client(dashboard_address(args.address))
    try:
        info = client.get_job_info(args.job_id)
        progress = last_progress_line(client.get_job_logs(args.job_id))
    except RuntimeError as error:
        raise job_error(error, args.job_id) from None
    record = {
        "job_id": args.job_id,
        "status": str(info.status.value if hasattr(info.status, "value") else info.status),
        "message": info.message,
        "run_dir": (info.metadata or {}).get("evals_out"),
        "progress": progress,
        "start_time": _when(info.start_time),
        "end_time": _when(info.end_time),
    }
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print("\n".join(f"{key}: {value}" for key, value in record.items() if value not in (None, "")))
    return 0


def _when(milliseconds: int | None) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(milliseconds / 1000)) if milliseconds else None


def handle_logs(args: argparse.Namespace) -> int:
    from evals.distributed.jobs import dashboard_address, job_client, job_error

    client = job_client(dashboard_address(args.address))
    try:
        if not args.follow:
            print(client.get_job_logs(args.job_id), end="")
            return 0
        import asyncio

        asyncio.run(_follow(client, args.job_id))
    except RuntimeError as error:
        raise job_error(error, args.job_id) from None
    return 0


async def _follow(client: Any, job_id: str) -> None:
    client.get_job_status(job_id)  # an unknown id fails here, not silently in the stream
    async for lines in client.tail_job_logs(job_id):
        print(lines, end="", flush=True)


def handle_stop(args: argparse.Namespace) -> int:
    from evals.distributed.jobs import dashboard_address, job_client, job_error

    client = job_client(dashboard_address(args.address))
    try:
        stopped = client.stop_job(args.job_id)
        status = client.get_job_status(args.job_id)
    except RuntimeError as error:
        raise job_error(error, args.job_id) from None
    state = str(getattr(status, "value", status))
    print(f"{args.job_id}: {'stop requested' if stopped else 'already ended'} ({state})")
    return 0
