"""``jax.jit`` that reports its compilations: what ``%jit f`` binds in the user's namespace."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax

from jaxlab.base import format as _format
from jaxlab.core import compile_events as _compile_events
from jaxlab.core import stages as _stages


def describe_args(args: tuple, kwargs: dict) -> str:
    """A short signature of a call, e.g. ``f32[3,4], 2, scale=float32[]``."""

    def one(value: Any) -> str:
        if hasattr(value, "shape") and hasattr(value, "dtype"):
            try:
                return jax.typeof(value).str_short(short_dtypes=True)
            except Exception:
                return f"{value.dtype}{list(value.shape)}"
        leaves = jax.tree_util.tree_leaves(value)
        if isinstance(value, (list, tuple, dict)) and leaves:
            return f"{type(value).__name__}[{len(leaves)} leaves]"
        return _format.short_repr(value, 20)

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


# Functions jitted through jaxlab's magics, for the guards that inspect them.
known: weakref.WeakSet[ReportingJit] = weakref.WeakSet()


class ReportingJit:
    """A ``jax.jit``-compiled function that says when (and how long) it compiles.

    It behaves like the function ``jax.jit`` returns (``.lower``, ``.trace``,
    ``.eval_shape`` …); ``__wrapped__`` is the original Python function.
    """

    def __init__(
        self,
        fn: Callable,
        *,
        static_argnums: int | Sequence[int] | None = None,
        static_argnames: str | Sequence[str] | None = None,
        donate_argnums: int | Sequence[int] | None = None,
        report: Callable[[str], None] | None = print,
    ):
        jitted, _, _ = _stages.make_jitted(fn, static_argnums, static_argnames, donate_argnums)
        self._jitted = jitted
        self._report = report
        self.compilations: list[_compile_events.Compilation] = []
        original = getattr(jitted, "__wrapped__", fn)
        functools.update_wrapper(self, original)
        self.__wrapped__ = original
        known.add(self)

    @property
    def jitted(self) -> Any:
        """The underlying ``jax.jit`` function."""
        return self._jitted

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _compile_events.recording() as log:
            out = self._jitted(*args, **kwargs)
        mine = log.of(self.__name__)
        if mine:
            self.compilations.extend(mine)
            if self._report is not None:
                for comp in mine:
                    self._report(
                        f"[jaxlab] compiled {self.__name__}({describe_args(args, kwargs)}) in "
                        f"{_format.format_seconds(comp.total_s)} ("
                        f"{_format.format_stages(comp.trace_s, comp.lower_s, comp.compile_s)}); "
                        f"compilation #{len(self.compilations)}"
                    )
        return out

    def __getattr__(self, name: str) -> Any:
        # while copy or pickle rebuild the object, nothing is there to forward to yet
        if "_jitted" not in vars(self):
            raise AttributeError(name)
        return getattr(self._jitted, name)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        # behave like a function when stored on a class
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self) -> str:
        n = len(self.compilations)
        return f"<jax.jit({self.__name__}) via jaxlab: {n} compilation{'s' if n != 1 else ''}>"
