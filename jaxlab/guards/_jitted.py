"""The jitted functions the guards watch: ``jax.jit``-wrapped callables bound to names in the
notebook's namespace, and those made by ``%jit``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import FunctionType
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.core import jit as _jit
from jaxlab.guards._functions import python_function


@dataclass
class Jitted:
    """A jitted callable, the name it is bound to, the user's function behind it and how many
    compiled entries its cache holds (None when JAX does not say)."""

    name: str
    obj: Any
    function: FunctionType
    cache_size: int | None

    @property
    def traced(self) -> bool:
        return self.cache_size is None or self.cache_size > 0


@cache
def _jit_types() -> tuple[type, ...]:
    pjit = _compat.jit_function_type()
    return (_jit.ReportingJit,) if pjit is None else (pjit, _jit.ReportingJit)


def describe(name: str, obj: Any) -> Jitted | None:
    """`obj` as a :class:`Jitted`, or None when no user function is behind it."""
    fn = python_function(obj)
    if fn is None:
        return None
    return Jitted(name, obj, fn, cache_size(obj))


def cache_size(obj: Any) -> int | None:
    """Compiled entries in the cache of a jitted callable (None when JAX does not say)."""
    inner = obj.jitted if isinstance(obj, _jit.ReportingJit) else obj
    return _compat.jit_cache_size(inner)


def jitted_callables(namespace: Mapping[str, Any]) -> list[Jitted]:
    """Jitted callables bound to public names in `namespace`, then those ``%jit`` made that are
    bound elsewhere; each object once."""
    types = _jit_types()
    found: dict[int, Jitted] = {}
    for name, value in list(namespace.items()):
        jitted = type(value) in types or isinstance(value, _jit.ReportingJit)
        if jitted and not name.startswith("_") and id(value) not in found:
            described = describe(name, value)
            if described is not None:
                found[id(value)] = described
    for value in list(_jit.known):
        if id(value) not in found:
            described = describe(value.__name__, value)
            if described is not None:
                found[id(value)] = described
    return list(found.values())
