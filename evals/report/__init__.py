"""Reports: merge finished runs into a leaderboard and publish it.

Formats: Markdown, CSV, JSON and a static HTML site with plots and a per-sample viewer.

Data flows one way: run directories -> :mod:`merge` (load, check comparability) ->
:mod:`redact` -> :mod:`leaderboard` (the table model) -> the formats.
"""

from evals.report.build import ReportPaths, build_report
from evals.report.cells import Cell
from evals.report.leaderboard import DEFINITIONS, Leaderboard, LeaderboardRow, TaskResult, build_leaderboard
from evals.report.merge import MergedRuns, Run, load_run, merge_runs

__all__ = [
    "DEFINITIONS",
    "Cell",
    "Leaderboard",
    "LeaderboardRow",
    "MergedRuns",
    "ReportPaths",
    "Run",
    "TaskResult",
    "build_leaderboard",
    "build_report",
    "load_run",
    "merge_runs",
]
