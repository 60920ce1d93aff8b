"""Generation through an OpenAI-compatible chat-completions server (``vllm serve``, SGLang, APIs).

Requests run concurrently up to ``max_concurrency``; each one carries the pending
samples of one item (native ``n``, falling back to one request per sample when the
server ignores or rejects ``n``). Completions reach ``on_finished`` as they finish
(flushed every couple of seconds), so a run that stops keeps what it got.

Faults (see ``openai_client`` for how a request fails):

* a request that fails after its retries (the server answered an error, or gave no
  answer within the timeout) stores its samples as failed (``finish_reason="error"``,
  ``error`` one line) and the run goes on; a rerun generates failed samples again;
* ``ABORT_AFTER_FAILED`` requests failing in a row (server down or dead mid-run, or
  answering errors to everything), or a run in which no request succeeded and some
  failed for want of an answer (or on 429/5xx to the last retry), stop with one line
  and exit 2; the failures of that streak are not stored, so a server that is down
  never turns thousands of samples into "failed", and a rerun resumes;
* a rejected key or an unknown model (401, 403, 404) stops the run at once.

``engine_seconds``: every moment of the run's wall time is shared equally by the
requests in flight at that moment (a request is in flight from its first attempt to
its reply, waits between retries included), and a request's share is split over its
choices by tokens. The shares add up to the wall time during which the run had a
request out, which is what a self-hosted server costs us; at concurrency 1 a sample's
share is its request's latency. Summing latencies instead would count overlapping
requests several times. The latency of each request is kept in ``request_stats``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from evals.errors import EvalsError
from evals.generation.base import GenerationRequest, OnFinished, apportion_seconds, flush_seconds
from evals.generation.chat_reply import Choice, prompt_transcript, request_payload
from evals.generation.controls import RequestControls, refuses_temperature, sent_fields, with_controls
from evals.generation.http_retry import RetryPolicy, display_url
from evals.generation.openai_client import ChatClient, RequestFailure, RequestSuccess
from evals.probes import ProbeRequest
from evals.records import Completion, SampleKey

if TYPE_CHECKING:
    from evals.generation.base import BackendTarget

ABORT_AFTER_FAILED = 8  # requests failing in a row before the server is declared unusable
Group = tuple[GenerationRequest, ...]  # the samples one HTTP request asks for


@dataclass(frozen=True)
class OpenAISettings:
    base_url: str
    model_name: str
    api_key: str | None = field(default=None, repr=False)
    max_concurrency: int = 8
    timeout_s: float = 600.0
    retry: RetryPolicy = RetryPolicy()
    native_n: bool = True  # ask for n choices per request; falls back by itself when unsupported
    controls: RequestControls = RequestControls()


@dataclass(frozen=True)
class RequestStat:
    """One HTTP request of a run: which samples, how long it took, how it ended."""

    keys: tuple[SampleKey, ...]
    latency_s: float
    attempts: int
    outcome: Literal["ok", "answered", "no_answer", "fatal"]


class SharedClock:
    """Splits wall time equally among whatever is in flight (processor sharing).

    ``virtual`` grows by dt/k while k requests are out; a request's share is the growth
    between its ``enter`` and ``leave``, so all shares add up to the busy wall time.
    """

    def __init__(self) -> None:
        self._virtual = 0.0
        self._active = 0
        self._last = time.perf_counter()

    def _advance(self) -> None:
        now = time.perf_counter()
        if self._active:
            self._virtual += (now - self._last) / self._active
        self._last = now

    def enter(self) -> float:
        self._advance()
        self._active += 1
        return self._virtual

    def leave(self, entered: float) -> float:
        self._advance()
        self._active -= 1
        return self._virtual - entered


class _Abort(Exception):
    """The server is unusable for this run; the message is the one line the user sees."""


@dataclass
class _RunState:
    """What the workers of one ``generate`` call share (one event loop, so no locks)."""

    on_finished: OnFinished
    native_n: bool | None  # None: not known yet
    ready: list[Completion] = field(default_factory=list)
    held: list[Completion] = field(default_factory=list)  # failures of the current streak
    streak: int = 0
    streak_transient: bool = False  # the current streak holds a no-answer, 429 or 5xx failure
    last_failure: str = ""
    succeeded: bool = False
    stored: int = 0
    last_flush: float = field(default_factory=time.perf_counter)
    warned_usage: bool = False
    send_temperature: bool = True  # False once the server refused it

    def flush(self) -> None:
        if self.ready:
            batch, self.ready = self.ready, []
            self.on_finished(batch)
            self.stored += len(batch)
        self.last_flush = time.perf_counter()


class OpenAIBackend:
    """One server and model; ``generate`` may be called once per group of tasks."""

    def __init__(self, settings: OpenAISettings) -> None:
        self.settings = settings
        self.request_stats: list[RequestStat] = []
        self.sent: dict[str, Any] = {}  # what the requests carried, for the manifest
        self._where = display_url(settings.base_url)
        self._flush_seconds = flush_seconds()

    def generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        if requests:
            asyncio.run(self._generate(requests, on_finished))

    def probe(self, requests: Sequence[ProbeRequest], on_finished: Callable[[Sequence[Any]], None]) -> None:
        """Budget probes through the server's completions endpoint (vllm serve)."""
        from evals.generation.served_probes import ServedProber

        settings = self.settings
        prober = ServedProber(settings.base_url, settings.model_name, settings.api_key, settings.timeout_s)
        prober.probe(requests, on_finished)

    def close(self) -> None:
        """Nothing to release: each ``generate`` opens and closes its own connections."""

    async def _generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        import httpx

        settings = self.settings
        state = _RunState(on_finished, native_n=None if settings.native_n else False)
        queue = deque(group_samples(requests))
        limits = httpx.Limits(max_connections=settings.max_concurrency,
                              max_keepalive_connections=settings.max_concurrency)  # fmt: skip
        clock = SharedClock()
        try:
            async with httpx.AsyncClient(limits=limits, timeout=settings.timeout_s) as http:
                chat = ChatClient(
                    http, settings.base_url, settings.api_key, settings.timeout_s, settings.retry
                )
                await _run_workers(
                    self._work(queue, state, chat, clock)
                    for _ in range(min(settings.max_concurrency, len(queue)))
                )
        except _Abort as aborted:
            state.flush()  # what succeeded stays; the failing streak is left for a rerun
            raise EvalsError(
                f"{aborted}; {state.stored} samples stored, rerun the same command to resume"
            ) from None
        finally:
            state.flush()
        self._finish(state)

    def _finish(self, state: _RunState) -> None:
        """After the last request: store the trailing failures, unless the server never worked.

        Never worked: no request succeeded and one failed for want of an answer (or on
        429/5xx); item errors alone (a 400 for each of a few items) are stored.
        """
        if state.held and state.streak_transient and not state.succeeded:
            raise EvalsError(f"{self._where}: no request succeeded (last: {state.last_failure})")
        state.ready.extend(state.held)
        state.held = []
        state.flush()

    async def _work(
        self, queue: deque[Group], state: _RunState, chat: ChatClient, clock: SharedClock
    ) -> None:
        while queue:
            group = queue.popleft()
            if len(group) > 1 and state.native_n is False:
                queue.extendleft((request,) for request in reversed(group))
                continue
            payload = with_controls(
                request_payload(self.settings.model_name, group),
                self.settings.controls,
                state.send_temperature,
            )
            self.sent = {"fields": sent_fields(payload), "temperature_refused": not state.send_temperature}
            entered = clock.enter()
            outcome = await chat.complete(payload, len(group))
            share = clock.leave(entered)
            if (
                isinstance(outcome, RequestFailure)
                and "temperature" in payload
                and refuses_temperature(outcome.message)
            ):
                state.send_temperature = False  # reasoning APIs: ask again, and from now on, without it
                print(f"evals: warning: {self._where} refuses temperature; requests go without it",
                      file=sys.stderr)  # fmt: skip
                queue.appendleft(group)
                continue
            if len(group) > 1 and state.native_n is not True and _n_unsupported(outcome):
                # Ask once per sample instead; each then carries its own seed.
                state.native_n = False
                queue.extendleft((request,) for request in reversed(group))
                continue
            if isinstance(outcome, RequestSuccess) and not outcome.reply.choices:
                message = f"the reply holds a wrong number of choices (asked for {len(group)})"
                outcome = RequestFailure("answered", message, outcome.attempts, outcome.latency_s)
            if len(group) > 1 and isinstance(outcome, RequestSuccess) and state.native_n is None:
                state.native_n = True
            self._record(state, group, outcome, share)
            if time.perf_counter() - state.last_flush >= self._flush_seconds:
                state.flush()

    def _record(
        self, state: _RunState, group: Group, outcome: RequestSuccess | RequestFailure, share: float
    ) -> None:
        keys = tuple(request.key for request in group)
        kind = "ok" if isinstance(outcome, RequestSuccess) else outcome.kind
        self.request_stats.append(RequestStat(keys, outcome.latency_s, outcome.attempts, kind))
        if isinstance(outcome, RequestSuccess):
            if not outcome.reply.has_usage and not state.warned_usage:
                state.warned_usage = True
                print(f"evals: warning: {self._where} reports no token usage; token counts "
                      "(and API cost) of its samples read 0", file=sys.stderr)  # fmt: skip
            state.ready.extend(state.held)
            state.held, state.streak, state.streak_transient, state.succeeded = [], 0, False, True
            state.ready.extend(_completions(group, outcome.reply.choices, share))
            return
        if outcome.kind == "fatal":
            raise _Abort(f"{self._where} refused the request ({outcome.message})")
        state.streak += 1
        state.streak_transient = state.streak_transient or outcome.transient
        state.last_failure = outcome.message
        state.held.extend(_failed(group, outcome.message, share))
        if state.streak >= ABORT_AFTER_FAILED:
            raise _Abort(f"{self._where} failed {state.streak} requests in a row (last: {outcome.message})")


async def _run_workers(workers: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run the workers together; the first one to fail stops the others and its error is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            for worker in workers:
                group.create_task(worker)
    except BaseExceptionGroup as failed:
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None


def _n_unsupported(outcome: RequestSuccess | RequestFailure) -> bool:
    """A server that returned the wrong number of choices, or rejected (4xx) a request asking for n."""
    if isinstance(outcome, RequestSuccess):
        return not outcome.reply.choices
    return outcome.kind == "answered" and not outcome.transient


def group_samples(requests: Sequence[GenerationRequest]) -> list[Group]:
    """Samples of the same item with the same settings, in first-seen order."""
    groups: dict[tuple[object, ...], list[GenerationRequest]] = {}
    for request in requests:
        key, sampling = request.key, request.sampling
        identity = (key.model, key.task, key.item_id, request.prompt,
                    sampling.temperature, sampling.top_p, sampling.max_tokens)  # fmt: skip
        groups.setdefault(identity, []).append(request)
    return [tuple(group) for group in groups.values()]


def _completions(group: Group, choices: Sequence[Choice], seconds: float) -> list[Completion]:
    """One record per choice; the seed is the one sent with the request (the group's first)."""
    shares = apportion_seconds(seconds, [c.prompt_tokens + c.completion_tokens for c in choices])
    seed = group[0].sampling.seed
    prompt_text = prompt_transcript(group[0].prompt)
    return [
        Completion(
            key=request.key,
            prompt_text=prompt_text,
            output="" if choice.filtered else choice.output,
            reasoning=choice.reasoning,
            prompt_tokens=choice.prompt_tokens,
            completion_tokens=choice.completion_tokens,
            finish_reason="error" if choice.filtered else choice.finish_reason,
            engine_seconds=share,
            seed=seed,
            error="the server's content filter stopped the answer" if choice.filtered else None,
        )
        for request, choice, share in zip(group, choices, shares, strict=True)
    ]


def _failed(group: Group, message: str, seconds: float) -> list[Completion]:
    return [
        Completion(
            key=request.key,
            prompt_text=prompt_transcript(request.prompt),
            output="",
            reasoning=None,
            prompt_tokens=0,
            completion_tokens=0,
            finish_reason="error",
            engine_seconds=seconds / len(group),
            seed=request.sampling.seed,
            error=message,
        )
        for request in group
    ]


def make_openai_backend(target: BackendTarget) -> OpenAIBackend:
    """The backend for a suite entry with ``backend: openai``; reads the key from its variable."""
    server = target.entry.server
    if server is None:
        raise EvalsError(f"model {target.label!r}: backend 'openai' needs a server")
    api_key = None
    if server.api_key_env is not None:
        api_key = os.environ.get(server.api_key_env)
        if not api_key:
            raise EvalsError(f"environment variable {server.api_key_env} (server.api_key_env) is not set")
    return OpenAIBackend(
        OpenAISettings(
            base_url=server.base_url,
            model_name=server.model_name or target.entry.model,
            api_key=api_key,
            max_concurrency=server.max_concurrency,
            timeout_s=server.timeout_s,
            retry=RetryPolicy(max_retries=server.max_retries),
            controls=RequestControls.from_spec(target.entry.generation),
        )
    )
