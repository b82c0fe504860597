"""The verdict of a benchmark: each variant's speedup over the baseline with its 95 % interval,
and whether the conclusion **holds** (the same in every turn and every process) or is
**unsettled**, with the one action that settles it.

A conclusion is "faster", "slower" or "the same" (an interval inside ±5 % of 1). It holds when
nothing the measurement saw could flip it: every turn (the variants' blocks of one round,
compared round by round), every fresh process, and every mode of a multimodal variant lands on
the same side of the baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jaxlab.base.format import format_seconds, format_size
from jaxlab.base.renamed import renamed, warn_renamed
from jaxlab.benchmarking import pace as _pace
from jaxlab.benchmarking import stats

# a BenchResult and its Timings (jaxlab.benchmarking.result builds its verdict with this
# module, so neither type is imported here)
BenchResult = Any
Timing = Any

ALPHA = 0.05
SAME = 0.05  # an interval inside 1 ± this: the two run at the same speed
LONGER = 4  # an interval too wide to conclude: this many times the time budget
# per-process medians further apart than this (and than twice the within-process IQR) disagree
DISAGREE = 0.10


@dataclass(frozen=True)
class Ratio:
    """`other` against `base`: `speedup` > 1 means faster than `base`."""

    speedup: float
    speedup_low: float  # 95 % bootstrap interval of the speedup
    speedup_high: float
    p: float  # two-sided Mann–Whitney U
    significant: bool

    ci_low = renamed("speedup_low")
    ci_high = renamed("speedup_high")


_ratios: dict[tuple, Ratio] = {}
KEPT_RATIOS = 512


def _key(t: Timing) -> tuple:
    xs = t.samples
    return (id(t), len(xs), xs[0] if xs else None, xs[-1] if xs else None)


def ratio(base: Timing, other: Timing, alpha: float = ALPHA, *, by_turns: bool = True) -> Ratio:
    """`other` against `base`: the speedup, its bootstrap interval (over turns and the
    samples inside them: ``stats.ratio_ci``; with `by_turns` False, over the samples one by
    one) and the Mann–Whitney p.
    Significant when p < `alpha` and the interval excludes 1. The one rule for "is it
    faster": the bench table, the verdict and ``jaxlab.compare`` use it. (Kept for the
    session by the timings and their samples: a view asks for the same ratio several times.)"""
    key = (_key(base), _key(other), alpha, by_turns)
    found = _ratios.get(key)
    if found is None:
        if len(_ratios) >= KEPT_RATIOS:
            _ratios.clear()
        found = _ratios[key] = _ratio(base, other, alpha, by_turns)
    return found


def _ratio(base: Timing, other: Timing, alpha: float, by_turns: bool) -> Ratio:
    speedup = base.median_s / other.median_s if other.median_s > 0 else math.inf
    turns = None
    if by_turns:
        turns = (_pace.split(base.samples, base.blocks), _pace.split(other.samples, other.blocks))
    lo, hi = stats.ratio_ci(base.samples, other.samples, turns=turns)
    p = stats.mann_whitney(base.samples, other.samples)
    significant = (
        math.isfinite(p) and p < alpha and (not math.isfinite(lo) or not (lo <= 1.0 <= hi))
    )
    return Ratio(speedup, lo, hi, p, significant)


@dataclass(frozen=True)
class Finding:
    """One variant against the baseline at one size (or, without a baseline, its own time)."""

    variant: str
    baseline: str | None
    size: int | None
    speedup: float | None  # None without a baseline
    speedup_low: float | None  # the speedup's 95 % interval (None without a baseline)
    speedup_high: float | None
    median_s: float
    median_low_s: float | None  # the median's 95 % interval
    median_high_s: float | None
    conclusion: str  # faster / slower / same / unclear / time
    holds: bool
    why: str  # 'in all 7 turns' or what unsettles it
    action: str = ""  # what settles it ('' when it holds)
    cause: str = ""  # what unsettles it: invalid, interval, processes, pace, modes

    @property
    def status(self) -> str:
        return "holds" if self.holds else "unsettled"

    @property
    def low(self) -> float | None:
        warn_renamed("`Finding.low`", "`.speedup_low` (or `.median_low_s` without a baseline)")
        return self.speedup_low if self.speedup is not None else self.median_low_s

    @property
    def high(self) -> float | None:
        warn_renamed("`Finding.high`", "`.speedup_high` (or `.median_high_s` without a baseline)")
        return self.speedup_high if self.speedup is not None else self.median_high_s


def factor(speedup: float) -> str:
    """'7.21× faster' / '3.1× slower' (the factor above 1 either way)."""
    if not math.isfinite(speedup) or speedup <= 0:
        return "–"
    f = speedup if speedup >= 1 else 1 / speedup
    shown = f"{f:,.0f}" if f >= 1000 else f"{f:.3g}"
    return f"{shown}× {'faster' if speedup >= 1 else 'slower'}"


def interval(low: float | None, high: float | None, speedup: float) -> str:
    """The 95 % interval in the direction the factor is read: '6.9–7.5×'."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "interval unknown"
    if low <= 0 or high <= 0:
        return "interval unknown"
    if speedup >= 1:
        return f"{low:.3g}–{high:.3g}×"
    return f"{1 / high:.3g}–{1 / low:.3g}×"


def _conclusion(r: Ratio) -> str:
    if r.significant:
        return "faster" if r.speedup >= 1 else "slower"
    if math.isfinite(r.speedup_low) and r.speedup_low >= 1 - SAME and r.speedup_high <= 1 + SAME:
        return "same"
    return "unclear"


def _side(speedup: float, conclusion: str) -> bool:
    """Whether one turn's or process's speedup agrees with the conclusion."""
    if conclusion == "faster":
        return speedup > 1
    if conclusion == "slower":
        return speedup < 1
    return abs(speedup - 1) <= 2 * SAME


def turn_speedups(base: Timing, other: Timing) -> list[float]:
    """The speedup turn by turn: the baseline's k-th turn against the variant's k-th turn.
    Variants of one group are timed in interleaved rounds, so their k-th turns are close in
    time and a change of pace hits both; a compiled variant's turns all come before those of
    the variants that allocate op by op (``point.phases``): a change of pace between the two
    groups moves every pair alike and is not seen here (each variant's own turns, and fresh
    processes, see it)."""
    a = _pace.block_medians(base.samples, base.blocks)
    b = _pace.block_medians(other.samples, other.blocks)
    return [x / y for x, y in zip(a, b, strict=False) if y > 0]


def process_speedups(base: Timing, other: Timing) -> list[float]:
    """The speedup process by process (each worker process's medians)."""
    if len(base.process_medians_s) != len(other.process_medians_s):
        return []
    return [
        x / y for x, y in zip(base.process_medians_s, other.process_medians_s, strict=True) if y > 0
    ]


def spread(t: Timing) -> tuple[float, float] | None:
    """(spread between the process medians, median within-process IQR), both relative to the
    smallest median; None with fewer than two processes."""
    meds = [m for m in t.process_medians_s if m > 0]
    if len(meds) < 2:
        return None
    low = min(meds)
    within = sorted(
        i / m for i, m in zip(t.process_iqrs_s, t.process_medians_s, strict=False) if m > 0
    )
    return max(meds) / low - 1, within[len(within) // 2] if within else 0.0


def disagree(t: Timing) -> bool:
    s = spread(t)
    return s is not None and s[0] > max(DISAGREE, 2 * s[1])


def _straddle(slow: Timing, fast_median: float) -> bool:
    """`slow` has modes on both sides of `fast_median` (its fastest mode below, its slowest
    above)."""
    modes = slow.modes if slow.samples else []
    return len(modes) > 1 and modes[0].median_s < fast_median < modes[-1].median_s


def _unclear(r: Ratio) -> str:
    """Why a ratio concludes nothing: its interval spans 1, or too few samples to tell."""
    if not math.isfinite(r.p) or not math.isfinite(r.speedup_low):
        return "too few samples to tell"
    if r.speedup_low <= 1 <= r.speedup_high:
        return f"the interval spans 1 (p={r.p:.2g})"
    return f"too few samples to tell (p={r.p:.2g})"


def _budget_action(result: BenchResult) -> str:
    budget = result.settings.get("time_budget_s") or 1.0
    return f"a longer run (time_budget={LONGER * budget:g})"


ARENA = "GLIBC_TUNABLES=glibc.malloc.arena_max=1"


def _modes_action(result: BenchResult, variant: str) -> str:
    """Modes of fresh memory pages that glibc's per-thread arenas explain are settled by one
    arena; other modes by fresh processes (how often each mode occurs)."""
    if any(n.variant == variant and ARENA in n.text for n in result.notes):
        return f"one malloc arena (start Python with {ARENA}) and a rerun"
    return _processes_action(result)


def _processes_action(result: BenchResult, seen: int = 0) -> str:
    return f"fresh processes (processes={max(5, 2 * seen)})"


def finding(result: BenchResult, variant: str, size: int | None = None) -> Finding:
    """The verdict on `variant` at `size` (the only or largest size when omitted)."""
    t = result.timing(variant, size)
    base_name = result.baseline if result.baseline != variant else None
    if base_name is None:
        return _alone(result, t)
    try:
        base = result.timing(base_name, t.size)
    except KeyError:
        return _alone(result, t)
    r = ratio(base, t)
    conclusion = _conclusion(r)
    common = {
        "variant": variant,
        "baseline": base_name,
        "size": t.size,
        "speedup": r.speedup,
        "speedup_low": r.speedup_low if math.isfinite(r.speedup_low) else None,
        "speedup_high": r.speedup_high if math.isfinite(r.speedup_high) else None,
        "median_s": t.median_s,
        "median_low_s": t.summary.ci_low_s,
        "median_high_s": t.summary.ci_high_s,
        "conclusion": conclusion,
    }
    invalid = [x.variant for x in (t, base) if not x.valid]
    if invalid or any(m.variant in (variant, base_name) for m in result.mismatches):
        why = (
            f"{', '.join(invalid)} compiled during the timed loop"
            if invalid
            else "the outputs disagree"
        )
        return Finding(
            **common, holds=False, why=why, action="fix what the note says, rerun", cause="invalid"
        )
    if conclusion == "unclear":
        flipped = _flipped_turn(base, t, result)
        if flipped is not None:
            # the interval spans 1 because turns disagree: the machine's change of pace is
            # the cause to name, and the samples' conclusion the one to read
            common["conclusion"], fields = flipped
            return Finding(**common, **fields)
        return Finding(
            **common,
            holds=False,
            why=_unclear(r),
            action=_budget_action(result),
            cause="interval",
        )
    by_process = process_speedups(base, t)
    if len(by_process) > 1:
        against = [k for k, s in enumerate(by_process) if not _side(s, conclusion)]
        if against:
            return Finding(
                **common,
                holds=False,
                why=f"{len(against)} of {len(by_process)} processes found otherwise "
                f"({', '.join(f'{s:.3g}×' for s in by_process)})",
                action=_processes_action(result, len(by_process)),
                cause="processes",
            )
        return Finding(**common, holds=True, why=f"in all {len(by_process)} processes")
    by_turn = turn_speedups(base, t)
    against = [k for k, s in enumerate(by_turn) if not _side(s, conclusion)]
    if against:
        return Finding(**common, **_pace_changed(by_turn, against[0], result))
    slow, fast = (t, base) if r.speedup >= 1 else (base, t)
    for who, other in ((slow, fast), (fast, slow)):
        if _straddle(who, other.median_s):
            modes = " / ".join(format_seconds(m.median_s) for m in who.modes)
            return Finding(
                **common,
                holds=False,
                why=f"{who.variant}'s modes ({modes}) straddle {other.variant}'s "
                f"{format_seconds(other.median_s)}",
                action=_modes_action(result, who.variant),
                cause="modes",
            )
    return _by_turns(result, common, len(by_turn))


def _flipped_turn(base: Timing, t: Timing, result: BenchResult) -> tuple[str, dict] | None:
    """When the samples alone conclude (significant, resampled one by one) and only the
    moves between turns make the interval span 1: the samples' conclusion and, as a
    Finding's fields, the first turn that found otherwise. Else None (the samples
    themselves are too noisy to tell, or processes were compared)."""
    if len(process_speedups(base, t)) > 1:
        return None
    alone = ratio(base, t, by_turns=False)
    if not alone.significant:
        return None
    side = "faster" if alone.speedup >= 1 else "slower"
    by_turn = turn_speedups(base, t)
    against = [k for k, s in enumerate(by_turn) if not _side(s, side)]
    if not against:
        return None
    return side, _pace_changed(by_turn, against[0], result)


def _pace_changed(by_turn: list[float], k: int, result: BenchResult) -> dict[str, Any]:
    """A Finding's fields for a verdict unsettled by turn `k`."""
    return {
        "holds": False,
        "why": f"turn {k + 1} of {len(by_turn)} found {by_turn[k]:.3g}× (the machine changed pace)",
        "action": _processes_action(result),
        "cause": "pace",
    }


def _alone(result: BenchResult, t: Timing) -> Finding:
    """A variant with nothing to compare with: its median, and whether it is one number."""
    s = t.summary
    common = {
        "variant": t.variant,
        "baseline": None,
        "size": t.size,
        "speedup": None,
        "speedup_low": None,
        "speedup_high": None,
        "median_s": s.median_s,
        "median_low_s": s.ci_low_s,
        "median_high_s": s.ci_high_s,
        "conclusion": "time",
    }
    if not t.valid:
        return Finding(
            **common,
            holds=False,
            why="it compiled during the timed loop",
            action="fix what the note says, rerun",
        )
    if t.samples and t.multimodal:
        return Finding(
            **common,
            holds=False,
            why=f"its modes {' / '.join(format_seconds(m.median_s) for m in t.modes)}",
            action=_processes_action(result),
        )
    if len(t.process_medians_s) > 1:
        if disagree(t):
            return Finding(
                **common,
                holds=False,
                why="its processes disagree",
                action=_processes_action(result, len(t.process_medians_s)),
            )
        return Finding(**common, holds=True, why=f"in all {len(t.process_medians_s)} processes")
    if t.pace is not None:
        return Finding(
            **common,
            holds=False,
            why=f"its turns ran {t.pace.change:.2f}× apart",
            action=_processes_action(result),
        )
    return _by_turns(result, common, len(_pace.block_medians(t.samples, t.blocks)))


def _by_turns(result: BenchResult, common: dict[str, Any], turns: int) -> Finding:
    """Holds in all its turns, or, with one turn, nothing to check it against."""
    if turns < 2:
        return Finding(
            **common,
            holds=False,
            why="one turn only, nothing to check it against",
            action=_budget_action(result),
            cause="interval",
        )
    return Finding(**common, holds=True, why=f"in all {turns} turns")


def findings(result: BenchResult) -> list[Finding]:
    """Every variant's finding at every size (the baseline's own only when it is alone)."""
    out = []
    for t in result.timings:
        if t.variant == result.baseline and len(result.variant_names) > 1:
            continue
        out.append(finding(result, t.variant, t.size))
    return out


def head(f: Finding, *, name: bool = True) -> str:
    """'jit 7.21× faster than numpy (95 % CI 6.9–7.5×)': the finding without its status."""
    who = f"{f.variant} " if name else ""
    if f.speedup is None:
        ci = (
            f"{format_seconds(f.median_low_s)}–{format_seconds(f.median_high_s)}"
            if f.median_low_s is not None and f.median_high_s is not None
            else "interval unknown"
        )
        return f"{who}{format_seconds(f.median_s)} per call (95 % CI {ci})"
    if f.conclusion == "same":
        return (
            f"{who}as fast as {f.baseline} ({f.speedup:.3g}×, 95 % CI "
            f"{interval(f.speedup_low, f.speedup_high, 1.0)})"
        )
    shown = interval(f.speedup_low, f.speedup_high, f.speedup)
    return f"{who}{factor(f.speedup)} than {f.baseline} (95 % CI {shown})"


def status(f: Finding) -> str:
    """'holds in all 9 turns' / 'unsettled: …; settle it with …'."""
    if f.holds:
        return "holds" + (f" {f.why}" if f.why else "")
    return f"unsettled: {f.why}; settle it with {f.action}"


def describe(f: Finding) -> str:
    """'jit 7.21× faster than numpy (95 % CI 6.9–7.5×), holds in all 9 turns'."""
    return f"{head(f)}, {status(f)}"


def _sweep_line(result: BenchResult, name: str, found: list[Finding]) -> str:
    """One variant over a size sweep: its range of speedups, the crossover, the largest
    size's finding, and whether every size holds."""
    sizes = [f.size for f in found if f.size is not None]
    span = f"n={format_size(min(sizes))}–{format_size(max(sizes))}" if sizes else ""
    last = max(found, key=lambda f: f.size or 0)
    speedups = [f.speedup for f in found if f.speedup is not None]
    if speedups and len(found) > 1:
        text = f"{name} over {span}: {min(speedups):.3g}× to {max(speedups):.3g}× {result.baseline}"
        c = result.crossover(name)
        if c is not None:
            text += f" ({c.describe()})"
        text += f"; at n={format_size(last.size or 0)} {head(last, name=False)}"
    else:
        text = head(last) + (f" at {span}" if span else "")
    shaky = [f for f in found if not f.holds]
    if not shaky:
        return f"{text}; holds at every size"
    f = shaky[0]
    more = f" (and {len(shaky) - 1} more sizes)" if len(shaky) > 1 else ""
    where = format_size(f.size or 0)
    return f"{text}; unsettled at n={where}: {f.why}{more}; settle it with {f.action}"


def verdict(result: BenchResult) -> str:
    """The result's conclusion in one line: each variant against the baseline with its
    interval, holds / unsettled (and what settles it). '' when nothing was timed."""
    found = findings(result)
    if not found:
        return ""
    if not result.sweep:
        actions = {f.action for f in found if not f.holds}
        if len(actions) == 1 and sum(not f.holds for f in found) > 1:
            # one action settles them all: said once, at the end
            parts = [
                f"{head(f)}, " + ("unsettled: " + f.why if not f.holds else status(f))
                for f in found
            ]
            return "; ".join(parts) + f"; settle it with {actions.pop()}"
        return "; ".join(describe(f) for f in found)
    by_variant: dict[str, list[Finding]] = {}
    for f in found:
        by_variant.setdefault(f.variant, []).append(f)
    return "; ".join(_sweep_line(result, n, fs) for n, fs in by_variant.items())
