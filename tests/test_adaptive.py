"""Adaptive evaluation without an engine: visiting order, rounds, item values and the stopping rules."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from evals.adaptive import (
    ALL_ITEMS,
    StopRules,
    Track,
    check_rules,
    round_items,
    total_cost,
    visit_order,
)
from evals.adaptive_stats import item_values
from evals.metrics import ApiPriced, CostBasis, UnknownPrice
from evals.suite import parse_suite

ITEMS = tuple(f"q{i:03d}" for i in range(200))
PRICE = ApiPriced("api", usd_per_m_input=0.0, usd_per_m_output=1e6, source="test", date=date(2026, 1, 1))


def _frame(correct: dict[str, list[bool | None]], model: str, task: str = "t") -> pd.DataFrame:
    """samples-shaped rows: one per (item, sample), 1 completion token each."""
    rows = [
        {"model": model, "task": task, "item_id": item, "sample_idx": index, "correct": verdict,
         "prompt_tokens": 0, "completion_tokens": 1, "engine_seconds": 0.0}
        for item, verdicts in correct.items()
        for index, verdict in enumerate(verdicts)
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["correct"] = frame["correct"].astype("boolean")
    return frame


def test_visiting_order_is_a_permutation_fixed_by_seed_and_task() -> None:
    order = visit_order(ITEMS, 0, "t")
    assert sorted(order) == list(ITEMS) and order != ITEMS
    assert visit_order(ITEMS, 0, "t") == order
    assert visit_order(ITEMS, 1, "t") != order and visit_order(ITEMS, 0, "u") != order


@pytest.mark.parametrize(("items", "expected"), [(5, 10), (200, 10), (201, 11), (1319, 66)])
def test_round_sizes(items: int, expected: int) -> None:
    assert round_items(items) == expected


def test_item_values_follow_the_visiting_order_and_skip_unjudged_items() -> None:
    frame = _frame({"b": [True, False], "a": [True, True], "c": [None, None]}, "m")
    values = item_values(frame, "m", "t", ("c", "b", "a"))
    assert list(values.index) == ["b", "a"] and list(values) == [0.5, 1.0]


@pytest.mark.parametrize(
    ("suite_keys", "expected"),
    [
        pytest.param({}, None, id="no rule: the full protocol"),
        pytest.param({"until": "ci=0.02"}, StopRules(0.02, False, 0.0, 0.05, None), id="ci"),
        pytest.param({"until": "decided", "margin": 0.01, "alpha": 0.1},
                     StopRules(None, True, 0.01, 0.1, None), id="decided with margin and alpha"),
        pytest.param({"max_usd": 5}, StopRules(None, False, 0.0, 0.05, 5.0), id="a budget alone"),
    ],
)  # fmt: skip
def test_rules_from_the_suite(suite_keys: dict[str, object], expected: StopRules | None) -> None:
    models = [{"model": "a", "name": "a"}, {"model": "b", "name": "b"}]
    suite = parse_suite({"models": models, "tasks": ["t"], **suite_keys}, "test")
    assert StopRules.of(suite) == expected


def test_stopping_keys_do_not_change_the_run_identity() -> None:
    base = {"models": [{"model": "a"}, {"model": "b", "name": "b"}], "tasks": ["t"]}
    hashes = {parse_suite({**base, **keys}, "t").config_hash()
              for keys in ({}, {"until": "ci=0.1"}, {"until": "decided", "margin": 0.02}, {"max_usd": 3})}  # fmt: skip
    assert len(hashes) == 1


def _tracks(visited: int, models: tuple[str, ...] = ("a", "b")) -> dict[tuple[str, str], Track]:
    return {(m, "t"): Track(ITEMS, samples=1, visited=visited) for m in models}


def test_ci_rule_stops_a_model_whose_interval_is_narrow_enough() -> None:
    rng = np.random.default_rng(0)
    visited = 100
    frame = pd.concat([
        _frame({item: [False] for item in ITEMS[:visited]}, "a"),  # all wrong: a narrow interval
        _frame({item: [bool(rng.random() < 0.5)] for item in ITEMS[:visited]}, "b"),  # a coin: wide
    ])  # fmt: skip
    tracks = _tracks(visited)
    check_rules(frame, tracks, list(tracks), StopRules(0.05, False, 0.0, 0.05, None), {})
    assert (tracks[("a", "t")].stopped_by, tracks[("b", "t")].stopped_by) == ("ci=0.05", None)


@pytest.mark.parametrize(
    ("a_correct", "b_correct", "margin", "expected"),
    [
        pytest.param(1.0, 0.0, 0.0, "decided", id="a always right, b never: ordered"),
        pytest.param(0.5, 0.5, 0.0, None, id="identical coins, no margin: open"),
        pytest.param(1.0, 1.0, 0.3, "decided", id="identical answers within a wide margin: equivalent"),
    ],
)
def test_decided_rule(a_correct: float, b_correct: float, margin: float, expected: str | None) -> None:
    visited = 60
    frame = pd.concat([
        _frame({item: [i % 2 == 0 or a_correct == 1.0] if a_correct else [False]
                for i, item in enumerate(ITEMS[:visited])}, "a"),
        _frame({item: [i % 2 == 0 or b_correct == 1.0] if b_correct else [False]
                for i, item in enumerate(ITEMS[:visited])}, "b"),
    ])  # fmt: skip
    tracks = _tracks(visited)
    check_rules(frame, tracks, list(tracks), StopRules(None, True, margin, 0.05, None), {})
    assert {track.stopped_by for track in tracks.values()} == {expected}


def test_every_item_seen_ends_a_track_that_no_rule_stopped() -> None:
    frame = pd.concat([_frame({item: [i % 2 == 0]}, m) for m in ("a", "b") for i, item in enumerate(ITEMS)])
    tracks = _tracks(len(ITEMS))
    check_rules(frame, tracks, list(tracks), StopRules(0.001, False, 0.0, 0.05, None), {})
    assert {track.stopped_by for track in tracks.values()} == {ALL_ITEMS}


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        pytest.param({"a": PRICE, "b": PRICE}, 20.0, id="priced: $1 per completion token"),
        pytest.param({"a": PRICE, "b": UnknownPrice("no price")}, None, id="an unknown price: no total"),
    ],
)
def test_total_cost_and_budget(costs: dict[str, CostBasis], expected: float | None) -> None:
    frame = pd.concat([_frame({item: [True] for item in ITEMS[:10]}, m) for m in ("a", "b")])
    assert total_cost(frame, costs) == expected
    tracks = _tracks(10)
    check_rules(frame, tracks, list(tracks), StopRules(None, False, 0.0, 0.05, 15.0), costs)
    assert {track.stopped_by for track in tracks.values()} == {None if expected is None else "max_usd=15"}
