"""Pytrees of arrays as people read them: ``list[48] of dict{wq,wk: f32[64,64]}``,
``State(4 arrays, 11 KiB)``, with argument names from the function's signature.

Every signature jaxlab shows (inspector titles, ``%jit`` reports, ``%hlo``, bench titles, guard
messages) is written here, so a model with hundreds of parameters reads in one line, and the
full list of leaves stays at hand (:attr:`CallSummary.leaves`).
"""

from __future__ import annotations

import inspect as _pyinspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.format import format_bytes, short_dtype, short_repr

WIDTH = 90  # an argument's summary longer than this collapses to counts


def is_array(value: Any) -> bool:
    """Anything with a shape (a sequence) and a dtype: JAX, NumPy and PyTorch arrays, tracers,
    ``jax.ShapeDtypeStruct`` placeholders."""
    if isinstance(value, type) or not hasattr(value, "dtype"):
        return False
    try:
        return isinstance(tuple(value.shape), tuple)
    except Exception:
        return False


def is_traced(leaf: Any, *, scalars: bool = True) -> bool:
    """Whether jaxlab traces a leaf of a call's arguments (the rule of
    :mod:`jaxlab.core.partition`): JAX and NumPy arrays and scalars, tracers,
    ``jax.ShapeDtypeStruct`` placeholders, objects with ``__jax_array__``, and (with
    `scalars`) Python's bool, int, float and complex. Every other leaf is held static."""
    import jax
    import numpy as np

    if isinstance(leaf, (jax.Array, np.ndarray, np.generic, jax.ShapeDtypeStruct)):
        return True
    if hasattr(type(leaf), "__jax_array__"):
        return True
    return scalars and isinstance(leaf, (bool, int, float, complex))


def is_static(leaf: Any) -> bool:
    """A leaf held static when the call is staged: neither traced nor array-like."""
    return not is_traced(leaf) and not is_array(leaf)


def static_text(value: Any) -> str:
    """``static relu``, ``static 'fast'``: a leaf held static, a function by its name."""
    name = getattr(value, "__name__", None) if callable(value) else None
    return f"static {name if isinstance(name, str) else short_repr(value, 20)}"


def array_text(value: Any) -> str:
    """``f32[64,64]``: the dtype and shape of an array as it is (a float64 NumPy array reads
    ``f64``, whatever JAX would make of it)."""
    try:
        shape = ",".join(str(int(d)) for d in value.shape)
    except Exception:  # symbolic dimensions
        shape = ",".join(str(d) for d in value.shape)
    return f"{short_dtype(value.dtype)}[{shape}]"


def array_bytes(value: Any) -> int:
    """Bytes an array's elements take (0 when its dtype has no fixed size)."""
    try:
        itemsize = getattr(value.dtype, "itemsize", None)
        if itemsize is None:  # torch dtypes
            itemsize = value.element_size()
        return int(math.prod(int(d) for d in value.shape) * itemsize)
    except Exception:
        return 0


def _leaves_with_paths(value: Any) -> list[tuple[str, Any]]:
    import jax

    try:
        flat, _ = jax.tree_util.tree_flatten_with_path(value)
    except Exception:
        return [("", value)]
    return [(jax.tree_util.keystr(path), leaf) for path, leaf in flat]


def _children(value: Any) -> list[Any] | None:
    """The direct children of a custom pytree node (None for a leaf)."""
    import jax

    try:
        children, _ = jax.tree_util.tree_flatten(value, is_leaf=lambda x: x is not value)
    except Exception:
        return None
    if len(children) == 1 and children[0] is value:
        return None
    return children


def _counts(value: Any, name: str) -> str:
    leaves = _leaves_with_paths(value)
    arrays = [leaf for _, leaf in leaves if is_array(leaf)]
    static = [path.lstrip(".") or "·" for path, leaf in leaves if is_static(leaf)]
    held = ""
    if any("<flat index" in path for path in static):  # a node without key paths
        held = f"{len(static)} static"
    elif static:
        more = f" +{len(static) - 3}" if len(static) > 3 else ""
        held = f"static {', '.join(static[:3])}{more}"
    if not arrays:
        if held:
            return f"{name}({held})"
        return f"{name}({short_repr(value, 40)})" if name else short_repr(value, 40)
    n = len(arrays)
    total = format_bytes(sum(array_bytes(a) for a in arrays))
    return f"{name}({n} array{'s' * (n != 1)}, {total}{'; ' + held if held else ''})"


def summarize(value: Any, width: int = WIDTH) -> str:
    """One pytree in at most about `width` characters: arrays as ``f32[3,4]``, repeated
    structure folded (``list[48] of …``), dict keys with the same summary grouped
    (``dict{wq,wk: f32[64,64]}``), other containers as counts (``State(4 arrays, 11 KiB)``)."""
    if is_array(value):
        return array_text(value)
    if value is None or isinstance(value, (bool, int, float, complex)):
        return short_repr(value, 20)
    if isinstance(value, (str, bytes)):
        return static_text(value)
    name = type(value).__name__
    if isinstance(value, dict):
        return _dict(value, width)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return _sequence(value, width)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple
        parts = [f"{f}={summarize(v, width)}" for f, v in zip(value._fields, value, strict=False)]
        text = f"{name}({', '.join(parts)})"
        return text if len(text) <= width else _counts(value, name)
    children = _children(value)
    if children is None:
        return static_text(value) if is_static(value) else short_repr(value, 20)
    return _counts(value, name)


def _sequence(value: list | tuple, width: int) -> str:
    name = type(value).__name__
    n = len(value)
    if n == 0:
        return "[]" if isinstance(value, list) else "()"
    parts = [summarize(v, width) for v in value]
    open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
    explicit = open_ + ", ".join(parts) + ("," if n == 1 and close == ")" else "") + close
    if len(set(parts)) == 1 and (n > 3 or len(explicit) > width):
        text = f"{name}[{n}] of {parts[0]}"
        if len(text) <= width:
            return text
    if len(explicit) <= width:
        return explicit
    return _counts(value, f"{name}[{n}]")


def _dict(value: dict, width: int) -> str:
    name = type(value).__name__
    if not value:
        return "{}"
    by_text: dict[str, list[str]] = {}
    for key, v in value.items():
        by_text.setdefault(summarize(v, width), []).append(str(key))
    parts = [f"{','.join(keys)}: {text}" for text, keys in by_text.items()]
    text = f"{name}{{{', '.join(parts)}}}"
    if len(text) <= width:
        return text
    return _counts(value, f"{name}[{len(value)}]")


@dataclass(frozen=True)
class Leaf:
    """One leaf of an argument: its path (``ps[3]['wq']``), what it is, its bytes."""

    path: str
    text: str
    nbytes: int
    array: bool = True


@dataclass
class Argument:
    """One argument of a call, summarised."""

    name: str
    text: str
    leaves: list[Leaf] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(leaf.nbytes for leaf in self.leaves)

    @property
    def arrays(self) -> int:
        return sum(1 for leaf in self.leaves if leaf.array)

    def __str__(self) -> str:
        return f"{self.name}: {self.text}" if self.name else self.text


@dataclass
class CallSummary:
    """The arguments of one call: a one-line signature, the totals, and every leaf."""

    arguments: list[Argument]

    @property
    def text(self) -> str:
        """``ps: list[48] of dict{…}, x: f32[128,64]``."""
        return ", ".join(str(a) for a in self.arguments)

    @property
    def leaves(self) -> list[Leaf]:
        return [leaf for a in self.arguments for leaf in a.leaves]

    @property
    def arrays(self) -> int:
        return sum(a.arrays for a in self.arguments)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arguments)

    @property
    def totals(self) -> str:
        """``289 arrays, 4.6 MiB``."""
        n = self.arrays
        return f"{n:,} array{'s' * (n != 1)}, {format_bytes(self.nbytes)}"

    def rows(self) -> list[dict[str, Any]]:
        """One dict per leaf: argument, path, type, bytes."""
        return [
            {"argument": a.name, "path": leaf.path, "type": leaf.text, "bytes": leaf.nbytes}
            for a in self.arguments
            for leaf in a.leaves
        ]

    def to_pandas(self) -> Any:
        """One row per leaf: argument, path, type, bytes."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=["argument", "path", "type", "bytes"])

    def __str__(self) -> str:
        return self.text


def argument_names(fn: Callable | None, n_args: int) -> list[str]:
    """Names of the first `n_args` positional parameters of `fn` (``args[2]`` past a
    ``*args``, ``""`` when the signature is unknown)."""
    names: list[str] = []
    try:
        params = list(_pyinspect.signature(fn).parameters.values()) if fn is not None else []
    except (TypeError, ValueError):
        params = []
    kinds = (_pyinspect.Parameter.POSITIONAL_ONLY, _pyinspect.Parameter.POSITIONAL_OR_KEYWORD)
    for p in params:
        if len(names) >= n_args:
            break
        if p.kind in kinds:
            names.append(p.name)
        elif p.kind == _pyinspect.Parameter.VAR_POSITIONAL:
            start = len(names)
            names.extend(f"{p.name}[{i}]" for i in range(n_args - start))
    names.extend("" for _ in range(n_args - len(names)))
    return names


def argument(name: str, value: Any, width: int = WIDTH) -> Argument:
    leaves = []
    for path, leaf in _leaves_with_paths(value):
        if is_array(leaf):
            leaves.append(Leaf(name + path, array_text(leaf), array_bytes(leaf)))
        elif is_static(leaf):
            leaves.append(Leaf(name + path, static_text(leaf), 0, array=False))
        else:
            leaves.append(Leaf(name + path, short_repr(leaf, 40), 0, array=False))
    return Argument(name, summarize(value, width), leaves)


def call_summary(
    fn: Callable | None, args: tuple, kwargs: dict | None = None, width: int = WIDTH
) -> CallSummary:
    """The arguments of ``fn(*args, **kwargs)``, named from `fn`'s signature."""
    names = argument_names(fn, len(args))
    out = [argument(n, a, width) for n, a in zip(names, args, strict=True)]
    out += [argument(k, v, width) for k, v in (kwargs or {}).items()]
    return CallSummary(out)
