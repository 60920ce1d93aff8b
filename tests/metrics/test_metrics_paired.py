"""Paired comparison of two models: hand-computed cases and antisymmetry."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.errors import EvalsError
from evals.metrics import paired_comparison
from tests.metrics.independent import t_quantile, t_two_sided_p


def two_models(
    make_grid: Callable[..., pd.DataFrame],
    a: list[list[bool | None]],
    b: list[list[bool | None]],
    task: str = "t",
) -> pd.DataFrame:
    return pd.concat([make_grid(a, "a", task), make_grid(b, "b", task)], ignore_index=True)


def test_one_sample_each_is_a_paired_t_on_item_differences(make_grid: Callable[..., pd.DataFrame]) -> None:
    # 10 items: both right on 2, only a right on 6, only b right on 1, both wrong on 1.
    a = [[True]] * 2 + [[True]] * 6 + [[False]] * 1 + [[False]]
    b = [[True]] * 2 + [[False]] * 6 + [[True]] * 1 + [[False]]
    result = paired_comparison(two_models(make_grid, a, b), "a", "b", n_bootstrap=500)
    assert (result.items_a_better, result.items_b_better) == (6, 1)
    assert result.difference == pytest.approx(0.8 - 0.3)
    assert (result.accuracy_a, result.accuracy_b) == pytest.approx((0.8, 0.3))
    # d = six 1s, one -1, three 0s: mean 0.5, sd^2 = (6 x 0.25 + 2.25 + 3 x 0.25) / 9 = 0.5,
    # SE = sqrt(0.5 / 10); interval mean +/- t_{9, 0.975} SE, p the t tail of mean / SE on 9 df
    stderr = math.sqrt(0.05)
    half = t_quantile(0.975, 9) * stderr
    assert (result.ci_low, result.ci_high) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-9)
    assert result.p_value == pytest.approx(t_two_sided_p(0.5 / stderr, 9), rel=1e-9)
    assert result.test == result.ci_method == "paired t over items (m-1 df)"


def test_several_samples_average_each_item_first(
    make_grid: Callable[..., pd.DataFrame],
) -> None:
    a = [[True, True], [True, False], [False, False]]
    b = [[True, False], [False, False], [False, False]]
    result = paired_comparison(two_models(make_grid, a, b), "a", "b", n_bootstrap=500)
    # d = 0.5, 0.5, 0: mean 1/3, sd^2 = (2/36 + 4/36) / 2 = 1/12, SE = 1/6, t = 2 on 2 df;
    # the t CDF on 2 df is 1/2 + t / (2 sqrt(2 + t^2)), so p = 1 - 2 / sqrt(6)
    assert result.difference == pytest.approx(1 / 3)
    assert result.p_value == pytest.approx(1 - 2 / math.sqrt(6), rel=1e-9)
    half = t_quantile(0.975, 2) / 6  # t_{2, 0.975} = 4.303 (t table)
    assert (result.ci_low, result.ci_high) == pytest.approx((1 / 3 - half, 1 / 3 + half), rel=1e-9)


def test_only_items_both_models_judged_are_compared(make_grid: Callable[..., pd.DataFrame]) -> None:
    a = [[True], [None], [True], [False]]  # q001 timed out for a
    b = [[False], [True], [True]]  # b has no q003
    result = paired_comparison(two_models(make_grid, a, b), "a", "b", n_bootstrap=100)
    assert (result.n_items, result.n_items_a_only, result.n_items_b_only) == (2, 1, 1)
    assert result.difference == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("a", "b", "note"),
    [
        pytest.param([[True]], [[False]], "one common item: no interval", id="one item"),
        pytest.param(
            [[True], [False]],
            [[True], [False]],
            "every common item has the same difference: no interval",
            id="identical models: no fake zero-width interval",
        ),
        pytest.param([[None]], [[True]], "no item has judged samples from both models", id="nothing common"),
    ],
)
def test_no_interval_where_it_is_undefined(
    make_grid: Callable[..., pd.DataFrame], a: list[list[bool | None]], b: list[list[bool | None]], note: str
) -> None:
    result = paired_comparison(two_models(make_grid, a, b), "a", "b", n_bootstrap=100)
    assert (result.ci_low, result.ci_high, result.note) == (None, None, note)


def test_task_none_pools_items_of_every_task(make_grid: Callable[..., pd.DataFrame]) -> None:
    frame = pd.concat(
        [two_models(make_grid, [[True]], [[False]], "t1"), two_models(make_grid, [[True]], [[True]], "t2")]
    )
    pooled = paired_comparison(frame, "a", "b", n_bootstrap=100)
    assert (pooled.task, pooled.n_items, pooled.difference) == (None, 2, 0.5)
    assert paired_comparison(frame, "a", "b", "t2", n_bootstrap=100).difference == 0.0


@pytest.mark.parametrize(
    ("model_a", "model_b", "task", "message"),
    [
        pytest.param(
            "a", "bb", None, "no samples for model 'bb' \\(did you mean 'b'\\?\\)", id="unknown model"
        ),
        pytest.param("a", "b", "tt", "no samples for task 'tt' \\(did you mean 't'\\?\\)", id="unknown task"),
        pytest.param("a", "a", None, "two different models", id="same model twice"),
    ],
)
def test_bad_names_are_user_errors(
    make_grid: Callable[..., pd.DataFrame], model_a: str, model_b: str, task: str | None, message: str
) -> None:
    with pytest.raises(EvalsError, match=message):
        paired_comparison(two_models(make_grid, [[True]], [[True]]), model_a, model_b, task)


outcome = st.sampled_from([True, False, None])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.lists(
            st.tuples(st.lists(outcome, min_size=n, max_size=n), st.lists(outcome, min_size=n, max_size=n)),
            min_size=1,
            max_size=25,
        )
    ),
    st.integers(0, 1000),
)
def test_swapping_models_negates_the_difference_and_mirrors_the_interval(
    make_grid: Callable[..., pd.DataFrame],
    items: list[tuple[list[bool | None], list[bool | None]]],
    seed: int,
) -> None:
    frame = two_models(make_grid, [a for a, _ in items], [b for _, b in items])
    forward = paired_comparison(frame, "a", "b", seed=seed, n_bootstrap=300)
    backward = paired_comparison(frame, "b", "a", seed=seed, n_bootstrap=300)
    assert forward.n_items == backward.n_items
    if forward.difference is None:
        assert backward.difference is None
        return
    assert backward.difference == pytest.approx(-forward.difference)
    assert backward.p_value == pytest.approx(forward.p_value)
    if forward.ci_low is None:
        assert backward.ci_low is None and backward.ci_high is None
    else:
        assert (backward.ci_low, backward.ci_high) == pytest.approx((-forward.ci_high, -forward.ci_low))  # type: ignore[operator]
        assert forward.ci_low <= forward.difference <= forward.ci_high  # type: ignore[operator]
        # one procedure for both (issue 10): the interval excludes 0 exactly when p < 0.05
        assert forward.p_value is not None
        assert (forward.ci_low > 0 or forward.ci_high < 0) == (forward.p_value < 0.05)  # type: ignore[operator]
