"""``evals publish``: copy a built report to a directory, a git branch or a Hugging Face Hub dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish", help="publish a report to a directory, a git branch or a Hub dataset", description=__doc__
    )
    parser.add_argument("report", type=Path, metavar="REPORT_DIR", help="a directory built by 'evals report'")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", type=Path, metavar="DIR", help="copy to DIR (replaced as a whole)")
    where.add_argument(
        "--git-branch", metavar="BRANCH", help="commit to BRANCH (gh-pages style; working tree untouched)"
    )
    where.add_argument(
        "--hf-dataset", metavar="REPO_ID", help="upload to a Hugging Face Hub dataset repo (needs network)"
    )
    parser.add_argument(
        "--repo", type=Path, help="git repository for --git-branch (default: current directory)"
    )
    parser.add_argument("-m", "--message", help="commit message (git branch, Hub)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from evals.errors import EvalsError
    from evals.report import publish

    if args.repo is not None and args.git_branch is None:
        raise EvalsError("--repo goes with --git-branch")
    if args.to is not None:
        print(f"published {args.report} to {publish.publish_to_dir(args.report, args.to)}")
    elif args.git_branch is not None:
        outcome = publish.publish_to_git_branch(
            args.report, args.git_branch, args.repo or Path("."), args.message
        )
        if outcome.commit is None:
            print(f"branch {outcome.branch} already holds this report; nothing committed")
        else:
            print(f"committed {args.report} to branch {outcome.branch}: {outcome.commit}")
    else:
        upload = publish.prepare_hub_upload(args.report, args.hf_dataset, args.message)
        print(f"uploaded {args.report} to the Hub dataset {args.hf_dataset}: {publish.upload_to_hub(upload)}")
    return 0
