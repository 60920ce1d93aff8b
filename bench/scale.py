"""Store, finalize and report at size (issue 16): the targets, and what this machine measures.

    .venv/bin/python bench/scale.py --prepare [--part store|report]   # write the workloads (untimed)
    flock -x /tmp/evals-quiet.lock flock /tmp/evals-heavy.lock .venv/bin/python bench/scale.py [--part ...]

``--part store``: a run of ``--short`` short samples (default 1,020,000) from bench/workload.py,
parts as shards write them; times, in a fresh process each (peak RSS from ``wait4``), the
resume scan of the parts as written, finalize + summary (which compacts each model x task),
the resume scan of the finished run and ``evals rescore``.
``--part report``: a run of ``--reasoning`` reasoning-length samples (default 60,000, up to
32k tokens); times ``evals report``, checks every file's size, and opens the largest sample
page in headless Chromium (time to first render, then to all rows loaded).
``--part ray``: the Ray driver part, ``bench/scale_ray.py`` (helper h/ray16), when it exists.
Workloads live under ``--work`` (default /tmp/scale-bench); ``--clean`` deletes them at the end.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from workload import PRICE, WORKLOAD_FILE, WorkloadSpec, model_names, synthetic_items, write_workload  # noqa: E402

SHORT = {"models": 10, "items": 2000, "samples": 17, "max_chars": 2000, "part_size": 256}
REASONING = {"models": 10, "items": 100, "samples": 20, "max_chars": 128_000, "part_size": 64}
TARGETS = {
    "finalize": 300.0,  # s, 1M samples finalize + summary; peak RSS under 2 GB
    "scan": 10.0,  # s, resume scan of a finished run
    "report": 180.0,  # s, report of 60k reasoning-length samples
    "render": 1.0,  # s, first render of the largest sample page
}
MAX_RSS_MB = 2000.0
MAX_FILE_MB = 5.0
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class Figure(NamedTuple):
    seconds: float
    peak_rss_mb: float
    note: str


def spec_for(shape: dict[str, int], n_samples: int, seed: int = 0) -> WorkloadSpec:
    """The shape scaled (by items) to about ``n_samples``."""
    per_item = shape["models"] * 3 * shape["samples"]
    items = max(1, round(n_samples / per_item))
    return WorkloadSpec(
        shape["models"], items, shape["samples"], shape["max_chars"], seed, shape["part_size"]
    )


def measure(step: str, run: Path, *extra: str) -> Figure:
    """Run one step in a fresh process; its wall time and peak RSS."""
    started = time.perf_counter()
    command = [sys.executable, __file__, "--step", step, str(run), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    note = process.stdout.read().strip() if process.stdout else ""
    if status != 0:
        raise SystemExit(f"step {step} failed ({status}): {note}")
    return Figure(seconds, usage.ru_maxrss / 1024, note)


def run_step(step: str, run: Path, extra: list[str]) -> None:
    """One measured step, in this (child) process; prints a one-line note."""
    from evals.cli import main as evals_main
    from evals.finalize import finalize_by_group
    from evals.scoring import Scorer
    from evals.store import RunStore

    store = RunStore(run)
    spec = WorkloadSpec(**json.loads((run / WORKLOAD_FILE).read_text()))
    if step == "scan":
        print(f"{len(store.done_keys())} done keys in {len(store._part_files())} part files")
    elif step == "finalize":
        with Scorer() as scorer:
            costs = {name: PRICE for name in model_names(spec)}
            rows = finalize_by_group(store, synthetic_items(spec), scorer, costs, ks=None, seed=0)
        print(f"{sum(row.n_samples for row in rows)} samples, {len(rows)} summary rows")
    elif step in ("rescore", "report"):
        args = ["rescore", str(run)] if step == "rescore" else ["report", str(run), "--out", extra[0]]
        with open(os.devnull, "w") as quiet:
            sys.stdout = quiet
            code = evals_main(args)
            sys.stdout = sys.__stdout__
        print(f"evals {step}: exit {code}")


class Render(NamedTuple):
    """A sample page's first render, seen from outside (wall clock) and from inside the page."""

    ready_s: float  # navigation start to the first screen, as Playwright sees it (includes its polling)
    in_page_ms: float  # the page's own clock at its first screen (``__viewerReadyMs``, from navigation)
    paint_ms: float  # the first contentful paint, same clock
    complete_s: float  # navigation start to every row loaded
    rows: int


PAINT = "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"


def first_render(page: Path) -> Render:
    """How fast a sample page shows its first screen, and then all its rows, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        tab = browser.new_page()
        tab.goto("about:blank")  # the tab's own start-up is not the page's
        started = time.perf_counter()
        # "commit": return once the navigation starts, not at the load event, which is what is measured.
        tab.goto(page.as_uri(), wait_until="commit")
        # A selector, not wait_for_function: the page's CSP forbids the eval that one needs.
        tab.wait_for_selector("body[data-ready='1']")
        ready = time.perf_counter() - started
        while tab.evaluate(PAINT) is None:  # the paint entry is queued just after the paint
            time.sleep(0.01)
        in_page, paint = tab.evaluate(f"[window.__viewerReadyMs, {PAINT}]")
        tab.wait_for_selector("body[data-complete='1']", timeout=120_000)
        complete = time.perf_counter() - started
        rows = int(tab.evaluate("document.body.dataset.matching"))
        browser.close()
    return Render(ready, float(in_page), float(paint), complete, rows)


def line(name: str, figure: Figure, target: float | None = None) -> str:
    bound = f" (target < {target:.0f} s)" if target else ""
    return (
        f"  {name:<28} {figure.seconds:7.1f} s{bound}  peak RSS {figure.peak_rss_mb:6.0f} MB  {figure.note}"
    )


def store_part(work: Path) -> None:
    run = work / "short"
    print(f"store at size: {run}")
    print(line("resume scan, parts", measure("scan", run)))
    finalize = measure("finalize", run)
    print(line("finalize + summary", finalize, TARGETS["finalize"]) + f" (RSS target < {MAX_RSS_MB:.0f} MB)")
    print(line("resume scan, finished", measure("scan", run), TARGETS["scan"]))
    print(line("evals rescore", measure("rescore", run)))


def report_part(work: Path) -> None:
    run, site = work / "reasoning", work / "site"
    shutil.rmtree(site, ignore_errors=True)
    print(f"report at size: {run}")
    print(line("evals report", measure("report", run, str(site)), TARGETS["report"]))
    files = [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".js")]
    largest = max(files, key=lambda p: p.stat().st_size)
    print(f"  {len(files)} HTML/JS files, {sum(p.stat().st_size for p in files) / 1e6:.0f} MB; largest "
          f"{largest.relative_to(site)} {largest.stat().st_size / 1e6:.2f} MB (target < {MAX_FILE_MB:.0f} MB)")  # fmt: skip
    pages = [p for p in files if p.parent.name == "samples"]
    heaviest = max(pages, key=lambda p: sum(f.stat().st_size for f in p.parent.glob(f"{p.stem}.data/*.js")))
    render = first_render(heaviest)
    print(f"  first render of {heaviest.name} ({heaviest.stat().st_size / 1e6:.2f} MB): "
          f"{render.ready_s:.2f} s from navigation (target < {TARGETS['render']:.0f} s); in the page: "
          f"ready at {render.in_page_ms:.0f} ms, first paint at {render.paint_ms:.0f} ms; "
          f"all {render.rows} rows loaded at {render.complete_s:.1f} s")  # fmt: skip


def ray_part(rest: list[str]) -> None:
    if not (BENCH / "scale_ray.py").is_file():
        print("ray: bench/scale_ray.py is not there (helper h/ray16's part); skipped")
        return
    from scale_ray import main as ray_main  # type: ignore[import-not-found]

    ray_main(rest) if inspect.signature(ray_main).parameters else ray_main()


def prepare(work: Path, parts: list[str], short: int, reasoning: int) -> None:
    shapes = {"store": ("short", SHORT, short, True), "report": ("reasoning", REASONING, reasoning, False)}
    for part in parts:
        name, shape, n_samples, parts_only = shapes[part]
        shutil.rmtree(work / name, ignore_errors=True)
        started = time.perf_counter()
        spec = spec_for(shape, n_samples)
        write_workload(work / name, spec, finalize=not parts_only)
        print(f"wrote {spec.n_samples} samples to {work / name} in {time.perf_counter() - started:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["store", "report", "ray", "all"], default="all")
    parser.add_argument("--work", type=Path, default=Path("/tmp/scale-bench"))
    parser.add_argument("--short", type=int, default=1_020_000, help="samples of the store part")
    parser.add_argument("--reasoning", type=int, default=60_000, help="samples of the report part")
    parser.add_argument("--prepare", action="store_true", help="write the workloads, measure nothing")
    parser.add_argument("--clean", action="store_true", help="delete the workloads at the end")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)  # a measured step's child process
    args, rest = parser.parse_known_args(argv)
    if args.step:
        run_step(args.step[0], Path(args.step[1]), args.step[2:])
        return 0
    parts = ["store", "report", "ray"] if args.part == "all" else [args.part]
    if args.prepare:
        prepare(args.work, [p for p in parts if p != "ray"], args.short, args.reasoning)
        return 0
    print("targets: " + json.dumps({**TARGETS, "finalize_rss_mb": MAX_RSS_MB, "file_mb": MAX_FILE_MB}))
    for part in parts:
        {"store": lambda: store_part(args.work), "report": lambda: report_part(args.work),
         "ray": lambda: ray_part(rest)}[part]()  # fmt: skip
    if args.clean:
        shutil.rmtree(args.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
