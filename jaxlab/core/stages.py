"""trace → lower → compile → run, each stage timed, with JAX's AOT API (``jax.stages``).

Every analysis stages a user's call here, through :func:`prepare`: arrays are traced and
every other leaf of the arguments (functions, strings, other Python objects) is held static,
as ``equinox.filter_jit`` does (see :mod:`jaxlab.core.partition`). A callable that brings its
own staging (``eqx.filter_jit``, ``nnx.jit``, anything with ``.lower`` or ``.trace`` that is not
``jax.jit``'s) is called inside the staged program, so it partitions and jits the call its own
way and the program shown is the one the user's call compiles.
"""

from __future__ import annotations

import functools
import statistics
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jax

from jaxlab.base import compat as _compat
from jaxlab.base.format import format_seconds, format_stages, function_name, short_repr
from jaxlab.base.renamed import renamed
from jaxlab.core import compile_events as _compile_events

if TYPE_CHECKING:  # imported when a call is staged: %load_ext jaxlab stays cheap
    from jaxlab.core import partition as _partition


@dataclass(frozen=True)
class StageTimings:
    """Wall times in seconds of each stage; run times are None when nothing was run."""

    trace_s: float
    lower_s: float
    compile_s: float
    first_run_s: float | None = None
    steady_run_s: float | None = None  # median of `steady_runs` calls after the first
    steady_runs: int = 0
    # stages JAX answered from its caches (an earlier identical call did the work)
    cached: tuple[str, ...] = ()

    trace = renamed("trace_s")
    lower = renamed("lower_s")
    compile = renamed("compile_s")
    first_run = renamed("first_run_s")
    steady_run = renamed("steady_run_s")

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "trace_s": self.trace_s,
            "lower_s": self.lower_s,
            "compile_s": self.compile_s,
            "first_run_s": self.first_run_s,
            "steady_run_s": self.steady_run_s,
            "steady_runs": self.steady_runs,
            "cached": list(self.cached),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageTimings:
        """The timings `as_dict` wrote (files from before the ``_s`` names included)."""

        def seconds(name: str) -> float | None:
            value = data.get(f"{name}_s", data.get(name))
            return None if value is None else float(value)

        return cls(
            trace_s=seconds("trace") or 0.0,
            lower_s=seconds("lower") or 0.0,
            compile_s=seconds("compile") or 0.0,
            first_run_s=seconds("first_run"),
            steady_run_s=seconds("steady_run"),
            steady_runs=int(data.get("steady_runs") or 0),
            cached=tuple(data.get("cached") or ()),
        )

    @property
    def total_compile_s(self) -> float:
        return self.trace_s + self.lower_s + self.compile_s

    total_compile = renamed("total_compile_s")

    def summary(self) -> str:
        parts = [format_stages(self.trace_s, self.lower_s, self.compile_s, self.cached)]
        if self.first_run_s is not None:
            parts.append(f"first run {format_seconds(self.first_run_s)}")
        if self.steady_run_s is not None:
            parts.append(
                f"steady run {format_seconds(self.steady_run_s)} (median of {self.steady_runs})"
            )
        return ", ".join(parts)


@dataclass
class Staged:
    """The products of each stage of one call, and what it took to make them."""

    prepared: Prepared  # the call as staged: function, arguments, static leaves
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
    def fn(self) -> Callable:
        return self.prepared.fn

    @property
    def jitted(self) -> Any:
        return self.prepared.jitted

    @property
    def args(self) -> tuple:
        return self.prepared.args

    @property
    def kwargs(self) -> dict:
        return self.prepared.kwargs

    @property
    def static_argnums(self) -> tuple[int, ...]:
        return self.prepared.static_argnums

    @property
    def static_argnames(self) -> tuple[str, ...]:
        return self.prepared.static_argnames

    @property
    def fn_name(self) -> str:
        return function_name(self.fn)

    @property
    def timings(self) -> StageTimings:
        return StageTimings(
            trace_s=self.trace_s,
            lower_s=self.lower_s,
            compile_s=self.compile_s,
            first_run_s=self.first_run_s,
            steady_run_s=statistics.median(self.steady_s) if self.steady_s else None,
            steady_runs=len(self.steady_s),
            cached=self.cached,
        )

    @property
    def static_leaves(self) -> tuple[_partition.StaticLeaf, ...]:
        """The leaves of the arguments held static (not whole static arguments)."""
        return self.prepared.partition.static

    def dynamic_args(self) -> tuple[tuple, dict]:
        """The arguments the compiled executable takes (see :meth:`Prepared.dynamic_args`)."""
        return self.prepared.dynamic_args()

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
        out = self.prepared.whole_output(out)
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
        _hashable(fn),
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


@dataclass
class Prepared:
    """One call made ready for JAX's AOT API: ``jitted.trace(*call_args, **call_kwargs)``
    traces it. `call_args`/`call_kwargs` are the call's arguments with the leaves held static
    left out (``None`` in their place); `partition` says which leaves those are.

    When tracing fails because the function needs a Python scalar of its arguments as a
    Python value (JAX's concretization errors: a flag in an ``if``, a loop count) and Python
    scalars sit inside its arguments (a dict of options, a module's flag field), the call is
    staged again with every Python scalar held static, as ``eqx.filter_jit`` holds them, and
    `scalars_static` says so. A number passed as an argument itself stays traced, so a
    function branching on it fails as it does under ``jax.jit`` (`static_argnums` is the fix)."""

    fn: Callable
    jitted: Any
    args: tuple
    kwargs: dict
    static_argnums: tuple[int, ...]
    static_argnames: tuple[str, ...]
    partition: _partition.Partition
    _outputs: dict | None = None
    _base: Any = None  # the jitted function before leaves were held static
    scalars_static: bool = False

    def whole_output(self, out: Any) -> Any:
        """An output of `jitted` with the leaves it could not return (functions, strings …)
        put back as the function returned them."""
        if self._outputs is None or self._outputs["layout"] is None:
            return out
        from jaxlab.core.partition import restore_output

        return restore_output(out, self._outputs["layout"])

    @property
    def call_args(self) -> tuple:
        return self.partition.call_args

    @property
    def call_kwargs(self) -> dict:
        return self.partition.call_kwargs

    def dynamic_args(self) -> tuple[tuple, dict]:
        """The arguments the compiled executable takes: the call's, minus static arguments,
        static leaves left out."""
        args = tuple(a for i, a in enumerate(self.call_args) if i not in self.static_argnums)
        kwargs = {k: v for k, v in self.call_kwargs.items() if k not in self.static_argnames}
        return args, kwargs

    def flat_args(self) -> list[Any]:
        """The traced leaves, in the order of the traced jaxpr's inputs:
        ``jax.core.eval_jaxpr(closed.jaxpr, closed.consts, *prepared.flat_args())`` evaluates
        the call's jaxpr (``closed = prepared.trace().jaxpr``)."""
        return jax.tree_util.tree_leaves(self.dynamic_args())

    def trace(self) -> Any:
        """``jax.stages.Traced`` of the call (its ``.jaxpr``, ``.lower()``)."""
        return self._scalars_held_if_needed(
            lambda: self.jitted.trace(*self.call_args, **self.call_kwargs)
        )

    def call(self) -> Any:
        """Run the call through the jitted function (compiling it on the first call); its
        output whole."""
        out = self._scalars_held_if_needed(lambda: self.jitted(*self.call_args, **self.call_kwargs))
        return self.whole_output(out)

    def _scalars_held_if_needed(self, attempt: Callable[[], Any]) -> Any:
        try:
            return attempt()
        except _CONCRETE_VALUE_NEEDED:
            # only scalars inside an argument (a dict of options, a module's flag field): a
            # number passed as an argument itself is traced and fails as under jax.jit
            if not self.partition.nested_scalars or self.scalars_static:
                raise
        from jaxlab.core.partition import partition

        self.partition = partition(
            self.fn,
            self.args,
            self.kwargs,
            static_argnums=self.static_argnums,
            static_argnames=self.static_argnames,
            scalars=False,
        )
        self.jitted, self._outputs = _held_jit(self._base, self.partition)
        self.scalars_static = True
        return attempt()


# JAX's errors for a traced value used where Python needs a concrete one
_CONCRETE_VALUE_NEEDED = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
)


def prepare(
    fn: Callable,
    args: tuple,
    kwargs: dict | None = None,
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    donate_argnums: int | Sequence[int] | None = None,
) -> Prepared:
    """The one way jaxlab stages a user's call ``fn(*args, **kwargs)``.

    Arrays (JAX, NumPy, ``jax.ShapeDtypeStruct``) and Python scalars are traced, as
    ``jax.jit`` does; every other leaf is held static (compared by value when hashable, by
    identity otherwise: a fresh unhashable object means a new compilation, as with
    ``eqx.filter_jit``). Python scalars are traced so that the program is the one
    ``jax.jit(fn)`` compiles, and a learning rate or step size that changes does not
    recompile. A callable with its own staging gets every leaf but arrays as it is (Python
    scalars included) and partitions the call its own way inside the staged program.
    """
    kwargs = dict(kwargs or {})
    jitted, nums, names = make_jitted(fn, static_argnums, static_argnames, donate_argnums)
    own = has_own_staging(getattr(jitted, "__wrapped__", fn))
    from jaxlab.core.partition import partition

    part = partition(
        fn, tuple(args), kwargs, static_argnums=nums, static_argnames=names, scalars=not own
    )
    base, outputs = jitted, None
    if part.static or own:
        jitted, outputs = _held_jit(jitted, part)
    return Prepared(fn, jitted, tuple(args), kwargs, nums, names, part, outputs, base)


def has_own_staging(fn: Any) -> bool:
    """True for a callable that stages its calls itself (``eqx.filter_jit``, ``nnx.jit``, any
    object with ``.lower`` or ``.trace``) but is not ``jax.jit``'s or jaxlab's."""
    if _compat.is_jitted(fn) or isinstance(fn, type):
        return False
    return callable(getattr(fn, "lower", None)) or callable(getattr(fn, "trace", None))


# jitted functions holding static leaves, one per (function, options, static leaves): the
# same call finds the same jitted function, so JAX's caches answer it
class _ByIdentity:
    """The few most recent things made for an object, found by the object's identity (it
    may be unhashable), each kept with the object so a reused id never finds them."""

    def __init__(self, size: int = 64):
        self._items: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
        self._size = size

    def get(self, obj: Any, key: tuple, make: Callable[[], Any]) -> Any:
        full = (id(obj), *key)
        found = self._items.get(full)
        if found is not None and found[0] is obj:
            self._items.move_to_end(full)
            return found[1]
        made = self._items[full] = (obj, make())
        if len(self._items) > self._size:
            self._items.popitem(last=False)
        return made[1]


_HELD = _ByIdentity()
_WRAPPERS = _ByIdentity()


def _hashable(fn: Callable) -> Callable:
    """`fn`, or a function calling it when it is unhashable (``jax.jit`` hashes what it
    wraps; callable objects such as ``eqx.filter_value_and_grad``'s may not hash)."""
    try:
        hash(fn)
        return fn
    except TypeError:
        pass

    def make() -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        return functools.update_wrapper(call, fn, updated=())

    return _WRAPPERS.get(fn, (), make)


def _held_jit(jitted: Any, part: _partition.Partition) -> tuple[Any, dict]:
    """`jitted`'s function jitted again with the same options, taking the call's arguments
    with the static leaves left out and putting them back before calling the function; its
    output leaves JAX cannot return are left out too (``outputs["layout"]`` puts them back)."""
    from jaxlab.core.partition import split_output

    fn = jitted.__wrapped__
    options = _compat.jit_options(jitted) or {}

    def make() -> tuple[Any, dict]:
        # the layout of the output's static leaves, from the last trace
        outputs: dict[str, Any] = {"layout": None}

        def call(*args: Any, **kwargs: Any) -> Any:
            args, kwargs = part.rebuild(args, kwargs)
            out, outputs["layout"] = split_output(fn(*args, **kwargs))
            return out

        # JAX names the program and its arguments from `fn` (signature followed via __wrapped__)
        functools.update_wrapper(call, fn, updated=())
        return jax.jit(call, **{k: v or None for k, v in options.items()}), outputs

    return _HELD.get(fn, (tuple(sorted(options.items())), part.key), make)


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
    """Trace, lower and compile one call of `fn` (staged by :func:`prepare`), timing each
    stage. `compile(lowered)` replaces ``lowered.compile()`` (to compile under watch)."""
    prepared = prepare(
        fn,
        args,
        kwargs,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        donate_argnums=donate_argnums,
    )
    return stage_prepared(prepared, compile=compile)


def stage_prepared(prepared: Prepared, *, compile: Callable[[Any], Any] | None = None) -> Staged:
    """:func:`stage` of a call made ready by :func:`prepare`."""
    with _compile_events.recording() as log:
        t0 = time.perf_counter()
        traced = prepared.trace()
        t1 = time.perf_counter()
        lowered = traced.lower()
        t2 = time.perf_counter()
        compiled = lowered.compile() if compile is None else compile(lowered)
        t3 = time.perf_counter()
    return Staged(
        prepared=prepared,
        traced=traced,
        lowered=lowered,
        compiled=compiled,
        trace_s=t1 - t0,
        lower_s=t2 - t1,
        compile_s=t3 - t2,
        cached=log.cached_stages(),
    )
