"""Several shards in one worker call: how many, and each shard's results kept apart (no cluster)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evals.distributed.dispatch import shards_per_call
from evals.distributed.shards import ProbeSpec, Shard, WorkerIdentity, make_shards
from evals.distributed.worker import generate_shards
from evals.generation.base import GenerationRequest, SamplingSettings
from evals.generation.replay import ReplayBackend
from evals.probes import ProbeRequest
from evals.records import ChatMessage, Item, Prompt, SampleKey

IDENTITY = WorkerIdentity("w" * 32, "n" * 56, "host", 1, max_sequences=256)


def request(task: str, item: str, sample: int = 0) -> GenerationRequest:
    it = Item(task, item, f"question {item}?", "1", "number")
    prompt = Prompt(it, (ChatMessage("user", it.question),))
    return GenerationRequest(SampleKey("m", task, item, sample), prompt, SamplingSettings(0.0, 1.0, 8, 7))


def queue_of(sizes: list[int], failed: tuple[int, ...] = (), alone: tuple[int, ...] = ()) -> list[Shard]:
    """Shards of ``sizes`` requests each; indices in ``failed`` failed once, in ``alone`` failed in a call."""
    shards = []
    for index, size in enumerate(sizes):
        shard = make_shards(0, "m", "t", [request("t", f"s{index}", k) for k in range(size)], 1, index)[0]
        shards.append(replace(shard, attempts=int(index in failed), alone=index in alone))
    return shards


@pytest.mark.parametrize(
    "sizes, max_sequences, workers, failed, alone, expected",
    [
        # source: issue 11 (Ray start-up: 13 shards of 16 items ran one at a time, batches of 16 against 200 locally)
        ([16] * 13, 256, 1, (), (), 13),
        ([16] * 13, 100, 1, (), (), 6),  # no more than the engine runs at once
        ([16] * 13, 256, 2, (), (), 7),  # a worker's share: the rest spread over the others
        ([16] * 3, 256, 4, (), (), 1),  # the last shards go one per worker
        ([300, 16], 256, 1, (), (), 1),  # a shard larger than the engine still runs, alone
        ([16] * 4, None, 1, (), (), 1),  # a backend that does not say: one shard a call, as before
        (
            [16] * 4,
            256,
            1,
            (0,),
            (),
            1,
        ),  # source: issue 4 (a failed shard runs alone: a bad item is isolated)
        ([16] * 4, 256, 1, (2,), (), 2),  # ... and stops a call before it
        ([16] * 4, 256, 1, (), (1,), 1),  # failed within a call of several: alone from then on
        ([], 256, 1, (), (), 0),
    ],
)
def test_a_call_takes_the_shards_that_fill_the_engine_within_the_workers_share(
    sizes: list[int], max_sequences: int | None, workers: int, failed: tuple[int, ...], alone: tuple[int, ...],
    expected: int,
) -> None:  # fmt: skip
    assert shards_per_call(queue_of(sizes, failed, alone), max_sequences, workers) == expected


def test_a_call_of_several_shards_answers_each_with_its_own_samples_and_probes() -> None:
    """source: issue 11 (one batch for the call) and issue 12 (each shard's probes come back with it)."""
    backend = ReplayBackend(lambda r: f"words for {r.key.item_id} The answer is 1", batch_size=3,
                            probe_answer=lambda p: "1")  # fmt: skip
    closings = {(task, f"i{i}"): "The answer is " for task in ("t", "u") for i in range(4)}
    spec = ProbeSpec((2,), closings, 4)
    first = make_shards(0, "m", "t", [request("t", f"i{i}", k) for i in range(3) for k in range(2)], 2, 0,
                        probe_spec=spec)  # fmt: skip
    base = request("u", "i0")
    stored = ProbeRequest(base.key, 1, "budget", base.prompt, "a b c", None, "The answer is ", 4)
    other = make_shards(0, "m", "u", [request("u", "i1")], 2, 5, probes=[stored], probe_spec=spec)
    shards = [*first, *other]

    results = generate_shards(backend, shards, IDENTITY)

    assert [r.shard_id for r in results] == [s.shard_id for s in shards]
    assert len(backend.generated) == 7, "the samples of every shard, generated once"
    for shard, result in zip(shards, results, strict=True):
        assert [c.key for c in result.completions] == [r.key for r in shard.requests]
        probed = {(p.request.key, p.request.budget, p.request.kind) for p in result.probes}
        assert {key for key, _, _ in probed} <= {r.key for r in shard.requests} | {
            p.key for p in shard.probes
        }
        assert all(stored_probe.key in {k for k, _, _ in probed} for stored_probe in shard.probes)
        assert result.worker == IDENTITY
    assert sum(len(r.probes) for r in results) == len(backend.probed)


def test_a_call_that_loses_a_sample_raises_rather_than_answering_part_of_a_shard() -> None:
    class Dropping(ReplayBackend):
        def generate(self, requests, on_finished):  # type: ignore[no-untyped-def]
            super().generate(requests[:-1], on_finished)

    shards = make_shards(0, "m", "t", [request("t", f"i{i}") for i in range(4)], 2, 0)
    with pytest.raises(RuntimeError, match="no completion for 1 samples"):
        generate_shards(Dropping(lambda r: "1"), shards, IDENTITY)
