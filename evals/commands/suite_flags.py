"""The ``evals run`` flags that set suite fields, derived from the suite models.

Each flag is one ``SuiteFlag``: the field it sets, as a path in a suite mapping, and the
help group it shows in. Its name, type, choices and help text (the field's description)
come from the field, and so do the suite mapping a command line builds and the flag
that a validation error on that field names.
"""

from __future__ import annotations

import argparse
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from evals.errors import ConfigError, FieldProblem, model_in
from evals.generation.registry import backend_names
from evals.suite import SuiteSpec

# A path starting with "models" sets that field of every model entry; any other, the suite's own.
MODELS = "models"


@dataclass(frozen=True)
class SuiteFlag:
    """A flag setting one suite field (``path``, e.g. ("models", "generation", "top_p"))."""

    path: tuple[str, ...]
    group: str  # the help group it is listed in
    name: str | None = None  # the flag, when not --<field-name>
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    applies_to_config: bool = False  # also applies to a --config suite (else the two conflict)

    @property
    def flag(self) -> str:
        return self.name or "--" + self.path[-1].replace("_", "-")

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")

    @property
    def per_model(self) -> bool:
        return self.path[0] == MODELS

    def field(self) -> FieldInfo:
        """The suite model field this flag sets."""
        model: type[BaseModel] | None = SuiteSpec
        info: FieldInfo | None = None
        for part in self.path:
            info = model.model_fields[part] if model is not None else None
            if info is None:
                raise KeyError(f"{self.flag}: no suite field {'.'.join(self.path)}")
            model = model_in(info.annotation)
        assert info is not None
        return info

    def value(self, args: argparse.Namespace) -> Any:
        """The value given on the command line; None when the flag is absent."""
        value = getattr(args, self.dest)
        return None if value is False else value


SUITE_FLAGS = (
    SuiteFlag(("limit",), "what", applies_to_config=True),
    SuiteFlag((MODELS, "generation", "samples"), "generation"),
    SuiteFlag((MODELS, "generation", "temperature"), "generation"),
    SuiteFlag((MODELS, "generation", "top_p"), "generation"),
    SuiteFlag((MODELS, "generation", "max_tokens"), "generation"),
    SuiteFlag((MODELS, "generation", "seed"), "generation"),
    SuiteFlag((MODELS, "generation", "system_prompt"), "generation"),
    SuiteFlag((MODELS, "engine", "dtype"), "engine"),
    SuiteFlag((MODELS, "engine", "tensor_parallel_size"), "engine"),
    SuiteFlag((MODELS, "engine", "max_model_len"), "engine"),
    SuiteFlag((MODELS, "engine", "gpu_memory_utilization"), "engine"),
    SuiteFlag((MODELS, "engine", "reproducible"), "engine", applies_to_config=True),
    SuiteFlag((MODELS, "backend"), "served", choices=backend_names()),
    SuiteFlag((MODELS, "server", "base_url"), "served"),
    SuiteFlag((MODELS, "server", "api_key_env"), "served"),
    SuiteFlag((MODELS, "server", "max_concurrency"), "served"),
    SuiteFlag((MODELS, "server", "price"), "served", name="--api-price"),
    SuiteFlag(("until",), "adaptive", metavar="ci=W|decided", applies_to_config=True),
    SuiteFlag(("margin",), "adaptive", applies_to_config=True),
    SuiteFlag(("alpha",), "adaptive", applies_to_config=True),
    SuiteFlag(("max_usd",), "adaptive", applies_to_config=True),
)


def add_flags(group: Any, name: str) -> None:
    """Add the suite flags of help group ``name`` to an argparse group."""
    for flag in (f for f in SUITE_FLAGS if f.group == name):
        info = flag.field()
        help_text = (info.description or "").replace("%", "%%")  # argparse formats help with %
        value_type = _value_type(info.annotation)
        if value_type is bool:
            group.add_argument(flag.flag, action="store_true", help=help_text)
            continue
        group.add_argument(
            flag.flag, type=value_type, metavar=flag.metavar, choices=flag.choices, help=help_text
        )


def _value_type(annotation: Any) -> type:
    """``int`` for ``int | None``, and so on: the type a flag's text is converted to."""
    types = [t for t in typing.get_args(annotation) if t is not type(None)] or [annotation]
    value_type = types[0]
    if not isinstance(value_type, type):
        raise TypeError(f"a suite flag needs a plain field type, not {annotation!r}")
    return value_type


def given(args: argparse.Namespace) -> list[SuiteFlag]:
    """The suite flags given on the command line, in declaration order."""
    return [flag for flag in SUITE_FLAGS if flag.value(args) is not None]


def suite_values(args: argparse.Namespace) -> dict[str, Any]:
    """The suite-level fields the flags set (limit, stopping rules)."""
    return {flag.path[-1]: flag.value(args) for flag in given(args) if not flag.per_model}


def model_entry(args: argparse.Namespace) -> dict[str, Any]:
    """The fields the flags set on every model entry, nested as in a suite file."""
    entry: dict[str, Any] = {"generation": {}, "engine": {}}
    for flag in (f for f in given(args) if f.per_model):
        *parents, leaf = flag.path[1:]
        target = entry
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = flag.value(args)
    return entry


def flag_for(field: Sequence[str | int]) -> SuiteFlag | None:
    """The flag that sets the suite field at ``field`` (list indices ignored), if any."""
    path = tuple(part for part in field if not isinstance(part, int))
    return next((flag for flag in SUITE_FLAGS if flag.path == path), None)


def name_flags(error: ConfigError) -> ConfigError:
    """Name the flag the user typed: '--samples: ...', not 'models.0.generation.samples: ...'."""
    problems: list[str | FieldProblem] = []
    for problem in error.details:
        if isinstance(problem, FieldProblem) and (flag := flag_for(problem.field)) is not None:
            problems.append(f"{flag.flag}: {problem.message}")
        else:
            problems.append(problem)
    return ConfigError(problems)
