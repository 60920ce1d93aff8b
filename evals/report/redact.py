"""Keep benchmark text out of published reports.

A *redacted* task publishes no text that could carry its questions: the prompt,
the answer choices, the model's output and reasoning (models restate the
question, so outputs leak it too), the scorer's reason and the generation
error are replaced by a placeholder. What stays: ids, status, token counts and
the extracted and gold answers when they are short (a letter, a number, a
formula), since those are answers, not questions. GPQA Diamond (any task whose
name starts with "gpqa") is always redacted unless the caller turns redaction
off, and a report built that way is marked unpublishable.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

# Tasks whose authors ask that the questions never be published in plain text.
NEVER_PUBLISHED_PREFIXES = ("gpqa",)
TEXT_COLUMNS = ("prompt", "output", "reasoning", "reason", "error")
# Longer extracted/gold answers could be quoted question text; a real answer this long is rare.
MAX_KEPT_ANSWER_CHARS = 32


def placeholder(task: str) -> str:
    return f"[redacted: {task} text is not published]"


def must_redact(task: str) -> bool:
    """True for tasks whose text must never appear in a published report."""
    return task.casefold().startswith(NEVER_PUBLISHED_PREFIXES)


def redacted_tasks(tasks: Iterable[str], redact: bool | None) -> frozenset[str]:
    """Which tasks to redact: ``redact`` True all, None (default) the never-published ones, False none."""
    tasks = list(tasks)
    if redact is None:
        return frozenset(t for t in tasks if must_redact(t))
    return frozenset(tasks) if redact else frozenset()


def redact_samples(samples: pd.DataFrame, tasks: frozenset[str]) -> pd.DataFrame:
    """A copy of ``samples`` with the text of ``tasks`` replaced by a placeholder."""
    if not tasks:
        return samples
    out = samples.copy()
    hidden = out["task"].isin(tasks)
    if not hidden.any():
        return out
    marks = out.loc[hidden, "task"].map(placeholder)
    for column in TEXT_COLUMNS:
        if column in out.columns:
            keep_none = out.loc[hidden, column].isna() & (column in ("reasoning", "reason", "error"))
            out.loc[hidden, column] = marks.where(~keep_none, None)
    if "choices" in out.columns:
        out.loc[hidden, "choices"] = pd.Series([None] * int(hidden.sum()), index=out.index[hidden])
    for column in ("extracted", "gold"):
        values = out.loc[hidden, column]
        too_long = values.notna() & (values.astype(str).str.len() > MAX_KEPT_ANSWER_CHARS)
        out.loc[values.index[too_long], column] = marks[too_long]
    return out


def unpublished_tasks(tasks: Iterable[str], redacted: Iterable[str]) -> list[str]:
    """Never-published tasks that a report did not redact (such a report must not be published)."""
    done = set(redacted)
    return sorted(t for t in tasks if must_redact(t) and t not in done)
