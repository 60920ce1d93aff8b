"""Add thinking budgets to a finished run: probe its stored samples, regenerate nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from evals.errors import EvalsError
from evals.execute import EngineGroup, Executor, LocalExecutor, engine_groups, pending_requests
from evals.generation.vllm_backend import resolve_engine_setup
from evals.hardware import Hardware
from evals.plan import RunPlan, build_plan
from evals.probes import done_probe_keys
from evals.run_records import Manifest
from evals.runner import RunOutcome, cost_bases, finalize_run
from evals.store import RunStore
from evals.suite import SuiteSpec, parse_suite


@dataclass(frozen=True)
class FinishedRun:
    """A finished run directory with its plan rebuilt from its manifest."""

    store: RunStore
    manifest: Manifest
    plan: RunPlan
    hardware: Hardware
    groups: list[EngineGroup]


def open_finished_run(run_dir: Path, data_dir: Path | None, budgets: tuple[int, ...] = ()) -> FinishedRun:
    """Read a finished run (with ``budgets`` added); EvalsError before anything is written."""
    store = RunStore(run_dir)
    manifest = store.read_manifest()
    if manifest is None or not store.samples_path.is_file():
        raise EvalsError(f"{run_dir}: not a finished run (needs manifest.json and samples.parquet)")
    suite = with_extended_cap(parse_suite(manifest.config, str(store.manifest_path)), manifest)
    suite = suite.model_copy(update={"budgets": tuple(sorted({*suite.budgets, *budgets}))})
    plan = build_plan(suite, data_dir or (Path(suite.data_dir) if suite.data_dir else None))
    hardware = manifest.hardware.hardware()
    on_gpu = hardware.accelerator != "cpu-core"
    setups = {m.label: resolve_engine_setup(m.entry.engine, on_gpu) for m in plan.models}
    groups = engine_groups(plan.models, setups)
    done = store.done_keys()
    if any(requests for group in groups for requests in pending_requests(group, done, suite.seed).values()):
        raise EvalsError(f"{run_dir}: the run has samples left to generate; finish it with 'evals run' first")
    return FinishedRun(store, manifest, plan, hardware, groups)


def with_extended_cap(suite: SuiteSpec, manifest: Manifest) -> SuiteSpec:
    """The suite at the cap of the run's last ``evals extend`` (recorded in the manifest), if any."""
    if not manifest.extended:
        return suite
    cap = max(int(stamp["max_tokens"]) for stamp in manifest.extended)
    models = []
    for entry in suite.models:
        # The run's cap is max_completion_tokens where the entry sets it (see TaskPlan.max_tokens).
        field = "max_completion_tokens" if entry.generation.max_completion_tokens else "max_tokens"
        generation = entry.generation.model_copy(update={field: cap})
        models.append(entry.model_copy(update={"generation": generation}))
    return suite.model_copy(update={"models": tuple(models)})


def add_budgets(
    run_dir: Path,
    budgets: tuple[int, ...],
    *,
    data_dir: Path | None = None,
    prices: Path | None = None,
    quiet: bool = False,
    executor: Executor | None = None,
) -> RunOutcome:
    """Probe ``run_dir`` at ``budgets`` (with its own), rewrite its summary; ``generated`` is 0.

    ``executor`` runs the probes: this machine's engine by default, or Ray shards.
    """
    run = open_finished_run(run_dir, data_dir, budgets)
    store, suite = run.store, run.plan.suite
    probes_before = len(done_probe_keys(store))
    (executor or LocalExecutor()).run(run.groups, store, suite.seed, quiet)
    stamp = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "budgets": list(budgets)}
    config = {**run.manifest.config, "budgets": list(suite.budgets)}
    store.update_manifest(config=config, budgets_added=(*run.manifest.budgets_added, stamp))
    rows = finalize_run(store, run.plan, cost_bases(suite, run.hardware, prices))
    return RunOutcome(
        store.root, tuple(rows), generated=0, probed=len(done_probe_keys(store)) - probes_before
    )
