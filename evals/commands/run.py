"""``evals run``: evaluate models on tasks, from flags or a suite file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from evals.commands.suite_flags import add_flags, given, model_entry, name_flags, suite_values
from evals.errors import ConfigError, EvalsError, closest


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="evaluate models on tasks", description=__doc__)
    what = parser.add_argument_group("what to run")
    what.add_argument("--config", help="suite YAML file, or a built-in suite name (e.g. 'default')")
    what.add_argument("--model", action="append", help="alias, Hugging Face id or local dir (repeatable)")
    what.add_argument("--task", action="append", help="task name (repeatable); see 'evals tasks'")
    add_flags(what, "what")
    gen = parser.add_argument_group("generation")
    add_flags(gen, "generation")
    gen.add_argument("--budgets", help="thinking budgets read by forced-answer probes, e.g. 1024,2048,4096")
    add_flags(parser.add_argument_group("engine (passed to vLLM)"), "engine")
    add_flags(parser.add_argument_group("served and API models"), "served")
    add_flags(parser.add_argument_group("adaptive (stop generating when the answer is known)"), "adaptive")
    _add_judge_flags(parser)
    ray = parser.add_argument_group("distributed (Ray)")
    ray.add_argument("--ray", metavar="auto|local|ADDRESS", help="run on a Ray cluster")
    ray.add_argument("--num-workers", type=int, help="engine workers (default: one per node's share)")
    ray.add_argument("--shard-size", type=int, default=128, help="items per shard (default 128)")
    io = parser.add_argument_group("input and output")
    io.add_argument("--data-dir", type=Path, help="read DIR/<task>/test.jsonl instead of the Hub")
    io.add_argument("--out", help="run directory (default: runs/<suite>-<config hash>)")
    io.add_argument("--prices", type=Path, help="price table YAML overriding the shipped one")
    io.add_argument("--quiet", action="store_true", help="no progress bars; print the run dir only")
    io.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    parser.set_defaults(handler=handle)


def _add_judge_flags(parser: Any) -> None:
    judge = parser.add_argument_group("judge model (for answers the rules cannot read)")
    judge.add_argument(
        "--judge", metavar="MODEL", help="alias, HF id or local dir (offline vLLM), or a served name"
    )
    judge.add_argument("--judge-base-url", help="OpenAI-compatible endpoint serving the --judge model")
    judge.add_argument(
        "--judge-all-incorrect", action="store_true", help="the judge also sees incorrect answers"
    )
    judge.add_argument(
        "--judge-sample", type=int, default=20, help="rule-decided answers also judged, to measure agreement"
    )


def suite_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The suite mapping that ``--model``, ``--task`` and the suite flags describe."""
    entry = model_entry(args)
    data = {"name": "run", "models": [{"model": m, **entry} for m in args.model], "tasks": list(args.task)}
    return {**data, **suite_values(args)}


def _builtin_suites() -> dict[str, Path]:
    try:
        folder = resources.files("evals.builtin_suites")
    except ModuleNotFoundError:
        return {}
    return {
        entry.name[: -len(".yaml")]: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def _suite_path(config: str) -> Path:
    """The suite file ``--config`` names: a path, or a built-in suite's name."""
    path = Path(config)
    if path.exists() or os.sep in config or config.endswith(".yaml"):
        return path
    builtin = _builtin_suites()
    if config not in builtin:
        raise ConfigError([f"{config}: no such suite file or built-in suite{closest(config, list(builtin))}"])
    return builtin[config]


def _with_limit(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """``--limit N`` on a suite: at most N items of every task, even one with its own limit."""
    tasks = data.get("tasks")
    if not isinstance(tasks, list):
        return {**data, "limit": limit}
    tasks = [
        {**task, "limit": min(task["limit"], limit)}
        if isinstance(task, dict) and isinstance(task.get("limit"), int) and limit >= 1
        else task
        for task in tasks
    ]
    return {**data, "limit": limit, "tasks": tasks}


def _validated_suite(data: Any, source: str) -> Any:
    """The SuiteSpec of ``data``; schema, task and model problems all in one ConfigError."""
    from evals.plan import reference_problems, validate_suite
    from evals.suite import parse_suite

    try:
        suite = parse_suite(data, source)
    except ConfigError as error:
        named = reference_problems(data, "" if source == "command line" else source)
        raise ConfigError([*error.details, *named]) from None
    validate_suite(suite, "" if source == "command line" else source)
    return suite


def load_suite_from_args(args: argparse.Namespace) -> tuple[Any, str]:
    """The validated SuiteSpec the flags or the config describe, and where it came from."""
    from evals.suite import read_suite_file

    if args.config:
        flagged = [f"--{name}" for name in ("model", "task") if getattr(args, name) is not None]
        flagged += [flag.flag for flag in given(args) if not flag.applies_to_config]
        if flagged:
            raise EvalsError(f"--config sets models and tasks; drop {flagged[0]}")
        path = _suite_path(args.config)
        data = read_suite_file(path)
        if isinstance(data, dict):
            values = suite_values(args)
            limit = values.pop("limit", None)
            data = {**(data if limit is None else _with_limit(data, limit)), **values}
            data = _all_reproducible(data) if args.reproducible else data
        return _validated_suite(data, str(path)), str(path)
    if not args.model or not args.task:
        raise EvalsError("give --model and --task (or --config SUITE.yaml)")
    try:
        return _validated_suite(suite_from_flags(args), "command line"), "command line"
    except ConfigError as error:
        raise name_flags(error) from None


def _all_reproducible(data: dict[str, Any]) -> dict[str, Any]:
    """The suite data with ``engine: {reproducible: true}`` on every model entry."""
    models = data.get("models")
    if not isinstance(models, list):
        return data  # validation reports the problem
    entries = [
        {**m, "engine": {**(m.get("engine") or {}), "reproducible": True}} if isinstance(m, dict) else m
        for m in models
    ]
    return {**data, "models": entries}


def with_budgets(suite: Any, text: str | None) -> Any:
    """The suite with ``--budgets`` (replacing the suite's ``budgets:``) when given."""
    from evals.probes import parse_budgets

    return suite if text is None else suite.model_copy(update={"budgets": parse_budgets(text)})


def _check_out(out: str | None) -> None:
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise EvalsError(f"--out {out}: exists and is not a directory")


def judge_options(args: argparse.Namespace) -> Any:
    """The judge the flags ask for (validated before any engine starts), or None."""
    from evals.judge import JudgeOptions, judge_entry
    from evals.models import validate_model_ref

    if args.judge is None:
        if args.judge_all_incorrect or args.judge_base_url:
            raise EvalsError("--judge-all-incorrect and --judge-base-url need --judge MODEL")
        return None
    if args.judge_sample < 0:
        raise EvalsError("--judge-sample must be 0 or more")
    if args.judge_base_url is None:
        problem = validate_model_ref(args.judge)
        if problem:
            raise EvalsError(f"--judge: {problem}")
    try:
        entry = judge_entry(args.judge, args.judge_base_url)
    except ValueError as error:
        raise EvalsError(f"--judge: {error}") from None
    return JudgeOptions(entry, all_incorrect=args.judge_all_incorrect, agreement_sample=args.judge_sample)


def handle(args: argparse.Namespace) -> int:
    _check_out(args.out)
    suite, _ = load_suite_from_args(args)
    suite = with_budgets(suite, args.budgets)
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise EvalsError(f"--data-dir {args.data_dir}: no such directory")

    from evals.runner import RunOptions, run_suite

    judge = judge_options(args)
    options = RunOptions(
        out=args.out, data_dir=args.data_dir, quiet=args.quiet, prices=args.prices, judge=judge
    )
    if args.ray:
        from dataclasses import replace

        from evals.distributed import make_ray_executor

        options = replace(options, executor=make_ray_executor(args.ray, args.num_workers, args.shard_size))
    # Libraries that print (to Python's stdout) must not corrupt --json or --quiet output.
    with contextlib.redirect_stdout(sys.stderr):
        outcome = run_suite(suite, options)
    reporting = time.perf_counter()
    _print_outcome(args, outcome)
    if outcome.profile is not None and isinstance(outcome.run_dir, Path):  # a URL's manifest is uploaded
        from evals.runner import record_profile
        from evals.store import RunStore

        outcome.profile.add("report", time.perf_counter() - reporting)
        record_profile(RunStore(outcome.run_dir), outcome.profile)
    return 0


def _print_outcome(args: argparse.Namespace, outcome: Any) -> None:
    """The summary on stdout: JSON, the run directory alone (--quiet), or tables."""
    from evals.commands.budgets import print_budget_table
    from evals.table import format_summary

    rows = [row.model_dump(mode="json") for row in outcome.rows]
    adaptive = outcome.adaptive.model_dump(mode="json") if outcome.adaptive else None
    if args.json:
        payload = {"run_dir": str(outcome.run_dir), "generated": outcome.generated,
                   "probed": outcome.probed, "summary": rows}  # fmt: skip
        print(json.dumps({**payload, **({"adaptive": adaptive} if adaptive else {})}, indent=2))
    elif args.quiet:
        print(outcome.run_dir)
    else:
        print(format_summary([row for row in outcome.rows if row.budget is None]))
        print_budget_table(outcome.rows)
        for line in _adaptive_lines(outcome.adaptive):
            print(line)
        print(f"\nrun directory: {outcome.run_dir}  (generated {outcome.generated} new samples)")


def _adaptive_lines(outcome: Any) -> list[str]:
    """What --until did, for the terminal (the manifest's ``adaptive`` has it all)."""
    if outcome is None:
        return []
    lines = [f"\n--until {outcome.until or '-'}: {outcome.statistics}"]
    for track in outcome.tracks:
        lines.append(
            f"  {track.model} / {track.task}: {track.stopped_by} after {track.items} of "
            f"{track.items_total} items ({track.samples} of {track.samples_total} samples)"
        )
    for pair in outcome.pairs:
        verdict = pair.decision or "undecided"
        lines.append(
            f"  {pair.task}: {pair.model_a} - {pair.model_b} = {pair.difference:+.3f} "
            f"({pair.ci_low:+.3f}, {pair.ci_high:+.3f}), p={pair.p_value:.3g}: {verdict}"
        )
    return lines
