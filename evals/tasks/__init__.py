"""Tasks stage: benchmark specs as data (``tasks/*.yaml``) and the items they load.

Public face: ``load_task`` / ``LoadedTask`` (items), ``load_task_spec`` /
``validate_task_names`` / ``task_names`` (specs without data), ``TaskSpec``.
"""

from evals.tasks.loader import DATA_DIR_ENV, LoadedTask, default_data_dir, load_task
from evals.tasks.registry import (
    TASK_PATH_ENV,
    find_task_file,
    load_all_specs,
    load_task_spec,
    task_dirs,
    task_names,
    validate_task_names,
)
from evals.tasks.spec import TaskSpec, parse_task_file

__all__ = [
    "DATA_DIR_ENV",
    "TASK_PATH_ENV",
    "LoadedTask",
    "TaskSpec",
    "default_data_dir",
    "find_task_file",
    "load_all_specs",
    "load_task",
    "load_task_spec",
    "parse_task_file",
    "task_dirs",
    "task_names",
    "validate_task_names",
]
