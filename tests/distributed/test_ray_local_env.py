"""A Ray that ``--ray local`` starts hands the driver's environment to its workers, and stops whole."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.ray]

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh process, so that this executor starts the Ray (no other test's is connected).
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path

    from bench.scale_ray import replay_suite
    from evals.distributed import RayExecutor
    from evals.generation.replay import ReplayBackend
    from evals.runner import RunOptions, run_suite

    os.environ["EVALS_TEST_MARK"] = "mark-7"  # before Ray starts: its processes inherit it


    class EnvAnswers:
        # Each answer: the mark the worker sees, and whether the actor has env_vars of its own.
        def __call__(self, model, setup, seed):
            import ray

            own = bool(ray.get_runtime_context().runtime_env.get("env_vars"))
            mark = os.environ.get("EVALS_TEST_MARK", "unset")
            return ReplayBackend(lambda request: f"{mark} own-env={own}", record=False)


    if __name__ == "__main__":
        executor = RayExecutor("local", num_workers=1, shard_size=4, backend=EnvAnswers())
        run_suite(replay_suite("env", models=1, items=8, samples=1), RunOptions(out=Path(sys.argv[1]), quiet=True,
                  executor=executor))
        import psutil  # the Ray it started is stopped: none of its processes (monitor included) is left

        print("left:", [p.name() for p in psutil.Process().children(recursive=True) if p.status() != "zombie"])
    """
)


def test_workers_of_a_local_ray_see_the_drivers_environment_without_a_runtime_env(tmp_path: Path) -> None:
    # source: issue 11 (Ray start-up: an actor with a runtime_env of its own waited 0.6 s for a fresh worker)
    script = tmp_path / "run_local.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "run")], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "left: []"
    outputs = pd.read_parquet(tmp_path / "run" / "samples.parquet").output
    assert len(outputs) == 8 and set(outputs) == {"mark-7 own-env=False"}
