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

    from evals.errors import EvalsError
    from evals.finalize import score_frame, write_results
    from evals.run_records import RescoreStamp
    from evals.runner import cost_bases
    from evals.scoring import SCORER_VERSION, Scorer
    from evals.store import RunStore
    from evals.suite import parse_suite
    from evals.table import format_summary

    store = RunStore(args.run_dir)
    manifest = store.read_manifest()
    if manifest is None or not store.samples_path.is_file():
        raise EvalsError(f"{args.run_dir}: not a finished run (needs manifest.json and samples.parquet)")
    samples = store.read_samples()
    suite = parse_suite(manifest.config, str(store.manifest_path))
    hardware = manifest.hardware.hardware()
    with Scorer() as scorer:
        rescored = score_frame(samples, scorer)
    # samples.parquet is written in score_frame's (model, task, item_id, sample_idx) order.
    changed = int((rescored["status"].to_numpy() != samples["status"].to_numpy()).sum())
    rows = write_results(
        store, rescored, cost_bases(suite, hardware, args.prices), ks=suite.pass_k, seed=suite.seed
    )
    stamp = RescoreStamp(
        at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), from_version=manifest.scorer_version, to=SCORER_VERSION
    )
    store.update_manifest(scorer_version=SCORER_VERSION, rescored=(*manifest.rescored, stamp))
    if args.json:
        print(json.dumps([row.model_dump(mode="json") for row in rows], indent=2))
    else:
        print(format_summary(rows))
        print(f"\nrescored {len(rescored)} samples with scorer {SCORER_VERSION}; {changed} verdicts changed")
    return 0
