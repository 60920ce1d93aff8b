"""``evals tasks``: list the tasks with item counts, answer types and descriptions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evals.tasks import default_data_dir, load_all_specs
from evals.tasks.spec import TaskSpec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "tasks",
        help="list tasks with item counts and answer types",
        description=(
            "List the tasks evals knows. Item counts come from the local data file when "
            "--data-dir (or EVALS_DATA_DIR) holds it, else from the task's YAML."
        ),
    )
    parser.add_argument("--data-dir", type=Path, help="count items in DIR/<task>/test.jsonl")
    parser.add_argument(
        "--task-dir", type=Path, action="append", default=[], help="an extra folder of task YAML"
    )
    parser.add_argument(
        "--subtasks", action="store_true", help="also list each subtask (select as task:subtask)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=list_tasks)


def list_tasks(args: argparse.Namespace) -> int:
    data_dir = args.data_dir if args.data_dir is not None else default_data_dir()
    rows: list[dict[str, Any]] = []
    for spec in load_all_specs(args.task_dir):
        rows.append(_row(spec, data_dir))
        if args.subtasks:
            rows += [_subtask_row(spec, name) for name in spec.subtask_names]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(_table(rows))
    return 0


def _row(spec: TaskSpec, data_dir: Path | None) -> dict[str, Any]:
    items: int | None
    if spec.generator is not None:
        items, counted_from = spec.generator.n_items, "generator (any number with --limit)"
        source = f"generated:{spec.generator.name}/{spec.generator.level}"
    else:
        assert spec.dataset is not None
        path = data_dir / spec.dataset.local_file if data_dir is not None else None
        if path is not None and path.is_file():
            items, counted_from, source = _count_lines(path), "file", str(path)
        else:
            items, counted_from = spec.expected_items, "spec"
            source = f"hub:{spec.dataset.hub.path}" if spec.dataset.hub else "no Hub copy"
    return {
        "name": spec.name,
        "items": items,
        "items_from": counted_from,
        "answer_types": list(spec.answer_types),
        "source": source,
        "description": spec.description,
    }


def _subtask_row(spec: TaskSpec, subtask: str) -> dict[str, Any]:
    assert spec.dataset is not None and spec.dataset.subtasks is not None
    return {
        "name": f"{spec.name}:{subtask}",
        "items": spec.dataset.subtasks.members[subtask].expected_items,
        "items_from": "spec",
        "answer_types": [spec.answer_type_of(subtask)],
        "source": f"subtask of {spec.name}",
        "description": "",
    }


def _count_lines(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("TASK", "ITEMS", "ANSWER")
    cells = [(row["name"], _items_cell(row), ",".join(row["answer_types"])) for row in rows]
    widths = [max(len(line[column]) for line in [header, *cells]) for column in range(3)]
    descriptions = ["DESCRIPTION", *(row["description"] for row in rows)]
    lines = [
        "  ".join([*(value.ljust(width) for value, width in zip(line, widths, strict=True)), text])
        for line, text in zip([header, *cells], descriptions, strict=True)
    ]
    lines.append("* count stated in the task YAML (no local file counted) or the generator's default")
    return "\n".join(line.rstrip() for line in lines)


def _items_cell(row: dict[str, Any]) -> str:
    if row["items"] is None:
        return "?"
    return f"{row['items']}{'' if row['items_from'] == 'file' else '*'}"
