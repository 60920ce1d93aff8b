"""``evals run``: evaluate models on tasks, from flags or a suite file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from evals.errors import ConfigError, EvalsError

# Suite fields a CLI flag sets, so that validation errors name the flag the user typed.
_FLAG_FOR_FIELD = {
    "limit": "--limit", "samples": "--samples", "temperature": "--temperature",
    "top_p": "--top-p", "max_tokens": "--max-tokens", "seed": "--seed",
    "tensor_parallel_size": "--tensor-parallel-size", "max_model_len": "--max-model-len",
    "gpu_memory_utilization": "--gpu-memory-utilization", "dtype": "--dtype",
    "until": "--until", "margin": "--margin", "alpha": "--alpha", "max_usd": "--max-usd",
}  # fmt: skip
_STOPPING_FLAGS = ("until", "margin", "alpha", "max_usd")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="evaluate models on tasks", description=__doc__)
    what = parser.add_argument_group("what to run")
    what.add_argument("--config", help="suite YAML file, or a built-in suite name (e.g. 'default')")
    what.add_argument("--model", action="append", help="alias, Hugging Face id or local dir (repeatable)")
    what.add_argument("--task", action="append", help="task name (repeatable); see 'evals tasks'")
    what.add_argument("--limit", type=int, help="first N items of each task")
    gen = parser.add_argument_group("generation")
    gen.add_argument("--samples", type=int, help="completions per item (default 1)")
    gen.add_argument("--temperature", type=float)
    gen.add_argument("--top-p", type=float)
    gen.add_argument("--max-tokens", type=int, help="default: the task's")
    gen.add_argument("--seed", type=int)
    gen.add_argument("--system-prompt")
    engine = parser.add_argument_group("engine (passed to vLLM)")
    engine.add_argument("--dtype")
    engine.add_argument("--tensor-parallel-size", type=int)
    engine.add_argument("--max-model-len", type=int)
    engine.add_argument("--gpu-memory-utilization", type=float)
    served = parser.add_argument_group("served and API models")
    served.add_argument("--backend", choices=("vllm", "openai", "hf"), help="default: vllm (offline)")
    served.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    served.add_argument("--api-key-env", help="environment variable holding the API key")
    served.add_argument("--max-concurrency", type=int, help="requests in flight (openai backend)")
    served.add_argument("--api-price", help="price-table key for token-priced APIs")
    adaptive = parser.add_argument_group("adaptive (stop generating when the answer is known)")
    adaptive.add_argument(
        "--until",
        metavar="ci=W|decided",
        help="ci=W: each model x task until its 95%% CI half-width <= W; "
        "decided: until every pair of models is ordered or equal within --margin",
    )
    adaptive.add_argument(
        "--margin", type=float, help="with --until decided: equal within +/- this (default 0)"
    )
    adaptive.add_argument("--alpha", type=float, help="error rate of the stopping rule (default 0.05)")
    adaptive.add_argument("--max-usd", type=float, help="stop when the run's priced cost reaches this")
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


def _flag_problems(error: ConfigError, source: str = "command line") -> ConfigError:
    """Rewrite 'command line: models.0.generation.samples: ...' as '--samples: ...'."""
    problems = []
    for problem in error.problems:
        match = re.match(rf"{re.escape(source)}: ([\w.]+): (.*)", problem)
        field = match.group(1).rsplit(".", 1)[-1] if match else ""
        if match and field in _FLAG_FOR_FIELD:
            problems.append(f"{_FLAG_FOR_FIELD[field]}: {match.group(2)}")
        else:
            problems.append(problem)
    return ConfigError(problems)


def suite_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    generation = {
        key: value
        for key, value in {
            "samples": args.samples, "temperature": args.temperature, "top_p": args.top_p,
            "max_tokens": args.max_tokens, "seed": args.seed, "system_prompt": args.system_prompt,
        }.items()
        if value is not None
    }  # fmt: skip
    engine = {
        key: value
        for key, value in {
            "dtype": args.dtype, "tensor_parallel_size": args.tensor_parallel_size,
            "max_model_len": args.max_model_len, "gpu_memory_utilization": args.gpu_memory_utilization,
        }.items()
        if value is not None
    }  # fmt: skip
    entry: dict[str, Any] = {"generation": generation, "engine": engine}
    if args.backend:
        entry["backend"] = args.backend
    if args.base_url:
        server = {"base_url": args.base_url, "api_key_env": args.api_key_env,
                  "max_concurrency": args.max_concurrency, "price": args.api_price}  # fmt: skip
        entry["server"] = {key: value for key, value in server.items() if value is not None}
    data: dict[str, Any] = {
        "name": "run",
        "models": [{"model": m, **entry} for m in args.model],
        "tasks": list(args.task),
    }
    if args.limit is not None:
        data["limit"] = args.limit
    return {**data, **_stopping_keys(args)}


def _stopping_keys(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in _STOPPING_FLAGS if getattr(args, key) is not None}


def _builtin_suite(name: str) -> Path | None:
    try:
        candidate = resources.files("evals.builtin_suites") / f"{name}.yaml"
    except ModuleNotFoundError:
        return None
    return Path(str(candidate)) if candidate.is_file() else None


def load_suite_from_args(args: argparse.Namespace) -> tuple[Any, str]:
    """The validated SuiteSpec the flags or the config describe, and where it came from."""
    from evals.suite import load_suite_file, parse_suite

    flagged = [f for f in ("model", "task", "samples", "temperature", "top_p", "max_tokens",
                           "system_prompt", "dtype", "tensor_parallel_size", "max_model_len",
                           "gpu_memory_utilization", "backend", "base_url", "api_key_env",
                           "max_concurrency", "api_price") if getattr(args, f) is not None]  # fmt: skip
    if args.config:
        if flagged:
            raise EvalsError(f"--config sets models and tasks; drop --{flagged[0].replace('_', '-')}")
        path = Path(args.config)
        if not path.exists() and os.sep not in args.config and not args.config.endswith(".yaml"):
            path = _builtin_suite(args.config) or path
        suite = load_suite_file(path)
        overrides = {**({"limit": args.limit} if args.limit is not None else {}), **_stopping_keys(args)}
        if overrides:
            try:
                suite = parse_suite({**suite.model_dump(mode="json"), **overrides}, str(path))
            except ConfigError as error:
                raise _flag_problems(error, str(path)) from None
        return suite, str(path)
    if not args.model or not args.task:
        raise EvalsError("give --model and --task (or --config SUITE.yaml)")
    try:
        return parse_suite(suite_from_flags(args), "command line"), "command line"
    except ConfigError as error:
        raise _flag_problems(error) from None


def handle(args: argparse.Namespace) -> int:
    from evals.plan import validate_suite

    suite, source = load_suite_from_args(args)
    validate_suite(suite, source)
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise EvalsError(f"--data-dir {args.data_dir}: no such directory")

    from evals.runner import RunOptions, run_suite
    from evals.table import format_summary

    options = RunOptions(out=args.out, data_dir=args.data_dir, quiet=args.quiet, prices=args.prices)
    if args.ray:
        from dataclasses import replace

        from evals.distributed import make_ray_executor

        options = replace(options, executor=make_ray_executor(args.ray, args.num_workers, args.shard_size))
    # Libraries that print (to Python's stdout) must not corrupt --json or --quiet output.
    with contextlib.redirect_stdout(sys.stderr):
        outcome = run_suite(suite, options)
    rows = [row.model_dump(mode="json") for row in outcome.rows]
    adaptive = outcome.adaptive.model_dump(mode="json") if outcome.adaptive else None
    if args.json:
        payload = {"run_dir": str(outcome.run_dir), "generated": outcome.generated, "summary": rows}
        print(json.dumps({**payload, **({"adaptive": adaptive} if adaptive else {})}, indent=2))
    elif args.quiet:
        print(outcome.run_dir)
    else:
        print(format_summary(outcome.rows))
        for line in _adaptive_lines(outcome.adaptive):
            print(line)
        print(f"\nrun directory: {outcome.run_dir}  (generated {outcome.generated} new samples)")
    return 0


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
