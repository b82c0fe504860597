"""`jaxlab.diff`: what changed between two compilations — jaxpr, StableHLO and HLO diffs that
ignore renumbered names, the source lines whose output changed, fusions added, removed and
changed, and the cost, memory and compile-time deltas."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jaxlab.api.inspection import Inspection
from jaxlab.base.display import Displayed
from jaxlab.base.table import Table
from jaxlab.core.cache_misses import argument_changes
from jaxlab.ir.hlo_diff import (
    SourceAlignment,
    TextDiff,
    align_by_line,
    hlo_by_line,
    mlir_key,
    text_diff,
)
from jaxlab.ir.sources import is_own

_NUMBER = re.compile(r"(?:\.\d+)+$")
_LAYOUT = re.compile(r"\{[0-9,]*(?::[^}]*)?\}")


@dataclass(frozen=True)
class FusionChange:
    """A fusion found in one program only (`a` or `b` None) or in both with other work."""

    kind: str  # added | removed | changed
    name: str
    lines: tuple[tuple[str, int], ...]
    a: str = ""  # 'kind: ops -> shape' in the first program
    b: str = ""


@dataclass(repr=False)
class CompileDiff(Displayed):
    """Two compilations compared. ``empty`` is True (and the diff false) when jaxpr,
    StableHLO, HLO and fusions are the same up to renumbering (timings always differ a little
    and are not counted)."""

    a: Inspection
    b: Inspection
    labels: tuple[str, str] = ("a", "b")
    notes: list[str] = field(default_factory=list)

    @cached_property
    def jaxpr(self) -> TextDiff:
        return text_diff("jaxpr", self.a.jaxpr_text, self.b.jaxpr_text, "jaxpr")

    @cached_property
    def stablehlo(self) -> TextDiff:
        return text_diff(
            "StableHLO",
            self.a.stablehlo_module.text,
            self.b.stablehlo_module.text,
            "stablehlo",
        )

    @cached_property
    def hlo(self) -> TextDiff:
        return text_diff("HLO", self.a.hlo, self.b.hlo, "hlo")

    @cached_property
    def lines(self) -> SourceAlignment:
        """Optimized-HLO instructions per source line, and the lines whose output changed.
        When no (file, line) is common to both (say, notebook cells of two sessions, whose
        files differ), lines are matched by function name and line instead (``by_function``)."""
        a, b = self.a.hlo_module, self.b.hlo_module
        aligned = align_by_line(hlo_by_line(a), hlo_by_line(b))
        if not aligned.common:
            by_function = align_by_line(hlo_by_line(a, True), hlo_by_line(b, True))
            if by_function.common:
                by_function.by_function = True
                return by_function
        return aligned

    @cached_property
    def stablehlo_lines(self) -> SourceAlignment:
        return align_by_line(_stablehlo_by_line(self.a), _stablehlo_by_line(self.b))

    @property
    def aligned(self) -> bool:
        """False when no source line appears in both programs (unrelated functions)."""
        return bool(self.lines.common or self.stablehlo_lines.common)

    @cached_property
    def fusions(self) -> list[FusionChange]:
        from jaxlab.ir.fusions import fusions_of

        def index(insp: Inspection) -> dict[tuple, list[tuple[str, str]]]:
            out: dict[tuple, list[tuple[str, str]]] = {}
            for f in fusions_of(insp.hlo_module):
                key = (_NUMBER.sub("", f.name), tuple(f.source_lines))
                work = f"{f.kind}: {' '.join(f.opcodes)} → {_LAYOUT.sub('', f.shape)}"
                out.setdefault(key, []).append((f.name, work))
            return out

        ia, ib = index(self.a), index(self.b)
        changes: list[FusionChange] = []
        for key in list(dict.fromkeys([*ia, *ib])):
            la, lb = ia.get(key, []), ib.get(key, [])
            wa, wb = Counter(w for _, w in la), Counter(w for _, w in lb)
            gone, new = list((wa - wb).elements()), list((wb - wa).elements())
            for x, y in zip(gone, new, strict=False):
                changes.append(FusionChange("changed", key[0], key[1], x, y))
            for x in gone[len(new) :]:
                changes.append(FusionChange("removed", key[0], key[1], a=x))
            for y in new[len(gone) :]:
                changes.append(FusionChange("added", key[0], key[1], b=y))
        return changes

    @property
    def empty(self) -> bool:
        return not (
            self.jaxpr.changed or self.stablehlo.changed or self.hlo.changed or self.fusions
        )

    def __bool__(self) -> bool:
        """True when something differs (``if jaxlab.diff(a, b): ...``)."""
        return not self.empty

    def deltas(self) -> Table:
        """Cost (XLA's estimates), memory (XLA's analysis) and compile times (measured) of
        both, with the change."""
        rows = []
        groups = (
            ("cost", self.a.cost or {}, self.b.cost or {}),
            ("memory", self.a.memory or {}, self.b.memory or {}),
            ("compile time", _times(self.a), _times(self.b)),
        )
        for group, da, db in groups:
            for key in sorted(set(da) | set(db)):
                va, vb = da.get(key), db.get(key)
                if not isinstance(va, (int, float)) and not isinstance(vb, (int, float)):
                    continue
                delta = (vb or 0) - (va or 0)
                rows.append({"group": group, "what": key, "a": va, "b": vb, "delta": delta})
        return Table(rows, ("group", "what", "a", "b", "delta"), "CompileDiff.deltas()")

    def versions(self) -> tuple[str, str]:
        return _jax_version(self.a), _jax_version(self.b)

    def rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`deltas`."""
        return self.deltas().rows()

    def to_pandas(self):
        """:meth:`deltas` as a DataFrame."""
        return self.deltas().to_pandas()


def _times(insp: Inspection) -> dict[str, float]:
    t = insp.timings
    return {"trace_s": t.trace_s, "lower_s": t.lower_s, "compile_s": t.compile_s}


def _jax_version(insp: Inspection) -> str:
    version = getattr(insp, "jax_version", None)
    if version:
        return str(version)
    import jax

    return jax.__version__


def _stablehlo_by_line(insp: Inspection) -> dict[tuple[str, int], Counter]:
    module = insp.stablehlo_module
    lines = module.text.splitlines()
    out: dict[tuple[str, int], Counter] = {}
    for op in module.ops:
        places = [p for p in op.location.source_lines if not is_own(p[0])]
        if not places or not 0 < op.line <= len(lines):
            continue
        text = mlir_key(lines[op.line - 1])
        key = text.split("=", 1)[-1].strip()
        out.setdefault(places[0], Counter())[key] += 1
    return out


def diff(a: Any, b: Any, labels: tuple[str, str] | None = None) -> CompileDiff:
    """Compare two compilations: two :class:`jaxlab.Inspection` (from ``jaxlab.inspect`` or
    ``jaxlab.Inspection.load``), or two compile profiles. Unrelated functions are compared
    too; the diff then says that no source line aligns."""
    ia, ib = _inspection(a, "a"), _inspection(b, "b")
    if labels is None:
        labels = (ia.call_text, ib.call_text)
        if labels[0] == labels[1]:
            labels = (labels[0] + " [a]", labels[1] + " [b]")
    result = CompileDiff(ia, ib, labels)
    va, vb = result.versions()
    if va != vb:
        result.notes.append(f"compiled by different JAX versions: {va} and {vb}")
    if result.lines.by_function:
        result.notes.append(
            "the two programs come from different files: source lines are matched by function "
            "name and line number"
        )
    if not result.aligned:
        result.notes.append(
            "no source line appears in both programs (different functions or files): the "
            "diffs below are of the texts only"
        )
    return result


def _inspection(value: Any, which: str) -> Inspection:
    if isinstance(value, Inspection):
        return value
    inner = getattr(value, "inspection", None)
    if isinstance(inner, Inspection):
        return inner
    raise TypeError(
        f"`jaxlab.diff` compares two inspections; argument {which} is a "
        f"{type(value).__name__}. Pass `jaxlab.inspect(f, x)`, "
        "`jaxlab.Inspection.load(path)` or `jaxlab.compile_profile(f, x)`."
    )


def diff_calls(fn: Any, first: tuple[tuple, dict], second: tuple[tuple, dict]) -> CompileDiff:
    """Diff of `fn` staged with two calls' arguments (shapes and dtypes suffice)."""
    from jaxlab.api.inspection import inspect

    a = inspect(fn, *first[0], run=False, kwargs=first[1])
    b = inspect(fn, *second[0], run=False, kwargs=second[1])
    # the input types in JAX's short form, as the argument rows name them: (f32[4,3],)
    return diff(a, b, (f"before {a.in_avals}", f"now {b.in_avals}"))


@dataclass(repr=False)
class RecompileDiff(Displayed):
    """Why `fn` compiled again: the reason for its last compilation (what changed since the
    one before, from JAX's cache-miss explanation), the arguments whose type or static value
    changed, and the diff of the two compilations."""

    name: str
    reason: str
    changes: list[tuple[str, str, str]]  # (argument, before, now)
    diff: CompileDiff

    @property
    def changed_arguments(self) -> list[str]:
        return [arg for arg, _, _ in self.changes]


def recompile_diff(fn: Any, name: str, before: Any, now: Any) -> RecompileDiff:
    """`before` and `now` are two compilation records of ``%recompiles`` (with ``.call``,
    the arguments as shapes and dtypes, and ``.reason``: what changed, in one line)."""
    changes = argument_changes(fn, before.call, now.call)
    return RecompileDiff(name, now.reason, changes, diff_calls(fn, before.call, now.call))
