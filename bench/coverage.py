"""Do the 95% intervals cover 95%? Simulated benchmarks through the code `evals run` uses.

Each replicate is a benchmark of M items whose success probabilities are drawn from a
Beta with mean P and concentration C (Beta(P C, (1 - P) C)), answered K times per item.
Accuracy rows go through :func:`evals.metrics.summarize` (as ``evals run`` does) and
report how often its interval holds P and its mean width. Paired rows simulate two
models on the same items: b's item probabilities p_i as above, a's shifted so that
its true accuracy is P + D (q_i = p_i + D (1 - p_i) / (1 - P) for D >= 0, else
p_i (1 + D / P)); they go through :func:`evals.metrics.paired_comparison` (as
``evals compare`` and the report do) and report the coverage of D, the mean width and
the share of p < 0.05 (the type I error when D is 0, the power otherwise).

    .venv/bin/python bench/coverage.py --items 30 --samples 4 --mean 0.3 --concentration 2 \
        --reps 1000 --seed 0 [--paired --delta 0.1]
    .venv/bin/python bench/coverage.py --table --reps 1000 --seed 0   # every row below

An undefined interval counts as a miss; ``undefined`` says how many there were.
"""

from __future__ import annotations

import argparse
import time
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from evals.metrics import paired_comparison, summarize


class Scenario(NamedTuple):
    """One simulated benchmark shape (delta is only used by paired rows)."""

    items: int
    samples: int
    mean: float
    concentration: float
    delta: float = 0.0


class Coverage(NamedTuple):
    coverage: float  # share of replicates whose interval holds the truth
    width: float  # mean width of the defined intervals
    rejections: float | None  # share of p < 0.05 (paired rows)
    undefined: int  # replicates without an interval


# The rows of issue 17's table, then the paired rows it asks for.
ACCURACY_ROWS = (
    Scenario(30, 1, 0.3, 2),
    Scenario(30, 4, 0.3, 2),
    Scenario(30, 16, 0.5, 1),
    Scenario(40, 4, 0.6, 2),
    Scenario(100, 1, 0.2, 2),
    Scenario(500, 1, 0.5, 2),
)
PAIRED_ROWS = tuple(
    Scenario(items, samples, 0.5, 2, delta)
    for delta in (0.0, 0.1)
    for items in (30, 40)
    for samples in (1, 4, 16)
)


def item_probabilities(
    rng: np.random.Generator, shape: tuple[int, int], mean: float, concentration: float
) -> npt.NDArray[np.float64]:
    """Per-item success probabilities, Beta(mean x concentration, (1 - mean) x concentration)."""
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=shape)


def shifted(p: npt.NDArray[np.float64], mean: float, delta: float) -> npt.NDArray[np.float64]:
    """Item probabilities whose expectation is mean + delta, staying within [0, 1]."""
    if delta >= 0:
        return p + delta * (1 - p) / (1 - mean)
    return p * (1 + delta / mean)


def samples_frame(correct: npt.NDArray[np.bool_], model_names: list[str], task: str = "t") -> pd.DataFrame:
    """samples.parquet-shaped rows for correct[replicate, item, sample]."""
    reps, items, samples = correct.shape
    n = correct.size
    item_names = np.array([f"q{i:04d}" for i in range(items)])
    return pd.DataFrame(
        {
            "model": np.repeat(np.array(model_names), items * samples),
            "task": task,
            "item_id": np.tile(np.repeat(item_names, samples), reps),
            "sample_idx": np.tile(np.arange(samples), reps * items),
            "extracted": np.where(correct.reshape(-1), "1", "0"),
            "correct": pd.array(correct.reshape(-1), dtype="boolean"),
            "status": np.where(correct.reshape(-1), "correct", "incorrect"),
            "prompt_tokens": np.full(n, 10),
            "completion_tokens": np.full(n, 20),
            "engine_seconds": np.full(n, 1.0),
        }
    )


def accuracy_coverage(scenario: Scenario, reps: int, seed: int) -> Coverage:
    """Coverage of summarize()'s accuracy interval for the true mean."""
    rng = np.random.default_rng(seed)
    p = item_probabilities(rng, (reps, scenario.items), scenario.mean, scenario.concentration)
    correct = rng.random((reps, scenario.items, scenario.samples)) < p[:, :, None]
    names = [f"r{r:06d}" for r in range(reps)]
    rows = summarize(samples_frame(correct, names), {}, ks=[1], seed=seed)
    lows = np.array([np.nan if row.ci_low is None else row.ci_low for row in rows])
    highs = np.array([np.nan if row.ci_high is None else row.ci_high for row in rows])
    return _tally(lows, highs, scenario.mean, None)


def paired_coverage(scenario: Scenario, reps: int, seed: int) -> Coverage:
    """Coverage of paired_comparison()'s interval for delta, and its share of p < 0.05."""
    rng = np.random.default_rng(seed)
    shape = (reps, scenario.items)
    p_b = item_probabilities(rng, shape, scenario.mean, scenario.concentration)
    p_a = shifted(p_b, scenario.mean, scenario.delta)
    draws = (reps, scenario.items, scenario.samples)
    correct_a, correct_b = rng.random(draws) < p_a[:, :, None], rng.random(draws) < p_b[:, :, None]
    lows, highs, p_values = np.full(reps, np.nan), np.full(reps, np.nan), np.full(reps, np.nan)
    for r in range(reps):
        frame = pd.concat(
            [samples_frame(correct_a[r : r + 1], ["a"]), samples_frame(correct_b[r : r + 1], ["b"])],
            ignore_index=True,
        )
        result = paired_comparison(frame, "a", "b", seed=seed + r)
        lows[r] = np.nan if result.ci_low is None else result.ci_low
        highs[r] = np.nan if result.ci_high is None else result.ci_high
        p_values[r] = np.nan if result.p_value is None else result.p_value
    return _tally(lows, highs, scenario.delta, p_values)


def _tally(
    lows: npt.NDArray[np.float64],
    highs: npt.NDArray[np.float64],
    truth: float,
    p_values: npt.NDArray[np.float64] | None,
) -> Coverage:
    defined = ~(np.isnan(lows) | np.isnan(highs))
    covered = defined & (lows <= truth + 1e-12) & (truth - 1e-12 <= highs)
    width = float(np.mean(highs[defined] - lows[defined])) if defined.any() else float("nan")
    rejections = None if p_values is None else float(np.mean(p_values < 0.05))
    return Coverage(float(np.mean(covered)), width, rejections, int(np.sum(~defined)))


def line(result: Coverage) -> str:
    text = f"coverage {100 * result.coverage:.1f}% width {100 * result.width:.1f} pts"
    if result.rejections is not None:
        text += f" rejections {100 * result.rejections:.1f}%"
    return text + (f" ({result.undefined} undefined)" if result.undefined else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--mean", type=float, default=0.5)
    parser.add_argument("--concentration", type=float, default=2.0)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--paired", action="store_true", help="two models on the same items")
    parser.add_argument("--delta", type=float, default=0.0, help="true accuracy of a minus b (with --paired)")
    parser.add_argument("--table", action="store_true", help="every row of issue 17 and the paired rows")
    args = parser.parse_args()
    if args.items < 2 or args.samples < 1 or args.reps < 1 or args.concentration <= 0:
        parser.error("need --items >= 2, --samples >= 1, --reps >= 1 and --concentration > 0")
    if not 0 < args.mean < 1 or not 0 <= args.mean + args.delta <= 1:
        parser.error("need 0 < --mean < 1 and 0 <= --mean + --delta <= 1")
    if args.table:
        print(
            "| kind | items | samples/item | mean | conc. | delta | coverage, width, rejections | seconds |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for paired, rows in ((False, ACCURACY_ROWS), (True, PAIRED_ROWS)):
            for scenario in rows:
                started = time.perf_counter()
                simulate = paired_coverage if paired else accuracy_coverage
                result = simulate(scenario, args.reps, args.seed)
                delta = f"{scenario.delta:g}" if paired else ""
                print(
                    f"| {'paired' if paired else 'accuracy'} | {scenario.items} | {scenario.samples} | "
                    f"{scenario.mean:g} | {scenario.concentration:g} | {delta} | {line(result)} | "
                    f"{time.perf_counter() - started:.0f} |",
                    flush=True,
                )
        return
    scenario = Scenario(args.items, args.samples, args.mean, args.concentration, args.delta)
    result = (paired_coverage if args.paired else accuracy_coverage)(scenario, args.reps, args.seed)
    print(line(result))


if __name__ == "__main__":
    main()
