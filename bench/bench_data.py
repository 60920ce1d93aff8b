"""Where the bench scripts find the full benchmark data: ``EVALS_DATA_DIR``.

Unset, ``../shared/data`` beside the checkout is used (where CI keeps it); make such a
folder anywhere with ``evals data pull TASK... --to DIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def full_data_dir(*tasks: str) -> Path:
    """The data folder holding ``<task>/test.jsonl`` for each task, or exit with one line."""
    value = os.environ.get("EVALS_DATA_DIR")
    folder = Path(value) if value else REPO.parent / "shared" / "data"
    missing = [task for task in tasks if not (folder / task / "test.jsonl").is_file()]
    if missing:
        sys.exit(
            f"bench: error: no {', '.join(missing)} data in {folder}: set EVALS_DATA_DIR=DIR "
            f"(DIR/<task>/test.jsonl; 'evals data pull {' '.join(missing)} --to DIR' makes it)"
        )
    return folder
