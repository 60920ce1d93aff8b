"""k samples per item: k separate requests, one request with n=k, or k requests over a prefix cache.

Each option runs in a fresh process on a fresh engine (SmolLM2, bf16, the CPU setup `evals run`
uses: in-process, eager, whole-prompt prefills since every request is seeded), generating the
same items x samples at the same temperature; only generation is timed (engine start is the
same for all three and is printed apart):

    k-requests       k requests per item, n=1, each with its own seed, prefix caching off
    n=k              one request per item with n=k; vLLM gives child i the seed `seed + i`
    prefix-cache     k requests per item as above, with vLLM's prefix cache on (its CPU default)

Also printed, for n=k: whether a lone n=1 request with child i's seed draws child i's sample
(what a resumed run would do), over the first --resume-checks items.

    .venv/bin/python bench/samples.py --items 64 --samples 8 --temperature 0.6 --max-tokens 128
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_data import full_data_dir

REPO = Path(__file__).resolve().parents[1]
OPTIONS = ("k-requests", "n=k", "prefix-cache")

# One option in its own process; prints one JSON line: timings and each sample's token ids.
WORKER = r"""
import json, sys, time
from vllm import LLM, SamplingParams
if __name__ == "__main__":
    spec = json.load(open(sys.argv[1]))
    option, k = spec["option"], spec["samples"]
    started = time.perf_counter()
    llm = LLM(model=spec["model"], dtype="bfloat16", enforce_eager=True, seed=0,
              enable_chunked_prefill=False, enable_prefix_caching=option == "prefix-cache")
    engine_s = time.perf_counter() - started
    def params(seed, n=1):
        return SamplingParams(n=n, temperature=spec["temperature"], top_p=spec["top_p"],
                              max_tokens=spec["max_tokens"], seed=seed)
    convs, seeds = spec["conversations"], spec["seeds"]
    started = time.perf_counter()
    if option == "n=k":
        outs = llm.chat(convs, [params(s[0], k) for s in seeds], use_tqdm=False)
        samples = [[list(c.token_ids) for c in o.outputs] for o in outs]
    else:
        flat = [c for c in convs for _ in range(k)]
        outs = llm.chat(flat, [params(x) for s in seeds for x in s], use_tqdm=False)
        samples = [[list(o.outputs[0].token_ids) for o in outs[i * k:(i + 1) * k]] for i in range(len(convs))]
    generate_s = time.perf_counter() - started
    resumed = []
    if option == "n=k":  # a resumed run: sample i alone, n=1 with the child's seed
        checks = spec["resume_checks"]
        idx = [i % k for i in range(checks)]
        again = llm.chat(convs[:checks], [params(seeds[i][0] + idx[i]) for i in range(checks)], use_tqdm=False)
        resumed = [list(o.outputs[0].token_ids) == samples[i][idx[i]] for i, o in enumerate(again)]
    tokens = sum(len(t) for s in samples for t in s)
    print(json.dumps({"engine_s": engine_s, "generate_s": generate_s, "tokens": tokens, "resumed": resumed}))
"""


def _conversations(
    task: str, items: int, samples: int
) -> tuple[list[list[dict[str, str]]], list[list[int]], str]:
    from evals.generation.base import sample_seed
    from evals.models import ensure_available, resolve_model
    from evals.prompts import build_prompt
    from evals.tasks import load_task

    loaded = load_task(task, data_dir=full_data_dir(task), limit=items, seed=None)
    prompts = [build_prompt(item, loaded.spec, None) for item in loaded.items]
    conversations = [[{"role": m.role, "content": m.content} for m in p.messages] for p in prompts]
    # evals' per-sample seeds (what a run draws today); n=k uses the first as the parent's seed.
    seeds = [[sample_seed(0, item.item_id, i) for i in range(samples)] for item in loaded.items]
    model = ensure_available(resolve_model("smollm2-135m"))
    return conversations, seeds, str(model.path_or_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="gsm8k")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=0.6)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--resume-checks", type=int, default=16)
    parser.add_argument("--options", nargs="+", default=list(OPTIONS), choices=OPTIONS)
    args = parser.parse_args()

    conversations, seeds, model = _conversations(args.task, args.items, args.samples)
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "2",
           "VLLM_LOGGING_LEVEL": "WARNING"}  # fmt: skip
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "worker.py"
        script.write_text(WORKER)
        for option in args.options:
            spec_path = Path(tmp) / "spec.json"
            spec = {"option": option, "model": model, "conversations": conversations, "seeds": seeds,
                    "samples": args.samples, "temperature": args.temperature, "top_p": args.top_p,
                    "max_tokens": args.max_tokens, "resume_checks": min(args.resume_checks, args.items)}  # fmt: skip
            spec_path.write_text(json.dumps(spec))
            done = subprocess.run([sys.executable, str(script), str(spec_path)], env=env, capture_output=True,
                                  text=True, cwd=REPO)  # fmt: skip
            if done.returncode != 0:
                sys.exit(f"{option} failed:\n{done.stderr[-2000:]}")
            results[option] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[option]
            print(f"{option:13s} engine start {r['engine_s']:5.1f} s, generation {r['generate_s']:6.1f} s, "
                  f"{r['tokens']} tokens, {r['tokens'] / r['generate_s']:.0f} tokens/s", flush=True)  # fmt: skip
    print(f"{args.items} {args.task} items x {args.samples} samples, t={args.temperature}, top_p={args.top_p}, "
          f"max_tokens {args.max_tokens}, {os.cpu_count()} CPUs")  # fmt: skip
    if "k-requests" in results:
        base = results["k-requests"]["generate_s"]
        for option, r in results.items():
            print(f"  speed-up over k separate requests, {option}: {base / r['generate_s']:.2f}x")
    if results.get("n=k", {}).get("resumed"):
        resumed = results["n=k"]["resumed"]
        print(
            f"  n=k, a lone n=1 request with child i's seed drew child i's tokens: {sum(resumed)}/{len(resumed)}"
        )


if __name__ == "__main__":
    main()
