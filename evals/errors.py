"""Errors that end a command with one clear line and exit code 2."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


class EvalsError(Exception):
    """A user-facing error: the CLI prints ``str(error)`` on one line and exits 2."""


@dataclass(frozen=True)
class FieldProblem:
    """One config problem: where it came from ('' for the command line), the field path, what is wrong."""

    source: str
    field: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        path = ".".join(str(part) for part in self.field) or "(top level)"
        return f"{self.source}: {path}: {self.message}" if self.source else f"{path}: {self.message}"


class ConfigError(EvalsError):
    """One or more problems in a config, each naming its file and field."""

    def __init__(self, problems: Sequence[str | FieldProblem]) -> None:
        self.details = tuple(problems)  # FieldProblem where the field is known, for callers to rename
        self.problems = tuple(str(problem) for problem in problems)
        super().__init__("; ".join(self.problems))


def closest(name: str, candidates: Sequence[str]) -> str:
    """A ' (did you mean X?)' hint for an unknown name, or '' when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


def field_problems(
    source: str, error: ValidationError, model: type[BaseModel] | None = None
) -> list[FieldProblem]:
    """Each problem of a pydantic validation error, without the library's echoes.

    With ``model`` (the class validated), an unknown key names the closest known key.
    """
    errors = error.errors()
    locations = [tuple(e["loc"]) for e in errors]
    problems = []
    for e in errors:
        field = tuple(e["loc"])
        # pydantic repeats an invalid list item as "should have at least 1 item": the item's
        # own error already says what is wrong.
        if e["type"] == "too_short" and any(
            len(o) > len(field) and o[: len(field)] == field for o in locations
        ):
            continue
        message = e["msg"]
        if e["type"] in ("tuple_type", "list_type"):  # YAML has lists, not tuples
            message = "should be a list"
        elif e["type"] == "too_short":
            message = f"needs at least {e.get('ctx', {}).get('min_length', 1)} item(s)"
        if e["type"] == "extra_forbidden" and model is not None and field:
            message = "unknown key" + closest(str(field[-1]), _keys_at(model, field[:-1]))
        problems.append(FieldProblem(source, field, message))
    return problems


def validation_problems(prefix: str, error: ValidationError) -> list[str]:
    """Each problem of a pydantic validation error as '<prefix>: <field.path>: <message>'."""
    return [str(problem) for problem in field_problems(prefix, error)]


def _keys_at(model: type[BaseModel], path: tuple[str | int, ...]) -> list[str]:
    """The keys the nested model at ``path`` accepts ([] when the path leaves the models)."""
    current: type[BaseModel] | None = model
    for part in path:
        if isinstance(part, int):  # an item of a list: same model as the list's
            continue
        field = current.model_fields.get(part) if current is not None else None
        current = model_in(field.annotation) if field is not None else None
    return list(current.model_fields) if current is not None else []


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``X``, ``X | None``, ``tuple[X, ...]``), if any."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = model_in(argument)
        if found is not None:
            return found
    return None
