"""Whether a global's new value differs from the one a function was traced with.

Re-running a cell that rebinds ``W = jnp.ones(3)`` gives a new object with the same value: that
is not a change. Arrays are compared by shape, dtype and contents (up to a size limit), numbers
and strings by value, pytrees leaf by leaf, functions by their code.

NumPy arrays can also change in place (``w[0] = 5.0``) while staying the same object. Each one
is fingerprinted when snapshotted and again after each cell, cheaply: an array up to
:data:`FULL_PRINT_BYTES` by all its bytes, a larger one by a sample of :data:`SAMPLE_HEAD`
elements at each end and :data:`SAMPLE_SPREAD` evenly spaced ones (about 770 elements read
whatever its size, never megabytes). An in-place change that touches no sampled element of a
large array goes unseen.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import numpy as np

from jaxlab.guards._functions import is_user_function, python_function

# arrays up to this many elements are compared by value; larger ones count as changed
COMPARE_ELEMENTS = 4_000_000
# NumPy arrays up to this size are kept for the comparison; larger ones only weakly
KEEP_NUMPY_BYTES = 16 * 2**20
MAX_LEAVES = 1000
# NumPy arrays up to this size are fingerprinted by all their bytes, larger ones by samples
FULL_PRINT_BYTES = 64 * 2**10
SAMPLE_HEAD = 256  # elements sampled at each end
SAMPLE_SPREAD = 256  # elements sampled evenly in between

_SCALARS = (bool, int, float, complex, str, bytes, type(None))


def _is_array(value: Any) -> bool:
    import jax

    return isinstance(value, (jax.Array, np.ndarray, np.generic))


def leaves_of(value: Any) -> tuple[list[Any], Any] | None:
    """(leaves, treedef) of a pytree container, or None for anything else."""
    import jax

    try:
        leaves, treedef = jax.tree_util.tree_flatten(value)
    except Exception:
        return None
    if len(leaves) == 1 and leaves[0] is value:
        return None
    return leaves, treedef


def trackable(value: Any, _depth: int = 0) -> bool:
    """Values JAX bakes into a trace and that we can compare: arrays, numbers, strings, None,
    user functions (and jitted ones) and pytrees of these."""
    import jax

    if isinstance(value, jax.core.Tracer):  # leaked from a trace: not a value to compare
        return False
    if isinstance(value, _SCALARS) or _is_array(value) or is_user_function(value):
        return True
    if callable(value) and not isinstance(value, type) and python_function(value) is not None:
        return True
    if _depth > 0:
        return False
    tree = leaves_of(value)
    if tree is None or len(tree[0]) > MAX_LEAVES:
        return False
    return all(trackable(leaf, 1) for leaf in tree[0])


def _same_array(old: Any, new: Any) -> bool:
    if type(old) is not type(new) or old.shape != new.shape or old.dtype != new.dtype:
        return False
    if old.size > COMPARE_ELEMENTS:
        return False
    import jax

    if jax.dtypes.issubdtype(old.dtype, jax.dtypes.prng_key):
        old, new = jax.random.key_data(old), jax.random.key_data(new)
    a, b = np.asarray(old), np.asarray(new)
    try:
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    except Exception:
        return False


def _cells(fn: FunctionType) -> tuple:
    values = []
    for cell in fn.__closure__ or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:
            values.append(None)
    return tuple(values)


def _same_function(old: FunctionType, new: FunctionType) -> bool:
    """Same code, globals, defaults and closed-over values (a cell run again)."""
    return (
        old.__code__ == new.__code__
        and old.__globals__ is new.__globals__
        and same_value(old.__defaults__, new.__defaults__)
        and same_value(_cells(old), _cells(new))
    )


def same_value(old: Any, new: Any) -> bool:
    """True when `new` would trace exactly like `old`."""
    if old is new:
        return True
    if isinstance(old, _SCALARS):
        if type(old) is not type(new):
            return False
        if isinstance(old, float) and old != old:  # NaN
            return new != new
        return bool(old == new)
    if _is_array(old):
        return _is_array(new) and _same_array(old, new)
    if isinstance(old, FunctionType) or (callable(old) and python_function(old) is not None):
        if type(old) is not type(new):
            return False
        a, b = python_function(old), python_function(new)
        return a is not None and b is not None and (a is b or _same_function(a, b))
    old_tree, new_tree = leaves_of(old), leaves_of(new)
    if old_tree is None or new_tree is None or old_tree[1] != new_tree[1]:
        return False
    return all(same_value(a, b) for a, b in zip(old_tree[0], new_tree[0], strict=True))


@functools.lru_cache(maxsize=256)
def _sample_positions(size: int) -> np.ndarray:
    head = np.arange(min(SAMPLE_HEAD, size))
    tail = np.arange(max(size - SAMPLE_HEAD, 0), size)
    spread = np.linspace(0, size - 1, SAMPLE_SPREAD).astype(np.intp)
    return np.unique(np.concatenate([head, spread, tail]))


def fingerprint(array: np.ndarray) -> tuple:
    """Shape, dtype and the bytes of all of a small array, or of ~770 sampled elements of a
    large one (read in microseconds whatever the array's size)."""
    head = (array.shape, array.dtype.str)
    try:
        if array.nbytes <= FULL_PRINT_BYTES:
            return (*head, array.tobytes())
        return (*head, array.take(_sample_positions(array.size)).tobytes())
    except Exception:
        return head


def _prints(leaves: list[Any]) -> tuple:
    return tuple(fingerprint(v) if isinstance(v, np.ndarray) else None for v in leaves)


Flatten = Callable[[Any], "tuple[list[Any], Any] | None"]


@dataclass
class Snapshot:
    """The value a global had when a function was traced. Containers (dicts, lists, pytrees)
    keep their leaves as they were, so that changing one in place counts too; NumPy arrays
    (alone or as leaves) keep a :func:`fingerprint`, so that writing into one counts as well;
    large NumPy arrays are held weakly."""

    _value: Any
    _weak: bool = False
    _tree: tuple[list[Any], Any] | None = None
    _print: tuple | None = None
    _leaf_prints: tuple = ()

    @classmethod
    def of(cls, value: Any) -> Snapshot:
        if isinstance(value, np.ndarray):
            weak = value.nbytes > KEEP_NUMPY_BYTES
            return cls(weakref.ref(value) if weak else value, weak, _print=fingerprint(value))
        if isinstance(value, _SCALARS) or _is_array(value) or callable(value):
            return cls(value)
        tree = leaves_of(value)
        return cls(value, _tree=tree, _leaf_prints=_prints(tree[0]) if tree else ())

    @property
    def value(self) -> Any:
        return self._value() if self._weak else self._value

    def unchanged(self, value: Any, flatten: Flatten = leaves_of) -> bool:
        """The same object, holding the same leaves, none written into: nothing to compare."""
        old = self.value
        if old is not value or (self._weak and old is None):
            return False
        if self._print is not None:
            return fingerprint(value) == self._print
        if self._tree is None:
            return True
        tree = flatten(value)
        return (
            tree is not None
            and tree[1] == self._tree[1]
            and all(a is b for a, b in zip(tree[0], self._tree[0], strict=True))
            and _prints(tree[0]) == self._leaf_prints
        )

    def in_place(self, value: Any) -> bool:
        """`value` is the object snapshotted (or holds the same leaves), written into since."""
        return value is not None and self.value is value

    def same_as(self, value: Any) -> bool:
        """`value` traces like the value snapshotted (a weakly held one that is gone, an array
        written into, or a comparison that fails, counts as changed)."""
        try:
            if self._print is not None:
                if not isinstance(value, np.ndarray) or fingerprint(value)[:2] != self._print[:2]:
                    return False
                old = self.value
                if old is None or old is value or fingerprint(old) != self._print:
                    return fingerprint(value)[2:] == self._print[2:] and (
                        value.nbytes <= FULL_PRINT_BYTES
                    )
                return same_value(old, value)
            if self._tree is not None:
                tree = leaves_of(value)
                if tree is None or tree[1] != self._tree[1]:
                    return False
                for a, b, p in zip(self._tree[0], tree[0], self._leaf_prints, strict=True):
                    if p is not None:
                        if not isinstance(b, np.ndarray) or fingerprint(b)[2:] != p[2:]:
                            return False
                        if b.nbytes > FULL_PRINT_BYTES and a is not b and not same_value(a, b):
                            return False
                    elif not same_value(a, b):
                        return False
                return True
            old = self.value
            if old is None and self._weak:
                return False
            return same_value(old, value)
        except Exception:
            return False
