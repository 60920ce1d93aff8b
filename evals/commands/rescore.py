"""``evals rescore RUN_DIR``: score a finished run again (after a scorer upgrade), no generation."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rescore", help="re-score a finished run and rewrite its summary")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run directory")
    parser.add_argument("--prices", type=Path, help="price table YAML overriding the shipped one")
    parser.add_argument("--json", action="store_true", help="print the summary rows as JSON")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from evals.atomic import atomic_write_json
    from evals.errors import EvalsError
    from evals.finalize import score_frame, write_results
    from evals.hardware import Hardware
    from evals.runner import cost_bases
    from evals.scoring import SCORER_VERSION, Scorer
    from evals.store import RunStore
    from evals.suite import parse_suite
    from evals.table import format_summary

    store = RunStore(args.run_dir)
    manifest = store.read_manifest()
    if manifest is None or not store.samples_path.is_file():
        raise EvalsError(f"{args.run_dir}: not a finished run (needs manifest.json and samples.parquet)")
    try:
        samples = pd.read_parquet(store.samples_path)
    except (OSError, ValueError) as error:
        raise EvalsError(f"{store.samples_path}: unreadable ({error})") from None
    suite = parse_suite(manifest["config"], str(store.manifest_path))
    hardware = Hardware(**{**manifest["hardware"], "gpu_names": tuple(manifest["hardware"]["gpu_names"])})
    with Scorer() as scorer:
        rescored = score_frame(samples, scorer)
    # samples.parquet is written in score_frame's (model, task, item_id, sample_idx) order.
    changed = int((rescored["status"].to_numpy() != samples["status"].to_numpy()).sum())
    rows = write_results(
        store, rescored, cost_bases(suite, hardware, args.prices), ks=suite.pass_k, seed=suite.seed
    )
    previous = manifest.get("scorer_version")
    stamp = {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "from": previous, "to": SCORER_VERSION}
    atomic_write_json(
        store.manifest_path,
        {**manifest, "scorer_version": SCORER_VERSION, "rescored": [*manifest.get("rescored", []), stamp]},
    )
    if args.json:
        print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
    else:
        print(format_summary(rows))
        print(f"\nrescored {len(rescored)} samples with scorer {SCORER_VERSION}; {changed} verdicts changed")
    return 0
