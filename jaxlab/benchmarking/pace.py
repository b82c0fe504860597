"""Pace changes: the machine running the same calls slower or faster for a while.

A variant is timed in blocks (its turns in the interleaved rounds), so samples taken one after
another in time can be compared block with block. On a shared machine the same calls can run
1.5-2x slower for a second or so and then recover: another tenant on the host competing for the
cores, their caches or memory bandwidth. Samples inside one block are not independent of each
other (they share the machine's state), so a median and an interval computed from the samples
of one block can look precise and still miss the state of the machine a second later. This
module finds those level shifts and what the process itself saw meanwhile: the CPU time it got
per second of waiting. A process that kept its CPUs while the calls slowed down was slowed
from outside (caches, memory bandwidth, clock speed); one whose threads ran less of the time
lost CPU time to other processes, or to the host."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from jaxlab.base.format import format_seconds
from jaxlab.base.renamed import renamed

CHANGE = 0.10  # block medians further apart than this fraction: the pace changed
# turns with fewer samples than this are not compared (a variant whose calls are so slow that
# every turn holds fewer compares its turns of that many)
MIN_BLOCK_SAMPLES = 3
KEPT_CPU = 0.9  # the slow blocks got at least this share of the fast blocks' CPUs per second
# below this many CPUs the process mostly waits (a sleeping call, an accelerator): its CPU time
# says nothing about the machine's pace
MIN_CPUS = 0.25


@dataclass(frozen=True)
class Pace:
    """The fastest and slowest block of one variant (median seconds per call) and the CPUs the
    process used in each (CPU seconds per second of wall time; None when not measured)."""

    fast_s: float
    slow_s: float
    blocks: int
    cpus_fast: float | None = None
    cpus_slow: float | None = None

    fast = renamed("fast_s")
    slow = renamed("slow_s")
    ratio = renamed("change")

    @property
    def change(self) -> float:
        """The slowest block's median over the fastest's (1: the pace never changed)."""
        return self.slow_s / self.fast_s

    @property
    def changed(self) -> bool:
        return self.change > 1 + CHANGE

    @property
    def lost_cpu(self) -> bool | None:
        """True when the slow block got clearly less CPU time per second than the fast one;
        None when CPU time was not measured, or the process mostly waited."""
        if self.cpus_fast is None or self.cpus_slow is None or self.cpus_fast < MIN_CPUS:
            return None
        return self.cpus_slow < KEPT_CPU * self.cpus_fast


def split(samples: Sequence[float], blocks: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of each block's samples, in time order; `blocks` holds the index of each
    block's first sample."""
    starts = [b for b in blocks if 0 <= b < len(samples)]
    ends = [*starts[1:], len(samples)] if starts else []
    return [(a, b) for a, b in zip(starts, ends, strict=True) if b > a]


def _comparable(
    samples: Sequence[float], blocks: Sequence[int], least: int | None
) -> list[tuple[int, int]]:
    spans = split(samples, blocks)
    if least is None:
        least = min(MIN_BLOCK_SAMPLES, max((b - a for a, b in spans), default=0))
    return [(a, b) for a, b in spans if b - a >= max(least, 1)]


def block_medians(
    samples: Sequence[float], blocks: Sequence[int], least: int | None = None
) -> list[float]:
    """The median of each block with at least `least` samples (default: ``MIN_BLOCK_SAMPLES``,
    or fewer when no block holds that many), in time order."""
    return [median(samples[a:b]) for a, b in _comparable(samples, blocks, least)]


def steady(
    samples: Sequence[float], blocks: Sequence[int], tolerance: float, least: int | None = None
) -> bool:
    """Every block's median lies within `tolerance` (a fraction) of every other's."""
    medians = block_medians(samples, blocks, least)
    return len(medians) < 2 or max(medians) <= (1 + tolerance) * min(medians)


def pace(samples: Sequence[float], blocks: Sequence[int], cpu: Sequence[float]) -> Pace | None:
    """The fastest and the slowest block, or None with fewer than two comparable blocks.
    `cpu` holds the process's CPU seconds per call of each sample (may be empty)."""
    spans = _comparable(samples, blocks, None)
    if len(spans) < 2:
        return None
    medians = [median(samples[a:b]) for a, b in spans]
    i_fast = min(range(len(spans)), key=medians.__getitem__)
    i_slow = max(range(len(spans)), key=medians.__getitem__)

    def cpus(k: int) -> float | None:
        if len(cpu) != len(samples):
            return None
        a, b = spans[k]
        return median([c / s for c, s in zip(cpu[a:b], samples[a:b], strict=True) if s > 0])

    return Pace(medians[i_fast], medians[i_slow], len(spans), cpus(i_fast), cpus(i_slow))


def note(variant: str, p: Pace) -> str:
    """One line: how far the pace moved, what the process saw, what to do."""
    text = (
        f"{variant}: the machine changed pace while it was timed: its {p.blocks} turns ran at "
        f"{format_seconds(p.fast_s)} to {format_seconds(p.slow_s)} per call ({p.change:.2f}×), "
        "so the median depends on when it ran"
    )
    lost = p.lost_cpu
    if lost is True:
        text += (
            f". The process used {p.cpus_slow:.2f} CPUs in the slow turn against "
            f"{p.cpus_fast:.2f} in the fast one: its threads ran less of the time (other "
            "processes took CPU time, or the host gave this machine's CPUs to others)"
        )
    elif lost is False:
        text += (
            f". The process kept its CPUs ({p.cpus_fast:.2f} in the fast turn, "
            f"{p.cpus_slow:.2f} in the slow one), so the same work ran slower (something outside "
            "it competed for the cores' caches or memory bandwidth, or the clock speed changed) "
            "or the calls did more work"
        )
    return text + (
        ". Rerun on a quieter machine, or in fresh processes (processes=5) to see the spread"
    )
