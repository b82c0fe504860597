"""``jaxlab.compare``: results from different cells side by side, with ratios and a
significance test (Mann–Whitney U on the samples, bootstrap interval of the ratio)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.renamed import renamed, warn_renamed
from jaxlab.base.table import Table
from jaxlab.benchmarking.machine import fingerprint_differences
from jaxlab.benchmarking.result import BenchError, BenchResult, Timing
from jaxlab.benchmarking.verdict import Ratio, ratio


@dataclass
class ComparisonRow:
    """One variant at one size across the compared results: its median seconds in each
    (None where a result lacks it) and its ratio against the first."""

    variant: str
    size: int | None
    medians_s: list[float | None]
    ratios: list[Ratio | None]  # one per result after the first

    medians = renamed("medians_s")


@dataclass(repr=False)
class Comparison(Displayed):
    """What :func:`compare` returns: one row per variant and size, each later result's
    speedup over the first with its interval and p-value."""

    labels: list[str]
    entries: list[ComparisonRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # what differs between the first result's inputs and each later one's (function, shapes
    # and dtypes, machine): the speedups then compare different work, and the views say so
    # first
    differences: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per variant, size and result (the rows of :meth:`table`)."""
        return self.table().rows()

    def records(self) -> list[dict[str, Any]]:
        warn_renamed("`Comparison.records()`", "`.rows()`")
        return self.rows()

    def table(self) -> Table:
        """One row per variant, size and result: its median and its ``speedup`` over the
        first result (> 1: faster) with the 95 % interval and the p-value."""
        records = []
        for row in self.entries:
            for i, label in enumerate(self.labels):
                r = row.ratios[i - 1] if i else None
                records.append(
                    {
                        "variant": row.variant,
                        "size": row.size,
                        "result": label,
                        "median_s": row.medians_s[i],
                        "speedup": r.speedup if r else (1.0 if i == 0 else None),
                        "speedup_low": r.speedup_low if r else None,
                        "speedup_high": r.speedup_high if r else None,
                        "p": r.p if r else None,
                        "significant": r.significant if r else None,
                    }
                )
        return Table(records, COMPARISON_COLUMNS, "Comparison", renamed=_RENAMED)

    def to_pandas(self) -> Any:
        return self.table().to_pandas()


COMPARISON_COLUMNS = (
    "variant", "size", "result", "median_s", "speedup", "speedup_low", "speedup_high", "p",
    "significant",
)  # fmt: skip
_RENAMED = {"ci_low": "speedup_low", "ci_high": "speedup_high"}


def compare(*results: BenchResult, labels: list[str] | None = None) -> Comparison:
    """Compare results of :func:`jaxlab.bench` / ``%bench`` from different cells.

    Rows pair the same variant at the same size; each later result gets its speedup over
    the first, a 95 % bootstrap interval of it and a Mann–Whitney p-value (significant below
    0.05 when the interval also excludes 1). Results whose inputs differ (the function, the
    arguments' shapes or dtypes, the sizes of a sweep, the machine) are compared all the same,
    and ``differences`` names what differs: the views say it first.
    """
    if len(results) == 1 and isinstance(results[0], (list, tuple)):
        results = tuple(results[0])
    for r in results:
        if not isinstance(r, BenchResult):
            raise TypeError(
                "compare takes BenchResult objects (from jaxlab.bench or %bench, or "
                f"BenchResult.load); got {type(r).__name__}"
            )
    if len(results) < 2:
        raise BenchError("compare needs at least two results, e.g. compare(r1, r2)")
    if labels is None:
        labels = [r.label for r in results]
    elif len(labels) != len(results):
        raise BenchError(f"{len(labels)} labels for {len(results)} results")
    comp = Comparison(labels=list(labels))
    base = results[0]
    mapping = _variant_mapping(base, results[1:], comp.notes)
    for i, other in enumerate(results[1:], start=1):
        found = input_differences(base, other, mapping[i - 1])
        if found:
            comp.differences.append(f"[{i}] {labels[i]} against [0]: {'; '.join(found)}")
    for t in base.timings:
        medians: list[float | None] = [t.median_s]
        ratios: list[Ratio | None] = []
        for i, other in enumerate(results[1:]):
            name = mapping[i].get(t.variant)
            match = _find(other, name, t.size, same_shape=not base.sweep and not other.sweep)
            medians.append(match.median_s if match else None)
            ratios.append(ratio(t, match) if match else None)
        if any(r is not None for r in ratios):
            comp.entries.append(ComparisonRow(t.variant, t.size, medians, ratios))
    if not comp.entries:
        comp.notes.append("the results share no variant and size")
    invalid = [labels[i] for i, r in enumerate(results) if not r.valid]
    if invalid:
        comp.notes.append(f"flagged invalid (see each result): {', '.join(invalid)}")
    return comp


def function_of(label: str) -> str:
    """The function a bench title names: 'f' of 'f(x: f32[8])', the title itself otherwise."""
    return label.split("(", 1)[0] if "(" in label else label


def input_differences(base: BenchResult, other: BenchResult, names: dict[str, str]) -> list[str]:
    """What differs between the inputs of two results: the function timed, the arguments'
    shapes and dtypes (of the variants paired by `names`), the sizes of two sweeps, and the
    machine (its fingerprint: versions, CPU, device, malloc)."""
    out = []
    if not base.sweep and not other.sweep and function_of(base.label) != function_of(other.label):
        out.append(f"function {function_of(base.label)} ≠ {function_of(other.label)}")
    if base.sweep != other.sweep:
        out.append("a size sweep against a single size")
    elif base.sweep and base.sizes != other.sizes:
        out.append(f"sizes {base.sizes} ≠ {other.sizes}")
    else:
        for t in base.timings:
            name = names.get(t.variant)
            mine = next((o for o in other.timings if o.variant == name), None)
            if (
                mine is not None
                and t.signature
                and mine.signature
                and t.signature != mine.signature
            ):
                out.append(f"inputs ({t.variant}) {t.signature} ≠ {mine.signature}")
                break
    found = fingerprint_differences(base.environment, other.environment)
    if found:
        out.append("machine: " + ", ".join(found))
    return out


def _variant_mapping(
    base: BenchResult, others: tuple[BenchResult, ...], notes: list[str]
) -> list[dict[str, str]]:
    """Variant names of each later result for the first result's names: the same name, or,
    when the results share no name, the variant at the same position."""
    out = []
    names = base.variant_names
    for other in others:
        theirs = other.variant_names
        if set(names) & set(theirs):
            out.append({n: n for n in names})
        else:
            pairs = dict(zip(names, theirs, strict=False))
            notes.append(
                f"{other.label}: no variant names in common, matched by position ("
                + ", ".join(f"{a} ↔ {b}" for a, b in pairs.items())
                + ")"
            )
            out.append(pairs)
    return out


def _find(
    result: BenchResult, name: str | None, size: int | None, same_shape: bool
) -> Timing | None:
    if name is None:
        return None
    try:
        return result.timing(name, size)
    except KeyError:
        pass
    if same_shape:
        try:
            return result.timing(name)
        except KeyError:
            return None
    return None
