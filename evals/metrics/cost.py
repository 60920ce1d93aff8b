"""Prices and the cost of each sample: self-hosted by engine time, API by tokens.

The shipped price table ``evals/prices.yaml`` holds list prices; a user file
overrides entries by name and adds new ones. An unknown price is an
:class:`UnknownPrice` with its reason, never a cost of 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from evals.errors import ConfigError, closest, validation_problems

SHIPPED_PRICES = Path(__file__).resolve().parent.parent / "prices.yaml"

Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class AcceleratorPriceSpec(BaseModel):
    """On-demand price of one accelerator (or one vCPU) per hour."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd_per_hour: Price
    unit: Literal["GPU", "vCPU"] = "GPU"
    aliases: tuple[str, ...] = ()
    source: str = Field(min_length=1)
    read: date


class ApiModelPriceSpec(BaseModel):
    """List price of an API model per million input and output tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd_per_m_input: Price
    usd_per_m_output: Price
    aliases: tuple[str, ...] = ()
    source: str = Field(min_length=1)
    read: date


class PriceTableSpec(BaseModel):
    """One price file as written: accelerators and API models by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accelerators: dict[str, AcceleratorPriceSpec] = Field(default_factory=dict)
    api_models: dict[str, ApiModelPriceSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class SelfHosted:
    """Cost by engine time: seconds x accelerators x hourly price of each."""

    accelerator: str
    count: int
    usd_per_hour_each: float
    source: str
    date: date
    unit: str = "GPU"

    def describe(self) -> str:
        """The ``cost_basis`` text of summary rows."""
        price = self.usd_per_hour_each
        hourly = f"${price:.2f}" if price >= 1 else f"${price:.4g}"
        what = f"{self.count} vCPU" if self.unit == "vCPU" else f"{self.count} x {self.accelerator}"
        return f"{what} at {hourly}/{self.unit}-h ({self.accelerator}, list price of {self.date.isoformat()})"


@dataclass(frozen=True)
class ApiPriced:
    """Cost by tokens at an API's price per million input and output tokens."""

    model_key: str
    usd_per_m_input: float
    usd_per_m_output: float
    source: str
    date: date

    def describe(self) -> str:
        """The ``cost_basis`` text of summary rows."""
        return (
            f"{self.model_key} @ ${self.usd_per_m_input:.4f}/M input, "
            f"${self.usd_per_m_output:.4f}/M output tokens (list price of {self.date.isoformat()})"
        )


@dataclass(frozen=True)
class UnknownPrice:
    """No price applies; every cost figure is None and the report says why."""

    reason: str

    def describe(self) -> str:
        """The ``cost_basis`` text of summary rows."""
        return f"unknown price: {self.reason}"


CostBasis = SelfHosted | ApiPriced | UnknownPrice


@dataclass(frozen=True)
class PriceTable:
    """Validated prices with lookup by name or alias (case, spaces and 'NVIDIA' ignored)."""

    accelerators: Mapping[str, AcceleratorPriceSpec]
    api_models: Mapping[str, ApiModelPriceSpec]
    accelerator_keys: Mapping[str, str]
    api_model_keys: Mapping[str, str]
    files: tuple[Path, ...]


def lookup_key(name: str) -> str:
    """How names are matched: 'NVIDIA A100-SXM4-80GB' and 'a100 sxm4 80gb' are the same."""
    key = re.sub(r"[^0-9a-z.]", "", name.casefold())
    return re.sub(r"^(nvidia|tesla)", "", key) or key


def load_price_table(path: Path | None = None) -> PriceTable:
    """The shipped price table, with the entries of the user file at ``path`` on top.

    A user entry replaces the shipped entry of the same name, and its name and
    aliases win over shipped aliases. All problems of a file are raised together.
    """
    shipped = _read_spec(SHIPPED_PRICES)
    layers = [(SHIPPED_PRICES, shipped)]
    if path is not None:
        layers.append((path, _read_spec(path)))
    accelerators: dict[str, AcceleratorPriceSpec] = {}
    api_models: dict[str, ApiModelPriceSpec] = {}
    accelerator_keys: dict[str, str] = {}
    api_model_keys: dict[str, str] = {}
    for _, spec in layers:
        accelerators.update(spec.accelerators)
        api_models.update(spec.api_models)
        _index(spec.accelerators, accelerator_keys)
        _index(spec.api_models, api_model_keys)
    return PriceTable(
        accelerators,
        api_models,
        # An alias may point at a shipped entry a later layer dropped; forget those.
        {key: name for key, name in accelerator_keys.items() if name in accelerators},
        {key: name for key, name in api_model_keys.items() if name in api_models},
        tuple(file for file, _ in layers),
    )


def _index(entries: Mapping[str, AcceleratorPriceSpec | ApiModelPriceSpec], keys: dict[str, str]) -> None:
    for name, entry in entries.items():
        for alias in (name, *entry.aliases):
            keys[lookup_key(alias)] = name


def _read_spec(path: Path) -> PriceTableSpec:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError([f"{path}: cannot read price table: {error.strerror}"]) from error
    except yaml.YAMLError as error:
        raise ConfigError([f"{path}: invalid YAML: {error}".replace("\n", " ")]) from error
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: a price table is a mapping, got {type(raw).__name__}"])
    try:
        spec = PriceTableSpec.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(validation_problems(str(path), error)) from error
    problems = _alias_clashes(path, "accelerators", spec.accelerators)
    problems += _alias_clashes(path, "api_models", spec.api_models)
    if problems:
        raise ConfigError(problems)
    return spec


def _alias_clashes(
    path: Path, section: str, entries: Mapping[str, AcceleratorPriceSpec | ApiModelPriceSpec]
) -> list[str]:
    owner: dict[str, str] = {}
    problems = []
    for name, entry in entries.items():
        for alias in dict.fromkeys((name, *entry.aliases)):
            key = lookup_key(alias)
            if key in owner and owner[key] != name:
                problems.append(
                    f"{path}: {section}.{name}: name or alias {alias!r} also names {owner[key]!r}"
                )
            owner.setdefault(key, name)
    return problems


def cost_basis(table: PriceTable, *, accelerator: str | None, count: int, api_model: str | None) -> CostBasis:
    """How one model's samples are priced: API tokens if ``api_model``, else engine time."""
    if api_model is not None:
        name = table.api_model_keys.get(lookup_key(api_model))
        if name is None:
            hint = _hint(api_model, table.api_models)
            return UnknownPrice(f"no price for API model {api_model!r} in the price table{hint}")
        api = table.api_models[name]
        return ApiPriced(name, api.usd_per_m_input, api.usd_per_m_output, api.source, api.read)
    if accelerator is None:
        return UnknownPrice("no accelerator or API model recorded")
    name = table.accelerator_keys.get(lookup_key(accelerator))
    if name is None:
        hint = _hint(accelerator, table.accelerators)
        return UnknownPrice(f"no price for accelerator {accelerator!r} in the price table{hint}")
    if count < 1:
        return UnknownPrice(f"accelerator count must be at least 1, got {count}")
    price = table.accelerators[name]
    return SelfHosted(name, count, price.usd_per_hour, price.source, price.read, price.unit)


def _hint(name: str, entries: Mapping[str, object]) -> str:
    """Names that start like ``name`` ('A100' -> both A100 sizes), else the closest one."""
    starting = [entry for entry in entries if lookup_key(entry).startswith(lookup_key(name))]
    if len(starting) > 1:
        return f" (did you mean one of {', '.join(map(repr, starting))}?)"
    return closest(name, list(entries))


def sample_costs(
    basis: CostBasis,
    prompt_tokens: npt.NDArray[np.float64],
    completion_tokens: npt.NDArray[np.float64],
    engine_seconds: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64] | None:
    """USD per sample, or None when the price is unknown.

    Self-hosted: engine_seconds x count x usd_per_hour / 3600, where engine_seconds is
    already the sample's token-apportioned share of the engine's wall time.
    API: (prompt_tokens x input price + completion_tokens x output price) / 1e6.
    """
    if isinstance(basis, SelfHosted):
        return engine_seconds * basis.count * basis.usd_per_hour_each / 3600.0
    if isinstance(basis, ApiPriced):
        return (prompt_tokens * basis.usd_per_m_input + completion_tokens * basis.usd_per_m_output) / 1e6
    return None
