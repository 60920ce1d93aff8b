"""Does `--until decided` stop early without wrong answers? Simulated comparisons with known truth.

Each replicate is a benchmark of N items answered K times by two models, visited in
a random order in rounds of R items (each with all its samples); after every round
the confidence sequence for the paired difference (without replacement from the N
items, :func:`evals.metrics.sequential.difference_sequence`'s procedure) is checked
with :func:`evals.metrics.sequential.decide`, and the run stops at the first
decision (or when the items run out). The truth is what the full protocol would
measure: the mean per-item difference over all N items with all K samples.

Per-item success probabilities of model b are drawn from Beta(0.78, 10.34), the
method-of-moments fit to a real run: the default suite's SmolLM2-135M sampled x4 on
arith-easy + arith-medium (100 items, 4 samples each, mean accuracy 0.07; the
per-item variance 0.0203 minus the binomial part E[p(1 - p)] / 4 leaves 0.0054
between items). Model a is shifted to a true accuracy D points higher (as in
bench/coverage.py). ``--fit runs/x/samples.parquet --model M`` refits the Beta.

Printed per D: the wrong-decision rate (an order against the sign of the truth,
or "equivalent" when the truth is outside the margin; target <= alpha), the
coverage of the interval reported at the stop (target >= 1 - alpha), the median
share of samples generated against the full protocol (target <= 0.6 for D >= 5
points), and, for contrast, the wrong-decision rate of stopping at the first round
whose paired t test has p < alpha.

    .venv/bin/python bench/adaptive.py --reps 400 --items 400 --samples 4 --seed 0
"""

from __future__ import annotations

import argparse
import time
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from evals.metrics.sequential import decide, sequence_path
from evals.metrics.stats import paired_difference

FloatArray = npt.NDArray[np.float64]
DELTAS = (0.0, 0.02, 0.05, 0.08, 0.10)


class Outcome(NamedTuple):
    wrong: bool
    covered: bool
    share: float  # items (so samples) generated / the full protocol's
    naive_wrong: bool


def fit_beta(samples: pd.DataFrame, model: str) -> tuple[float, float]:
    """Method-of-moments Beta for per-item success probabilities, net of binomial noise."""
    rows = samples[samples["model"] == model]
    per_item = rows.groupby(["task", "item_id"])["correct"].agg(["mean", "count"])
    k = float(per_item["count"].mean())
    mean, variance = float(per_item["mean"].mean()), float(per_item["mean"].var(ddof=1))
    between = (variance - (mean - mean**2) / k) / (1 - 1 / k)
    concentration = mean * (1 - mean) / between - 1
    return mean * concentration, (1 - mean) * concentration


def wrong(decision: str | None, truth: float, margin: float) -> bool:
    if decision == "a better":
        return truth <= 0
    if decision == "b better":
        return truth >= 0
    return decision == "equivalent" and abs(truth) > margin


def simulate(
    rng: np.random.Generator, beta: tuple[float, float], delta: float, args: argparse.Namespace
) -> Outcome:
    mean_b = beta[0] / sum(beta)
    p_b = rng.beta(*beta, size=args.items)
    p_a = p_b + delta * (1 - p_b) / (1 - mean_b)
    acc_a = rng.binomial(args.samples, p_a) / args.samples
    acc_b = rng.binomial(args.samples, p_b) / args.samples
    differences = rng.permutation(acc_a - acc_b)  # the run's random visiting order
    truth = float(differences.mean())
    margin = args.margin
    path = sequence_path((differences + 1) / 2, args.items, args.alpha, (0.5, 0.5 - margin / 2, 0.5 + margin / 2),
                         args.grid_points)  # fmt: skip
    low, high = 2 * path.low - 1, 2 * path.high - 1
    rounds = list(range(args.round_items, args.items, args.round_items)) + [args.items]
    stop, decision = args.items, None
    for seen in rounds:
        decision = decide(float(low[seen - 1]), float(high[seen - 1]), margin)
        if decision is not None:
            stop = seen
            break
    covered = bool(low[stop - 1] - 1e-12 <= truth <= high[stop - 1] + 1e-12)
    naive = None
    for seen in rounds:
        result = paired_difference(differences[:seen])
        if result.p_value is not None and result.p_value < args.alpha:
            naive = "a better" if result.mean > 0 else "b better"
            break
    return Outcome(wrong(decision, truth, margin), covered, stop / args.items, wrong(naive, truth, 0.0))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=400, help="comparisons per true difference")
    parser.add_argument("--items", type=int, default=400, help="items in the benchmark (N)")
    parser.add_argument("--samples", type=int, default=4, help="samples per item (K)")
    parser.add_argument("--round-items", type=int, default=10, help="items per round (R)")
    parser.add_argument("--margin", type=float, default=0.01)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--grid-points", type=int, default=801, help="candidate means on [0, 1]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit", help="samples.parquet of a real run to fit the Beta to")
    parser.add_argument("--model", help="the model of --fit whose items to fit")
    args = parser.parse_args()
    if args.items < 2 or args.samples < 1 or args.reps < 1 or not 1 <= args.round_items <= args.items:
        parser.error("need --items >= 2, --samples >= 1, --reps >= 1 and 1 <= --round-items <= --items")
    beta = (0.78, 10.34) if not args.fit else fit_beta(pd.read_parquet(args.fit), args.model)
    print(f"Beta{beta[0]:.3g}, {beta[1]:.3g} | N={args.items} K={args.samples} R={args.round_items} "
          f"margin={args.margin} alpha={args.alpha} reps={args.reps} per D")  # fmt: skip
    print("| D (pts) | wrong decisions | coverage | median share of samples | naive t: wrong | seconds |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    totals: list[Outcome] = []
    for delta in DELTAS:
        started = time.perf_counter()
        outcomes = [simulate(rng, beta, delta, args) for _ in range(args.reps)]
        totals += outcomes
        print(f"| {100 * delta:g} | {_rate([o.wrong for o in outcomes])} | {_rate([o.covered for o in outcomes])} | "
              f"{np.median([o.share for o in outcomes]):.2f} | {_rate([o.naive_wrong for o in outcomes])} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)  # fmt: skip
    print(f"| all {len(totals)} | {_rate([o.wrong for o in totals])} | {_rate([o.covered for o in totals])} | "
          f"{np.median([o.share for o in totals]):.2f} | {_rate([o.naive_wrong for o in totals])} | |")  # fmt: skip


def _rate(flags: list[bool]) -> str:
    return f"{100 * float(np.mean(flags)):.1f}%"


if __name__ == "__main__":
    main()
