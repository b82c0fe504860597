"""The transforms behind ``%grad``, ``%jacfwd``, ``%jacrev``, ``%hessian``, ``%vmap`` and
``%jit``: one place that composes JAX's own transforms."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax

from jaxlab.base.format import function_name
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.core.jit import ReportingJit, describe_args

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


def reporting_jit(
    fn: Callable,
    report: Callable[[str], Any] | None = print,
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
) -> ReportingJit:
    """``jax.jit(fn)`` that passes a line to `report` each time it compiles (what ``%jit f``
    binds). A function jitted this way before is jitted afresh from its original."""
    if isinstance(fn, ReportingJit):
        fn = fn.__wrapped__
    return ReportingJit(
        fn,
        report=report,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        donate_argnums=donate_argnums,
    )


@dataclass(repr=False)
class JitRun:
    """One call compiled by ``jax.jit`` and run once (``jaxlab.jit_run(f, x)``, ``%jit -o
    f(x)``): its `output` (None when an argument was a placeholder) and `timings`, the time
    each stage took."""

    output: Any
    timings: _stages.StageTimings
    call: str  # e.g. "f(f32[3])"

    def summary(self) -> str:
        return f"jit {self.call}: {self.timings.summary()}"

    def __repr__(self) -> str:
        return f"{self.summary()}\noutput: {self.output!r}"


@takes_call()
def jit_run(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> JitRun:
    """Trace, lower, compile and run ``fn(*args, **kwargs)`` once, timing each stage (what
    ``%jit f(x)`` does): ``.output`` is the value, ``.timings`` the stage timings. Donated
    arrays are copied first, so the caller's stay usable. `fn`'s own keyword arguments go in
    ``kwargs={...}``."""
    kwargs = dict(kwargs or {})
    staged = _stages.stage(
        fn,
        args,
        kwargs,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        donate_argnums=donate_argnums,
    )
    out = staged.run(steady_repeats=0) if staged.runnable else None
    return JitRun(out, staged.timings, f"{function_name(fn)}({describe_args(args, kwargs, fn)})")
