"""What a benchmark times: by default ``jax.jit(f)``, eager ``f`` (op by op) and its NumPy twin;
or twins given by the user; or named variants (the ``%%bench`` cell form)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.base import format as _format
from jaxlab.benchmarking.result import BenchError, Note, VariantInfo
from jaxlab.benchmarking.twins import LIBRARY, TwinError, make_twin, torch_available
from jaxlab.core import stages as _stages
from jaxlab.core.jit import ReportingJit


@dataclass
class Variant:
    """One thing to time. Without fixed `args`, the benchmark's arguments are converted for
    `framework` ('jax': on the device; 'numpy'; 'torch') and passed to `fn`."""

    name: str
    fn: Callable
    framework: str
    kind: str  # jit | eager | twin | custom
    how: str = ""
    args: tuple | None = None  # a fixed call, as the user wrote it
    kwargs: dict | None = None
    static_argnums: tuple[int, ...] = ()
    static_argnames: tuple[str, ...] = ()

    @property
    def info(self) -> VariantInfo:
        framework = "given" if self.args is not None else self.framework
        return VariantInfo(self.name, self.kind, framework, self.how)


def _vs_entries(vs: Any) -> tuple[list[tuple[str, Any]], bool]:
    """(name, callable or None) for each twin asked for; and whether they were asked for
    explicitly (a twin that cannot be made is then an error, not a note)."""
    if vs is None:
        return [("numpy", None)], False
    if isinstance(vs, str):
        vs = [p.strip() for p in vs.split(",") if p.strip()]
    if isinstance(vs, Mapping):
        entries = list(vs.items())
    else:
        entries = []
        for item in vs:
            if isinstance(item, str):
                entries.append((item, None))
            elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                entries.append(item)
            else:
                raise BenchError(
                    f"vs entries are framework names or (name, function) pairs; got {item!r}"
                )
    entries = [(str(name), fn) for name, fn in entries if str(name).lower() != "none"]
    for name, fn in entries:
        if framework_of_name(name) not in LIBRARY:
            raise BenchError(
                f"unknown comparison {name!r}: use 'numpy' or 'torch', optionally with a twin "
                "(vs={'numpy': g} or --vs numpy:g)"
            )
        if fn is not None and not callable(fn):
            raise BenchError(f"the {name} twin is {type(fn).__name__}, not a function")
        if framework_of_name(name) == "torch" and not torch_available():
            raise BenchError("PyTorch is not installed: `pip install torch` to compare with it")
    return entries, True


def framework_of_name(name: str) -> str:
    """'numpy', 'numpy:fast', 'np' -> 'numpy'; 'torch…' -> 'torch'; anything else 'jax'."""
    head = name.split(":", 1)[0].strip().lower()
    if head in ("numpy", "np"):
        return "numpy"
    if head in ("torch", "pytorch", "pt"):
        return "torch"
    return "jax"


def default_variants(
    fn: Callable,
    vs: Any,
    *,
    static_argnums: tuple[int, ...] = (),
    static_argnames: tuple[str, ...] = (),
) -> tuple[list[Variant], list[Note]]:
    """jit, eager and the twins of `fn`."""
    if not callable(fn):
        raise BenchError(
            f"expected a function to time, got {type(fn).__name__}: {_format.short_repr(fn)}. "
            "Pass the function and its arguments: bench(f, x)."
        )
    # a function rebound by %jit reports its compilations; time the jax.jit underneath
    target = fn.jitted if isinstance(fn, ReportingJit) else fn
    jitted, nums, names = _stages.make_jitted(target, static_argnums, static_argnames)
    eager = fn
    # the function under jax.jit or a library's own jit (eqx.filter_jit, nnx.jit), run op by op
    while (_compat.is_jitted(eager) or _stages.has_own_staging(eager)) and hasattr(
        eager, "__wrapped__"
    ):
        eager = eager.__wrapped__
    name = _format.function_name(fn)
    how = f"jax.jit({name})"
    if _stages.has_own_staging(target):
        how = f"{name}, compiled by its own jit ({type(target).__module__.split('.')[0]})"
    variants = [
        Variant("jit", jitted, "jax", "jit", how, None, None, nums, names),
        Variant("eager", eager, "jax", "eager", f"{name} op by op, without jit"),
    ]
    notes: list[Note] = []
    entries, explicit = _vs_entries(vs)
    seen = {"jit", "eager"}
    for entry_name, twin_fn in entries:
        framework = framework_of_name(entry_name)
        vname = entry_name if entry_name not in seen else f"{entry_name}:{len(seen)}"
        seen.add(vname)
        if twin_fn is not None:
            how = f"{_format.function_name(twin_fn)} (given)"
            variants.append(Variant(vname, twin_fn, framework, "twin", how))
            continue
        try:
            twin = make_twin(fn, framework)
        except TwinError as exc:
            if explicit:
                raise BenchError(str(exc)) from None
            notes.append(Note("info", f"no {LIBRARY[framework]} twin: {exc}"))
            continue
        variants.append(Variant(vname, twin.fn, framework, "twin", twin.how))
    return variants, notes


def named_variants(
    spec: Mapping[str, Any],
    *,
    static_argnums: tuple[int, ...] = (),
    static_argnames: tuple[str, ...] = (),
) -> list[Variant]:
    """Variants named by the user: name -> function, or name -> (function, args[, kwargs])
    for a fixed call. A name starting with numpy/np or torch gets its inputs in that library;
    jitted functions get their stages timed."""
    if not spec:
        raise BenchError("no variants given: name at least one, e.g. {'jit': f_jit}")
    variants = []
    for name, value in spec.items():
        args = kwargs = None
        fn = value
        if isinstance(value, tuple):
            if not 2 <= len(value) <= 3 or not isinstance(value[1], (tuple, list)):
                raise BenchError(
                    f"variant {name!r}: give a function, or (function, args) / "
                    "(function, args, kwargs)"
                )
            fn, args = value[0], tuple(value[1])
            kwargs = dict(value[2]) if len(value) == 3 else {}
        if not callable(fn):
            raise BenchError(
                f"variant {name!r} is {type(fn).__name__}: {_format.short_repr(fn)}, not a function"
            )
        framework = framework_of_name(str(name))
        if _compat.is_jitted(fn) and framework == "jax":
            jitted, nums, names = _stages.make_jitted(fn, static_argnums, static_argnames)
            how = f"{_format.function_name(fn)}, jitted"
            variants.append(
                Variant(str(name), jitted, "jax", "jit", how, args, kwargs, nums, names)
            )
        else:
            how = _format.function_name(fn)
            variants.append(Variant(str(name), fn, framework, "custom", how, args, kwargs))
    return variants


def select(variants: list[Variant], names: Sequence[str] | str | None) -> list[Variant]:
    """Keep the variants named in `names` (all when None), in the order given."""
    if names is None:
        return variants
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    by_name = {v.name: v for v in variants}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise BenchError(
            f"no variant named {', '.join(map(repr, unknown))}; "
            f"the variants are {', '.join(by_name)}"
        )
    if not names:
        raise BenchError(f"no variants selected; the variants are {', '.join(by_name)}")
    return [by_name[n] for n in names]


def default_baseline(variants: list[Variant]) -> str | None:
    """NumPy when it runs, else PyTorch, else eager, else the first variant."""
    for framework in ("numpy", "torch"):
        for v in variants:
            if v.framework == framework:
                return v.name
    for v in variants:
        if v.kind == "eager":
            return v.name
    return variants[0].name if len(variants) > 1 else None


def default_reference(variants: list[Variant]) -> str | None:
    """Outputs are checked against the first JAX variant's (jit by default)."""
    for v in variants:
        if v.framework == "jax":
            return v.name
    return variants[0].name if variants else None
