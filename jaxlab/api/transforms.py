"""The differentiation and vectorization transforms behind ``%grad``, ``%jacfwd``, ``%jacrev``,
``%hessian`` and ``%vmap``: one place that composes JAX's own transforms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

KINDS = ("grad", "jacfwd", "jacrev", "hessian", "vmap")
_DERIVATIVES = {"grad": jax.grad, "jacfwd": jax.jacfwd, "jacrev": jax.jacrev}


def transformed(
    fn: Callable,
    kind: str = "grad",
    *,
    order: int = 1,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    in_axes: Any = 0,
    out_axes: Any = 0,
) -> Callable:
    """`fn` transformed by JAX: ``grad``, ``jacfwd``, ``jacrev`` (applied `order` times),
    ``hessian`` or ``vmap``.

    ``transformed(f, "grad", order=3)`` is ``jax.grad(jax.grad(jax.grad(f)))``; with
    `has_aux` each level passes the auxiliary output through.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown transform {kind!r}; expected one of {', '.join(KINDS)}")
    if not callable(fn):
        raise TypeError(f"`{kind}` needs a function, got {type(fn).__name__}")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    if kind == "vmap":
        if order != 1:
            raise ValueError("vmap has no order; apply it once (nest vmap for more axes)")
        return jax.vmap(fn, in_axes=in_axes, out_axes=out_axes)
    argnums = tuple(argnums) if isinstance(argnums, (list, tuple)) else int(argnums)
    if kind == "hessian":
        if order != 1:
            raise ValueError("hessian is already the second derivative; use order=1")
        return jax.hessian(fn, argnums=argnums, has_aux=has_aux)
    if order > 1 and isinstance(argnums, tuple):
        raise ValueError(
            f"order={order} repeats {kind} on one argument; give a single argnums, not {argnums}"
        )
    transform = _DERIVATIVES[kind]
    out = fn
    for _ in range(order):
        out = transform(out, argnums=argnums, has_aux=has_aux)
    return out
