"""A call's arguments split into what is traced and what is held static, as
``equinox.filter_jit`` splits them.

Arrays are traced; every other leaf of the arguments' pytrees (a model's activation function,
a string, a config object) is held static: taken out of the arguments JAX traces (``None`` in
its place) and put back before the function is called. Static leaves are compared by value
when hashable and by identity otherwise, so a fresh unhashable object means a new compilation
(as with ``eqx.filter_jit``). Python scalars are traced unless asked otherwise, as
``jax.jit`` traces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax

from jaxlab.base.pytrees import argument_names, is_traced

_SCALARS = (bool, int, float, complex)


class Held:
    """A static leaf as a cache key: equal by value when hashable (same type and ``==``), by
    identity otherwise."""

    __slots__ = ("_by_id", "_hash", "value")

    def __init__(self, value: Any):
        self.value = value
        try:
            self._hash = hash((type(value), value))
            self._by_id = False
        except Exception:
            self._hash = id(value)
            self._by_id = True

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Held):
            return NotImplemented
        if self.value is other.value:
            return True
        if self._by_id or other._by_id or type(self.value) is not type(other.value):
            return False
        try:
            return bool(self.value == other.value)
        except Exception:
            return False


@dataclass(frozen=True)
class StaticLeaf:
    """One leaf held static: its path as the user names it (``m.activation``) and its value."""

    path: str
    value: Any


@dataclass(frozen=True)
class _Layout:
    """How to put one argument's static leaves back: its tree, and (index, value) of each."""

    treedef: Any
    static: tuple[tuple[int, Any], ...]


@dataclass(frozen=True)
class Partition:
    """The arguments of one call, split.

    `call_args`/`call_kwargs` are what JAX traces: the call's arguments with each static leaf
    replaced by ``None`` (an empty pytree). `static` lists the static leaves; `key` compares
    equal for calls holding equal static leaves in the same places; :meth:`rebuild` turns
    the traced arguments back into the call's.
    """

    call_args: tuple
    call_kwargs: dict
    static: tuple[StaticLeaf, ...] = ()
    key: tuple = ()
    # Python scalars (bool, int, float, complex) among the traced leaves
    scalars: bool = False
    # ... and whether any sits inside an argument (a dict of options, a module's field)
    # rather than being an argument itself
    nested_scalars: bool = False
    _layouts: dict[int | str, _Layout] = field(default_factory=dict, repr=False)

    @property
    def static_paths(self) -> tuple[str, ...]:
        return tuple(leaf.path for leaf in self.static)

    def rebuild(self, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """The call's arguments from the traced ones: static leaves put back in place."""
        if not self._layouts:
            return args, kwargs
        args = tuple(
            _restore(a, self._layouts[i]) if i in self._layouts else a for i, a in enumerate(args)
        )
        kwargs = {
            k: _restore(v, self._layouts[k]) if k in self._layouts else v for k, v in kwargs.items()
        }
        return args, kwargs


def _restore(traced: Any, layout: _Layout) -> Any:
    dynamic = iter(jax.tree_util.tree_leaves(traced))
    static = dict(layout.static)
    n = layout.treedef.num_leaves
    leaves = [static[i] if i in static else next(dynamic) for i in range(n)]
    return jax.tree_util.tree_unflatten(layout.treedef, leaves)


def partition(
    fn: Any,
    args: tuple,
    kwargs: dict,
    *,
    static_argnums: tuple[int, ...] = (),
    static_argnames: tuple[str, ...] = (),
    scalars: bool = True,
) -> Partition:
    """Split the arguments of ``fn(*args, **kwargs)``. Whole static arguments
    (`static_argnums`, `static_argnames`) are left to ``jax.jit`` as they are; `scalars`:
    whether Python scalars are traced."""
    names = argument_names(fn, len(args))
    call_args = list(args)
    call_kwargs = dict(kwargs)
    static: list[StaticLeaf] = []
    key: list[Any] = []
    layouts: dict[int | str, _Layout] = {}
    entries: list[tuple[int | str, str, Any]] = [
        (i, names[i] or f"args[{i}]", a) for i, a in enumerate(args) if i not in static_argnums
    ]
    entries += [(k, k, v) for k, v in kwargs.items() if k not in static_argnames]
    scalar_leaves = nested = False
    for where, name, value in entries:
        flat, treedef = jax.tree_util.tree_flatten_with_path(value)
        traced_scalars = [
            path
            for path, leaf in flat
            if isinstance(leaf, _SCALARS) and is_traced(leaf, scalars=scalars)
        ]
        scalar_leaves = scalar_leaves or bool(traced_scalars)
        nested = nested or any(path for path in traced_scalars)
        held = [
            (i, path, leaf)
            for i, (path, leaf) in enumerate(flat)
            if not is_traced(leaf, scalars=scalars)
        ]
        if not held:
            continue
        held_at = {i for i, _, _ in held}
        leaves = [None if i in held_at else leaf for i, (_, leaf) in enumerate(flat)]
        replaced = jax.tree_util.tree_unflatten(treedef, leaves)
        if isinstance(where, int):
            call_args[where] = replaced
        else:
            call_kwargs[where] = replaced
        layouts[where] = _Layout(treedef, tuple((i, leaf) for i, _, leaf in held))
        static += [StaticLeaf(name + jax.tree_util.keystr(path), leaf) for _, path, leaf in held]
        key.append((where, treedef, tuple((i, Held(leaf)) for i, _, leaf in held)))
    return Partition(
        tuple(call_args), call_kwargs, tuple(static), tuple(key), scalar_leaves, nested, layouts
    )


def split_output(out: Any) -> tuple[Any, _Layout | None]:
    """A function's output with every leaf JAX cannot return (functions, strings, other
    objects) replaced by ``None``, and how to put them back (None when there is none)."""
    leaves, treedef = jax.tree_util.tree_flatten(out)
    held = tuple((i, leaf) for i, leaf in enumerate(leaves) if not is_traced(leaf))
    if not held:
        return out, None
    at = dict(held)
    arrays = jax.tree_util.tree_unflatten(
        treedef, [None if i in at else x for i, x in enumerate(leaves)]
    )
    return arrays, _Layout(treedef, held)


def restore_output(out: Any, layout: _Layout | None) -> Any:
    """The output :func:`split_output` split, whole again."""
    return out if layout is None else _restore(out, layout)
