"""Modes of timing samples: separated clusters of times (a process whose memory lands in fresh
pages on some calls and not on others is two machines in one), found so that a result is not
summarised by a median that falls between them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from jaxlab.base.format import format_seconds
from jaxlab.base.renamed import renamed, warn_renamed

MIN_SAMPLES = 10  # fewer samples than this are never split
MIN_SHARE = 0.10  # a mode holds at least this share of the samples ...
MIN_COUNT = 3  # ... and at least this many samples
MIN_RATIO = 1.25  # the medians of neighbouring modes differ by at least this factor
SEPARATION = 4.0  # and by this many robust standard deviations (Ashman's D, robust)
SIGMA_FLOOR = 0.01  # relative spread below which a cluster counts as this tight
VALLEY = 0.05  # at most this share of the samples lies in the middle third between two modes
MAX_MODES = 3
NAMES = {2: "bimodal", 3: "trimodal"}


@dataclass(frozen=True)
class Mode:
    """One cluster of samples: its median, its fastest and slowest sample (seconds), and the
    percent of all samples it holds."""

    median_s: float
    percent: float  # 0–100
    count: int
    low_s: float
    high_s: float

    median = renamed("median_s")
    low = renamed("low_s")
    high = renamed("high_s")

    @property
    def share(self) -> float:
        warn_renamed("`Mode.share` (0–1)", "`.percent` (0–100)")
        return self.percent / 100


def _robust_sigma(logs: np.ndarray) -> float:
    mad = float(np.median(np.abs(logs - np.median(logs))))
    return max(1.4826 * mad, SIGMA_FLOOR)


def _best_split(logs: np.ndarray, total: int) -> int | None:
    """Index splitting sorted log-times at their widest empty stretch into two separated
    clusters, or None when the two sides are not apart."""
    n = len(logs)
    least = max(MIN_COUNT, math.ceil(MIN_SHARE * total))
    if n < 2 * least:
        return None
    steps = np.diff(logs)[least - 1 : n - least]  # steps[k] lies before index k + least
    i = int(np.argmax(steps)) + least
    lo, hi = logs[:i], logs[i:]
    gap = float(np.median(hi) - np.median(lo))
    if gap < math.log(MIN_RATIO):
        return None
    spread = math.sqrt((_robust_sigma(lo) ** 2 + _robust_sigma(hi) ** 2) / 2)
    if gap / spread < SEPARATION:
        return None
    if _valley(logs, float(np.median(lo)), gap) > VALLEY * total:
        return None
    return i


def _valley(logs: np.ndarray, low: float, gap: float) -> int:
    """Samples in the middle third between two modes' medians (log scale): few for modes
    that are really apart, many for one wide cluster split in two."""
    a, b = low + gap / 3, low + 2 * gap / 3
    return int(np.count_nonzero((logs > a) & (logs < b)))


def find_modes(samples: Sequence[float]) -> list[Mode]:
    """The modes of `samples` (seconds), fastest first; a single mode when they form one
    cluster (outliers and a long tail are not modes: a mode holds at least 10 % of the
    samples, and neighbouring modes differ by at least 25 % and 4 robust standard
    deviations on a log scale, with at most 5 % of the samples in the middle third between
    them)."""
    xs = np.sort(np.asarray([s for s in samples if s > 0], dtype=float))
    if len(xs) == 0:
        return []
    logs = np.log(xs)
    parts = [(0, len(xs))]
    if len(xs) >= MIN_SAMPLES:
        changed = True
        while changed and len(parts) < MAX_MODES:
            changed = False
            for k, (a, b) in enumerate(parts):
                cut = _best_split(logs[a:b], len(xs))
                if cut is not None:
                    parts[k : k + 1] = [(a, a + cut), (a + cut, b)]
                    changed = True
                    break
    return [
        Mode(
            median_s=float(np.median(xs[a:b])),
            percent=100 * (b - a) / len(xs),
            count=b - a,
            low_s=float(xs[a]),
            high_s=float(xs[b - 1]),
        )
        for a, b in parts
    ]


def describe(modes: Sequence[Mode]) -> str:
    """'bimodal: 0.4 ms (55 %) / 5.1 ms (45 %)'; '' for a single mode."""
    if len(modes) < 2:
        return ""
    name = NAMES.get(len(modes), f"{len(modes)} modes")
    return f"{name}: " + " / ".join(
        f"{format_seconds(m.median_s)} ({m.percent:.0f} %)" for m in modes
    )


def mode_of(value: float, modes: Sequence[Mode]) -> int:
    """Index of the mode `value` belongs to (the nearest on a log scale)."""
    if value <= 0:
        return 0
    return min(range(len(modes)), key=lambda i: abs(math.log(value / modes[i].median_s)))
