"""The model registry: aliases, each naming one source (embedded, or a Hub id).

The aliases are data in ``aliases.yaml`` (shipped inside the package), validated into
frozen ``ModelAliasSpec`` records; a repeated alias is refused, and an unknown alias
fails with the closest known one suggested.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evals.errors import ConfigError, EvalsError, closest

HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
EmbeddedName = Literal["smollm2-135m"]
_PACKAGED_ALIASES = "aliases.yaml"


class ModelAliasSpec(BaseModel):
    """One alias: a short name for a model and where its weights come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alias: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    embedded: EmbeddedName | None = None
    hub: str | None = Field(default=None, pattern=HUB_ID_PATTERN.pattern)
    params: str
    reasoning: bool = False
    notes: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> ModelAliasSpec:
        if (self.embedded is None) == (self.hub is None):
            raise ValueError("name exactly one source: 'embedded' or 'hub'")
        return self

    @property
    def source_label(self) -> str:
        """The source as shown to users: ``embedded:<name>`` or ``hub:<org/name>``."""
        return f"embedded:{self.embedded}" if self.embedded else f"hub:{self.hub}"


class ModelRegistry:
    """Aliases by name; duplicates are refused when the registry is built."""

    def __init__(self, specs: Iterable[ModelAliasSpec], *, origin: str = "<aliases>") -> None:
        by_alias: dict[str, ModelAliasSpec] = {}
        duplicates: list[str] = []
        for spec in specs:
            if spec.alias in by_alias:
                duplicates.append(f"{origin}: alias {spec.alias!r} is defined more than once")
            by_alias[spec.alias] = spec
        if duplicates:
            raise ConfigError(duplicates)
        self._by_alias = by_alias

    def __contains__(self, alias: object) -> bool:
        return alias in self._by_alias

    def __iter__(self) -> Iterator[ModelAliasSpec]:
        return iter(self._by_alias.values())

    def __len__(self) -> int:
        return len(self._by_alias)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self._by_alias)

    def get(self, alias: str) -> ModelAliasSpec:
        """The spec for ``alias``; an unknown alias is an EvalsError suggesting the closest."""
        try:
            return self._by_alias[alias]
        except KeyError:
            # A typed prefix ("qwen2.5-7b") means its completion, even when another alias
            # is closer by edit similarity ("qwen3-1.7b").
            completions = [known for known in self.aliases if known.startswith(alias)]
            hint = closest(alias, completions) or closest(alias, self.aliases)
            raise EvalsError(
                f"unknown model {alias!r}{hint}; run 'evals models' to list aliases, "
                "or pass a Hugging Face id (org/name) or a local directory"
            ) from None


def parse_alias_entries(raw: Any, origin: str) -> list[ModelAliasSpec]:
    """Validate the YAML list of aliases, collecting every problem into one ConfigError."""
    if not isinstance(raw, list):
        raise ConfigError([f"{origin}: expected a list of aliases, got {type(raw).__name__}"])
    specs: list[ModelAliasSpec] = []
    problems: list[str] = []
    for index, entry in enumerate(raw):
        label = entry.get("alias", f"#{index + 1}") if isinstance(entry, dict) else f"#{index + 1}"
        try:
            specs.append(ModelAliasSpec.model_validate(entry))
        except ValidationError as error:
            problems.extend(_describe(origin, str(label), error))
    if problems:
        raise ConfigError(problems)
    return specs


def load_registry(path: Path | None = None) -> ModelRegistry:
    """Read a registry from ``path``, or the packaged ``aliases.yaml`` when None."""
    import yaml

    if path is None:
        text = resources.files("evals.models").joinpath(_PACKAGED_ALIASES).read_text("utf-8")
        origin = f"evals/models/{_PACKAGED_ALIASES}"
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as error:
            raise EvalsError(f"cannot read model aliases {path}: {error.strerror}") from None
        origin = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError([f"{origin}: not valid YAML: {_one_line(str(error))}"]) from None
    return ModelRegistry(parse_alias_entries(raw, origin), origin=origin)


@functools.cache
def default_registry() -> ModelRegistry:
    """The packaged aliases, read and validated once per process."""
    return load_registry()


def _describe(origin: str, label: str, error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"]) or "entry"
        problems.append(f"{origin}: alias {label}: field {field!r}: {detail['msg']}")
    return problems


def _one_line(text: str) -> str:
    return " ".join(text.split())


def hub_id_like(ref: str) -> bool:
    """Whether ``ref`` has the shape of a Hugging Face id (``org/name``)."""
    return HUB_ID_PATTERN.match(ref) is not None


__all__ = [
    "ModelAliasSpec",
    "ModelRegistry",
    "default_registry",
    "hub_id_like",
    "load_registry",
    "parse_alias_entries",
]
