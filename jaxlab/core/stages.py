"""trace → lower → compile → run, each stage timed, with JAX's AOT API (``jax.stages``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax

from jaxlab.base import compat as _compat
from jaxlab.base.format import format_seconds, format_stages, function_name, short_repr
from jaxlab.core import compile_events as _compile_events


@dataclass(frozen=True)
class StageTimings:
    """Wall times in seconds of each stage; run times are None when nothing was run."""

    trace: float
    lower: float
    compile: float
    first_run: float | None = None
    steady_run: float | None = None  # median of `steady_runs` calls after the first
    steady_runs: int = 0
    # stages JAX answered from its caches (an earlier identical call did the work)
    cached: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "trace": self.trace,
            "lower": self.lower,
            "compile": self.compile,
            "first_run": self.first_run,
            "steady_run": self.steady_run,
            "steady_runs": self.steady_runs,
            "cached": list(self.cached),
        }

    @property
    def total_compile(self) -> float:
        return self.trace + self.lower + self.compile

    def summary(self) -> str:
        parts = [format_stages(self.trace, self.lower, self.compile, self.cached)]
        if self.first_run is not None:
            parts.append(f"first run {format_seconds(self.first_run)}")
        if self.steady_run is not None:
            parts.append(
                f"steady run {format_seconds(self.steady_run)} (median of {self.steady_runs})"
            )
        return ", ".join(parts)


@dataclass
class Staged:
    """The products of each stage of one call, and what it took to make them."""

    fn: Callable
    jitted: Any
    args: tuple
    kwargs: dict
    static_argnums: tuple[int, ...]
    static_argnames: tuple[str, ...]
    traced: Any
    lowered: Any
    compiled: Any
    trace_s: float
    lower_s: float
    compile_s: float
    cached: tuple[str, ...] = ()
    output: Any = None
    first_run_s: float | None = None
    steady_s: list[float] = field(default_factory=list)

    @property
    def fn_name(self) -> str:
        return function_name(self.fn)

    @property
    def timings(self) -> StageTimings:
        return StageTimings(
            trace=self.trace_s,
            lower=self.lower_s,
            compile=self.compile_s,
            first_run=self.first_run_s,
            steady_run=statistics.median(self.steady_s) if self.steady_s else None,
            steady_runs=len(self.steady_s),
            cached=self.cached,
        )

    def dynamic_args(self) -> tuple[tuple, dict]:
        """The arguments the compiled executable takes: the call's, minus static ones."""
        args = tuple(a for i, a in enumerate(self.args) if i not in self.static_argnums)
        kwargs = {k: v for k, v in self.kwargs.items() if k not in self.static_argnames}
        return args, kwargs

    @property
    def runnable(self) -> bool:
        """False when an argument is an abstract placeholder (``jax.ShapeDtypeStruct``)."""
        return not any(
            isinstance(leaf, jax.ShapeDtypeStruct)
            for leaf in jax.tree_util.tree_leaves((self.args, self.kwargs))
        )

    def run(self, steady_repeats: int = 5, budget_s: float = 0.5) -> Any:
        """Run the compiled program: once for the first-run time, then a few steady-state calls.

        Every output leaf is waited on, so the times cover the work, not only its dispatch.
        Arguments the program donates get a fresh copy for each call (made before the clock
        starts): the caller's arrays stay valid and every call finds live buffers.
        """
        args, kwargs = self.dynamic_args()
        fresh = _fresh_arguments(self.compiled, self.jitted, args, kwargs)
        self.steady_s = []
        call_args, call_kwargs = fresh()
        t0 = time.perf_counter()
        out = jax.block_until_ready(self.compiled(*call_args, **call_kwargs))
        self.first_run_s = time.perf_counter() - t0
        self.output = out
        deadline = time.perf_counter() + budget_s
        for _ in range(steady_repeats):
            call_args, call_kwargs = fresh()
            t0 = time.perf_counter()
            jax.block_until_ready(self.compiled(*call_args, **call_kwargs))
            self.steady_s.append(time.perf_counter() - t0)
            if time.perf_counter() > deadline:
                break
        return out

    def call_once(self) -> Callable[[], float]:
        """A function that runs the compiled program once, waits for every output leaf and
        returns the call's wall time; donated arguments get a fresh copy before the clock
        starts."""
        args, kwargs = self.dynamic_args()
        fresh = _fresh_arguments(self.compiled, self.jitted, args, kwargs)
        compiled = self.compiled

        def once() -> float:
            call_args, call_kwargs = fresh()
            t0 = time.perf_counter()
            jax.block_until_ready(compiled(*call_args, **call_kwargs))
            return time.perf_counter() - t0

        return once


def donated_leaves(compiled: Any) -> list[bool] | None:
    """Whether each leaf of a compiled program's arguments is donated, from its public
    ``args_info`` (None when it has none)."""
    try:
        infos = jax.tree_util.tree_leaves(compiled.args_info)
        return [bool(info.donated) for info in infos]
    except Exception:
        return None


def _fresh_arguments(
    compiled: Any, jitted: Any, args: tuple, kwargs: dict
) -> Callable[[], tuple[tuple, dict]]:
    """A function giving the arguments of one call: donated arrays copied (the call consumes
    the copy), everything else as it is."""
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    flags = donated_leaves(compiled)
    if flags is None or len(flags) != len(leaves):
        # the program does not say which leaves it takes over: if jit was asked to donate,
        # copy every array
        options = _compat.jit_options(jitted) or {}
        donates = bool(options.get("donate_argnums") or options.get("donate_argnames"))
        flags = [donates] * len(leaves)
    if not any(flags):
        return lambda: (args, kwargs)

    def fresh() -> tuple[tuple, dict]:
        copied = [
            jax.device_put(leaf, leaf.sharding, may_alias=False)
            if flag and isinstance(leaf, jax.Array)
            else leaf
            for leaf, flag in zip(leaves, flags, strict=True)
        ]
        jax.block_until_ready(copied)
        return jax.tree_util.tree_unflatten(treedef, copied)

    return fresh


def normalize_argnums(value: int | Sequence[int] | None) -> tuple[int, ...]:
    if value is None:
        return ()
    if isinstance(value, int):
        return (value,)
    return tuple(int(v) for v in value)


def normalize_argnames(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def make_jitted(
    fn: Callable,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
) -> tuple[Any, tuple[int, ...], tuple[str, ...]]:
    """``jax.jit(fn)`` with the given options, reusing `fn` when it already is a jitted function.

    A jitted `fn` is used as it is when it already has the options asked for (its caches and
    every other jit option are kept). Otherwise its original function is jitted again with the
    jit's own static and donated arguments plus the ones asked for, so that an argument the
    jit made static stays static. Options not given are left to JAX, which infers names from
    numbers and numbers from names, as ``jax.jit`` does.

    Returns the jitted callable and its static argument numbers and names as JAX resolved them
    (``static_argnums=1`` also makes that parameter static when passed by name).
    """
    if not callable(fn):
        raise TypeError(
            f"expected a function, got {type(fn).__name__}: {short_repr(fn)}. "
            "Pass the function itself, e.g. `inspect(f, x)`."
        )
    nums = normalize_argnums(static_argnums)
    names = normalize_argnames(static_argnames)
    donate = normalize_argnums(donate_argnums)
    donate_names: tuple[str, ...] = ()
    if _compat.is_jitted(fn):
        existing = _compat.jit_options(fn)
        if existing is None and not (nums or names or donate):
            return fn, (), ()
        if existing is not None:
            if (
                set(nums) <= set(existing["static_argnums"])
                and set(names) <= set(existing["static_argnames"])
                and set(donate) <= set(existing["donate_argnums"])
            ):
                return fn, existing["static_argnums"], existing["static_argnames"]
            original = fn.__wrapped__
            nums = _union(existing["static_argnums"], nums)
            names = _union(existing["static_argnames"], names, _param_names(original, nums))
            donate = _union(existing["donate_argnums"], donate)
            donate_names = _union(existing["donate_argnames"], _param_names(original, donate))
        fn = fn.__wrapped__
    jitted = jax.jit(
        fn,
        static_argnums=nums or None,
        static_argnames=names or None,
        donate_argnums=donate or None,
        donate_argnames=donate_names or None,
    )
    resolved = _compat.jit_options(jitted)
    if resolved is None:
        return jitted, nums, names
    return jitted, resolved["static_argnums"], resolved["static_argnames"]


def _union(*groups: Sequence[Any]) -> tuple:
    """The items of all groups, each once, in first-seen order (numbers sorted)."""
    items = tuple(dict.fromkeys(item for group in groups for item in group))
    return tuple(sorted(items)) if all(isinstance(i, int) for i in items) else items


def _param_names(fn: Callable, positions: Sequence[int]) -> tuple[str, ...]:
    """Names of the parameters at `positions` that may also be passed by name."""
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in params if p.kind in kinds]
    return tuple(
        positional[i].name
        for i in positions
        if 0 <= i < len(positional) and positional[i].kind == kinds[1]
    )


def stage(
    fn: Callable,
    args: tuple,
    kwargs: dict,
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
    compile: Callable[[Any], Any] | None = None,
) -> Staged:
    """Trace, lower and compile one call of `fn`, timing each stage. `compile(lowered)`
    replaces ``lowered.compile()`` (to compile under watch)."""
    jitted, nums, names = make_jitted(fn, static_argnums, static_argnames, donate_argnums)
    with _compile_events.recording() as log:
        t0 = time.perf_counter()
        traced = jitted.trace(*args, **kwargs)
        t1 = time.perf_counter()
        lowered = traced.lower()
        t2 = time.perf_counter()
        compiled = lowered.compile() if compile is None else compile(lowered)
        t3 = time.perf_counter()
    return Staged(
        fn=fn,
        jitted=jitted,
        args=tuple(args),
        kwargs=dict(kwargs),
        static_argnums=nums,
        static_argnames=names,
        traced=traced,
        lowered=lowered,
        compiled=compiled,
        trace_s=t1 - t0,
        lower_s=t2 - t1,
        compile_s=t3 - t2,
        cached=log.cached_stages(),
    )
