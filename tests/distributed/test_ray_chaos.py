"""The chaos soak, shortened (issue 16 part 5): workers SIGKILLed and nodes removed mid-run.

A 35-second Ray run of the replay engine on a three-node local cluster (``ray.cluster_utils``)
while a chaos thread kills a random worker every 5-10 s and removes and re-adds a worker node
twice (the whole suite must stay under CI's 30 minutes): every (model, task, item, sample) is stored exactly once, none failed, and the summary
equals a clean local run's. The ten-minute soak is ``bench/scale_ray.py --chaos --minutes 10``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos_ray import chaos_soak

pytestmark = [pytest.mark.ray]


def test_chaos_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = chaos_soak(tmp_path, seconds=35, nodes=3, cpus_per_node=2, seed=0, kill_every=(5.0, 10.0))
    assert result.node_cycles == 2
    assert result.kills >= 3  # one every 5-10 s of a run of at least 35 s
    assert result.stored["expected"] > 0
    assert {name: result.stored[name] for name in ("lost", "duplicated", "unexpected", "failed")} == {
        "lost": 0, "duplicated": 0, "unexpected": 0, "failed": 0,
    }  # fmt: skip
    assert result.summary_equal, result.differences
