"""Exponent histograms (binades of |x|) as small self-contained SVG sparklines, with the edges
of the bf16, f16 and fp8 (e4m3) ranges marked: where a cast to that type would overflow to
Inf and where it would flush to zero. No script, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jaxlab.ir.numerics import DTYPE_BINADES, HISTOGRAM_LOW
from jaxlab.views._html import esc, svg


@dataclass(frozen=True)
class Edge:
    """A format's representable range in binades: below `low` a value flushes to zero, from
    `high + 1` on it overflows."""

    name: str
    low: int  # smallest subnormal binade
    high: int  # largest finite binade
    colour: str


# the formats a model is moved to, drawn on every sparkline
EDGES = (
    Edge("fp8 e4m3", *DTYPE_BINADES["float8_e4m3fn"][::2], "#8250df"),
    Edge("f16", *DTYPE_BINADES["float16"][::2], "#bc4c00"),
    Edge("bf16", *DTYPE_BINADES["bfloat16"][::2], "#0969da"),
)
BAR = "#57606a"
WIDTH, HEIGHT = 132, 22


def used_bins(histogram: Sequence[int]) -> tuple[int, int] | None:
    """The first and last bin of a histogram that count anything (None: all empty)."""
    if not any(histogram):
        return None
    first = next(i for i, n in enumerate(histogram) if n)
    last = len(histogram) - 1 - next(i for i, n in enumerate(reversed(histogram)) if n)
    return first, last


@dataclass(frozen=True)
class Axis:
    """The binades one table's sparklines share, so that rows compare at a glance."""

    low: int
    high: int

    @classmethod
    def of(cls, histograms: Sequence[Sequence[int]]) -> Axis:
        """The binades any of `histograms` occupies, widened to f16's whole range (the
        narrowest common target) and padded by two binades on each side."""
        low, high = EDGES[1].low, EDGES[1].high + 1
        for used in map(used_bins, histograms):
            if used is not None:
                low = min(low, HISTOGRAM_LOW + used[0])
                high = max(high, HISTOGRAM_LOW + used[1])
        return cls(low - 2, high + 2)

    def x(self, binade: float) -> float:
        return (binade - self.low) / (self.high + 1 - self.low) * WIDTH


def binade_text(binade: int) -> str:
    """``2^-24`` … as the tooltips name a binade's lower end."""
    return f"2^{binade}"


def sparkline(histogram: Sequence[int], axis: Axis, label: str) -> str:
    """One row's exponent histogram: a bar per binade (height by the logarithm of its count),
    and a tick at each end of every format's range; `label` (escaped) is its accessible name
    and tooltip."""
    import math

    counts = list(histogram)
    top = max(counts, default=0)
    if not top:
        return ""
    w = WIDTH / (axis.high + 1 - axis.low)
    parts = [f"<title>{esc(label)}</title>"]
    for edge in EDGES:
        for binade, what in ((edge.low, "flushes to 0 below"), (edge.high + 1, "overflows from")):
            if axis.low <= binade <= axis.high + 1:
                x = axis.x(binade)
                parts.append(
                    f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{HEIGHT}" '
                    f'stroke="{edge.colour}" stroke-width="1" stroke-dasharray="2 2">'
                    f"<title>{esc(f'{edge.name} {what} {binade_text(binade)}')}</title></line>"
                )
    scale = math.log1p(top)
    for i, n in enumerate(counts):
        binade = HISTOGRAM_LOW + i
        if not n or not axis.low <= binade <= axis.high:
            continue
        h = max(1.5, (HEIGHT - 2) * math.log1p(n) / scale)
        parts.append(
            f'<rect x="{axis.x(binade):.1f}" y="{HEIGHT - h:.1f}" width="{max(w, 1.0):.1f}" '
            f'height="{h:.1f}" fill="{BAR}"/>'
        )
    return svg(WIDTH, HEIGHT, "".join(parts), cls="jl-spark", label=label)


def legend_html() -> str:
    """What the ticks on the sparklines mean, in the formats' colours."""
    marks = " ".join(
        f'<span style="color:{e.colour}">┆ {esc(e.name)}</span>' for e in reversed(EDGES)
    )
    return (
        f'<span class="jl-muted">binades of |x|, log counts; dashed ticks: where a cast '
        f"flushes to zero (left) and overflows (right): {marks}</span>"
    )
