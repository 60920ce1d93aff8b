"""Scoring never hangs or crashes a run: pathological inputs, threads, dying workers, Ray.

Every case must end in bounded time with an allowed status. The time limit here is 1 s
so that timeouts are quick; the bound allows for a loaded 2-core CI machine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from evals.records import AnswerType, Status
from evals.scoring import Scorer, ScoreRequest
from evals.scoring.pool import WALL_LIMIT_FACTOR

LIMIT_S = 1.0
# A check may run to its limit (CPU time; at most WALL_LIMIT_FACTOR limits of wall time on a
# starved machine); the rest (extraction, killing and forking a worker) is small.
BOUND_S = LIMIT_S * WALL_LIMIT_FACTOR + 4.0
TOWER = r"\boxed{9^{9^{9^{9}}}}"
INVALID_UTF8 = b"\xff\xfe The answer is \xc3\x28 \\boxed{5}".decode("utf-8", "surrogateescape")

PATHOLOGICAL: list[tuple[str, str, str, AnswerType, set[Status]]] = [
    # (name, output, gold, answer type, allowed statuses)
    ("power tower vs tower", TOWER, "9^{9^{9^{8}}}", "math", {Status.TIMEOUT}),
    ("power tower vs number", TOWER, "5", "math", {Status.TIMEOUT, Status.INCORRECT}),
    ("ten to the ten to the ten", r"\boxed{10^{10^{10}}}", "1", "math",
     {Status.TIMEOUT, Status.INCORRECT}),
    ("100k chars of prose", "word " * 20_000, "5", "math", {Status.NO_ANSWER}),
    ("100k chars then a box", "step " * 20_000 + r"\boxed{5}", "5", "math", {Status.CORRECT}),
    ("100k unclosed boxes", r"\boxed{" * 15_000, "5", "math", {Status.NO_ANSWER}),
    ("braces 5,000 deep", r"\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}", "1", "math",
     {Status.NO_ANSWER}),
    ("100k dollar signs", "$" * 100_000, "5", "math", {Status.NO_ANSWER}),
    ("100k open parens", "\\(" * 50_000, "5", "math", {Status.NO_ANSWER}),
    ("2,000-char box", r"\boxed{" + "1+" * 1000 + "1}", "1001", "math", {Status.NO_ANSWER}),
    ("division by zero", r"\boxed{\frac{1}{0}}", "1", "math", {Status.INCORRECT}),
    ("lone surrogates", "\ud800 \\boxed{5} \udfff", "5", "math", {Status.CORRECT}),
    ("invalid UTF-8 bytes", INVALID_UTF8, "5", "math", {Status.CORRECT}),
    ("NUL bytes", "\x00\x00 #### 18 \x00", "18", "number", {Status.CORRECT}),
    ("100k-digit number", "The answer is " + "9" * 100_000, "9", "number", {Status.NO_ANSWER}),
    ("anchor repeated 20k times", "the answer is " * 20_000, "5", "number", {Status.NO_ANSWER}),
    ("100k option mentions", "(A) (B) " * 12_500, "B", "choice", {Status.CORRECT}),
    ("100k-char line of text", "x" * 100_000, "Yes", "text", {Status.NO_ANSWER}),
    ("100k answer phrase", "So the answer is " + "y" * 100_000, "Yes", "text",
     {Status.INCORRECT}),
]  # fmt: skip


@pytest.fixture(scope="module")
def scorer() -> Iterator[Scorer]:
    """A scorer whose worker processes are already up (starting them is not a check)."""
    with Scorer(time_limit_s=LIMIT_S, workers=2) as shared:
        assert shared.score(ScoreRequest(r"\boxed{2x}", "x+x", "math")).status is Status.CORRECT
        yield shared


@pytest.mark.parametrize(
    ("name", "output", "gold", "answer_type", "allowed"),
    PATHOLOGICAL,
    ids=[case[0] for case in PATHOLOGICAL],
)
def test_pathological_input_ends_in_bounded_time(
    scorer: Scorer, name: str, output: str, gold: str, answer_type: AnswerType, allowed: set[Status]
) -> None:
    start = time.perf_counter()
    verdict = scorer.score(ScoreRequest(output, gold, answer_type))
    elapsed = time.perf_counter() - start
    assert verdict.status in allowed, (name, verdict)
    assert elapsed < BOUND_S, f"{name} took {elapsed:.1f} s"
    if verdict.status is not Status.CORRECT:
        assert verdict.reason


def test_time_limit_holds_off_the_main_thread(scorer: Scorer) -> None:
    """math-verify's signal timeout fails off the main thread; ours must not."""
    results = []

    def score_in_thread() -> None:
        results.append(scorer.score(ScoreRequest(TOWER, "9^{9^{9^{7}}}", "math")))

    start = time.perf_counter()
    thread = threading.Thread(target=score_in_thread)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert [verdict.status for verdict in results] == [Status.TIMEOUT]
    assert time.perf_counter() - start < BOUND_S


def test_one_scorer_shared_by_threads(scorer: Scorer) -> None:
    """Runners may score from several threads at once; each gets its own verdicts."""
    results: dict[int, list[Status]] = {}

    def score_batch(offset: int) -> None:
        batch = [
            ScoreRequest(f"\\boxed{{x + {k}x}}", f"{k + 1}x" if k % 2 else f"{k + 3}x", "math")
            for k in range(offset, offset + 6)
        ]
        results[offset] = [verdict.status for verdict in scorer.score_many(batch)]

    threads = [threading.Thread(target=score_batch, args=(10 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = [Status.INCORRECT, Status.CORRECT] * 3
    assert results == {10 * i: expected for i in range(4)}


def test_identical_pairs_checked_once() -> None:
    with Scorer(time_limit_s=LIMIT_S, workers=1) as fresh:
        outputs = [f"Attempt {i}: so \\boxed{{\\sqrt{{12}}}}" for i in range(16)]
        verdicts = fresh.score_many([ScoreRequest(o, r"2\sqrt{3}", "math") for o in outputs])
        assert {v.status for v in verdicts} == {Status.CORRECT}
        assert fresh.math_verify_checks == 1
        again = fresh.score(ScoreRequest("\\boxed{\\sqrt{12}}", r"2\sqrt{3}", "math"))
        assert again.status is Status.CORRECT and fresh.math_verify_checks == 1


def test_repeated_timeout_costs_one_limit() -> None:
    with Scorer(time_limit_s=LIMIT_S, workers=1) as fresh:
        fresh.score(ScoreRequest(r"\boxed{2x}", "x+x", "math"))  # start the workers
        start = time.perf_counter()
        verdicts = fresh.score_many([ScoreRequest(TOWER, "9^{9^{9^{6}}}", "math")] * 8)
        assert {v.status for v in verdicts} == {Status.TIMEOUT}
        assert fresh.score(ScoreRequest(TOWER, "9^{9^{9^{6}}}", "math")).status is Status.TIMEOUT
        assert time.perf_counter() - start < BOUND_S


def test_killed_worker_is_an_error_and_is_replaced() -> None:
    """A worker that dies mid-check (OOM killer, segfault) gives status error, not a hang."""
    with Scorer(time_limit_s=20.0, workers=1) as fresh:
        assert fresh.score(ScoreRequest(r"\boxed{x+1}", "1+x", "math")).status is Status.CORRECT
        pool = fresh._verifier
        assert pool is not None
        victim = pool._workers[0].pid
        killer = threading.Timer(0.5, os.kill, (victim, signal.SIGKILL))
        killer.start()
        verdict = fresh.score(ScoreRequest(TOWER, "9^{9^{9^{5}}}", "math"))
        killer.join()
        assert verdict.status is Status.ERROR and "died" in (verdict.reason or "")
        assert pool._workers[0].pid != victim
        assert fresh.score(ScoreRequest(r"\boxed{2x}", "x+x", "math")).status is Status.CORRECT


def test_close_stops_processes_and_scorer_restarts() -> None:
    scorer = Scorer(time_limit_s=LIMIT_S, workers=1)
    assert scorer.score(ScoreRequest(r"\boxed{x^2}", "x\\cdot x", "math")).status is Status.CORRECT
    pool = scorer._verifier
    assert pool is not None and pool._template is not None
    template = pool._template.process
    scorer.close()
    assert template.poll() is not None, "the template process exited"
    assert scorer.score(ScoreRequest(r"\boxed{x^3}", "x^2 x", "math")).status is Status.CORRECT
    scorer.close()


@pytest.mark.ray
def test_time_limit_holds_inside_a_ray_worker() -> None:
    import ray  # a dependency: missing is a failure, not a skip

    @ray.remote
    def score_remote() -> tuple[str, str, float]:
        from evals.scoring import Scorer as RemoteScorer
        from evals.scoring import ScoreRequest as RemoteRequest

        start = time.perf_counter()
        with RemoteScorer(time_limit_s=LIMIT_S) as remote:
            slow = remote.score(RemoteRequest(TOWER, "9^{9^{9^{4}}}", "math"))
            fine = remote.score(RemoteRequest(r"\boxed{\frac{2}{4}}", "0.5", "math"))
        return slow.status.value, fine.status.value, time.perf_counter() - start

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        slow, fine, elapsed = ray.get(score_remote.remote(), timeout=120)
    finally:
        if started_here:
            ray.shutdown()
    assert (slow, fine) == ("timeout", "correct")
    assert elapsed < 30
