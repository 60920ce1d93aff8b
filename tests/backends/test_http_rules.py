"""The pure rules of the served backend: retries, error lines, usage split, pricing, validation."""

from __future__ import annotations

import email.utils
import json
import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.generation.chat_reply import MalformedReply, parse_reply, split_count
from evals.generation.http_retry import (
    RetryPolicy,
    backoff_seconds,
    display_url,
    is_retryable_status,
    one_line,
    retry_after_seconds,
    server_message,
)
from evals.generation.served import api_price_key, server_field_problems
from evals.suite import ModelEntrySpec

NOW = 1_700_000_000.0

# (source, header value, seconds): RFC 9110 section 10.2.3 allows delta-seconds or an HTTP date.
RETRY_AFTER = [
    ("RFC 9110 delta-seconds", "3", 3.0),
    ("fractional seconds (some gateways)", "0.5", 0.5),
    ("RFC 9110 HTTP-date, 10 s ahead", email.utils.formatdate(NOW + 10, usegmt=True), 10.0),
    ("HTTP-date in the past", email.utils.formatdate(NOW - 10, usegmt=True), 0.0),
    ("negative seconds", "-5", 0.0),
    ("garbage", "soon", None),
    ("absent", None, None),
]


@pytest.mark.parametrize(("source", "value", "seconds"), RETRY_AFTER, ids=[c[0] for c in RETRY_AFTER])
def test_retry_after(source: str, value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds


@pytest.mark.parametrize("retry", range(8))
def test_backoff_doubles_with_jitter_up_to_the_cap(retry: int) -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=30.0)
    ceiling = min(30.0, 2.0**retry)
    delays = [backoff_seconds(policy, retry, random.Random(seed), None) for seed in range(50)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_backoff_follows_retry_after_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_retry_after_s=60.0)
    assert 7.0 <= backoff_seconds(policy, 0, random.Random(0), 7.0) <= 7.1
    assert 60.0 <= backoff_seconds(policy, 0, random.Random(0), 3600.0) <= 60.1


# (source, status, retried): OpenAI and DeepSeek error-code docs (429 rate limit, 5xx server side).
STATUSES = [
    ("rate limited", 429, True), ("server error", 500, True), ("bad gateway", 502, True),
    ("overloaded (DeepSeek 503)", 503, True), ("request timeout", 408, True), ("bad request", 400, False),
    ("unprocessable", 422, False), ("payment required (DeepSeek 402)", 402, False),
]  # fmt: skip


@pytest.mark.parametrize(("source", "status", "retried"), STATUSES, ids=[c[0] for c in STATUSES])
def test_which_statuses_are_retried(source: str, status: int, retried: bool) -> None:
    assert is_retryable_status(status) is retried


URLS = [
    ("plain", "http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("user info dropped", "https://user:pw@api.example.com/v1", "https://api.example.com/v1"),
    ("query dropped", "https://api.example.com/v1?key=abc", "https://api.example.com/v1"),
    ("IPv6", "http://[::1]:9000/v1", "http://[::1]:9000/v1"),
]


@pytest.mark.parametrize(("case", "url", "shown"), URLS, ids=[c[0] for c in URLS])
def test_urls_are_shown_without_credentials(case: str, url: str, shown: str) -> None:
    assert display_url(url) == shown


# (source, error body, message): the error shapes of OpenAI, vLLM/FastAPI and plain proxies.
BODIES = [
    (
        "OpenAI error object",
        b'{"error": {"message": "Rate limit reached", "type": "x"}}',
        "Rate limit reached",
    ),
    ("FastAPI detail", b'{"detail": "Not Found"}', "Not Found"),
    (
        "vLLM flat error",
        b'{"object": "error", "message": "model x does not exist"}',
        "model x does not exist",
    ),
    ("plain text from a proxy", b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
]


@pytest.mark.parametrize(("source", "body", "message"), BODIES, ids=[c[0] for c in BODIES])
def test_server_messages(source: str, body: bytes, message: str) -> None:
    assert server_message(body) == message


def test_one_line_removes_secrets_and_newlines() -> None:
    line = one_line("bad key\n  sk-SECRET in header\tBearer sk-SECRET", ["sk-SECRET"], limit=40)
    assert line == "bad key *** in header Bearer ***"
    assert one_line("x" * 500, [], limit=20) == "x" * 17 + "..."


# (case, total, weights, parts): largest remainder, parts always add up to the total.
SPLITS = [
    ("even", 10, [1, 1, 1], [4, 3, 3]),
    ("by length", 20, [10, 30, 60], [2, 6, 12]),
    ("zero weights share evenly", 5, [0, 0], [3, 2]),
    ("nothing to share", 0, [3, 1], [0, 0]),
    ("one choice takes all", 7, [1], [7]),
]


@pytest.mark.parametrize(("case", "total", "weights", "parts"), SPLITS, ids=[c[0] for c in SPLITS])
def test_split_count(case: str, total: int, weights: list[int], parts: list[int]) -> None:
    assert split_count(total, weights) == parts


@given(total=st.integers(0, 10_000), weights=st.lists(st.integers(0, 1_000), min_size=1, max_size=8))
def test_split_count_adds_up_and_rounds_each_share(total: int, weights: list[int]) -> None:
    """Any total and weights: the parts add up to the total, each within 1 of its exact share."""
    parts = split_count(total, weights)
    assert sum(parts) == total and len(parts) == len(weights)
    shares = weights if sum(weights) > 0 else [1] * len(weights)
    for part, weight in zip(parts, shares, strict=True):
        exact = Fraction(total * weight, sum(shares))
        assert math.floor(exact) <= part <= math.ceil(exact)


MALFORMED = [
    ("truncated JSON", b'{"choices": [{"index": 0, "mess'),
    ("not an object", b"[1, 2]"),
    ("no choices", b'{"usage": {}}'),
    ("empty choices", b'{"choices": []}'),
    ("choice without message", b'{"choices": [{"index": 0}]}'),
    ("not UTF-8", b"\xff\xfe\x00"),
]


@pytest.mark.parametrize(("case", "body"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_replies_are_recognised(case: str, body: bytes) -> None:
    with pytest.raises(MalformedReply):
        parse_reply(body, 1)


def reply_of(finishes: list[str], contents: list[str], completion_tokens: int) -> bytes:
    choices = [{"index": i, "message": {"content": text}, "finish_reason": finish}
               for i, (finish, text) in enumerate(zip(finishes, contents, strict=True))]  # fmt: skip
    return json.dumps(
        {"choices": choices, "usage": {"prompt_tokens": 9, "completion_tokens": completion_tokens}}
    ).encode()


# (case, finish reasons, contents, usage completion tokens, max_tokens, tokens per choice)
N_SPLITS = [
    ("cut-off: max_tokens, others share the rest", ["length", "stop", "stop"], ["x", "y", "zzz"], 40, 16,
     [16, 6, 18]),
    ("all cut off", ["length", "length"], ["a", "bbbbbb"], 32, 16, [16, 16]),
    ("cut by the context window (total too small)", ["length", "length"], ["a", "bbb"], 12, 16, [3, 9]),
    ("one choice is exact", ["stop"], ["abc"], 7, 16, [7]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "finishes", "contents", "total", "max_tokens", "parts"), N_SPLITS,
                         ids=[c[0] for c in N_SPLITS])  # fmt: skip
def test_completion_tokens_of_n_choices(
    case: str, finishes: list[str], contents: list[str], total: int, max_tokens: int, parts: list[int]
) -> None:
    reply = parse_reply(reply_of(finishes, contents, total), len(contents), max_tokens)
    assert [c.completion_tokens for c in reply.choices] == parts
    assert sum(c.completion_tokens for c in reply.choices) == total  # usage is never lost or invented


def test_vllm_token_ids_give_exact_per_choice_counts() -> None:
    body = {
        "choices": [
            {"index": 1, "message": {"content": "bb"}, "finish_reason": "stop", "token_ids": [5, 6, 7]},
            {"index": 0, "message": {"content": "a"}, "finish_reason": "length", "token_ids": [1]},
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 4},
    }
    reply = parse_reply(json.dumps(body).encode(), 2)
    assert [(c.output, c.completion_tokens, c.finish_reason) for c in reply.choices] == [
        ("a", 1, "length"),
        ("bb", 3, "stop"),
    ]
    assert parse_reply(json.dumps(body).encode(), 3).choices == ()  # asked for 3: n unsupported


def entry(base_url: str, price: str | None = None, model: str = "deepseek-reasoner") -> ModelEntrySpec:
    server = {"base_url": base_url, **({"price": price} if price else {})}
    return ModelEntrySpec.model_validate({"model": model, "backend": "openai", "server": server})


# (case, entry, hardware declared in the suite, price key or None for hardware time)
PRICING = [
    ("API by its model name", entry("https://api.deepseek.com/v1"), False, "deepseek-reasoner"),
    ("explicit price key wins", entry("https://api.example.com/v1", price="gpt-4o"), False, "gpt-4o"),
    ("vllm serve on this machine: hardware time", entry("http://127.0.0.1:8000/v1", model="/m"), False, None),
    ("localhost too", entry("http://localhost:8000/v1", model="/m"), False, None),
    ("remote server on declared hardware", entry("http://10.0.0.5:8000/v1", model="/m"), True, None),
    ("price key on loopback: tokens", entry("http://127.0.0.1:8/v1", price="gpt-4o"), False, "gpt-4o"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "spec", "declared", "key"), PRICING, ids=[c[0] for c in PRICING])
def test_served_models_are_priced_by_tokens_or_by_hardware_time(
    case: str, spec: ModelEntrySpec, declared: bool, key: str | None
) -> None:
    assert api_price_key(spec, declared) == key


def test_server_problems_name_the_field_and_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALS_TEST_MISSING_KEY", raising=False)
    bad = ModelEntrySpec.model_validate(
        {"model": "m", "backend": "openai",
         "server": {"base_url": "ftp://host/v1", "api_key_env": "EVALS_TEST_MISSING_KEY"}}
    )  # fmt: skip
    assert server_field_problems(bad) == [
        (("server", "base_url"), "'ftp://host/v1' is not an http(s) URL"),
        (("server", "api_key_env"), "environment variable EVALS_TEST_MISSING_KEY is not set"),
    ]
    with_user = entry("https://me:sk-SECRET@api.example.com/v1")
    problems = server_field_problems(with_user)
    assert len(problems) == 1 and "user info" in problems[0][1] and "sk-SECRET" not in str(problems[0])
    monkeypatch.setenv("EVALS_TEST_MISSING_KEY", "sk-x")
    assert server_field_problems(entry("http://127.0.0.1:1/v1")) == []
