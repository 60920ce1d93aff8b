"""Overhead of `evals run` against a bare `vllm.LLM` on the same prompts, end to end.

Both sides start their engine in a fresh process and generate the same chat prompts with the
same sampling parameters (greedy, --max-tokens); `evals run` also loads the task, scores and
writes its run directory. Rounds alternate the two sides so drift on a noisy machine hits both.

    .venv/bin/python bench/overhead.py --limit 256 --max-tokens 256 --rounds 3

Target (issue 11): ratio evals / bare <= 1.03. Each round also prints both sides' time per phase
(the evals side from its manifest's ``profile``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_data import full_data_dir

REPO = Path(__file__).resolve().parents[1]

# The bare side: vLLM's fastest setup on this hardware (in-process engine on CPU, eager, bf16).
# It times the same phases as an evals run's manifest ``profile`` where they exist.
BARE_SCRIPT = r"""
import json, sys, time
import psutil
from vllm import LLM, SamplingParams
if __name__ == "__main__":
    imports = time.time() - psutil.Process().create_time()
    spec = json.load(open(sys.argv[1]))
    started = time.perf_counter()
    llm = LLM(model=spec["model"], dtype="bfloat16", enforce_eager=True, seed=0)
    engine = time.perf_counter() - started
    params = SamplingParams(temperature=0.0, max_tokens=spec["max_tokens"])
    started = time.perf_counter()
    outputs = llm.chat(spec["conversations"], params, use_tqdm=False)
    generation = time.perf_counter() - started
    profile = {"imports": imports, "engine_start": engine, "generation": generation}
    print(json.dumps({"completion_tokens": sum(len(o.outputs[0].token_ids) for o in outputs),
                      "profile": profile}))
"""


def _conversations(task: str, limit: int) -> tuple[list[list[dict[str, str]]], str]:
    from evals.models import ensure_available, resolve_model
    from evals.prompts import build_prompt
    from evals.tasks import load_task

    loaded = load_task(task, data_dir=full_data_dir(task), limit=limit, seed=0)
    prompts = [build_prompt(item, loaded.spec, None) for item in loaded.items]
    model = ensure_available(resolve_model("smollm2-135m"))
    conversations = [[{"role": m.role, "content": m.content} for m in p.messages] for p in prompts]
    return conversations, str(model.path_or_id)


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(command)}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", default="gsm8k")
    parser.add_argument("--limit", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    conversations, model_path = _conversations(args.task, args.limit)
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "2",
           "VLLM_LOGGING_LEVEL": "WARNING"}  # fmt: skip
    bare_times, evals_times = [], []
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec = {"model": model_path, "max_tokens": args.max_tokens, "conversations": conversations}
        spec_path.write_text(json.dumps(spec))
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_SCRIPT)
        for round_index in range(args.rounds):
            bare, bare_out = _timed([sys.executable, str(script), str(spec_path)], env)
            out_dir = Path(tmp) / f"run-{round_index}"
            evals_cmd = [sys.executable, "-m", "evals.cli", "run", "--model", "smollm2-135m",
                         "--task", args.task, "--limit", str(args.limit), "--max-tokens",
                         str(args.max_tokens), "--data-dir", str(full_data_dir(args.task)), "--out", str(out_dir), "--json"]  # fmt: skip
            ours, ours_out = _timed(evals_cmd, env)
            bare_result = json.loads(bare_out.strip().splitlines()[-1])
            bare_tokens = bare_result["completion_tokens"]
            summary = json.loads(ours_out)["summary"][0]
            ours_tokens = summary["tokens_per_answer"] * summary["n_samples"]
            bare_times.append(bare)
            evals_times.append(ours)
            print(f"round {round_index + 1}: bare vLLM {bare:.1f} s ({bare_tokens} tokens), "
                  f"evals run {ours:.1f} s ({ours_tokens:.0f} tokens), ratio {ours / bare:.3f}")  # fmt: skip
            manifest = json.loads((out_dir / "manifest.json").read_text())
            print("  bare vLLM: " + _breakdown(bare_result["profile"], bare))
            print("  evals run: " + _breakdown(manifest.get("profile", {}), ours), flush=True)
    ratio = statistics.median(evals_times) / statistics.median(bare_times)
    print(f"median: bare {statistics.median(bare_times):.1f} s, evals {statistics.median(evals_times):.1f} s")
    print(f"overhead ratio evals/bare = {ratio:.3f} (target <= 1.03)")


def _breakdown(phases: dict[str, float], wall: float) -> str:
    """Phases in seconds; ``other`` is the wall time no phase accounts for (process exit, ...)."""
    timed = {name: seconds for name, seconds in phases.items() if name != "total"}
    parts = [f"{name} {seconds:.1f}" for name, seconds in timed.items()]
    return ", ".join([*parts, f"other {wall - sum(timed.values()):.1f}"]) + " s"


if __name__ == "__main__":
    main()
