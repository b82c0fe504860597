"""Stale values: a jitted function keeps what it read outside its arguments while JAX traced it.

JAX bakes the arrays, numbers and helper functions a function reads from its globals, from the
variables of enclosing functions and through attributes (``cfg.lr``, ``self.w``) into the
trace. After a cell rebinds one of them, or changes it in place (a NumPy array written into, a
dict or list updated), the compiled function still computes with the old value, and wrapping
the same Python function in ``jax.jit`` again reuses the old trace. The guard snapshots what
each traced function read when JAX traced it (from JAX's own tracing events, wherever the
jitted callable lives) and, after each cell, says once per change which value changed.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FunctionType
from typing import Any

from jaxlab.guards._functions import traced_function
from jaxlab.guards._jitted import Jitted, cache_size
from jaxlab.guards._reads import MISSING, Read, reads
from jaxlab.guards._values import Flatten, Snapshot, leaves_of, trackable
from jaxlab.guards._warning import GuardWarning


def cell_text(cell: int | None) -> str:
    # named as the other guards and views name cells (In [7], as the prompt shows it)
    return f"In [{cell}]" if cell is not None else "a later cell"


@dataclass
class _Watched:
    """A traced Python function (with the object it is a method of), the jitted callables
    bound to names around it, and what it read as it was when it was traced."""

    function: weakref.ref
    owner: Any = None
    objs: list[weakref.ref] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    snapshots: dict[tuple, tuple[Read, Snapshot]] | None = None
    traced_cell: int | None = None
    # the snapshot was taken while JAX traced it, during the current cell
    traced_now: bool = False

    def cache_entries(self) -> int:
        objs = [ref() for ref in self.objs]
        return sum(cache_size(obj) or 0 for obj in objs if obj is not None)

    def label(self, fn: FunctionType) -> str:
        if self.names:
            return self.names[0]
        if self.owner is not None:
            return f"{type(self.owner).__name__}.{fn.__name__}"
        return fn.__name__


def _key(fn: FunctionType, owner: Any) -> tuple[int, int]:
    return id(fn), id(owner) if owner is not None else 0


class StaleClosureGuard:
    """Remembers what each traced function read at trace time; reports values that changed.

    The values are taken while JAX traces the function (from the compile events of the cell,
    through :meth:`traced`) or, failing that, after the cell in which a jitted function bound
    to a name was first seen traced.
    """

    def __init__(self) -> None:
        self._watched: dict[tuple[int, int], _Watched] = {}

    def _watch(self, fn: FunctionType, owner: Any = None) -> _Watched:
        key = _key(fn, owner)
        watched = self._watched.get(key)
        if watched is None or watched.function() is not fn:
            watched = self._watched[key] = _Watched(weakref.ref(fn), owner)
        return watched

    def traced(self, obj: Any, reasons: list[str]) -> None:
        """JAX is tracing (or just traced) `obj`, the callable its tracing frames hold,
        explained by `reasons`. What the user's function behind it reads is snapshotted now,
        as the trace sees it, when this is its first trace (JAX says it never saw the function,
        or nothing was watched yet); a retrace for new argument types next to older entries
        only adds what was not watched yet (the older entries keep the older values)."""
        found = traced_function(obj)
        if found is None:
            return
        fn, owner = found
        watched = self._watch(fn, owner)
        first = any(r.startswith("never seen function") for r in reasons)
        if watched.snapshots is None or first or (watched.objs and watched.cache_entries() <= 1):
            watched.snapshots = _snapshot(fn, owner, watched.objs)
        else:
            for key, pair in _snapshot(fn, owner, watched.objs).items():
                watched.snapshots.setdefault(key, pair)
        watched.traced_now = True

    def check(
        self,
        jitted: Sequence[Jitted],
        cell: int | None,
        compiled: Mapping[Any, int] | None = None,
    ) -> list[GuardWarning]:
        """Warnings for the values that changed since each function was traced.

        `jitted` are the jitted callables bound to names (they name the functions in the
        messages, and say whether a cache was cleared). `compiled` counts this cell's
        compilations by where the function is defined (file, line), or by name when JAX did
        not say: a function whose every cache entry was compiled in this cell without a
        snapshot taken while tracing was traced with the current values, so those become the
        ones watched.
        """
        compiled = compiled or {}
        flatten = _flattener()
        by_function: dict[int, list[Jitted]] = {}
        for j in jitted:
            by_function.setdefault(id(j.function), []).append(j)
        bound: set[tuple[int, int]] = set()
        with_owner = {key[0]: key for key, w in self._watched.items() if w.owner is not None}
        for group in by_function.values():
            fn = group[0].function
            key = with_owner.get(id(fn))
            watched = self._watched[key] if key is not None else self._watch(fn)
            bound.add(key or _key(fn, None))
            watched.objs = [weakref.ref(j.obj) for j in group]
            watched.names = [j.name for j in group]
            if not any(j.traced for j in group) and not watched.traced_now:
                watched.snapshots = None  # never traced, or its cache was cleared
                continue
            if not watched.traced_now:
                entries = sum(j.cache_size or 0 for j in group)
                here = compiled.get(_site(fn), 0) or compiled.get(fn.__name__, 0)
                if watched.snapshots is None or 0 < entries <= here:
                    watched.snapshots = _snapshot(fn, None, [j.obj for j in group])
                    watched.traced_cell = cell
        found: list[GuardWarning] = []
        for key, watched in list(self._watched.items()):
            fn = watched.function()
            if fn is None:
                del self._watched[key]
                continue
            if key not in bound:
                watched.objs, watched.names = [], []
            traced_now, watched.traced_now = watched.traced_now, False
            if traced_now:
                watched.traced_cell = cell
            if watched.snapshots is not None:
                found.extend(self._changed(watched, fn, cell, flatten))
        return found

    def _changed(
        self, watched: _Watched, fn: FunctionType, cell: int | None, flatten: Flatten
    ) -> list[GuardWarning]:
        found = []
        assert watched.snapshots is not None
        for key, (read, snap) in list(watched.snapshots.items()):
            current = read.current()
            if snap.unchanged(current, flatten):
                continue
            if current is not MISSING and snap.same_as(current):
                watched.snapshots[key] = (read, Snapshot.of(current))
                continue
            del watched.snapshots[key]  # said once
            how = "deleted" if current is MISSING else "in place" if snap.in_place(current) else ""
            found.append(_warning(watched, fn, read, cell, how))
        return found

    def __len__(self) -> int:
        return len(self._watched)


def _site(fn: FunctionType) -> tuple[str, int]:
    return fn.__code__.co_filename, fn.__code__.co_firstlineno


def _flattener() -> Flatten:
    """Flattens each container once per check, however many functions read it."""
    seen: dict[int, tuple] = {}

    def flatten(value: object) -> tuple | None:
        key = id(value)
        if key not in seen:
            seen[key] = (value, leaves_of(value))  # the value too, so that its id stays taken
        return seen[key][1]

    return flatten


def _snapshot(fn: FunctionType, owner: Any, objs: list[Any]) -> dict:
    own = {id(fn)} | {id(obj) for obj in objs if obj is not None}
    snapshots = {}
    for read in reads(fn, owner):
        value = read.current()
        if value is MISSING or id(value) in own or not trackable(value):
            continue
        snapshots[read.key] = (read, Snapshot.of(value))
    return snapshots


def _warning(
    watched: _Watched, fn: FunctionType, read: Read, cell: int | None, how: str
) -> GuardWarning:
    label = watched.label(fn)
    name = read.name
    via = "" if read.function is fn else f" (read by `{read.function.__name__}`, which it calls)"
    traced = f" at {cell_text(watched.traced_cell)}" if watched.traced_cell is not None else ""
    change = {"deleted": "was deleted", "in place": "changed in place"}.get(how, "changed")
    if watched.names:
        clear = f"call `{label}.clear_cache()` after changing it"
    else:
        clear = "call `jax.clear_caches()` after changing it"
    fix = f"pass `{name}` to `{label}` as an argument, or {clear}"
    if how == "in place":
        fix += " (or keep it in a jax.Array, which cannot change in place)"
    return GuardWarning(
        guard="stale-closure",
        summary=(
            f"`{label}` was traced{traced} with {read.what}{via} as a constant; `{name}` "
            f"{change} at {cell_text(cell)}, but `{label}` keeps computing with the old value."
        ),
        fix=fix + " (wrapping the same function in jax.jit again reuses the old trace).",
        function=label,
        variable=name,
        cell=cell,
        kind=read.kind if how != "in place" else "in-place",
    )
