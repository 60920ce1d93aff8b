"""``evals check-backends``: the same greedy prompts through two backends; how often they agree.

Both backends get the same prompts, greedy decoding and the same dtype (float32 by
default: in bfloat16, near-tied logits make two correct implementations diverge).
Nothing is written; the report gives the fraction of identical outputs, identical
rendered prompts, and each backend's accuracy with the difference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.errors import EvalsError
from evals.generation.registry import BACKENDS, backend_named, unknown_backend_message

if TYPE_CHECKING:
    from evals.generation.agreement import Agreement
    from evals.plan import ModelPlan
    from evals.records import Completion


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-backends", help="compare greedy outputs of two backends on one task", description=__doc__
    )
    parser.add_argument("--model", required=True, help="alias, Hugging Face id or local dir")
    parser.add_argument("--task", required=True, help="task name; see 'evals tasks'")
    parser.add_argument("--limit", type=int, default=50, help="first N items (default 50)")
    parser.add_argument(
        "--backends", default="vllm,hf", help=f"two of {', '.join(BACKENDS)} (default vllm,hf)"
    )
    parser.add_argument("--max-tokens", type=int, help="default: the task's")
    parser.add_argument("--dtype", default="float32", help="weights dtype for vllm and hf (default float32)")
    parser.add_argument("--data-dir", type=Path, help="read DIR/<task>/test.jsonl instead of the Hub")
    parser.add_argument("--base-url", help="server for the openai backend")
    parser.add_argument("--api-key-env", help="environment variable holding the openai backend's key")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=handle)


def parse_backends(text: str) -> tuple[str, str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in BACKENDS]
    if unknown:
        raise EvalsError(f"--backends: {unknown_backend_message(unknown[0])}")
    if len(names) != 2 or names[0] == names[1]:
        raise EvalsError(f"--backends: name two different backends, e.g. vllm,hf (got {text!r})")
    return names[0], names[1]


def suite_data(args: argparse.Namespace, backends: tuple[str, str]) -> dict[str, Any]:
    """A suite with one greedy entry per backend, named after the backend."""
    generation: dict[str, Any] = {"temperature": 0.0, "samples": 1}
    if args.max_tokens is not None:
        generation["max_tokens"] = args.max_tokens
    models = []
    for backend in backends:
        entry: dict[str, Any] = {
            "name": backend,
            "model": args.model,
            "backend": backend,
            "generation": generation,
        }
        if backend_named(backend).served:
            if not args.base_url:
                raise EvalsError(f"--backends {backend} needs --base-url")
            server = {"base_url": args.base_url, "api_key_env": args.api_key_env}
            entry["server"] = {key: value for key, value in server.items() if value is not None}
        else:
            entry["engine"] = {"dtype": args.dtype}
        models.append(entry)
    return {"name": "check-backends", "models": models, "tasks": [args.task], "limit": args.limit}


def handle(args: argparse.Namespace) -> int:
    import os

    from evals.plan import build_plan, validate_suite

    # vLLM logs to stdout by default; the report (and its JSON) owns stdout.
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    from evals.suite import parse_suite

    if args.limit < 1:
        raise EvalsError(f"--limit must be at least 1, got {args.limit}")
    if args.data_dir is not None and not args.data_dir.is_dir():
        raise EvalsError(f"--data-dir {args.data_dir}: no such directory")
    backends = parse_backends(args.backends)
    suite = parse_suite(suite_data(args, backends), "command line")
    validate_suite(suite, "command line")
    plan = build_plan(suite, args.data_dir)
    outputs = tuple(generate_greedy(model, suite.seed) for model in plan.models)
    agreement = compare(plan.models, outputs)
    if args.json:
        print(json.dumps(agreement_dict(agreement), indent=2))
    else:
        print(describe(agreement, args, plan.models[0]))
    return 0


def generate_greedy(model: ModelPlan, seed: int) -> list[Completion]:
    """Every prompt of the model's task through its backend, in memory (no run directory)."""
    from evals.execute import default_backend
    from evals.generation.vllm_backend import resolve_engine_setup
    from evals.hardware import detect_hardware

    on_gpu = detect_hardware(1).accelerator != "cpu-core"
    backend = default_backend(model, resolve_engine_setup(model.entry.engine, on_gpu), seed)
    completions: list[Completion] = []
    try:
        requests = [request for task in model.tasks for request in model.requests(task, seed)]
        backend.generate(requests, completions.extend)
    finally:
        backend.close()
    return completions


def compare(models: tuple[ModelPlan, ...], outputs: tuple[list[Completion], ...]) -> Agreement:
    from evals.generation.agreement import compare_outputs
    from evals.scoring import Scorer, ScoreRequest

    items = [item for task in models[0].tasks for item in task.task.items]
    by_id = {item.item_id: item for item in items}
    verdicts: list[dict[str, bool | None]] = []
    with Scorer() as scorer:
        for completions in outputs:
            judged = [c for c in completions if c.error is None]
            requests = [
                ScoreRequest(
                    output=c.output,
                    gold=by_id[c.key.item_id].gold,
                    answer_type=by_id[c.key.item_id].answer_type,
                    choices=by_id[c.key.item_id].choices,
                    reasoning_in_prompt=c.prompt_text.rstrip().endswith("<think>"),
                    finish_reason=c.finish_reason,
                )
                for c in judged
            ]
            scored = scorer.score_many(requests)
            verdicts.append({c.key.item_id: v.correct for c, v in zip(judged, scored, strict=True)})
    names = (models[0].label, models[1].label)
    return compare_outputs(names, (outputs[0], outputs[1]), (verdicts[0], verdicts[1]), items)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def describe(agreement: Agreement, args: argparse.Namespace, model: ModelPlan) -> str:
    a, b = agreement.a, agreement.b
    n = agreement.n_prompts
    difference = agreement.accuracy_difference
    lines = [
        f"{a.name} vs {b.name}: {args.model} on {args.task}, {n} greedy prompts, "
        f"max {model.tasks[0].max_tokens} tokens, dtype {args.dtype}",
        f"identical outputs: {agreement.identical_outputs}/{n} ({_percent(agreement.identical_fraction)})",
        f"identical prompts: {agreement.identical_prompts}/{n}",
        f"mean shared prefix: {_percent(agreement.mean_shared_prefix)} of the longer output",
        f"accuracy: {a.name} {_percent(a.accuracy)} ({a.judged} judged), "
        f"{b.name} {_percent(b.accuracy)} ({b.judged} judged); difference {b.name} - {a.name}: "
        + ("n/a" if difference is None else f"{100 * difference:+.1f} points"),
    ]
    if agreement.first_difference is not None:
        first = agreement.first_difference
        lines.append(f"first difference: item {first.item_id} at character {first.char}")
    return "\n".join(lines)


def agreement_dict(agreement: Agreement) -> dict[str, Any]:
    first = agreement.first_difference
    names = (agreement.a.name, agreement.b.name)
    return {
        "backends": [agreement.a.name, agreement.b.name],
        "n_prompts": agreement.n_prompts,
        "identical_outputs": agreement.identical_outputs,
        "identical_fraction": agreement.identical_fraction,
        "identical_prompts": agreement.identical_prompts,
        "mean_shared_prefix": agreement.mean_shared_prefix,
        "accuracy": {agreement.a.name: agreement.a.accuracy, agreement.b.name: agreement.b.accuracy},
        "judged": {agreement.a.name: agreement.a.judged, agreement.b.name: agreement.b.judged},
        "accuracy_difference": agreement.accuracy_difference,
        "first_difference": None if first is None else {"item_id": first.item_id, "char": first.char},
        "prompts": [
            {
                "item_id": prompt.item_id,
                "output": dict(zip(names, prompt.outputs, strict=True)),
                "finish_reason": dict(zip(names, prompt.finish_reasons, strict=True)),
                "correct": dict(zip(names, prompt.correct, strict=True)),
            }
            for prompt in agreement.prompts
        ],
    }
