"""Turn a validated suite into a run plan: resolved models, loaded tasks, prompts.

Everything that can fail on bad input fails here, before a run directory or an
engine exists.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.errors import ConfigError, EvalsError, FieldProblem
from evals.generation.base import GenerationRequest, SamplingSettings, sample_seed
from evals.generation.registry import backend_named, is_served
from evals.generation.served import ServedModel, served_model, server_field_problems
from evals.models import ResolvedModel, ensure_available, resolve_model, validate_model_ref
from evals.probes import closing_text
from evals.profile import Profile
from evals.prompts import build_prompt
from evals.records import Item, Prompt, SampleKey
from evals.suite import ModelEntrySpec, SuiteSpec
from evals.tasks import LoadedTask, load_task, validate_task_names


@dataclass(frozen=True)
class TaskPlan:
    task: LoadedTask
    prompts: tuple[Prompt, ...]  # one per item, same order as task.items
    max_tokens: int
    budgets: tuple[int, ...] = ()  # thinking budgets read by forced-answer probes
    closings: tuple[str, ...] = ()  # each item's probe closing text, same order as prompts
    probe_max_tokens: int = 32

    @property
    def name(self) -> str:
        return self.task.spec.name


@dataclass(frozen=True)
class ModelPlan:
    entry: ModelEntrySpec
    model: ResolvedModel | ServedModel  # ServedModel: a name an OpenAI-compatible server knows
    tasks: tuple[TaskPlan, ...]

    @property
    def label(self) -> str:
        return self.entry.label

    def requests(self, task: TaskPlan, seed: int) -> Iterator[GenerationRequest]:
        """Every sample of every item of ``task``, each with its own stable seed."""
        gen = self.entry.generation
        for prompt in task.prompts:
            for sample_idx in range(gen.samples):
                key = SampleKey(self.label, task.name, prompt.item.item_id, sample_idx)
                sampling = SamplingSettings(
                    temperature=gen.temperature,
                    top_p=gen.top_p,
                    max_tokens=task.max_tokens,
                    seed=sample_seed(seed + gen.seed, prompt.item.item_id, sample_idx),
                )
                yield GenerationRequest(key, prompt, sampling)


@dataclass(frozen=True)
class RunPlan:
    suite: SuiteSpec
    models: tuple[ModelPlan, ...]

    def items_by_key(self) -> dict[tuple[str, str], Item]:
        """(task, item_id) -> Item, for joining completions with their gold answers."""
        return {
            (task.name, item.item_id): item
            for model in self.models
            for task in model.tasks
            for item in task.task.items
        }


def validate_suite(suite: SuiteSpec, source: str) -> None:
    """Every problem with task names and model references, reported at once.

    ``source`` starts each line (a suite file; '' for command-line flags).
    """
    problems: list[str | FieldProblem] = [*reference_problems(suite.model_dump(mode="json"), source)]
    for index, entry in enumerate(suite.models):
        if backend_named(entry.backend).served:
            problems += [
                FieldProblem(source, ("models", index, *field), message)
                for field, message in server_field_problems(entry)
            ]
    if problems:
        raise ConfigError(problems)


def reference_problems(data: Any, source: str) -> list[str]:
    """Unknown tasks and unresolvable models that a suite mapping names.

    Works on the raw mapping, so that a schema error elsewhere in the file does not
    hide them. Served models are names a server knows: nothing to resolve.
    """
    prefix = f"{source}: " if source else ""
    data = data if isinstance(data, dict) else {}
    tasks = data.get("tasks") if isinstance(data.get("tasks"), list | tuple) else []
    names = [entry.get("name") if isinstance(entry, dict) else entry for entry in tasks]
    problems = [prefix + p for p in validate_task_names([n for n in names if isinstance(n, str)])]
    models = data.get("models") if isinstance(data.get("models"), list | tuple) else []
    for entry in models:
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("model"), str)
            and not is_served(entry.get("backend"))
        ):
            problem = validate_model_ref(entry["model"])
            problems += [prefix + problem] if problem else []
    return problems


def locate_model(entry: ModelEntrySpec) -> ResolvedModel | ServedModel:
    """The entry's model: a name its server knows, or local weights (downloaded when missing)."""
    if backend_named(entry.backend).served:
        return served_model(entry)
    return ensure_available(resolve_model(entry.model))


def build_plan(suite: SuiteSpec, data_dir: Path | None, profile: Profile | None = None) -> RunPlan:
    """Load every task and make every model available; raises on the first bad input."""
    profile = profile or Profile()
    task_entries = {entry.name: entry for entry in suite.tasks}
    with profile.phase("task_loading"):
        loaded = {
            entry.name: load_task(entry.name, data_dir=data_dir, limit=suite.task_limit(entry), seed=None)
            for entry in suite.tasks
        }
    models = []
    for entry in suite.models:
        with profile.phase("model_resolution"):
            resolved = locate_model(entry)
        started = time.perf_counter()
        tasks = tuple(
            TaskPlan(
                task=task,
                prompts=tuple(
                    build_prompt(item, task.spec, entry.generation.system_prompt) for item in task.items
                ),
                max_tokens=(
                    entry.generation.max_completion_tokens
                    or entry.generation.max_tokens
                    or task.spec.generation.max_tokens
                ),
                budgets=suite.budgets,
                closings=tuple(
                    closing_text(item.answer_type, task_entries[name].probe_closing, suite.probes.closing)
                    for item in task.items
                ),
                probe_max_tokens=suite.probes.max_tokens,
            )
            for name, task in loaded.items()
        )
        profile.add("task_loading", time.perf_counter() - started)  # prompts are the tasks' work
        models.append(ModelPlan(entry, resolved, tasks))
    plan = RunPlan(suite, tuple(models))
    _check_budgets(plan)
    return plan


def _check_budgets(plan: RunPlan) -> None:
    """A budget above a model x task's max_tokens cannot be read from the run: refuse it."""
    for model in plan.models:
        for task in model.tasks:
            over = [b for b in task.budgets if b > task.max_tokens]
            if over:
                raise EvalsError(
                    f"budget {over[0]} is above max_tokens {task.max_tokens} of {model.label} on "
                    f"{task.name}; budgets are read from one run, so each must be at most its max_tokens"
                )
