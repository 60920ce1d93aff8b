"""Errors that end a command with one clear line and exit code 2."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class EvalsError(Exception):
    """A user-facing error: the CLI prints ``str(error)`` on one line and exits 2."""


class ConfigError(EvalsError):
    """One or more problems in a config, each naming its file and field."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def closest(name: str, candidates: Sequence[str]) -> str:
    """A ' (did you mean X?)' hint for an unknown name, or '' when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def validation_problems(prefix: str, error: ValidationError) -> list[str]:
    """Each problem of a pydantic validation error as '<prefix>: <field.path>: <message>'."""
    return [
        f"{prefix}: {'.'.join(str(part) for part in e['loc']) or '(top level)'}: {e['msg']}"
        for e in error.errors()
    ]
