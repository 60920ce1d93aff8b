"""Find task specs by name: ``<name>.yaml`` in the built-in tasks and any extra folders.

Built-in tasks ship inside the package as ``evals.builtin_tasks`` (the repo's ``tasks/``
folder); more folders come from ``EVALS_TASK_PATH`` (``os.pathsep``-separated) or the
``extra_dirs`` argument. A name defined in two folders is refused rather than shadowed.
``<task>:<subtask>`` (``bbh:navigate``) selects one subtask of a grouped task.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from evals.errors import ConfigError, EvalsError, closest
from evals.tasks.spec import TaskSpec, parse_task_file, select_subtask

TASK_PATH_ENV = "EVALS_TASK_PATH"
SUBTASK_SEPARATOR = ":"


def builtin_task_dir() -> Path:
    """The folder of the task YAML files shipped with evals."""
    try:
        files = importlib.resources.files("evals.builtin_tasks")
    except ModuleNotFoundError:
        # Running from a checkout whose install predates the package mapping.
        return Path(__file__).resolve().parents[2] / "tasks"
    return Path(str(files))


def task_dirs(extra_dirs: Sequence[Path] = ()) -> tuple[Path, ...]:
    """Folders searched for tasks: built-in, then ``EVALS_TASK_PATH``, then ``extra_dirs``."""
    from_env = [Path(part) for part in os.environ.get(TASK_PATH_ENV, "").split(os.pathsep) if part]
    dirs = [builtin_task_dir(), *from_env, *extra_dirs]
    for folder in dirs[1:]:
        if not folder.is_dir():
            raise EvalsError(f"task folder {folder} does not exist (from {TASK_PATH_ENV} or --task-dir)")
    return tuple(dict.fromkeys(path.resolve() for path in dirs))


def task_files(extra_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """Every known task name with its YAML file, sorted by name."""
    found: dict[str, Path] = {}
    for folder in task_dirs(extra_dirs):
        for path in sorted(folder.glob("*.yaml")):
            if path.stem in found:
                raise EvalsError(f"task {path.stem!r} is defined twice: {found[path.stem]} and {path}")
            found[path.stem] = path
    return dict(sorted(found.items()))


def task_names(extra_dirs: Sequence[Path] = ()) -> tuple[str, ...]:
    return tuple(task_files(extra_dirs))


def find_task_file(name: str, extra_dirs: Sequence[Path] = ()) -> Path:
    """The YAML file of task ``name`` (a ``:subtask`` suffix is ignored here)."""
    base = name.split(SUBTASK_SEPARATOR, 1)[0]
    files = task_files(extra_dirs)
    if base not in files:
        hint = closest(base, list(files))
        raise EvalsError(f"unknown task {name!r}{hint}; list tasks with 'evals tasks'")
    return files[base]


def load_task_spec(name: str, extra_dirs: Sequence[Path] = ()) -> TaskSpec:
    """The validated spec of ``name`` or ``name:subtask``, without loading any data."""
    base, _, subtask = name.partition(SUBTASK_SEPARATOR)
    spec = parse_task_file(find_task_file(base, extra_dirs))
    return select_subtask(spec, subtask) if subtask else spec


def validate_task_names(names: Iterable[str], extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Every problem with these task names and their specs; empty when all load."""
    problems: list[str] = []
    for name in names:
        try:
            load_task_spec(name, extra_dirs)
        except ConfigError as error:
            problems += error.problems
        except EvalsError as error:
            problems.append(str(error))
    return list(dict.fromkeys(problems))


def load_all_specs(extra_dirs: Sequence[Path] = ()) -> tuple[TaskSpec, ...]:
    """Every task spec, sorted by name; ConfigError lists the problems of all files."""
    specs: list[TaskSpec] = []
    problems: list[str] = []
    for path in task_files(extra_dirs).values():
        try:
            specs.append(parse_task_file(path))
        except ConfigError as error:
            problems += error.problems
    if problems:
        raise ConfigError(problems)
    return tuple(specs)
