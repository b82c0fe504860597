"""Recompilations: how many times each function compiled, in which cells, and why.

The compilations of each cell come from :func:`jaxlab.core.compile_events.recording` with
``explain=True``: JAX's explanation of each tracing-cache miss is kept with the compilation it
caused instead of being logged. JAX explains misses of user functions only, so the op-by-op
compilations of JAX's own primitives (eager ``jnp`` calls) are left out.

Functions are told apart by where they are defined (the file and line JAX reports, or the
traced function's code), not by name: two cells that each define ``f`` keep two histories, the
later one labelled with its cell (``f (In [7])``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.format import source_location
from jaxlab.base.renamed import renamed
from jaxlab.base.table import Table
from jaxlab.core.cache_misses import NEW_OBJECT_FIX, argument_changes
from jaxlab.core.cache_misses import category as reason_category
from jaxlab.core.cache_misses import summarize as summarize_reason
from jaxlab.core.compile_events import Compilation, CompileLog
from jaxlab.guards._functions import traced_function
from jaxlab.guards._warning import GuardWarning
from jaxlab.ir.sources import is_library

# compilations kept per function (older ones are counted, not kept)
MAX_RECORDS = 200
# compilations per function whose argument shapes are kept (`%recompiles f --diff`)
KEEP_CALLS = 2

_DEFINED = re.compile(r"defined at (.+?):(\d+)\s*$", re.M)


def defined_at(reasons: list[str]) -> tuple[str, int] | None:
    """(file, line) where JAX says the function it explains is defined."""
    for reason in reasons:
        m = _DEFINED.search(reason)
        if m:
            return m.group(1), int(m.group(2))
    return None


FIXES = {
    "types": "keep the shapes and dtypes of the arguments fixed (pad or bucket sizes); Python "
    "scalars trace as weakly-typed values, so mixing 2, 2.0 and arrays also recompiles",
    "static": "a static argument takes a new value at each call; pass it as a traced argument, "
    "or use only a few distinct values",
    "redefined": "the function is created anew each time (a lambda or def inside a loop, or "
    "jax.jit called on a fresh function); define and jit it once, outside the loop",
    "pytree": "the structure of an argument (a dict, list or pytree) changes between calls; "
    "keep it fixed",
    "context": "a JAX config option or context manager differs between calls",
    "new-object": NEW_OBJECT_FIX,
}


@dataclass
class CompileRecord:
    """One compilation: the cell it happened in, its seconds, and JAX's reason."""

    cell: int | None
    compile_s: float
    reason: str
    raw_reason: str
    # the arguments as shapes and dtypes, kept for the last compilations only (see `add`)
    call: tuple[tuple, dict] | None = None

    seconds = renamed("compile_s")


@dataclass
class FunctionCompiles:
    """Every compilation of one function (told apart by where it is defined) in the session;
    `label` is its name, with the cell it was defined in when another function of that name
    came first."""

    name: str
    count: int = 0
    compile_s: float = 0.0
    cells: dict[int | None, int] = field(default_factory=dict)
    records: list[CompileRecord] = field(default_factory=list)
    defined_at: tuple[str, int] | None = None
    label: str = ""

    seconds = renamed("compile_s")

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def cells_text(self) -> str:
        parts = []
        for cell, n in self.cells.items():
            label = f"[{cell}]" if cell is not None else "[?]"
            parts.append(f"{label}×{n}" if n > 1 else label)
        return ", ".join(parts)

    @property
    def last_reason(self) -> str:
        return self.records[-1].reason if self.records else ""


_CHANGE = re.compile(r"^at (\S+?), now (.+?) and before (.+)$")
_STATIC_CHANGE = re.compile(r"^static argument (\S+) is now (.+), was (.+)$")


def _reason_lines(comps: list[Compilation], most: int = 3) -> list[str]:
    """JAX's reasons for a run of compilations, grouped by the argument that changed."""
    by_arg: dict[str, list[str]] = {}
    other: dict[str, int] = {}
    own: dict[str, int] = {}
    for comp in comps:
        raw = "\n".join(comp.reasons)
        if reason_category(raw) == "first":
            continue
        summary = summarize_reason(raw)
        if reason_category(raw) == "new-object":  # jaxlab's words; the fix line follows
            own[summary.split("; fix: ")[0]] = own.get(summary.split("; fix: ")[0], 0) + 1
            continue
        matched = False
        for part in summary.split("; "):
            m = _CHANGE.match(part) or _STATIC_CHANGE.match(part)
            if m:
                by_arg.setdefault(m.group(1), []).append(m.group(2))
                matched = True
        if not matched:
            other[summary] = other.get(summary, 0) + 1
    lines = [text + (f" (×{n})" if n > 1 else "") for text, n in list(own.items())[:most]]
    for arg, values in list(by_arg.items())[:most]:
        distinct = list(dict.fromkeys(values))
        shown = ", ".join(distinct[:4]) + (", …" if len(distinct) > 4 else "")
        times = f"{len(values)} time{'s' if len(values) != 1 else ''}"
        lines.append(f"JAX: `{arg}` changed {times}, to {shown}")
    for text, n in sorted(other.items(), key=lambda kv: -kv[1])[:most]:
        lines.append(f"JAX: {text}" + (f" (×{n})" if n > 1 else ""))
    return lines


def identity(comp: Compilation) -> tuple[str, str, int]:
    """(name, file, line) of the function a compilation traced: where JAX says it is defined,
    else where its code is, else its name alone."""
    site = defined_at(comp.reasons)
    if site is not None and is_library(site[0]):
        site = None  # a library's wrapper (eqx.filter_jit): where the user's function is
    if site is None and comp.function is not None:
        found = traced_function(comp.function)
        if found is not None:
            code = found[0].__code__
            site = (code.co_filename, code.co_firstlineno)
    return (comp.name, *(site or ("", 0)))


def _user_compilations(log: CompileLog) -> dict[tuple, list[Compilation]]:
    by_function: dict[tuple, list[Compilation]] = {}
    for comp in log.compilations:
        if comp.reasons:  # JAX explains misses of user functions only
            by_function.setdefault(identity(comp), []).append(comp)
    return by_function


def _since_previous(entry: FunctionCompiles, comp: Compilation, raw: str) -> str:
    """What changed since the function's previous compilation, when JAX's reason is about
    argument types or static values (JAX compares with the closest earlier compilation, often
    the first one) and both calls' arguments were kept; empty otherwise."""
    if reason_category(raw) not in ("types", "static") or comp.call is None:
        return ""
    previous = entry.records[-1].call if entry.records else None
    found = traced_function(comp.function) if comp.function is not None else None
    if previous is None or found is None:
        return ""
    fn, owner = found
    try:
        changes = argument_changes(fn if owner is None else fn.__get__(owner), previous, comp.call)
    except Exception:
        return ""
    return "; ".join(
        f"{arg} changed: {before} → {now} since the previous compilation"
        for arg, before, now in changes
    )


class RecompileLedger:
    """Compilations per function across the cells of a session (``functions`` by label).

    `cell_label` turns a code file name into "In [7]" for the labels of same-named functions.
    """

    def __init__(self, cell_label: Callable[[str], str | None] | None = None) -> None:
        self.functions: dict[str, FunctionCompiles] = {}
        self.cell_label = cell_label
        self._labels: dict[tuple, str] = {}

    def _label(self, key: tuple[str, str, int]) -> str:
        label = self._labels.get(key)
        if label is None:
            name, file, line = key
            label = name
            if label in self.functions:
                where = (self.cell_label(file) if self.cell_label and file else None) or (
                    source_location(file, line) if file else "?"
                )
                label = f"{name} ({where})"
                n = 2
                while label in self.functions:
                    label, n = f"{name} ({where}, #{n})", n + 1
            self._labels[key] = label
        return label

    def add(self, log: CompileLog, cell: int | None) -> dict[str, list[Compilation]]:
        """Record a cell's compilations; returns them by function label."""
        by_name: dict[str, list[Compilation]] = {}
        for key, comps in _user_compilations(log).items():
            name = self._label(key)
            by_name[name] = comps
            entry = self.functions.setdefault(name, FunctionCompiles(key[0], label=name))
            for comp in comps:
                raw = "\n".join(comp.reasons)
                entry.count += 1
                entry.compile_s += comp.total_s
                entry.cells[cell] = entry.cells.get(cell, 0) + 1
                reason = _since_previous(entry, comp, raw) or summarize_reason(raw)
                entry.records.append(CompileRecord(cell, comp.total_s, reason, raw, comp.call))
                entry.defined_at = key[1:] if key[1] else entry.defined_at
            del entry.records[:-MAX_RECORDS]
            for old in entry.records[:-KEEP_CALLS]:
                old.call = None
        return by_name

    def over_limit(
        self, by_name: dict[str, list[Compilation]], limit: int, cell: int | None
    ) -> list[GuardWarning]:
        """One warning per function that compiled more than `limit` times in this cell."""
        found = []
        for name, comps in by_name.items():
            if len(comps) <= limit:
                continue
            categories: dict[str, int] = {}
            for comp in comps:
                category = reason_category("\n".join(comp.reasons))
                if category != "first":
                    categories[category] = categories.get(category, 0) + 1
            details = _reason_lines(comps)
            main = max(categories, key=lambda c: categories[c]) if categories else "other"
            fix = FIXES.get(main, "look at JAX's reason for each compilation")
            found.append(
                GuardWarning(
                    guard="recompiles",
                    summary=(
                        f"`{name}` compiled {len(comps)} times in this cell (more than the "
                        f"limit of {limit})."
                    ),
                    fix=f"{fix}. `%recompiles {name.split(' ')[0]}` lists every compilation.",
                    function=name,
                    cell=cell,
                    kind=main,
                    details=details,
                )
            )
        return found

    def report(
        self,
        name: str | None = None,
        cell_label: Callable[[str], str | None] | None = None,
    ) -> RecompileReport:
        if name is None:
            chosen = list(self.functions.values())
            chosen.sort(key=lambda f: (-f.count, f.label))
        else:
            chosen = self.named(name)
            if not chosen:
                raise KeyError(name)
        return RecompileReport(chosen, name, cell_label)

    def named(self, name: str) -> list[FunctionCompiles]:
        """The function labelled `name`, or every function called `name` (each with its own
        history), oldest first."""
        if name in self.functions:
            entry = self.functions[name]
            if entry.label != entry.name:
                return [entry]
        return [f for f in self.functions.values() if f.name == name]

    def clear(self) -> int:
        n = sum(f.count for f in self.functions.values())
        self.functions.clear()
        self._labels.clear()
        return n


@dataclass(repr=False)
class RecompileReport(Displayed):
    """What ``%recompiles`` returns: compilations per function (``.functions``), or every
    compilation of one function with JAX's reason (when `name` is given)."""

    functions: list[FunctionCompiles]
    name: str | None = None
    cell_label: Callable[[str], str | None] | None = None

    @property
    def total(self) -> int:
        return sum(f.count for f in self.functions)

    def __len__(self) -> int:
        return len(self.functions)

    def __getitem__(self, name: str) -> FunctionCompiles:
        for f in self.functions:
            if f.label == name:
                return f
        raise KeyError(name)

    def defined_at(self, entry: FunctionCompiles) -> str | None:
        if entry.defined_at is None:
            return None
        filename, line = entry.defined_at
        label = self.cell_label(filename) if self.cell_label else None
        return f"{label}, line {line}" if label else source_location(filename, line)

    def table(self) -> Table:
        """One row per function: its compilations, the cells they happened in, their
        ``compile_s`` and JAX's reason for the last one."""
        rows = [
            {
                "function": f.label,
                "compilations": f.count,
                "cells": f.cells_text(),
                "compile_s": f.compile_s,
                "last_reason": f.last_reason,
            }
            for f in self.functions
        ]
        columns = ("function", "compilations", "cells", "compile_s", "last_reason")
        return Table(rows, columns, "RecompileReport")

    def rows(self) -> list[dict[str, Any]]:
        return self.table().rows()

    def to_pandas(self) -> Any:
        return self.table().to_pandas()
