"""``jaxlab.judge``: is a new result a regression, an improvement or invariant against an old
one, per variant and size (after BenchmarkTools' ``judge``), for results saved in different
sessions, refusing to compare results from different environments unless told to."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.renamed import warn_renamed
from jaxlab.base.table import Table
from jaxlab.benchmarking import machine, stats
from jaxlab.benchmarking.result import BenchError, BenchResult


@dataclass(frozen=True)
class Verdict:
    """One variant at one size: the speedup old median / new median (> 1: the new result is
    faster) and what it means."""

    variant: str
    size: int | None
    old_s: float
    new_s: float
    speedup: float  # old / new: above 1 is faster
    speedup_low: float  # 95 % bootstrap interval of the speedup
    speedup_high: float
    p: float  # two-sided Mann–Whitney U on the samples
    judgement: str  # regression | improvement | invariant

    @property
    def ratio(self) -> float:
        warn_renamed("`Verdict.ratio` (new / old, > 1 slower)", "`.speedup` (old / new)")
        return 1 / self.speedup if self.speedup else math.inf

    @property
    def ci_low(self) -> float:
        warn_renamed("`Verdict.ci_low` (of new / old)", "`.speedup_low`, `.speedup_high`")
        return 1 / self.speedup_high if self.speedup_high else math.inf

    @property
    def ci_high(self) -> float:
        warn_renamed("`Verdict.ci_high` (of new / old)", "`.speedup_low`, `.speedup_high`")
        return 1 / self.speedup_low if self.speedup_low else math.inf


@dataclass(repr=False)
class Judgement(Displayed):
    """What :func:`judge` returns: one verdict per variant and size both results hold."""

    old_label: str
    new_label: str
    tolerance: float
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def of(self, variant: str, size: int | None = None) -> Verdict:
        for v in self.verdicts:
            if v.variant == variant and (size is None or v.size == size):
                return v
        raise KeyError(f"no verdict for {variant!r}" + (f" at size {size}" if size else ""))

    @property
    def regressions(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.judgement == "regression"]

    @property
    def improvements(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.judgement == "improvement"]

    def table(self) -> Table:
        """One row per verdict: the medians, the ``speedup`` old / new (> 1: faster) with its
        95 % interval, the p-value and the judgement."""
        rows = [
            {
                "variant": v.variant,
                "size": v.size,
                "old_median_s": v.old_s,
                "new_median_s": v.new_s,
                "speedup": v.speedup,
                "speedup_low": v.speedup_low,
                "speedup_high": v.speedup_high,
                "p": v.p,
                "judgement": v.judgement,
            }
            for v in self.verdicts
        ]
        return Table(rows, JUDGEMENT_COLUMNS, "Judgement")

    def rows(self) -> list[dict[str, Any]]:
        return self.table().rows()

    def records(self) -> list[dict[str, Any]]:
        warn_renamed("`Judgement.records()`", "`.rows()`")
        return self.rows()

    def to_pandas(self) -> Any:
        return self.table().to_pandas()


JUDGEMENT_COLUMNS = (
    "variant", "size", "old_median_s", "new_median_s", "speedup", "speedup_low",
    "speedup_high", "p", "judgement",
)  # fmt: skip


def judgement_of(speedup: float, tolerance: float) -> str:
    """BenchmarkTools' rule, on the speedup old / new rather than its inverse."""
    if speedup < 1 / (1 + tolerance):
        return "regression"
    if speedup > 1 + tolerance:
        return "improvement"
    return "invariant"


def judge(
    old: BenchResult, new: BenchResult, tolerance: float = 0.05, force: bool = False
) -> Judgement:
    """Judge `new` against `old` (results of :func:`jaxlab.bench`, e.g. from
    ``BenchResult.load``): for each variant and size in both, the speedup old median / new
    median is a **regression** below ``1 / (1 + tolerance)``, an **improvement** above
    ``1 + tolerance``, else **invariant**; the bootstrap interval of the speedup and a
    Mann–Whitney p-value are given beside it.

    Results whose environments differ (JAX or jaxlib version, XLA_FLAGS, CPU, backend,
    device kind or count) are not comparable: that raises, unless ``force=True``, which
    judges them anyway and lists the differences in ``.notes``.
    """
    for name, value in (("old", old), ("new", new)):
        if not isinstance(value, BenchResult):
            raise TypeError(
                f"judge takes two BenchResult objects (from jaxlab.bench, %bench or "
                f"BenchResult.load); {name} is {type(value).__name__}"
            )
    ok = isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool)
    if not ok or not math.isfinite(tolerance) or tolerance < 0:
        raise BenchError(f"tolerance must be a number ≥ 0, e.g. 0.05 for 5 %; got {tolerance!r}")
    differences = machine.fingerprint_differences(old.environment, new.environment)
    if differences and not force:
        raise BenchError(
            "the results ran in different environments ("
            + "; ".join(differences)
            + "), so their times are not comparable. Rerun both in one environment, or pass "
            "force=True to judge them anyway"
        )
    verdict = Judgement(old.label, new.label, float(tolerance))
    if differences:
        verdict.notes.append("judged across environments (force=True): " + "; ".join(differences))
    for t in old.timings:
        try:
            other = new.timing(t.variant, t.size)
        except KeyError:
            continue
        if not t.samples or not other.samples:
            continue
        speedup = t.median_s / other.median_s if other.median_s > 0 else math.inf
        lo, hi = stats.ratio_ci(t.samples, other.samples)
        p = stats.mann_whitney(t.samples, other.samples)
        verdict.verdicts.append(
            Verdict(
                t.variant,
                t.size,
                t.median_s,
                other.median_s,
                speedup,
                lo,
                hi,
                p,
                judgement_of(speedup, tolerance),
            )
        )
    if not verdict.verdicts:
        verdict.notes.append("the results share no variant and size")
    for label, r in (("old", old), ("new", new)):
        if not r.valid:
            verdict.notes.append(f"the {label} result is flagged invalid (see it)")
        modal = [t.variant for t in r.timings if t.samples and t.multimodal]
        if modal:
            verdict.notes.append(
                f"the {label} result is multi-modal for {', '.join(sorted(set(modal)))}: "
                "its median may sit between modes"
            )
        unsteady = [t.variant for t in r.timings if t.samples and t.pace is not None]
        if unsteady:
            verdict.notes.append(
                f"the machine changed pace while the {label} result timed "
                f"{', '.join(sorted(set(unsteady)))}: its median depends on when it ran"
            )
    return verdict
