"""The parts of the Ray executor that need no cluster: flags, shards, resources, configs, jobs."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from evals.distributed import check_worker_flags, make_ray_executor
from evals.distributed.connect import check_address
from evals.distributed.jobs import (
    JobRequest,
    dashboard_address,
    last_progress_line,
    warn_if_exposed,
)
from evals.distributed.resources import WorkerShape, default_worker_count, fits
from evals.distributed.shards import (
    ProbeSpec,
    Shard,
    failed_completions,
    failed_probes,
    make_shards,
    one_line,
)
from evals.errors import EvalsError
from evals.generation.base import GenerationRequest, SamplingSettings
from evals.net import is_loopback
from evals.probes import ProbeRequest
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey
from evals.store import RunStore
from tests.conftest import run_manifest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "address, ok",
    [
        ("auto", True),  # source: ray.init(address="auto")
        ("local", True),  # source: evals --ray local
        ("10.0.0.5:6379", True),  # source: Ray GCS address
        ("ray://head:10001", True),  # source: Ray Client address
        ("http://127.0.0.1:8265", False),  # source: dashboard address belongs to `evals submit`
        ("head", False),  # source: a host without a port
    ],
)
def test_ray_address_is_checked_before_anything_connects(address: str, ok: bool) -> None:
    if ok:
        assert check_address(address) == address
        assert make_ray_executor(address, None, 8).address == address
    else:
        with pytest.raises(EvalsError, match="--ray"):
            make_ray_executor(address, None, 8)


@pytest.mark.parametrize(
    "workers, shard_size, problems",
    [(None, 1, []), (2, 32, []), (0, 32, ["--num-workers 0"]), (0, 0, ["--num-workers 0", "--shard-size 0"])],
)
def test_worker_flags_report_every_problem(workers: int | None, shard_size: int, problems: list[str]) -> None:
    if not problems:
        check_worker_flags(workers, shard_size)
        return
    with pytest.raises(EvalsError) as error:
        check_worker_flags(workers, shard_size)
    assert all(problem in str(error.value) for problem in problems)


def request(item: str, sample: int) -> GenerationRequest:
    it = Item("t", item, f"question {item}?", "1", "number")
    prompt = Prompt(it, (ChatMessage("user", it.question),))
    return GenerationRequest(SampleKey("m", "t", item, sample), prompt, SamplingSettings(0.0, 1.0, 8, 7))


@pytest.mark.parametrize(
    "items, samples, shard_size, sizes",
    [
        (5, 1, 2, [2, 2, 1]),  # source: issue 4 (a shard is a batch of items)
        (3, 4, 2, [2, 1]),  # source: issue 4 (with all their samples: n > 1 travel together)
        (4, 1, 10, [4]),
        (0, 1, 3, []),
    ],
)
def test_shards_hold_whole_items(items: int, samples: int, shard_size: int, sizes: list[int]) -> None:
    requests = [request(f"i{i}", s) for i in range(items) for s in range(samples)]
    shards = make_shards(0, "m", "t", requests, shard_size, first_id=7)
    assert [len(s.item_ids) for s in shards] == sizes
    assert [s.shard_id for s in shards] == [f"{7 + i:05d}" for i in range(len(sizes))]
    assert [r for s in shards for r in s.requests] == requests
    for shard in shards:
        assert all(len([r for r in shard.requests if r.key.item_id == i]) == samples for i in shard.item_ids)


def test_a_failed_shard_splits_into_items_that_count_the_failure() -> None:
    shard = make_shards(0, "m", "t", [request(f"i{i}", s) for i in range(3) for s in range(2)], 3, 0)[0]
    pieces = shard.split()
    assert [p.item_ids for p in pieces] == [("i0",), ("i1",), ("i2",)]
    assert [p.shard_id for p in pieces] == ["00000.0", "00000.1", "00000.2"]
    assert all(p.attempts == 1 and len(p.requests) == 2 for p in pieces)


def probe(item: str, budget: int) -> ProbeRequest:
    base = request(item, 0)
    return ProbeRequest(base.key, budget, "budget", base.prompt, "a b c d", None, "The answer is ", 8)


def test_probes_of_stored_samples_travel_with_their_items_in_order() -> None:
    """source: issue 12 (probes on Ray: per-shard probes adjacent, none lost or duplicated)."""
    pending = [request("i1", 0), request("i2", 0)]  # i0 and i3 are stored: only their probes are missing
    stored = [probe("i0", 2), probe("i0", 3), probe("i2", 2), probe("i3", 2)]
    closings = {("t", i): f"close {i}" for i in ("i0", "i1", "i2", "i3")}
    spec = ProbeSpec((2, 3), closings, 8)
    shards = make_shards(0, "m", "t", pending, 2, 0, stored, spec)
    assert [s.item_ids for s in shards] == [("i1", "i2"), ("i0", "i3")]
    assert [p for s in shards for p in s.probes] == [stored[2], stored[0], stored[1], stored[3]]
    assert [s.generated_items for s in shards] == [2, 0]
    assert [dict(s.probe_spec.closings) for s in shards if s.probe_spec] == [
        {("t", "i1"): "close i1", ("t", "i2"): "close i2"}, {("t", "i0"): "close i0", ("t", "i3"): "close i3"}
    ]  # fmt: skip
    pieces = shards[0].split()  # a failed shard: each item keeps its own samples and probes
    assert [(p.item_ids, len(p.requests), len(p.probes)) for p in pieces] == [
        (("i1",), 1, 0),
        (("i2",), 1, 1),
    ]
    failed = failed_probes(shards[1], "RuntimeError: boom")
    assert [(f.request, f.error, f.finish_reason) for f in failed] == [
        (p, "RuntimeError: boom", "error") for p in shards[1].probes
    ]


def test_failed_samples_carry_a_one_line_error() -> None:
    shard = Shard("00001", 0, "m", "t", (request("a", 0), request("a", 1)))
    error = ValueError("prompt too long\nsecond line of detail")
    completions = failed_completions(shard, one_line(error))
    assert [c.key.sample_idx for c in completions] == [0, 1]
    assert {c.error for c in completions} == {"ValueError: prompt too long"}
    assert {c.finish_reason for c in completions} == {"error"}
    assert one_line(RuntimeError("x" * 500)).endswith("...") and len(one_line(RuntimeError("x" * 500))) == 300


def completion(item: str, output: str, error: str | None = None) -> Completion:
    return Completion(SampleKey("m", "t", item, 0), "Q?", output, None, 3, 1,
                      "error" if error else "stop", 0.5, 7, error)  # fmt: skip


def test_a_rerun_regenerates_failed_samples_and_the_success_wins(tmp_path: Path) -> None:
    # source: issue 4 (a failed shard is recorded; rerunning the command resumes from the store)
    store = RunStore(tmp_path)
    store.write_part("m", "t", [completion("a", "", "OOM"), completion("b", "2")])
    assert store.done_keys() == {("m", "t", "b", 0)}
    store.write_part("m", "t", [completion("a", "1")])
    table = store.read_completions().to_pandas().set_index("item_id")
    assert table.loc["a", "output"] == "1" and pd.isna(table.loc["a", "error"])
    assert store.done_keys() == {("m", "t", "a", 0), ("m", "t", "b", 0)}


@pytest.mark.parametrize(
    "shape, capacity, nodes, workers",
    [
        (WorkerShape(1, 0), {"CPU": 8.0}, 2, 2),  # source: a CPU engine uses a whole node
        (WorkerShape(1, 0), {"CPU": 1.0}, 2, 1),
        (WorkerShape(1, 1), {"CPU": 32.0, "GPU": 8.0}, 2, 8),  # source: one engine per GPU
        (WorkerShape(1, 1, tensor_parallel_size=4), {"CPU": 32.0, "GPU": 8.0}, 2, 2),
        (WorkerShape(1, 1, tensor_parallel_size=4), {"CPU": 32.0, "GPU": 2.0}, 1, 1),
    ],
)
def test_default_worker_count(
    shape: WorkerShape, capacity: dict[str, float], nodes: int, workers: int
) -> None:
    assert default_worker_count(shape, capacity, nodes) == workers


def test_a_multi_gpu_engine_reserves_its_gpus_in_a_placement_group() -> None:
    shape = WorkerShape(1, 1, tensor_parallel_size=2)
    assert shape.uses_placement_group and shape.bundles() == [{"GPU": 1.0, "CPU": 1.0}] * 2
    assert shape.demand() == {"CPU": 2.0, "GPU": 2.0}
    assert fits(shape.demand(), {"CPU": 4.0, "GPU": 2.0}) and not fits(
        shape.demand(), {"CPU": 4.0, "GPU": 1.0}
    )
    assert not WorkerShape(1, 0).uses_placement_group


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("http://127.0.0.1:8265", True),
        ("http://localhost:8265", True),
        ("http://[::1]:8265", True),
        ("http://10.0.0.5:8265", False),  # source: issue 4 (warn when not on loopback)
        ("https://ray.example.com", False),
    ],
)
def test_submit_warns_off_loopback(address: str, loopback: bool, capsys: pytest.CaptureFixture[str]) -> None:
    assert is_loopback(address) is loopback
    warn_if_exposed(address)
    warning = capsys.readouterr().err
    assert (warning == "") is loopback
    if not loopback:
        assert warning.count("\n") == 1 and "no authentication" in warning


@pytest.mark.parametrize(
    "given, env, expected",
    [
        (None, None, "http://127.0.0.1:8265"),
        (None, "10.0.0.5:8265", "http://10.0.0.5:8265"),  # source: Ray's RAY_ADDRESS convention
        ("127.0.0.1:9999", "http://other:8265", "http://127.0.0.1:9999"),
    ],
)
def test_dashboard_address(given: str | None, env: str | None, expected: str, monkeypatch: Any) -> None:
    if env is None:
        monkeypatch.delenv("RAY_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("RAY_ADDRESS", env)
    assert dashboard_address(given) == expected


def test_job_entrypoint_quotes_paths_and_defaults_the_run_dir_on_the_head() -> None:
    request = JobRequest("evals-submit/my suite.yaml", None, "s-abc", "/data dir", 2, 16, "python")
    entrypoint = request.entrypoint()
    assert entrypoint.endswith('--out "$HOME/evals-runs/s-abc"')
    words = shlex.split(entrypoint.replace('"$HOME', '"/home/u'))
    assert words[:6] == ["python", "-m", "evals.cli", "run", "--config", "evals-submit/my suite.yaml"]
    assert words[words.index("--data-dir") + 1] == "/data dir" and "--ray" in words
    given = JobRequest("c.yaml", "s3://bucket/run 1", "s-abc", None, None, 32, "python").entrypoint()
    assert shlex.split(given)[-2:] == ["--out", "s3://bucket/run 1"]


def test_status_shows_the_last_progress_line() -> None:
    logs = "noise\nevals progress: shards 1/4 done\nmore\nevals progress: shards 3/4 done, 1 in flight\n"
    assert last_progress_line(logs) == "shards 3/4 done, 1 in flight"
    assert last_progress_line("nothing yet") is None


def test_cluster_launcher_config_passes_rays_own_validation() -> None:
    # source: issue 4 (validate the YAML files with Ray's own config validation)
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((REPO / "cluster" / "aws-gpu.yaml").read_text())
    validate_config(prepare_config(config))
    assert config["available_node_types"]["gpu_worker"]["min_workers"] >= 1
    head_start = " ".join(config["head_start_ray_commands"])
    assert "--dashboard-host=127.0.0.1" in head_start and "0.0.0.0" not in yaml.safe_dump(config)
    assert any("pip install" in c and "evals" in c for c in config["setup_commands"])
    broken = {**config, "available_node_types": {**config["available_node_types"], "head": {"typo": 1}}}
    with pytest.raises(Exception, match="typo|required"):
        validate_config(prepare_config(broken))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _GroupSpec(_Strict):
    """KubeRay v1 HeadGroupSpec / WorkerGroupSpec fields this project uses (ray-operator/apis/ray/v1)."""

    groupName: str | None = None
    replicas: int | None = Field(None, ge=0)
    minReplicas: int | None = Field(None, ge=0)
    maxReplicas: int | None = Field(None, ge=0)
    rayStartParams: dict[str, str]
    template: dict[str, Any]


class _ClusterSpec(_Strict):
    rayVersion: str
    enableInTreeAutoscaling: bool | None = None
    autoscalerOptions: dict[str, Any] | None = None
    headGroupSpec: _GroupSpec
    workerGroupSpecs: list[_GroupSpec]


class _RayJobSpec(_Strict):
    """KubeRay v1 RayJobSpec (rayjob_types.go), the fields an evals job may set."""

    entrypoint: str
    runtimeEnvYAML: str | None = None
    submissionMode: str
    shutdownAfterJobFinishes: bool | None = None
    ttlSecondsAfterFinished: int | None = None
    activeDeadlineSeconds: int | None = None
    backoffLimit: int | None = None
    rayClusterSpec: _ClusterSpec


def test_kuberay_rayjob_manifest_is_a_valid_rayjob_with_a_private_dashboard() -> None:
    documents = list(yaml.safe_load_all((REPO / "cluster" / "kuberay-rayjob.yaml").read_text()))
    kinds = {doc["kind"]: doc for doc in documents}
    assert set(kinds) == {"ConfigMap", "RayJob", "NetworkPolicy"}
    job = kinds["RayJob"]
    assert job["apiVersion"] == "ray.io/v1"
    spec = _RayJobSpec.model_validate(job["spec"])
    assert spec.submissionMode in {"K8sJobMode", "HTTPMode", "SidecarMode", "InteractiveMode"}
    assert "evals.cli run" in spec.entrypoint and "--ray auto" in spec.entrypoint
    suite_name = kinds["ConfigMap"]["metadata"]["name"]
    volumes = spec.rayClusterSpec.headGroupSpec.template["spec"]["volumes"]
    assert any(v.get("configMap", {}).get("name") == suite_name for v in volumes)
    (workers,) = spec.rayClusterSpec.workerGroupSpecs
    assert workers.minReplicas is not None and workers.maxReplicas is not None
    assert workers.minReplicas <= (workers.replicas or 0) <= workers.maxReplicas
    (container,) = workers.template["spec"]["containers"]
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    text = yaml.safe_dump_all(documents)
    assert "LoadBalancer" not in text and "NodePort" not in text and "Ingress" not in kinds
    policy = kinds["NetworkPolicy"]["spec"]
    assert policy["policyTypes"] == ["Ingress"] and policy["podSelector"]["matchLabels"]


def test_a_run_at_an_fsspec_url_is_mirrored_and_resumed_from_the_url(tmp_path: Path) -> None:
    # source: issue 4 (the run directory may be an fsspec URL for clusters); file:// is fsspec's local fs
    from evals.store import MirroredRunStore, open_store

    url = f"file://{tmp_path}/bucket/run"
    first = open_store(url)
    assert isinstance(first, MirroredRunStore) and first.location == url
    first.open_for(run_manifest("abc", created="then"))
    first.write_part("m", "t", [completion("a", "1"), completion("b", "", "OOM")])
    assert (tmp_path / "bucket" / "run" / "manifest.json").is_file()
    assert len(list((tmp_path / "bucket" / "run" / "parts").glob("*/*/part-*.parquet"))) == 1

    second = open_store(url)  # a new driver, e.g. after the first one died: a fresh local folder
    assert second.root != first.root and second.done_keys() == {("m", "t", "a", 0)}
    second.open_for(run_manifest("abc", created="now"))
    reopened = second.read_manifest()
    assert reopened is not None and reopened.created == "then"
    with pytest.raises(EvalsError, match="different config"):
        open_store(url).open_for(run_manifest("xyz"))


@pytest.mark.parametrize("out", ["runs/x", "/abs/run", Path("rel/run")])
def test_plain_paths_stay_local_directories(out: str | Path) -> None:
    from evals.store import MirroredRunStore, open_store

    store = open_store(out)
    assert not isinstance(store, MirroredRunStore) and store.root == Path(out)


def test_a_url_that_argparse_made_a_path_still_names_the_url(tmp_path: Path) -> None:
    # source: argparse type=Path turns "s3://b/run" into "s3:/b/run"
    from evals.store import open_store

    mangled = Path(f"file://{tmp_path}/run")
    assert str(mangled).startswith("file:/") and not str(mangled).startswith("file://")
    assert open_store(mangled).location == f"file://{tmp_path}/run"


def test_progress_counts_items_per_task_shards_in_flight_and_workers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from evals.distributed.progress import PROGRESS_PREFIX, RunProgress
    from evals.distributed.shards import WorkerIdentity

    progress = RunProgress(quiet=False)  # stderr is not a terminal here: plain lines, as in job logs
    progress.add_task("m", "t", total_items=5, done_items=1)
    progress.shards_total = 2
    worker = WorkerIdentity("a" * 32, "b" * 56, "host", 42)
    progress.worker_ready(worker)
    progress.shard_started(worker.worker_id)
    assert "1 in flight" in progress.status_line() and "aaaaaa@bbbbbb:busy,0" in progress.status_line()
    shard = make_shards(0, "m", "t", [request(f"i{i}", 0) for i in range(3)], 3, 0)[0]
    progress.shard_finished(shard, worker.worker_id, failed=False)
    progress.worker_gone(worker.worker_id)
    progress.close()
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        line
        == f"{PROGRESS_PREFIX} shards 1/2 done, 0 in flight | m/t 4/5 items | workers aaaaaa@bbbbbb:gone,1"
    )
