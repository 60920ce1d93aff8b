"""Suite specs: which models, with which settings, on which tasks.

A suite is data (YAML or CLI flags) validated into frozen ``*Spec`` models. Every
problem of a config is collected and reported at once, before any engine starts.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evals.errors import ConfigError, field_problems
from evals.records import AnswerType

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:+-]*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenerationSpec(_Spec):
    """Decoding settings; ``max_tokens=None`` takes the task's default."""

    samples: int = Field(1, ge=1, le=1024)
    temperature: float = Field(0.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    seed: int = 0
    system_prompt: str | None = None
    # Reasoning controls. Served models: sent with each request (``max_completion_tokens``
    # instead of ``max_tokens`` where set, and then also the run's cap; ``extra_body`` merged
    # verbatim). ``chat_template_kwargs`` is also applied to the chat template offline.
    reasoning_effort: str | None = None
    max_completion_tokens: int | None = Field(None, ge=1)
    chat_template_kwargs: dict[str, Any] | None = None
    extra_body: dict[str, Any] | None = None


# Generation fields added after runs existed: left out of the config hash while unset,
# so that a suite that does not use them keeps its run directory.
LATER_GENERATION_FIELDS = ("reasoning_effort", "max_completion_tokens", "chat_template_kwargs", "extra_body")


class EngineSpec(_Spec):
    """vLLM engine options; None leaves vLLM's (or this project's hardware-aware) default."""

    dtype: str = "auto"
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = Field(None, ge=16)
    gpu_memory_utilization: float | None = Field(None, gt=0.0, le=1.0)
    enforce_eager: bool | None = None
    # None: in-process on CPU (1.6x faster on 2 cores), vLLM's default on GPU.
    in_process: bool | None = None
    kv_cache_gib: float | None = Field(None, gt=0.0)
    max_num_seqs: int | None = Field(None, ge=1)
    # Shard-invariant outputs: the same text whatever the workers, shards, batches or resume
    # point (see evals.generation.vllm_backend.resolve_engine_setup for what it changes).
    reproducible: bool = False


class ServerSpec(_Spec):
    """An OpenAI-compatible endpoint (``vllm serve``, SGLang, DeepSeek's or OpenAI's API)."""

    base_url: str
    # The key is read from this environment variable at run time and never written anywhere.
    api_key_env: str | None = None
    model_name: str | None = None  # the name the server knows the model by; default: ``model``
    max_concurrency: int = Field(8, ge=1, le=1024)
    timeout_s: float = Field(600.0, gt=0)
    max_retries: int = Field(5, ge=0, le=50)
    price: str | None = None  # price-table key for token-priced APIs (e.g. "deepseek-reasoner")


class ModelEntrySpec(_Spec):
    """One leaderboard row: a model and how it is run."""

    name: str | None = None
    model: str
    backend: Literal["vllm", "openai", "hf"] = "vllm"
    generation: GenerationSpec = GenerationSpec()
    engine: EngineSpec = EngineSpec()
    server: ServerSpec | None = None

    @model_validator(mode="after")
    def _server_matches_backend(self) -> ModelEntrySpec:
        if self.backend == "openai" and self.server is None:
            raise ValueError("backend 'openai' needs a server: {base_url: ...}")
        if self.backend != "openai" and self.server is not None:
            raise ValueError(f"server is only used by backend 'openai', not {self.backend!r}")
        return self

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("use letters, digits and . _ @ : + - only")
        return value

    @property
    def label(self) -> str:
        """The row name: ``name`` when given, else the model reference and its sampling."""
        if self.name:
            return self.name
        base = Path(self.model).name if "/" in self.model else self.model
        gen = self.generation
        if gen.samples == 1 and gen.temperature == 0.0:
            return base
        return f"{base}@n{gen.samples}-t{gen.temperature:g}"


class TaskEntrySpec(_Spec):
    name: str
    limit: int | None = Field(None, ge=1)
    # The text that ends a budget probe's reasoning and asks for the answer (default: per answer type).
    probe_closing: str | None = None


class ProbeSpec(_Spec):
    """Forced-answer probes of reasoning budgets: how they ask for the answer."""

    max_tokens: int = Field(32, ge=1, le=256)
    closing: dict[AnswerType, str] = Field(default_factory=dict)


class HardwareSpec(_Spec):
    """What the engine runs on, for cost; None fields are detected at run time."""

    accelerator: str | None = None
    count: int | None = Field(None, ge=1)


class SuiteSpec(_Spec):
    """A whole evaluation: models x tasks."""

    name: str = "suite"
    models: tuple[ModelEntrySpec, ...] = Field(min_length=1)
    tasks: tuple[TaskEntrySpec, ...] = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    seed: int = 0
    data_dir: str | None = None
    hardware: HardwareSpec = HardwareSpec()
    pass_k: tuple[int, ...] | None = None
    # Thinking budgets read from one run by forced-answer probes (not part of the run's identity).
    budgets: tuple[int, ...] = ()
    probes: ProbeSpec = ProbeSpec()

    @field_validator("budgets")
    @classmethod
    def _positive_budgets(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(b < 1 for b in value):
            raise ValueError("every budget is a positive number of tokens")
        return tuple(sorted(set(value)))

    # Adaptive evaluation (issue 13): stop generating once the answer is known.
    until: str | None = None  # "ci=W" (95% CI half-width <= W per model x task) or "decided"
    margin: float | None = Field(None, ge=0.0, lt=1.0)  # "decided": equal within +/- margin
    alpha: float | None = Field(None, gt=0.0, le=0.5)  # error rate of every rule (default 0.05)
    max_usd: float | None = Field(None, gt=0.0)  # stop the run when its priced cost reaches it

    @field_validator("until")
    @classmethod
    def _valid_until(cls, value: str | None) -> str | None:
        if value is not None:
            parse_until(value)
        return value

    @field_validator("margin")
    @classmethod
    def _margin_needs_decided(cls, value: float | None, info: ValidationInfo) -> float | None:
        until = info.data.get("until")
        if value is not None and until != "decided" and "until" in info.data:
            raise ValueError("a margin applies only with until: decided")
        return value

    @field_validator("alpha")
    @classmethod
    def _alpha_needs_a_rule(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is not None and info.data.get("until") is None and "until" in info.data:
            raise ValueError("alpha applies only with until: ci=W or decided")
        return value

    @field_validator("tasks", mode="before")
    @classmethod
    def _task_names(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"name": entry} if isinstance(entry, str) else entry for entry in value]
        return value

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits and . _ @ : + - only")
        return value

    def task_limit(self, task: TaskEntrySpec) -> int | None:
        return task.limit if task.limit is not None else self.limit

    def config_hash(self) -> str:
        """A stable hash of everything that changes results (the run's identity)."""
        # Where the data lives is not part of a run's identity; the manifest hashes item ids.
        # Budgets and probes only add probe rows beside the samples: the samples stay the same.
        # Stopping rules change how much is generated, not what: a run can be extended with a stricter one.
        exclude: Any = {"data_dir": True, "budgets": True, "probes": True,
                        "until": True, "margin": True, "alpha": True, "max_usd": True,
                        "tasks": {"__all__": {"probe_closing"}}}  # fmt: skip
        data = self.model_dump(mode="json", exclude=exclude)
        for model in data["models"]:
            for name in LATER_GENERATION_FIELDS:
                if model["generation"].get(name) is None:
                    model["generation"].pop(name, None)
        canonical = json.dumps(data, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_until(text: str) -> float | None:
    """The half-width W of ``ci=W`` (0 < W < 0.5), None for ``decided``; ValueError otherwise."""
    if text == "decided":
        return None
    if not text.startswith("ci="):
        raise ValueError(f"unknown rule {text!r}; use ci=W (e.g. ci=0.02) or decided")
    try:
        width = float(text[3:])
    except ValueError:
        raise ValueError(f"{text!r}: W in ci=W must be a number, e.g. ci=0.02") from None
    if not 0 < width < 0.5:
        raise ValueError(f"{text!r}: ci=W needs 0 < W < 0.5 (a CI half-width in accuracy, e.g. ci=0.02)")
    return width


def parse_suite(data: Any, source: str) -> SuiteSpec:
    """Validate a loaded mapping into a SuiteSpec, listing every schema problem at once."""
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected a mapping at the top level"])
    try:
        suite = SuiteSpec.model_validate(data)
    except ValidationError as error:
        raise ConfigError(field_problems(source, error, SuiteSpec)) from None
    labels = [entry.label for entry in suite.models]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ConfigError(
            [f"{source}: models: two entries are both named {d!r}; give one a name" for d in duplicates]
        )
    if suite.until == "decided" and len(suite.models) < 2:
        raise ConfigError([f"{source}: until: decided compares models; give at least two"])
    return suite


def read_suite_file(path: Path) -> Any:
    """The parsed YAML of a suite file, not yet validated (no code runs from it)."""
    if not path.is_file():
        raise ConfigError([f"{path}: no such suite file"])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{path}:{where}: malformed YAML: {problem}"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([f"{path}: cannot read: {error}"]) from None


def load_suite_file(path: Path) -> SuiteSpec:
    """Read and validate a suite YAML file."""
    return parse_suite(read_suite_file(path), str(path))
