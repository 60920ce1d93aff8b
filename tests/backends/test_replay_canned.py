"""``CannedAnswers``: the replay engine Ray workers run in the driver benches and the chaos soak."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest

from evals.generation.base import GenerationRequest, SamplingSettings
from evals.generation.replay import CannedAnswers
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey


def request(item_id: str, sample_idx: int, gold: str = "42", max_tokens: int = 100) -> GenerationRequest:
    item = Item(task="t", item_id=item_id, question="1+41?", gold=gold, answer_type="number")
    prompt = Prompt(item=item, messages=(ChatMessage(role="user", content="1+41?"),))
    sampling = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=sample_idx)
    return GenerationRequest(SampleKey("m", "t", item_id, sample_idx), prompt, sampling)


def generate(factory: CannedAnswers, requests: list[GenerationRequest]) -> list[Completion]:
    completions: list[Completion] = []
    backend: Any = factory(None, None, 0)
    backend.generate(requests, completions.extend)
    return completions


REQUESTS = [request(f"i{index}", sample) for index in range(20) for sample in range(3)]


@pytest.mark.parametrize(
    "texts, expected",
    [
        (("The answer is {gold}.",), "The answer is 42."),  # source: {gold} is the item's gold answer
        (("\\boxed{{gold}}",), "\\boxed{42}"),  # source: a boxed gold keeps its braces
        (("no answer",), "no answer"),  # source: a text without {gold}
    ],
)
def test_canned_text_names_the_gold(texts: tuple[str, ...], expected: str) -> None:
    assert [c.output for c in generate(CannedAnswers(texts), REQUESTS[:1])] == [expected]


def test_the_same_sample_gets_the_same_text_in_every_process() -> None:
    """The choice hashes the sample key, not Python's salted hash(): a worker answers like the driver."""
    factory = CannedAnswers(("a", "b b", "c c c", "d d d d"))
    copy = pickle.loads(pickle.dumps(factory))
    first = [c.output for c in generate(factory, REQUESTS)]
    assert first == [c.output for c in generate(copy, list(reversed(REQUESTS)))][::-1]
    assert len(set(first)) == 4  # 60 samples spread over every text


def test_latency_per_token_is_waited_per_batch() -> None:
    """A batch waits for its longest completion: 2 batches of 8 x 5 words x 10 ms >= 0.1 s."""
    factory = CannedAnswers(("one two three four five",), latency_per_token=0.01, batch_size=8)
    started = time.perf_counter()
    completions = generate(factory, REQUESTS[:16])
    assert time.perf_counter() - started >= 0.1
    assert {c.completion_tokens for c in completions} == {5}
