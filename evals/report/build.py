"""Build every format of a report from run directories: ``build_report``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evals.report.budgets import (
    budget_html,
    budget_markdown,
    budget_points,
    truncation_flags,
    with_budget_section,
)
from evals.report.csv_json import render_csv, render_json
from evals.report.index_page import render_index
from evals.report.leaderboard import Leaderboard, build_leaderboard
from evals.report.markdown import BARS_FILE, SCATTER_FILE, render_markdown
from evals.report.merge import MergedRuns, load_group_samples, merge_runs
from evals.report.outdir import replace_dir, write_text
from evals.report.plots import scatter_svg, task_bars_svg
from evals.report.redact import must_redact, redact_samples, redacted_tasks, unpublished_tasks
from evals.report.viewer import sample_pages

RedactOption = bool | Iterable[str] | None


@dataclass(frozen=True)
class ReportPaths:
    """Where a report's files are, with what the reader must know about it."""

    root: Path
    index_html: Path
    markdown: Path
    csv: Path
    json: Path
    plots: tuple[Path, ...]
    sample_pages: tuple[Path, ...]
    warnings: tuple[str, ...]
    redacted_tasks: tuple[str, ...]
    publishable: bool


def _redaction(tasks: Sequence[str], redact_tasks: RedactOption) -> frozenset[str]:
    """None: the never-published tasks; True: all; False: none; names: those plus never-published."""
    if redact_tasks is None or isinstance(redact_tasks, bool):
        return redacted_tasks(tasks, redact_tasks)
    return frozenset(t for t in tasks if t in set(redact_tasks) or must_redact(t))


def build_report(
    run_dirs: Sequence[Path],
    out_dir: Path,
    *,
    redact_tasks: RedactOption = None,
    strict: bool = False,
    seed: int = 0,
    rank_by: str = "accuracy",
) -> ReportPaths:
    """Merge ``run_dirs`` and write leaderboard.md/.csv/.json, index.html, plots and sample pages.

    ``redact_tasks``: None (default) redacts the tasks that must never be published
    (GPQA); True all tasks; False none (the report is then marked unpublishable if
    it holds such a task); a collection of names redacts those and GPQA. ``strict``
    turns comparability warnings into an error. ``seed`` is recorded with the paired
    comparisons (their paired t procedure draws nothing).
    ``rank_by``: "accuracy" or a sampling metric ("pass@4", "maj@4"); an unknown one
    is an EvalsError before anything is written.
    The output directory is replaced as a whole (see :func:`replace_dir`).
    """
    # Without the long texts: the sample pages read them one model x task at a time (bounded memory).
    merged = merge_runs([Path(p) for p in run_dirs], strict=strict, long_text=False)
    redacted = _redaction(merged.tasks, redact_tasks)
    exposed = unpublished_tasks(merged.tasks, redacted)
    warnings = merged.warnings + tuple(
        f"task {task} is not redacted: this report must not be published" for task in exposed
    )
    # Redact before anything else reads the samples, so no format can leak the text.
    merged = dataclasses.replace(merged, samples=redact_samples(merged.samples, redacted), warnings=warnings)
    board = build_leaderboard(
        merged, redacted_tasks=redacted, publishable=not exposed, seed=seed, rank_by=rank_by
    )
    pages: list[str] = []
    points, flags = budget_points(merged), truncation_flags(merged.summary)
    extra = (budget_markdown(points, flags), budget_html(points, flags))

    read_group = _group_reader(merged, redacted)

    def fill(root: Path) -> None:
        pages.extend(write_report(board, merged.samples, root, extra, read_group))

    out = Path(out_dir)
    replace_dir(out, fill)
    return ReportPaths(
        root=out,
        index_html=out / "index.html",
        markdown=out / "leaderboard.md",
        csv=out / "leaderboard.csv",
        json=out / "leaderboard.json",
        plots=(out / SCATTER_FILE, out / BARS_FILE),
        sample_pages=tuple(out / page for page in pages),
        warnings=board.warnings,
        redacted_tasks=board.redacted_tasks,
        publishable=board.publishable,
    )


def _group_reader(merged: MergedRuns, redacted: frozenset[str]) -> Callable[[str, str], pd.DataFrame]:
    """Reads one model x task's samples with their texts from its run, redacted like the rest."""
    paths = {run.run_id: run.path for run in merged.runs}

    def read_group(model: str, task: str) -> pd.DataFrame:
        rows = load_group_samples(paths[merged.run_of[(model, task)]], model, task)
        return redact_samples(rows, redacted)

    return read_group


def write_report(
    board: Leaderboard,
    samples: pd.DataFrame,
    root: Path,
    extra: tuple[str, str] = ("", ""),
    read_group: Callable[[str, str], pd.DataFrame] | None = None,
) -> list[str]:
    """Write every file of the report under ``root``; returns the sample pages written.

    ``extra``: the reasoning-budget sections (Markdown, HTML) of :mod:`evals.report.budgets`.
    ``read_group``: see :func:`sample_pages`.
    """
    scatter, bars = scatter_svg(board), task_bars_svg(board)
    write_text(root / SCATTER_FILE, scatter + "\n")
    write_text(root / BARS_FILE, bars + "\n")
    markdown = render_markdown(board)
    write_text(root / "leaderboard.md", markdown + ("\n" + extra[0] if extra[0] else ""))
    write_text(root / "leaderboard.csv", render_csv(board))
    write_text(root / "leaderboard.json", render_json(board))
    pages = []
    for relative, text in sample_pages(board, samples, read_group):
        write_text(root / relative, text)
        if relative.endswith(".html"):  # not the pages' data files
            pages.append(relative)
    # index.html last: a report directory is complete once it is there.
    write_text(root / "index.html", with_budget_section(render_index(board, scatter, bars), extra[1]))
    return pages
