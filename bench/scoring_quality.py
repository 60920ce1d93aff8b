"""Scoring quality on real reference answers, beside math-verify used as its README says.

Each reference answer is scored as if it were a model output: against its own gold (should
be correct) and against the next item's gold, skipping pairs whose golds are equal strings
(should be incorrect, a few neighbouring golds being genuinely equivalent).

- MATH (5,000): the `solution` text; gold = last \\boxed{} of the solution.
- MATH-500: the `answer` field as the output; gold = the `answer` field.
- GSM8K (1,319): the `answer` text (reasoning, then `#### N`); gold = N.

math-verify baseline: `verify(parse(f"${gold}$"), parse(output))`, once per pair (MATH-500's
bare LaTeX answers are wrapped in `$...$` as math-verify requires; unwrapped it scores 78%).

    EVALS_DATA_DIR=DIR .venv/bin/python bench/scoring_quality.py [--skip-baseline]   # DIR/<task>/test.jsonl

Bars (issue 3): MATH >= 99.8% / <= 0.1%; MATH-500 100% / <= 0.5%; GSM8K 100% / 0%.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import NamedTuple

from bench_data import full_data_dir

from evals.records import AnswerType, Status
from evals.scoring import Scorer, ScoreRequest
from evals.scoring.boxed import last_boxed


class Pairing(NamedTuple):
    """Reference outputs with their own golds and with their neighbours' golds."""

    name: str
    answer_type: AnswerType
    outputs: list[str]
    golds: list[str]
    own_bar: float  # minimum share judged correct against its own gold
    neighbour_bar: float  # maximum share judged correct against the next gold
    bare_latex: bool = False  # outputs are LaTeX without delimiters (math-verify needs $...$)


def _rows(task: str) -> list[dict[str, str]]:
    path = full_data_dir(task) / task / "test.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def load_pairings() -> list[Pairing]:
    math = _rows("math")
    math500 = _rows("math500")
    gsm8k = _rows("gsm8k")
    math_golds = [last_boxed(row["solution"]) or "" for row in math]
    return [
        Pairing("MATH", "math", [r["solution"] for r in math], math_golds, 0.998, 0.001),
        Pairing(
            "MATH-500", "math", [r["answer"] for r in math500], [r["answer"] for r in math500],
            1.0, 0.005, bare_latex=True,
        ),
        Pairing(
            "GSM8K", "number", [r["answer"] for r in gsm8k],
            [r["answer"].rsplit("####", 1)[1].strip().replace(",", "") for r in gsm8k], 1.0, 0.0,
        ),
    ]  # fmt: skip


def neighbour_pairs(pairing: Pairing) -> list[tuple[str, str]]:
    """(output, next item's gold) for every item whose gold differs from the next one."""
    count = len(pairing.golds)
    return [
        (pairing.outputs[i], pairing.golds[(i + 1) % count])
        for i in range(count)
        if pairing.golds[i] != pairing.golds[(i + 1) % count]
    ]


def scorer_shares(scorer: Scorer, pairing: Pairing) -> tuple[float, float, list[int]]:
    """(share correct vs own gold, share correct vs next gold, indices failing own gold)."""
    pairs = zip(pairing.outputs, pairing.golds, strict=True)
    own = scorer.score_many([ScoreRequest(o, g, pairing.answer_type) for o, g in pairs])
    others = scorer.score_many([ScoreRequest(o, g, pairing.answer_type) for o, g in neighbour_pairs(pairing)])
    failures = [i for i, verdict in enumerate(own) if verdict.status is not Status.CORRECT]
    own_share = 1 - len(failures) / len(own)
    return own_share, sum(v.status is Status.CORRECT for v in others) / len(others), failures


def math_verify_shares(pairing: Pairing) -> tuple[float, float]:
    from math_verify import parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)

    wrap = "${}$" if pairing.bare_latex else "{}"

    def share(pairs: list[tuple[str, str]]) -> float:
        verdicts = (verify(parse(f"${g}$"), parse(wrap.format(o))) for o, g in pairs)
        return sum(bool(verdict) for verdict in verdicts) / len(pairs)

    own = list(zip(pairing.outputs, pairing.golds, strict=True))
    return share(own), share(neighbour_pairs(pairing))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--skip-baseline", action="store_true", help="only the evals scorer")
    args = parser.parse_args()
    header = f"{'data set':9} {'pairs':>6}  {'evals own':>9} {'next':>6}  "
    print(header + f"{'math-verify own':>15} {'next':>6}  bars (own >=, next <=)   evals s")
    with Scorer() as scorer:
        for pairing in load_pairings():
            start = time.perf_counter()
            own, other, failures = scorer_shares(scorer, pairing)
            seconds = time.perf_counter() - start
            baseline = "" if args.skip_baseline else "{:>15.2%} {:>6.2%}".format(*math_verify_shares(pairing))
            ok = own >= pairing.own_bar and other <= pairing.neighbour_bar
            print(
                f"{pairing.name:9} {len(pairing.golds):>6}  {own:>9.2%} {other:>6.2%}  "
                f"{baseline:>22}  {pairing.own_bar:.1%} / {pairing.neighbour_bar:.1%} "
                f"{'met' if ok else 'MISSED':>6}  {seconds:7.1f}"
            )
            for index in failures[:5]:
                print(f"    not correct vs own gold: item {index}, gold {pairing.golds[index]!r}")


if __name__ == "__main__":
    main()
