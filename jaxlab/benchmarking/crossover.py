"""Where one variant overtakes another in a size sweep."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from jaxlab.base.format import format_size


@dataclass(frozen=True)
class Crossover:
    """`variant` is faster than `baseline` above `size` (`faster_above`) or below it."""

    variant: str
    baseline: str
    size: float | None  # None: no crossing within the sizes measured
    faster_above: bool
    always: str | None = None  # 'faster' / 'slower' at every size when there is no crossing

    def describe(self) -> str:
        if self.size is None:
            return f"{self.variant} is {self.always} than {self.baseline} at every size measured"
        side = "above" if self.faster_above else "below"
        return f"{self.variant} is faster than {self.baseline} {side} n ≈ {format_size(self.size)}"


def crossover(variant: str, baseline: str, pairs: list[tuple[int, float]]) -> Crossover | None:
    """From (size, speedup of variant over baseline) pairs, the size where the speedup crosses
    1, interpolated on log-log axes."""
    pairs = [(s, r) for s, r in pairs if r > 0 and math.isfinite(r)]
    if len(pairs) < 2:
        return None
    for (s0, r0), (s1, r1) in itertools.pairwise(pairs):
        if (r0 - 1) * (r1 - 1) < 0:
            l0, l1 = math.log(r0), math.log(r1)
            t = l0 / (l0 - l1)
            size = math.exp(math.log(s0) + t * (math.log(s1) - math.log(s0)))
            return Crossover(variant, baseline, size, faster_above=r1 > 1)
    if all(r > 1 for _, r in pairs):
        return Crossover(variant, baseline, None, True, always="faster")
    if all(r < 1 for _, r in pairs):
        return Crossover(variant, baseline, None, False, always="slower")
    return None
