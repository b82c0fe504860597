"""``jax.jit`` that reports its compilations: what ``%jit f`` binds in the user's namespace.

Calling it costs what calling ``jax.jit(f)`` costs: each instance gets its own class whose
``__call__`` *is* the jitted function, so a call goes straight to JAX's C++ dispatch. The
compilations are reported from JAX's compile events (``jax.monitoring``), attributed to the
function whose cache missed, and never from the call path.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.base import format as _format
from jaxlab.base import pytrees as _pytrees
from jaxlab.core import compile_events as _compile_events
from jaxlab.core import stages as _stages


def describe_args(args: tuple, kwargs: dict, fn: Callable | None = None) -> str:
    """A short signature of a call, pytrees summarised and arguments named from `fn`'s
    signature when given, e.g. ``x: f32[3,4], n: 2, params: list[48] of dict{w,b: f32[64]}``."""
    return _pytrees.call_summary(fn, args, kwargs).text


# Functions jitted through jaxlab's magics, for the guards that inspect them.
known: weakref.WeakSet[ReportingJit] = weakref.WeakSet()
# the jit options object of each live ReportingJit's function -> the ReportingJit
_by_info: weakref.WeakValueDictionary[int, ReportingJit] = weakref.WeakValueDictionary()
_pending = threading.local()


def _on_compile_step(stage: str, seconds: float) -> None:
    if not _by_info:
        return
    found = _compat.jit_call_in_progress()
    if found is None:
        return
    info, args, kwargs = found
    owner = _by_info.get(id(info))
    if owner is None or _compat.jit_info(owner._jitted) is not info:
        return
    # the owner is held weakly: a trace whose lowering and compilation JAX then serves from
    # its caches sends no compile event, and the function must not stay alive (and watched
    # by the guards) for that
    comp = getattr(_pending, "comp", None)
    if stage == "trace" or comp is None or comp[0]() is not owner:
        comp = _pending.comp = (weakref.ref(owner), _compile_events.Compilation(owner.__name__))
    record = comp[1]
    setattr(record, f"{stage}_s", getattr(record, f"{stage}_s") + seconds)
    if stage == "compile":
        _pending.comp = None
        owner._compiled(record, args, kwargs)


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
        # a class of its own, whose __call__ is the jitted function itself: no Python frame
        # of jaxlab's between the caller and JAX's dispatch
        self.__class__ = type(
            type(self).__name__,
            (type(self),),
            {"__call__": staticmethod(jitted), "__module__": type(self).__module__},
        )
        info = _compat.jit_info(jitted)
        if info is not None:
            _by_info[id(info)] = self
            _compile_events.watch(_on_compile_step)
        known.add(self)

    @property
    def jitted(self) -> Any:
        """The underlying ``jax.jit`` function."""
        return self._jitted

    def _compiled(self, comp: _compile_events.Compilation, args: tuple, kwargs: dict) -> None:
        self.compilations.append(comp)
        if self._report is not None:
            signature = describe_args(args, kwargs, self.__wrapped__)
            self._report(
                f"[jaxlab] compiled {self.__name__}({signature}) in "
                f"{_format.format_seconds(comp.total_s)} ("
                f"{_format.format_stages(comp.trace_s, comp.lower_s, comp.compile_s)}); "
                f"compilation #{len(self.compilations)}"
            )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # replaced per instance
        return self._jitted(*args, **kwargs)

    def __reduce__(self) -> Any:
        return (_rebuild, (self.__wrapped__, _compat.jit_options(self._jitted) or {}))

    def __copy__(self) -> ReportingJit:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        known.add(new)
        return new

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


def _rebuild(fn: Callable, options: dict) -> ReportingJit:
    return ReportingJit(
        fn,
        static_argnums=options.get("static_argnums") or None,
        static_argnames=options.get("static_argnames") or None,
        donate_argnums=options.get("donate_argnums") or None,
        report=None,
    )
