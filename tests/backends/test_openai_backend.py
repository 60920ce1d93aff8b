"""The openai backend against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from backend_helpers import free_port
from fake_chat_server import FakeChatServer, Reply, Script, Seen, chat_body, ok

from evals.errors import EvalsError
from evals.generation.base import GenerationRequest, SamplingSettings, sample_seed
from evals.generation.http_retry import RetryPolicy
from evals.generation.openai_backend import ABORT_AFTER_FAILED, OpenAIBackend, OpenAISettings
from evals.records import ChatMessage, Completion, Item, Prompt, SampleKey

FAST = RetryPolicy(max_retries=2, base_delay_s=0.05, max_delay_s=0.2)


def make_requests(items: int, samples: int = 1, temperature: float = 0.0) -> list[GenerationRequest]:
    requests = []
    for i in range(items):
        item = Item("t", f"i{i}", f"question {i}", "7", "number")
        prompt = Prompt(item, (ChatMessage("system", "be brief"), ChatMessage("user", f"question {i}")))
        for s in range(samples):
            sampling = SamplingSettings(temperature, 1.0, 32, sample_seed(0, item.item_id, s))
            requests.append(GenerationRequest(SampleKey("m", "t", item.item_id, s), prompt, sampling))
    return requests


def run_backend(
    server_url: str,
    requests: Sequence[GenerationRequest],
    *,
    concurrency: int = 4,
    timeout_s: float = 5.0,
    retry: RetryPolicy = FAST,
    api_key: str | None = None,
) -> tuple[list[Completion], list[int]]:
    """Completions in the order they were handed over, and the size of each batch."""
    settings = OpenAISettings(server_url, "test-model", api_key, concurrency, timeout_s, retry)
    stored: list[Completion] = []
    batches: list[int] = []

    def on_finished(batch: Sequence[Completion]) -> None:
        stored.extend(batch)
        batches.append(len(batch))

    OpenAIBackend(settings).generate(requests, on_finished)
    return stored, batches


def first_attempts_fail(bad: Reply, times: int) -> Script:
    return lambda seen: bad if seen.attempt <= times else ok(seen)


def for_question(question: str, reply: Reply) -> Script:
    return lambda seen: reply if seen.question == question else ok(seen)


ANSWER = chat_body(["The answer is 7."])
RATE_LIMITED = Reply(429, b"slow down", {"Retry-After": "0.3"})


def server_errors(seen: Seen) -> Reply:
    return Reply(500 + 3 * (seen.attempt - 1), b"{}") if seen.attempt <= 2 else ok(seen)  # 500, 503, ok


# A normal reply on 127.0.0.1 takes milliseconds; a hung one is cut at HUNG_TIMEOUT_S, and any
# other reply has NORMAL_TIMEOUT_S, a hundred times what it needs even on a loaded machine.
NORMAL_TIMEOUT_S = 5.0
HUNG_TIMEOUT_S = 2.0

# (case, script, attempts of item 0, client timeout, at least this many seconds): each fault is
# retried until it passes.
RECOVERED = [
    ("429 twice, Retry-After 0.3 s honoured", first_attempts_fail(RATE_LIMITED, 2), 3, NORMAL_TIMEOUT_S, 0.6),
    ("500 then 503 (server errors)", server_errors, 3, NORMAL_TIMEOUT_S, 0.0),
    ("truncated JSON body", first_attempts_fail(Reply(body=ANSWER, truncate=True), 1), 2, NORMAL_TIMEOUT_S, 0.0),
    ("body cut short of its Content-Length", first_attempts_fail(Reply(body=ANSWER, cut_off=True), 1), 2,
     NORMAL_TIMEOUT_S, 0.0),
    ("hung response past the timeout", first_attempts_fail(Reply(hang_s=30.0), 1), 2, HUNG_TIMEOUT_S,
     HUNG_TIMEOUT_S),
    ("connection dropped without an answer", first_attempts_fail(Reply(drop=True), 1), 2, NORMAL_TIMEOUT_S, 0.0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "script", "attempts", "timeout_s", "min_seconds"), RECOVERED, ids=[c[0] for c in RECOVERED]
)
def test_transient_faults_are_retried_until_they_pass(
    case: str, script: Script, attempts: int, timeout_s: float, min_seconds: float
) -> None:
    with FakeChatServer(script) as server:
        started = time.perf_counter()
        stored, _ = run_backend(server.url, make_requests(1), timeout_s=timeout_s)
        elapsed = time.perf_counter() - started
    assert [c.output for c in stored] == ["The answer is 7."]
    assert stored[0].error is None and stored[0].finish_reason == "stop"
    assert len(server.seen) == attempts
    assert elapsed >= min_seconds


# (case, reply for item i1 only, attempts the server saw for it, words the error line holds)
ITEM_FAILURES = [
    ("400 is not retried", Reply(400, b'{"error": {"message": "too long"}}'), 1, "HTTP 400: too long"),
    ("500 on every retry", Reply(500, b"internal error"), 3, "HTTP 500: internal error (after 3 attempts)"),
    ("hung on every retry", Reply(hang_s=30.0), 3, f"no answer within {HUNG_TIMEOUT_S:g} s (after 3 attempts)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "reply", "attempts", "message"), ITEM_FAILURES, ids=[c[0] for c in ITEM_FAILURES]
)
def test_an_item_the_server_fails_is_stored_failed_and_the_run_goes_on(
    case: str, reply: Reply, attempts: int, message: str
) -> None:
    with FakeChatServer(for_question("question 1", reply)) as server:
        stored, _ = run_backend(server.url, make_requests(4), timeout_s=HUNG_TIMEOUT_S)
    by_item = {c.key.item_id: c for c in stored}
    assert sorted(by_item) == ["i0", "i1", "i2", "i3"] and len(stored) == 4
    failed = by_item.pop("i1")
    assert (failed.finish_reason, failed.output, failed.error) == ("error", "", message)
    assert "\n" not in message
    assert all(c.error is None and c.output == "The answer is 7." for c in by_item.values())
    assert sum(s.question == "question 1" for s in server.seen) == attempts


@pytest.mark.parametrize("max_concurrency", [1, 3])
def test_requests_in_flight_never_exceed_the_bound(max_concurrency: int) -> None:
    """Counted by the server: handlers running at once, while every reply takes 0.2 s."""
    with FakeChatServer(lambda seen: Reply(body=chat_body(["7"]), hang_s=0.2)) as server:
        stored, _ = run_backend(server.url, make_requests(12), concurrency=max_concurrency)
    assert len(stored) == 12
    # Reaching the bound shows requests do overlap; exceeding it is the bug this guards.
    assert server.peak_in_flight == max_concurrency


# (case, server reply, separate reasoning stored, output stored): the field names of DeepSeek and vllm serve.
THINK = "<think>2+5=7</think>7"
REASONING = [
    ("DeepSeek API: reasoning_content", chat_body(["7"], reasoning="2+5=7"), "2+5=7", "7"),
    ("vllm serve: reasoning", chat_body(["7"], reasoning="2+5=7", reasoning_field="reasoning"), "2+5=7", "7"),
    ("no field: <think> stays in the output", chat_body([THINK]), None, THINK),
    ("empty reasoning field is no reasoning", chat_body(["7"], reasoning=""), None, "7"),
]


@pytest.mark.parametrize(("case", "body", "reasoning", "output"), REASONING, ids=[c[0] for c in REASONING])
def test_reasoning_from_the_servers_field_or_left_in_the_output(
    case: str, body: bytes, reasoning: str | None, output: str
) -> None:
    with FakeChatServer(lambda seen: Reply(body=body)) as server:
        stored, _ = run_backend(server.url, make_requests(1))
    assert (stored[0].reasoning, stored[0].output) == (reasoning, output)


def test_native_n_one_request_per_item_usage_split_to_the_reported_totals() -> None:
    def three_choices(seen: Seen) -> Reply:
        contents = ["a" * 10, "b" * 30, "c" * 60]  # completion tokens follow text length: 10/30/60 of 20
        return Reply(body=chat_body(contents, prompt_tokens=10, completion_tokens=20, finish_reason="length"))

    requests = make_requests(2, samples=3, temperature=0.8)
    with FakeChatServer(three_choices) as server:
        stored, _ = run_backend(server.url, requests)
    assert len(server.seen) == 2
    assert all(s.payload["n"] == 3 for s in server.seen)
    assert {s.payload["seed"] for s in server.seen} == {sample_seed(0, "i0", 0), sample_seed(0, "i1", 0)}
    for item in ("i0", "i1"):
        rows = sorted((c for c in stored if c.key.item_id == item), key=lambda c: c.key.sample_idx)
        assert [c.prompt_tokens for c in rows] == [4, 3, 3]  # 10 split evenly, remainder first
        assert [c.completion_tokens for c in rows] == [2, 6, 12]
        assert {c.seed for c in rows} == {sample_seed(0, item, 0)}  # the seed sent, shared by the choices
        assert {c.finish_reason for c in rows} == {"length"}


def rejects_n(seen: Seen) -> Reply:
    return Reply(400, b'{"error": {"message": "n must be 1"}}') if seen.payload.get("n") else ok(seen)


# (case, how the server answers a request with n > 1): the backend falls back to one request per sample.
NO_NATIVE_N = [
    ("ignores n, answers one choice", lambda seen: Reply(body=ANSWER)),
    ("rejects n with 400", rejects_n),
]


@pytest.mark.parametrize(("case", "script"), NO_NATIVE_N, ids=[c[0] for c in NO_NATIVE_N])
def test_without_native_n_each_sample_is_its_own_request_with_its_own_seed(case: str, script: Script) -> None:
    requests = make_requests(3, samples=2, temperature=0.8)
    with FakeChatServer(script) as server:
        stored, _ = run_backend(server.url, requests, concurrency=1)
    assert sorted(c.key.as_tuple() for c in stored) == sorted(r.key.as_tuple() for r in requests)
    assert all(c.error is None for c in stored)
    assert {c.key.as_tuple(): c.seed for c in stored} == {r.key.as_tuple(): r.sampling.seed for r in requests}
    assert sum("n" in s.payload for s in server.seen) == 1  # one probe, then single requests
    assert len(server.seen) == 1 + len(requests)


def test_finish_reasons_and_a_content_filter() -> None:
    def by_item(seen: Seen) -> Reply:
        reason = {"question 0": "length", "question 1": "content_filter", "question 2": "stop"}[seen.question]
        return Reply(body=chat_body(["partial"], finish_reason=reason))

    with FakeChatServer(by_item) as server:
        stored, _ = run_backend(server.url, make_requests(3))
    got = {c.key.item_id: (c.finish_reason, c.output, c.error) for c in stored}
    assert got == {
        "i0": ("length", "partial", None),
        "i1": ("error", "", "the server's content filter stopped the answer"),
        "i2": ("stop", "partial", None),
    }


def test_a_server_that_is_down_ends_in_one_line_and_stores_nothing() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EvalsError) as raised:
        run_backend(url, make_requests(3))
    message = str(raised.value)
    assert "\n" not in message and url in message
    assert "no request succeeded" in message and "ConnectError" in message


def test_a_server_failing_everything_stops_after_a_streak_not_thousands_of_samples() -> None:
    with FakeChatServer(lambda seen: Reply(503, b"overloaded")) as server:
        stored_before_abort: list[Completion] = []
        with pytest.raises(EvalsError, match=f"failed {ABORT_AFTER_FAILED} requests in a row"):
            settings = OpenAISettings(server.url, "m", None, 2, 5.0, FAST)
            OpenAIBackend(settings).generate(make_requests(200), stored_before_abort.extend)
    assert stored_before_abort == []
    assert (
        len({s.question for s in server.seen}) <= ABORT_AFTER_FAILED + 2
    )  # the streak plus what was in flight


def test_a_rejected_key_stops_at_once_and_the_key_is_in_no_message() -> None:
    key = "sk-test-SECRET-0123456789"

    def echo_key(seen: Seen) -> Reply:
        return Reply(401, f'{{"error": {{"message": "bad key {seen.authorization}"}}}}'.encode())

    with FakeChatServer(echo_key) as server, pytest.raises(EvalsError) as raised:
        run_backend(server.url, make_requests(50), concurrency=1, api_key=key)
    assert len(server.seen) == 1 and server.seen[0].authorization == f"Bearer {key}"
    assert "HTTP 401: bad key Bearer ***" in str(raised.value)
    assert key not in str(raised.value) and key not in repr(OpenAISettings("u", "m", key))


def test_a_server_dying_mid_run_keeps_what_finished_and_aborts() -> None:
    answered = 0
    server = FakeChatServer()

    def die_after_six(seen: Seen) -> Reply:
        nonlocal answered
        answered += 1
        if answered == 7:
            server.stop()
            return Reply(drop=True)
        return ok(seen)

    server.script = die_after_six
    with server, pytest.raises(EvalsError) as raised:
        stored: list[Completion] = []
        settings = OpenAISettings(server.url, "m", None, 1, 5.0, FAST)
        OpenAIBackend(settings).generate(make_requests(40), stored.extend)
    assert [c.key.item_id for c in stored] == [f"i{i}" for i in range(6)]
    assert all(c.error is None for c in stored)
    assert f"failed {ABORT_AFTER_FAILED} requests in a row" in str(raised.value)
    assert "6 samples stored" in str(raised.value)


def test_engine_seconds_share_the_wall_time_of_overlapping_requests() -> None:
    with FakeChatServer(lambda seen: Reply(body=chat_body(["7"]), hang_s=1.0)) as server:
        backend = OpenAIBackend(OpenAISettings(server.url, "m", None, 4, 30.0, FAST))
        stored: list[Completion] = []
        started = time.perf_counter()
        backend.generate(make_requests(8), stored.extend)
        wall = time.perf_counter() - started
    latencies = [stat.latency_s for stat in backend.request_stats]
    assert len(latencies) == 8 and min(latencies) >= 1.0
    total = sum(c.engine_seconds for c in stored)
    # Two waves of 1 s of wall time, where summing the overlapping latencies gives >= 8 s; the
    # bounds leave 2 s for overheads that take milliseconds.
    assert 2.0 <= total <= wall
    assert total < 0.5 * sum(latencies)


def test_missing_usage_reads_zero_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeChatServer(lambda seen: Reply(body=chat_body(["7"], usage=False))) as server:
        stored, _ = run_backend(server.url, make_requests(2))
    assert [(c.prompt_tokens, c.completion_tokens) for c in stored] == [(0, 0), (0, 0)]
    assert capsys.readouterr().err.count("reports no token usage") == 1


def test_an_error_while_storing_reaches_the_caller_as_itself() -> None:
    def disk_full(batch: Sequence[Completion]) -> None:
        raise EvalsError("cannot write part: disk full")

    with FakeChatServer() as server, pytest.raises(EvalsError, match="^cannot write part: disk full$"):
        OpenAIBackend(OpenAISettings(server.url, "m", None, 2, 5.0, FAST)).generate(
            make_requests(3), disk_full
        )
