"""The progress bars' time left comes from tokens generated, not from finished samples (issue 10)."""

from __future__ import annotations

import io

import pytest

from evals.progress import TaskProgress, seconds_left


@pytest.mark.parametrize(
    ("elapsed", "remaining", "finished", "finished_tokens", "in_flight", "expected"),
    [
        # source: issue 10. 200 samples of ~150 tokens in one batch at 25 tokens/s: after 325 s
        # 4 short answers (50 tokens each) are done and the other 196 samples hold 7,925 tokens.
        # Samples/s would say 196 / (4 / 325 s) = 4.4 h; tokens say (196 x 50 - 7,925) / 25 = 75 s,
        # (an underestimate while long answers are still running, never 30x too long).
        (325.0, 196, 4, 200, 7925, 75.0),
        # steady state: 100 of 200 done at 100 tokens each, 10 tokens/s, nothing in flight
        (1000.0, 100, 100, 10_000, 0, 1000.0),
        # everything generated already (the last samples are being stored): nothing left
        (10.0, 2, 8, 800, 400, 0.0),
        # nothing finished yet: no length to expect, no estimate ("?")
        (60.0, 200, 0, 0, 1500, None),
        (0.0, 10, 0, 0, 0, None),
    ],
)
def test_seconds_left_from_tokens(
    elapsed: float,
    remaining: int,
    finished: int,
    finished_tokens: int,
    in_flight: int,
    expected: float | None,
) -> None:
    left = seconds_left(elapsed, remaining, finished, finished_tokens, in_flight)
    assert left == (None if expected is None else pytest.approx(expected))


def test_bar_shows_the_token_estimate() -> None:
    """The first case above as the bar prints it: 01:15 left, where samples/s said 4:25:xx."""
    bar = TaskProgress("m / arith-easy", total=200, done=0, quiet=False, stream=io.StringIO())
    inner = bar._bar
    start = inner.start_t
    inner._time = lambda: start + 325.0  # 325 s into the run
    assert "<?" in str(inner)  # nothing finished: no estimate yet
    bar.update(4, tokens=200)
    bar.in_flight(7925)
    assert "[05:25<01:15" in str(inner)
    bar.close()
