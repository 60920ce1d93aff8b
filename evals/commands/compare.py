"""``evals compare``: paired comparison of two models on the items both answered in a run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.errors import EvalsError, closest

if TYPE_CHECKING:
    from evals.metrics import PairedComparison


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="paired comparison of two models in a run: accuracy difference, 95%% CI, p-value",
        description=(
            "Compare model A with model B on the items both answered in RUN_DIR/samples.parquet: "
            "the accuracy difference (A - B) with a 95%% interval and a p-value from one paired t "
            "procedure over the items (m-1 degrees of freedom): the interval excludes 0 exactly "
            "when p < 0.05. "
            "Without --task, one line per task both models ran, then all items pooled."
        ),
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run's folder")
    parser.add_argument("--a", required=True, metavar="MODEL", help="model A (the suite entry name)")
    parser.add_argument("--b", required=True, metavar="MODEL", help="model B")
    parser.add_argument("--task", help="compare on this task only")
    parser.add_argument("--a-budget", type=int, metavar="N", help="model A's answers at thinking budget N")
    parser.add_argument("--b-budget", type=int, metavar="N", help="model B's answers at thinking budget N")
    parser.add_argument("--seed", type=int, default=0, help="recorded only: the paired t draws nothing")
    parser.add_argument("--n-bootstrap", type=int, default=2000, help="recorded only (default 2000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=compare_models)


def compare_models(args: argparse.Namespace) -> int:

    from evals.metrics import paired_comparison
    from evals.store import RunStore

    if args.n_bootstrap < 1:
        raise EvalsError(f"--n-bootstrap must be at least 1, got {args.n_bootstrap}")
    path = args.run_dir / "samples.parquet"
    if not path.is_file():
        raise EvalsError(f"no samples.parquet in {args.run_dir} (is it a run folder?)")
    samples = RunStore(args.run_dir).read_samples(["model", "task", "item_id", "correct"])
    models = sorted(map(str, samples["model"].unique()))
    for model in (args.a, args.b):
        if model not in models:
            raise EvalsError(f"no samples for model {model!r} in {path}{closest(model, models)}")
    if args.a_budget is not None or args.b_budget is not None:
        from evals.metrics.budgets import budget_points

        points = ((args.a, args.a_budget), (args.b, args.b_budget))
        samples, (args.a, args.b) = budget_points(args.run_dir, points)
    tasks: list[str | None] = [args.task]
    if args.task is None:
        both = samples[samples["model"].isin([args.a, args.b])].groupby("task")["model"].nunique()
        tasks = [*sorted(map(str, both[both == 2].index))]
        if not tasks:
            raise EvalsError(f"{args.a!r} and {args.b!r} share no task in {path}")
        tasks += [None] if len(tasks) > 1 else []  # all items pooled
    comparisons = [
        paired_comparison(samples, args.a, args.b, task, seed=args.seed, n_bootstrap=args.n_bootstrap)
        for task in tasks
    ]
    adaptive = _adaptive_record(args.run_dir)
    if adaptive is not None:  # a run under --until: its intervals and p-values are anytime-valid
        comparisons = [_anytime(c, samples, adaptive) for c in comparisons]
    if args.json:
        print(json.dumps([c.model_dump(mode="json") for c in comparisons], indent=2))
    else:
        print(f"A = {args.a}, B = {args.b}; difference = A - B in accuracy points, over items")
        print(_table([_cells(c) for c in comparisons]))
    return 0


def _adaptive_record(run_dir: Path) -> dict[str, Any] | None:
    """The manifest's ``adaptive`` section (a run under --until), if any."""
    from evals.errors import EvalsError
    from evals.store import RunStore

    try:
        manifest = RunStore(run_dir).read_manifest()
    except EvalsError:
        return None
    record = manifest.adaptive if manifest is not None else None
    return record if record is not None and "orders" in record else None


def _anytime(comparison: PairedComparison, samples: Any, adaptive: dict[str, Any]) -> PairedComparison:
    from evals.adaptive import anytime_paired

    order = adaptive["orders"].get(comparison.task) if comparison.task else None
    result = None
    if order is not None:
        result = anytime_paired(samples, comparison.model_a, comparison.model_b, comparison.task or "",
                                order, float(adaptive["alpha"]))  # fmt: skip
    if result is None:
        note = "adaptive run: no anytime-valid interval pooled over tasks; compare per task"
        return comparison.model_copy(
            update={
                "ci_low": None,
                "ci_high": None,
                "ci_method": None,
                "p_value": None,
                "test": None,
                "note": note,
            }
        )
    return comparison.model_copy(update={
        "ci_low": result.low, "ci_high": result.high, "ci_method": result.method,
        "p_value": result.p_value, "test": result.method,
    })  # fmt: skip


_HEADER = ("task", "items", "A", "B", "A - B", "95% CI", "p", "test", "A/B better")


def _cells(comparison: PairedComparison) -> tuple[str, ...]:
    def points(value: float | None, sign: str = "") -> str:
        return "n/a" if value is None else f"{100 * value:{sign}.1f}"

    interval = (
        "n/a"
        if comparison.ci_low is None or comparison.ci_high is None
        else f"[{points(comparison.ci_low, '+')}, {points(comparison.ci_high, '+')}]"
    )
    return (
        comparison.task or "all (pooled)",
        str(comparison.n_items),
        points(comparison.accuracy_a),
        points(comparison.accuracy_b),
        points(comparison.difference, "+"),
        interval,
        "n/a" if comparison.p_value is None else f"{comparison.p_value:.3g}",
        comparison.test or comparison.note or "",
        f"{comparison.items_a_better}/{comparison.items_b_better}",
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [_HEADER, *rows]) for i in range(len(_HEADER))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [_HEADER, *rows]
    )
