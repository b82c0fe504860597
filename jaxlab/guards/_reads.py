"""What a traced function read from outside its arguments: the values JAX bakes into the trace.

Three kinds, all found from the bytecode (no source needed, nothing executed):

- globals (``LOAD_GLOBAL``) of the function and of the user helpers it calls;
- variables of enclosing functions (closure cells, ``LOAD_DEREF``);
- attributes read from a global, an enclosing variable or, for a bound method, its object
  (``cfg.lr``, ``self.w``: a chain of ``LOAD_ATTR`` after the load of the name), also through
  a module or class of the user's own (``consts.K``, ``Net.scale``; a library's, such as
  ``jnp.pi``, is not state); they are read back with ``inspect.getattr_static``, so
  properties and ``__getattr__`` never run.

Each :class:`Read` can say the value it names now; the stale-value guard compares that with the
value snapshotted when JAX traced the function.
"""

from __future__ import annotations

import dis
import functools
import inspect
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FunctionType, ModuleType
from typing import Any

from jaxlab.guards._functions import global_names, reachable_functions
from jaxlab.ir.sources import is_users

MISSING = object()
# attribute chains followed at most this deep (`a.b.c.d`)
MAX_CHAIN = 4

_LOADS = ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FAST")


@dataclass
class Read:
    """A value a function read while traced: `name` as the user writes it (``W``, ``cfg.lr``,
    ``self.w``), its `kind` (global, closure, attribute), the function that reads it, and how
    to read it now."""

    name: str
    kind: str
    function: FunctionType
    key: tuple
    _get: Callable[[], Any]

    def current(self) -> Any:
        """The value now, or :data:`MISSING` (deleted, or no longer reachable)."""
        try:
            return self._get()
        except Exception:
            return MISSING

    @property
    def what(self) -> str:
        """How a message names it: "global `W`", "enclosing variable `lr`", "attribute
        `cfg.lr`"."""
        if self.kind == "closure":
            return f"enclosing variable `{self.name}`"
        if self.kind == "attribute":
            return f"attribute `{self.name}`"
        return f"global `{self.name}`"


def _global_getter(namespace: dict, name: str) -> Callable[[], Any]:
    def get() -> Any:
        return namespace.get(name, MISSING)

    return get


def _cell_getter(cell: Any) -> Callable[[], Any]:
    def get() -> Any:
        try:
            return cell.cell_contents
        except ValueError:  # emptied
            return MISSING

    return get


def _attribute(value: Any, attr: str) -> Any:
    """`value.attr` without running user code: instance and class attributes as stored; a
    property or other descriptor gives MISSING."""
    try:
        found = inspect.getattr_static(value, attr)
    except AttributeError:
        return MISSING
    if isinstance(found, (property, staticmethod, classmethod, functools.cached_property)):
        return MISSING
    if hasattr(type(found), "__get__") and not isinstance(found, FunctionType):
        return MISSING  # a descriptor of some kind
    return found


def _attribute_getter(base: Callable[[], Any], attrs: tuple[str, ...]) -> Callable[[], Any]:
    def get() -> Any:
        value = base()
        for attr in attrs:
            if value is MISSING:
                return MISSING
            value = _attribute(value, attr)
        return value

    return get


def _owner_getter(owner: Any) -> Callable[[], Any]:
    try:
        ref = weakref.ref(owner)
    except TypeError:
        return lambda: owner

    def get() -> Any:
        value = ref()
        return MISSING if value is None else value

    return get


@functools.lru_cache(maxsize=4096)
def attribute_chains(code: CodeType) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(load opcode, name, attributes) of each ``name.a.b`` read in `code` (not method calls,
    not stores), in order of first use."""
    found: dict[tuple[str, str, tuple[str, ...]], None] = {}
    instructions = list(dis.get_instructions(code))
    for i, ins in enumerate(instructions):
        if ins.opname not in _LOADS or not isinstance(ins.argval, str):
            continue
        attrs: list[str] = []
        for nxt in instructions[i + 1 : i + 1 + MAX_CHAIN]:
            if nxt.opname != "LOAD_ATTR" or "NULL|self" in (nxt.argrepr or ""):
                break
            attrs.append(nxt.argval)
        if attrs:
            opname = "LOAD_GLOBAL" if ins.opname == "LOAD_NAME" else ins.opname
            found.setdefault((opname, ins.argval, tuple(attrs)))
    return tuple(found)


def _holds_state(value: Any) -> bool:
    """False for a library's module or class (``jnp``, ``np.float32``: not state the user
    changes); a module or class of the user's own (``consts.K``, ``Net.scale``) holds values
    a notebook reassigns, and anything else is an object whose attributes are read."""
    if isinstance(value, ModuleType):
        return is_users(getattr(value, "__file__", None) or "")
    if isinstance(value, type):
        module = sys.modules.get(value.__module__)
        if module is None or value.__module__ == "__main__":
            return value.__module__ == "__main__"
        return is_users(getattr(module, "__file__", None) or "")
    return True


def _closure_cells(fn: FunctionType) -> dict[str, Any]:
    return dict(zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False))


def _nested_codes(code: CodeType) -> list[CodeType]:
    out = [code]
    for const in code.co_consts:
        if isinstance(const, CodeType):
            out.extend(_nested_codes(const))
    return out


def reads(root: FunctionType, owner: Any = None) -> list[Read]:
    """Every global, enclosing variable and attribute that `root` and its helpers read, once
    each. `owner` is the object `root` is a method of (its first argument), if known."""
    found: dict[tuple, Read] = {}

    def add(read: Read) -> None:
        found.setdefault(read.key, read)

    for fn in reachable_functions(root):
        namespace = fn.__globals__
        for name in global_names(fn.__code__):
            if name in namespace:
                add(
                    Read(name, "global", fn, (id(namespace), name), _global_getter(namespace, name))
                )
        cells = _closure_cells(fn)
        for name, cell in cells.items():
            add(Read(name, "closure", fn, (id(cell), name), _cell_getter(cell)))
        first_arg = fn.__code__.co_varnames[0] if fn.__code__.co_argcount else None
        for code in _nested_codes(fn.__code__):
            for opname, name, attrs in attribute_chains(code):
                base: Callable[[], Any] | None = None
                base_key: tuple = ()
                if opname == "LOAD_GLOBAL" and name in namespace:
                    base, base_key = _global_getter(namespace, name), (id(namespace), name)
                elif opname in ("LOAD_DEREF", "LOAD_CLASSDEREF") and name in cells:
                    base, base_key = _cell_getter(cells[name]), (id(cells[name]), name)
                elif (
                    opname == "LOAD_FAST"
                    and fn is root
                    and code is fn.__code__
                    and owner is not None
                    and name == first_arg
                ):
                    base, base_key = _owner_getter(owner), (id(owner),)
                if base is None or not _holds_state(base()):
                    continue  # a library's modules and classes: `jnp.sin`, `np.pi`
                dotted = ".".join((name, *attrs))
                add(
                    Read(
                        dotted, "attribute", fn, (*base_key, attrs), _attribute_getter(base, attrs)
                    )
                )
    return list(found.values())
