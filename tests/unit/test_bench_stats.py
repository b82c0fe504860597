"""Robust statistics of timing samples and the two-sample tests behind comparisons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jaxlab.benchmarking import stats, timer


def test_summary_is_order_statistics():
    s = stats.summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.median_s, s.min_s, s.max_s, s.runs) == (3.0, 1.0, 5.0, 5)
    assert s.q1_s == 2.0 and s.q3_s == 4.0 and s.iqr_s == 2.0
    assert s.ci_low_s <= s.median_s <= s.ci_high_s


def test_noise_flag_follows_iqr_over_median():
    assert not stats.summarize([1.0, 1.01, 0.99, 1.0, 1.02, 0.98]).noisy
    assert stats.summarize([1.0, 1.5, 0.7, 1.0, 1.4, 0.6]).noisy


def test_median_interval_narrows_with_more_samples_and_covers_the_median():
    rng = np.random.default_rng(0)
    widths = []
    for n in (10, 100, 1000):
        xs = sorted(rng.normal(1.0, 0.1, n))
        lo, hi = stats.median_ci(xs)
        assert lo <= float(np.median(xs)) <= hi
        widths.append(hi - lo)
    assert widths[0] > widths[1] > widths[2]


def test_median_interval_with_few_samples_is_the_range():
    assert stats.median_ci([1.0, 2.0, 3.0]) == (1.0, 3.0)


@pytest.mark.parametrize("n", [6, 9, 20, 101])
def test_median_interval_has_its_coverage(n):
    # the chosen order statistics cover the true median of a distribution about 95 % of the time
    rng = np.random.default_rng(n)
    hits = 0
    trials = 400
    for _ in range(trials):
        lo, hi = stats.median_ci(sorted(rng.exponential(1.0, n)))
        hits += lo <= math.log(2) <= hi
    assert hits / trials >= 0.92


def test_mann_whitney_separates_shifted_samples_only():
    rng = np.random.default_rng(1)
    a = rng.normal(1.0, 0.05, 40)
    assert stats.mann_whitney(a, rng.normal(1.0, 0.05, 40)) > 0.01
    assert stats.mann_whitney(a, rng.normal(1.2, 0.05, 40)) < 1e-6
    assert stats.mann_whitney([1.0] * 5, [1.0] * 5) == 1.0
    assert math.isnan(stats.mann_whitney([], [1.0]))


def test_ratio_interval_contains_the_ratio_of_medians():
    rng = np.random.default_rng(2)
    a, b = rng.normal(2.0, 0.05, 50), rng.normal(1.0, 0.02, 50)
    lo, hi = stats.ratio_ci(a, b)
    assert lo < float(np.median(a) / np.median(b)) < hi
    assert lo > 1.8 and hi < 2.2


def _in_turns(levels, per_turn=20, jitter=0.02, seed=0):
    """Samples taken in turns of `per_turn`, turn k at `levels[k]` (± jitter), and the
    turns' (start, end) spans."""
    rng = np.random.default_rng(seed)
    samples = np.concatenate([m * (1 + jitter * rng.standard_normal(per_turn)) for m in levels])
    spans = [(k * per_turn, (k + 1) * per_turn) for k in range(len(levels))]
    return samples, spans


def test_a_ratio_over_turns_that_moved_gets_the_moves_in_its_interval():
    numpy, steady = _in_turns([4.0, 4.0, 4.0])
    jit, moved = _in_turns([0.5, 0.6, 0.75], seed=1)
    alone = stats.ratio_ci(numpy, jit)
    lo, hi = stats.ratio_ci(numpy, jit, turns=(steady, moved))
    # one by one, the samples look like a tight 6.5-6.9x; each turn alone read 5.3x to 8x
    assert alone[1] / alone[0] < 1.1
    assert lo < 4.0 / 0.75 * 1.02 and hi > 4.0 / 0.5 * 0.98
    # steady turns: about the interval of the samples one by one
    jit_steady, spans = _in_turns([0.5, 0.5, 0.5], seed=2)
    lo, hi = stats.ratio_ci(numpy, jit_steady, turns=(steady, spans))
    lo1, hi1 = stats.ratio_ci(numpy, jit_steady)
    assert abs(lo / lo1 - 1) < 0.01 and abs(hi / hi1 - 1) < 0.01
    # fewer than three turns: the samples one by one, exactly as without turns
    two = [(0, 30), (30, 60)]
    assert stats.ratio_ci(numpy, jit, turns=(two, two)) == alone


def test_each_resample_over_turns_has_the_median_numpy_gives_it():
    x = np.random.default_rng(5).random(37)
    spans = [(0, 5), (5, 17), (17, 20), (20, 37)]
    got = stats._bootstrap_medians(x, spans, np.random.default_rng(3))
    # the same draws, made by hand: turns with replacement, then samples inside each
    rng = np.random.default_rng(3)
    starts, sizes = np.array([a for a, _ in spans]), np.array([b - a for a, b in spans])
    drawn = rng.integers(0, len(spans), (len(got), len(spans)))
    offsets = (rng.random((len(got), len(spans), sizes.max())) * sizes[drawn][..., None]).astype(
        int
    )
    expected = [
        np.median(
            np.concatenate([x[starts[d] + offsets[i, j, : sizes[d]]] for j, d in enumerate(row)])
        )
        for i, row in enumerate(drawn)
    ]
    assert np.array_equal(got, expected)
    # an odd and an even count of samples both occur
    assert {int(sizes[row].sum()) % 2 for row in drawn} == {0, 1}


def test_loop_count_is_calibrated_against_the_timer():
    res = timer.timer_resolution()
    assert 0 < res < 1e-3
    assert timer.loop_count(1.0, res) == 1
    fast = timer.loop_count(1e-7, 1e-8)
    assert fast * 1e-7 >= timer.TICKS_PER_SAMPLE * 1e-8


def test_a_pace_change_mid_way_is_not_steady():
    from jaxlab.benchmarking.point import _steady
    from jaxlab.benchmarking.result import Timing

    assert _steady(Timing("v", None, samples=[1.0, 1.01, 0.99, 1.0, 1.0, 1.01]), 0.02)
    assert not _steady(Timing("v", None, samples=[1.0, 1.0, 1.0, 1.6, 1.6, 1.6]), 0.02)
