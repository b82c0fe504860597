"""What JAX runs when it traces a jitted callable: the user's Python function behind it, the
user-defined helpers that function reaches through its globals, and the globals they read.

Found from the bytecode (``LOAD_GLOBAL``), so no source is needed and nothing is executed.
"""

from __future__ import annotations

import dis
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from types import CodeType, FunctionType, MethodType
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.ir.sources import is_users

# how many calls deep helpers are followed, and how many functions at most
MAX_DEPTH = 4
MAX_FUNCTIONS = 64


def is_user_function(obj: Any) -> bool:
    """A plain Python function defined in a notebook cell or a user module (not a library)."""
    return isinstance(obj, FunctionType) and is_users(obj.__code__.co_filename)


def python_function(obj: Any) -> FunctionType | None:
    """The user's Python function behind a jitted (or otherwise wrapped) callable, or None.

    Follows ``__wrapped__`` (``jax.jit``, ``jax.grad``, ``functools.wraps``, ``%jit``),
    ``functools.partial`` and bound methods until it reaches a function defined in user code.
    """
    seen: set[int] = set()
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        if is_user_function(obj):
            return obj
        if isinstance(obj, functools.partial):
            obj = obj.func
            continue
        if isinstance(obj, MethodType):
            obj = obj.__func__
            continue
        try:
            obj = getattr(obj, "__wrapped__", None)
        except Exception:
            return None
    return None


# how deep the closures of JAX's own wrappers are searched for the user's function
WRAPPER_DEPTH = 3


def traced_function(obj: Any) -> tuple[FunctionType, Any] | None:
    """(the user's function, the object it is a method of, or None) behind a callable JAX
    traced, as JAX's tracing frames hold it: the function given to ``jax.jit``, a bound method
    (its object is where ``self.w`` is read), a partial, or a wrapper of JAX's own (``pmap``'s)
    that holds the user's function in its closure. None when no user function is behind it."""
    owner = None
    frontier: list[Any] = [obj]
    seen: set[int] = set()
    for _ in range(WRAPPER_DEPTH + 1):
        nxt: list[Any] = []
        for item in frontier:
            while item is not None and id(item) not in seen:
                seen.add(id(item))
                if is_user_function(item):
                    return item, owner
                if isinstance(item, MethodType):
                    owner = owner if owner is not None else item.__self__
                    item = item.__func__
                    continue
                if isinstance(item, functools.partial):
                    item = item.func
                    continue
                inner = _compat.wrapped_callable(item)
                if inner is not None:
                    item = inner
                    continue
                if isinstance(item, FunctionType):
                    nxt.extend(_closure_values(item))
                try:
                    item = getattr(item, "__wrapped__", None)
                except Exception:
                    item = None
        frontier = nxt
        if not frontier:
            return None
    return None


@functools.lru_cache(maxsize=4096)
def global_names(code: CodeType) -> tuple[str, ...]:
    """Names a code object (and the functions, lambdas and comprehensions nested in it) loads
    as globals, in order of first use."""
    names: dict[str, None] = {}
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
            names.setdefault(ins.argval)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            for name in global_names(const):
                names.setdefault(name)
    return tuple(names)


@dataclass
class GlobalRead:
    """A global read while tracing: `name` in the dict `namespace`, by `function` (the traced
    function itself, or a helper it calls)."""

    name: str
    namespace: dict
    function: FunctionType

    @property
    def key(self) -> tuple[int, str]:
        return id(self.namespace), self.name


def _closure_values(fn: FunctionType) -> Iterator[Any]:
    for cell in fn.__closure__ or ():
        try:
            yield cell.cell_contents
        except ValueError:  # an empty cell
            continue


def reachable_functions(root: FunctionType) -> list[FunctionType]:
    """`root` and the user functions it can call through its globals and closure, breadth first."""
    found: list[FunctionType] = [root]
    seen = {id(root)}
    frontier = [root]
    for _ in range(MAX_DEPTH):
        nxt: list[FunctionType] = []
        for fn in frontier:
            candidates = [fn.__globals__.get(name) for name in global_names(fn.__code__)]
            candidates.extend(_closure_values(fn))
            for value in candidates:
                helper = python_function(value) if callable(value) else None
                if helper is None or id(helper) in seen:
                    continue
                seen.add(id(helper))
                found.append(helper)
                nxt.append(helper)
                if len(found) >= MAX_FUNCTIONS:
                    return found
        frontier = nxt
    return found


def global_reads(root: FunctionType) -> list[GlobalRead]:
    """Every global that `root` and its helpers read, once each (builtins and names not
    defined yet are left out)."""
    reads: dict[tuple[int, str], GlobalRead] = {}
    for fn in reachable_functions(root):
        namespace = fn.__globals__
        for name in global_names(fn.__code__):
            if name in namespace:
                read = GlobalRead(name, namespace, fn)
                reads.setdefault(read.key, read)
    return list(reads.values())
