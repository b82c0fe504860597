"""``jaxlab.judge``: is a new result a regression, an improvement or invariant against an old
one, per variant and size (after BenchmarkTools' ``judge``), for results saved in different
sessions, refusing to compare results from different environments unless told to."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed, data_frame
from jaxlab.benchmarking import machine, stats
from jaxlab.benchmarking.result import BenchError, BenchResult


@dataclass(frozen=True)
class Verdict:
    """One variant at one size: new median / old median and what that ratio means."""

    variant: str
    size: int | None
    old_s: float
    new_s: float
    ratio: float  # new / old: above 1 is slower
    ci_low: float  # 95 % bootstrap interval of the ratio
    ci_high: float
    p: float  # two-sided Mann–Whitney U on the samples
    judgement: str  # regression | improvement | invariant


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

    def records(self) -> list[dict[str, Any]]:
        return [
            {
                "variant": v.variant,
                "size": v.size,
                "old_median_s": v.old_s,
                "new_median_s": v.new_s,
                "ratio": v.ratio,
                "ci_low": v.ci_low,
                "ci_high": v.ci_high,
                "p": v.p,
                "judgement": v.judgement,
            }
            for v in self.verdicts
        ]

    def to_pandas(self) -> Any:
        return data_frame(self.records(), "Judgement")


def judgement_of(ratio: float, tolerance: float) -> str:
    """BenchmarkTools' rule on the ratio of medians new / old."""
    if ratio > 1 + tolerance:
        return "regression"
    if ratio < 1 / (1 + tolerance):
        return "improvement"
    return "invariant"


def judge(
    old: BenchResult, new: BenchResult, tolerance: float = 0.05, force: bool = False
) -> Judgement:
    """Judge `new` against `old` (results of :func:`jaxlab.bench`, e.g. from
    ``BenchResult.load``): for each variant and size in both, the ratio of medians new / old
    is a **regression** above ``1 + tolerance``, an **improvement** below
    ``1 / (1 + tolerance)``, else **invariant**; the bootstrap interval of the ratio and a
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
        ratio = other.median / t.median if t.median > 0 else math.inf
        lo, hi = stats.ratio_ci(other.samples, t.samples)
        p = stats.mann_whitney(t.samples, other.samples)
        verdict.verdicts.append(
            Verdict(
                t.variant,
                t.size,
                t.median,
                other.median,
                ratio,
                lo,
                hi,
                p,
                judgement_of(ratio, tolerance),
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
