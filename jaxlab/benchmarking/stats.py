"""Robust statistics of timing samples: median, quartiles, a confidence interval of the median
that needs no assumption about the distribution, and two-sample tests for comparisons."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jaxlab.base.renamed import renamed

# a result whose IQR is more than this fraction of its median is flagged as noisy
NOISY_IQR = 0.10
LEVEL = 0.95


@dataclass(frozen=True)
class Summary:
    """Order statistics of per-call times (seconds)."""

    median_s: float
    q1_s: float
    q3_s: float
    min_s: float
    max_s: float
    runs: int
    ci_low_s: float  # confidence interval of the median at `level`
    ci_high_s: float
    level: float = LEVEL

    median = renamed("median_s")
    q1 = renamed("q1_s")
    q3 = renamed("q3_s")
    min = renamed("min_s")
    max = renamed("max_s")
    ci_low = renamed("ci_low_s")
    ci_high = renamed("ci_high_s")
    iqr = renamed("iqr_s")

    @property
    def iqr_s(self) -> float:
        return self.q3_s - self.q1_s

    @property
    def rel_iqr(self) -> float:
        """The IQR relative to the median (no unit)."""
        return self.iqr_s / self.median_s if self.median_s > 0 else math.inf

    @property
    def noisy(self) -> bool:
        return self.rel_iqr > NOISY_IQR

    @property
    def rel_half_width(self) -> float:
        """Half the width of the median's confidence interval, relative to the median."""
        if self.median_s <= 0:
            return math.inf
        return (self.ci_high_s - self.ci_low_s) / 2 / self.median_s


def summarize(samples: Sequence[float], level: float = LEVEL) -> Summary:
    if not samples:
        raise ValueError("no samples to summarize")
    xs = sorted(samples)
    arr = np.asarray(xs, dtype=float)
    q1, med, q3 = (float(v) for v in np.quantile(arr, [0.25, 0.5, 0.75]))
    lo, hi = median_ci(xs, level)
    return Summary(
        median_s=med,
        q1_s=q1,
        q3_s=q3,
        min_s=xs[0],
        max_s=xs[-1],
        runs=len(xs),
        ci_low_s=lo,
        ci_high_s=hi,
        level=level,
    )


def median_ci(sorted_samples: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """Distribution-free confidence interval of the median from order statistics.

    The number of samples below the median is Binomial(n, 1/2); the interval between the
    j-th smallest and j-th largest sample covers the median with probability
    1 - 2·P(B < j). With few samples the widest interval (min, max) covers less than `level`.
    """
    n = len(sorted_samples)
    alpha = (1 - level) / 2
    if n <= 100:
        # exact: largest j with P(B <= j - 1) <= alpha
        cdf = 0.0
        j = 0
        for k in range(n):
            cdf += math.comb(n, k) / 2**n
            if cdf > alpha:
                break
            j = k + 1
    else:
        z = _z(level)
        j = math.floor(n / 2 - z * math.sqrt(n) / 2)
    j = max(j, 1)
    return sorted_samples[j - 1], sorted_samples[n - j]


def _z(level: float) -> float:
    """Two-sided normal quantile for `level` (0.95 -> 1.96)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann–Whitney U test (normal approximation with tie
    correction): are the samples of `a` and `b` from the same distribution?"""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return math.nan
    values = np.concatenate([np.asarray(a, float), np.asarray(b, float)])
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_vals = values[order]
    # average ranks over ties
    i = 0
    tie_term = 0.0
    while i < len(sorted_vals):
        j = i
        while j + 1 < len(sorted_vals) and sorted_vals[j + 1] == sorted_vals[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        t = j - i + 1
        tie_term += t**3 - t
        i = j + 1
    r1 = ranks[:n1].sum()
    u1 = r1 - n1 * (n1 + 1) / 2
    mu = n1 * n2 / 2
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return 1.0
    z = (abs(u1 - mu) - 0.5) / math.sqrt(var)
    from statistics import NormalDist

    return max(0.0, min(1.0, 2 * (1 - NormalDist().cdf(max(z, 0.0)))))


def ratio_ci(
    numerator: Sequence[float],
    denominator: Sequence[float],
    level: float = LEVEL,
    seed: int = 0,
    *,
    turns: tuple[Sequence[tuple[int, int]], Sequence[tuple[int, int]]] | None = None,
) -> tuple[float, float]:
    """Bootstrap percentile interval of median(numerator) / median(denominator).

    With `turns` (each side's (start, end) spans of samples taken back to back, in time
    order), a side measured in at least ``MIN_TURNS_RESAMPLED`` turns is resampled in two
    stages: its turns with replacement, then the samples inside each drawn turn. Samples of
    one turn share the machine's state of that moment and are not independent: resampled one
    by one they give an interval that ignores the moves between turns, which on a shared
    machine are often larger than the spread inside one."""
    a = np.asarray(numerator, float)
    b = np.asarray(denominator, float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    spans_a, spans_b = turns if turns is not None else ((), ())
    ma = _bootstrap_medians(a, spans_a, rng)
    mb = _bootstrap_medians(b, spans_b, rng)
    ratios = ma / mb
    lo, hi = np.quantile(ratios, [(1 - level) / 2, 0.5 + level / 2])
    return float(lo), float(hi)


MIN_TURNS_RESAMPLED = 3  # fewer turns than this: the samples are resampled one by one
RESAMPLES = 2000
RESAMPLED_VALUES = 2_000_000  # resamples × samples drawn per resample, at most


def _bootstrap_medians(
    x: np.ndarray, spans: Sequence[tuple[int, int]], rng: np.random.Generator
) -> np.ndarray:
    """Medians of bootstrap resamples of `x`: of its turns and the samples inside them when
    it has enough turns (see :func:`ratio_ci`), else of its samples."""
    spans = [(a, b) for a, b in spans if 0 <= a < b <= len(x)]
    if len(spans) < MIN_TURNS_RESAMPLED:
        n = len(x)
        count = int(max(200, min(RESAMPLES, RESAMPLED_VALUES // n)))
        return np.median(x[rng.integers(0, n, (count, n))], axis=1)
    starts = np.array([a for a, _ in spans])
    sizes = np.array([b - a for a, b in spans])
    k, longest = len(spans), int(sizes.max())
    count = int(max(200, min(RESAMPLES, RESAMPLED_VALUES // (k * longest))))
    drawn = rng.integers(0, k, (count, k))  # the turns of each resample
    size = sizes[drawn][..., None]
    # a position inside each drawn turn, for as many samples as that turn holds
    offset = (rng.random((count, k, longest)) * size).astype(np.int64)
    values = x[starts[drawn][..., None] + offset]
    values = np.sort(np.where(np.arange(longest) < size, values, np.inf).reshape(count, -1))
    n = sizes[drawn].sum(axis=1)  # the samples of each resample (the rest are +inf, last)
    rows = np.arange(count)
    return 0.5 * (values[rows, (n - 1) // 2] + values[rows, n // 2])
