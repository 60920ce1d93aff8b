"""Speed of `Scorer.score_many` against a plain loop calling math-verify once per sample.

The workload: MATH-500 x 16 samples (8,000 answers) shaped like real sampled outputs. Each
sample is the item's reference solution with its final box replaced by the sample's answer;
per item a model "accuracy" is drawn, correct samples state the gold (sometimes in an
equivalent spelling: \\dfrac, a/b, "x = ", spacing), wrong ones pick from two or three wrong
answers for that item (the gold with one number changed, its negation, another item's
gold), so samples of one item often agree, as they do in practice. Some
outputs carry an R1-style think block, some say "The final answer is $...$" instead of
boxing, a few hit the token limit.

The baseline is math-verify used as its README recommends, once per sample, in the main
thread: `verify(parse(f"${gold}$"), parse(output))`. Both sides run in this one process.

    .venv/bin/python bench/scoring_speed.py [--samples 16] [--workers 2] [--rounds 3]

Rounds alternate the two sides so that other load on the machine hits both; the median
ratio is the figure. Each round starts a fresh Scorer, so worker start-up is included.

Target (issue 3): ratio >= 5 on 2 cores; no check longer than its time limit.
Disagreements with the loop are listed: math-verify ignores base subscripts (it accepts
``2516_7`` for ``2516_8``); evals does not.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import statistics
import time
from collections import Counter
from typing import NamedTuple

from bench_data import full_data_dir

from evals.records import Status, Verdict
from evals.scoring import Scorer, ScoreRequest
from evals.scoring.boxed import boxed_spans


def equivalent_spellings(gold: str) -> list[str]:
    """Other ways a model writes the same answer (each one math-verify accepts)."""
    spellings = []
    if "\\frac" in gold:
        spellings.append(gold.replace("\\frac", "\\dfrac"))
    simple = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", gold)
    if simple:
        spellings.append(f"{simple.group(1)}{simple.group(2)}/{simple.group(3)}")
    if re.fullmatch(r"-?\d+", gold):
        spellings += [f"x = {gold}", f"{gold}.0"]
    if "," in gold and not re.fullmatch(r"[\d,\\!{} $]+", gold):  # a list, not 58,500
        spellings.append(gold.replace(",", ", "))
    if "\\left" in gold:
        spellings.append(gold.replace("\\left", "").replace("\\right", ""))
    return spellings or [gold.replace(" ", "")]


def wrong_answers(gold: str, others: list[str], rng: random.Random) -> list[str]:
    """Two or three plausible wrong answers: the gold with one number changed (same
    shape, as most real mistakes are), its negation, another item's gold."""
    wrong = []
    digits = list(re.finditer(r"\d+", gold))
    if digits:
        run = rng.choice(digits)
        changed = str(int(run.group()) + rng.choice([-1, 1, 2]))
        wrong.append(gold[: run.start()] + changed.lstrip("-") + gold[run.end() :])
    if re.fullmatch(r"-?\d+", gold):
        wrong.append(str(int(gold) * 2))
    elif not re.search(r"^-|[,=(\[]|\\text|\\begin", gold):
        wrong.append(f"-{gold}")
    while len(wrong) < 3:
        candidate = rng.choice(others)
        if candidate != gold:
            wrong.append(candidate)
    return [w for w in wrong if w != gold][: rng.choice([2, 3])]


def render(solution: str, answer: str, rng: random.Random) -> tuple[str, str]:
    """(output, finish_reason) for a solution whose final box states ``answer``."""
    spans = boxed_spans(solution)
    body = solution[: spans[-1].start] if spans else solution
    roll = rng.random()
    if roll < 0.1:
        output = f"{body}The final answer is ${answer}$. I hope it is correct."
    else:
        output = f"{body}\\boxed{{{answer}}}."
    if rng.random() < 0.2:
        output = f"Let me think step by step.\n{body[:400]}\n</think>\n\n{output}"
    finish = "length" if rng.random() < 0.02 else "stop"
    return output, finish


def build_samples(rows: list[dict[str, str]], per_item: int, seed: int) -> list[ScoreRequest]:
    rng = random.Random(seed)
    golds = [row["answer"] for row in rows]
    requests = []
    for row in rows:
        accuracy = rng.uniform(0.1, 0.95)
        right = [row["answer"], *equivalent_spellings(row["answer"])]
        wrong = wrong_answers(row["answer"], golds, rng)
        for _ in range(per_item):
            if rng.random() < accuracy:
                answer = right[0] if rng.random() < 0.7 else rng.choice(right[1:] or right)
            else:
                answer = rng.choices(wrong, weights=[4, 2, 1][: len(wrong)])[0]
            output, finish = render(row["solution"], answer, rng)
            requests.append(ScoreRequest(output, row["answer"], "math", finish_reason=finish))
    return requests


def run_baseline(requests: list[ScoreRequest]) -> tuple[float, list[bool]]:
    """Seconds and verdicts of math-verify as its README shows, once per sample."""
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    start = time.perf_counter()
    results = [bool(verify(parse(f"${r.gold}$"), parse(r.output))) for r in requests]
    return time.perf_counter() - start, results


class OursRun(NamedTuple):
    seconds: float
    verdicts: list[Verdict]
    checks: int
    longest_check_s: float
    timeouts: int


def run_ours(requests: list[ScoreRequest], workers: int, time_limit: float) -> OursRun:
    """A fresh Scorer (worker start-up included) scoring every request."""
    start = time.perf_counter()
    with Scorer(time_limit_s=time_limit, workers=workers) as scorer:
        verdicts = scorer.score_many(requests)
        pool = scorer._verifier
    seconds = time.perf_counter() - start
    longest, timeouts = (pool.longest_check_s, pool.timeouts) if pool else (0.0, 0)
    return OursRun(seconds, verdicts, scorer.math_verify_checks, longest, timeouts)


def report_agreement(requests: list[ScoreRequest], ours: list[Verdict], theirs: list[bool]) -> None:
    finished = [
        (request, verdict, loop)
        for request, verdict, loop in zip(requests, ours, theirs, strict=True)
        if request.finish_reason != "length"
    ]
    disagreements = Counter(
        (verdict.extracted, request.gold, verdict.status is Status.CORRECT)
        for request, verdict, loop in finished
        if (verdict.status is Status.CORRECT) != loop
    )
    agreement = 1 - sum(disagreements.values()) / len(finished)
    print(f"agreement with the loop on correct/not (finished outputs): {agreement:.2%}")
    for (extracted, gold, ours_correct), count in disagreements.most_common(8):
        judged = "evals correct, math-verify not"
        if not ours_correct:
            judged = "math-verify correct, evals not"
        print(f"    {count:3d} x  {extracted!r} vs gold {gold!r}: {judged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--samples", type=int, default=16, help="samples per MATH-500 item")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median kept)")
    args = parser.parse_args()
    rows = [json.loads(line) for line in (full_data_dir("math500") / "math500" / "test.jsonl").open()]
    requests = build_samples(rows, args.samples, args.seed)
    print(
        f"answers: {len(requests)} (MATH-500 x {args.samples}), workers: {args.workers}, "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    ratios = []
    for round_number in range(1, args.rounds + 1):
        ours = run_ours(requests, args.workers, args.time_limit)
        baseline_s, baseline = run_baseline(requests)
        ratios.append(baseline_s / ours.seconds)
        ours_rate, loop_rate = len(requests) / ours.seconds, len(requests) / baseline_s
        print(
            f"round {round_number}: evals Scorer {ours.seconds:6.2f} s ({ours_rate:5.0f}"
            f" answers/s), math-verify loop {baseline_s:6.2f} s ({loop_rate:4.0f} answers/s),"
            f" ratio {ratios[-1]:5.2f}x"
        )
    print(
        f"median ratio: {statistics.median(ratios):.2f}x  (target >= 5); "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )
    print(
        f"math-verify checks: {ours.checks} distinct pairs sent to workers; longest check "
        f"{ours.longest_check_s:.3f} s (limit {args.time_limit} s), timeouts {ours.timeouts}"
    )
    print(f"statuses: {dict(Counter(verdict.status.value for verdict in ours.verdicts))}")
    report_agreement(requests, ours.verdicts, baseline)


if __name__ == "__main__":
    main()
