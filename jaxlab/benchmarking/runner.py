"""``jaxlab.bench``: time a JAX function the way JAX needs, against NumPy and PyTorch."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from typing import Any

from jaxlab.base import format as _format
from jaxlab.base.pytrees import call_summary
from jaxlab.benchmarking import machine, timer
from jaxlab.benchmarking import processes as _processes
from jaxlab.benchmarking import roofline as _roofline
from jaxlab.benchmarking.apart import Apart
from jaxlab.benchmarking.convert import signature
from jaxlab.benchmarking.point import Options, PointOutcome, memory_notes, run_point
from jaxlab.benchmarking.progress import Clock, resolve
from jaxlab.benchmarking.result import BenchError, BenchResult, Note, work_dtype
from jaxlab.benchmarking.sweep import default_make, element_count, parse_sizes, user_make
from jaxlab.benchmarking.variants import (
    Variant,
    default_baseline,
    default_reference,
    default_variants,
    named_variants,
    select,
)
from jaxlab.core import compile_events as _compile_events
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.core.errors import explain
from jaxlab.core.jit import ReportingJit


@takes_call(renamed={"input_dtype": "dtype", "roofline": "peak"})
def bench(
    fn: Callable | Mapping[str, Any],
    *args: Any,
    vs: Any = None,
    variants: Sequence[str] | str | None = None,
    baseline: str | None = None,
    sizes: Any = None,
    make: Callable[[int], Any] | None = None,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    x64: bool = False,
    dtype: Any = None,
    time_budget: float = 1.0,
    precision: float = 0.02,
    min_runs: int = 10,
    runs: int | None = None,
    loops: int | None = None,
    check: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    peak: bool = True,
    flops: Callable[[int], float] | float | None = None,
    bytes_accessed: Callable[[int], float] | float | None = None,
    progress: Any = "auto",
    label: str | None = None,
    processes: int | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> BenchResult:
    """Time ``fn(*args, **kwargs)`` as ``jax.jit(fn)``, eager ``fn`` and its NumPy twin.

    Every output leaf is waited on; trace, lower, compile, first call and steady state are
    reported apart; NumPy inputs are put on the device first (the transfer is reported
    apart); each variant is warmed up, its calls per sample are calibrated against the timer's
    resolution, and variants are sampled in interleaved turns until the median is known to
    ± `precision` (95 % interval) over at least 3 turns that agree, or `time_budget` seconds
    are spent (at least 3 samples). Compiled variants are timed first, before the variants
    that allocate op by op (eager, the twins) run at all; when the compiled call allocates
    1 MiB or more per call, those run in a fresh worker process, so that their allocations
    do not decide where the compiled call's output lands (reused memory or fresh pages),
    here or in your own loops afterwards. A compilation inside the timed loop flags the timing
    invalid, with JAX's reason. Page faults and bytes allocated per call, modes (separated
    clusters of samples) and pace changes (turns more than 10 % apart) are reported, with
    their cause where it is measured.

    vs: twins to compare with: 'numpy' (default), 'torch', 'numpy,torch', or
        {'numpy': g, 'torch': h} for twins of your own; () for none.
    variants: which of jit, eager and the twins to run (default all), e.g. ('jit', 'numpy').
    fn may also be a mapping of named variants, {name: function} or {name: (function, args)};
        a name starting with numpy/np or torch gets its inputs in that library.
    sizes, make: a size sweep; ``make(n)`` returns the arguments at size n (a tuple, or the
        single argument); by default the first array argument is rescaled to n elements.
    x64 / dtype: run JAX in 64-bit / cast every floating input, so that JAX and NumPy
        compute at the same precision.
    flops, bytes_accessed: work per call (numbers, or functions of the size) for the roofline
        columns; by default XLA's cost analysis of the compiled program.
    peak: measure the device's peak memory bandwidth (once per session) to show %
        of peak.
    check, rtol, atol: compare every variant's output with jit's (integers exactly, floats
        within a tolerance set by the dtype).
    processes: repeat the whole measurement in this many fresh worker processes (same
        Python, environment and import path; the function and inputs are sent with
        cloudpickle) and pool their samples, keeping each process's median: a process's
        memory layout can pick its time. A function that cannot be sent is timed here, and
        a note says why. Ctrl-C keeps the processes that finished.

    `fn`'s own keyword arguments go in ``kwargs={...}`` (every keyword above is jaxlab's).
    Returns a :class:`jaxlab.BenchResult`.
    """
    kwargs = dict(kwargs or {})
    input_dtype, roofline = dtype, peak
    opts = _options(time_budget, precision, min_runs, runs, loops, check, rtol, atol, input_dtype)
    opts.flops, opts.bytes = flops, bytes_accessed
    nums = _stages.normalize_argnums(static_argnums)
    names = _stages.normalize_argnames(static_argnames)
    reporter = resolve(progress)
    shipped: list[Note] = []
    if processes is not None:
        count = _processes.check_processes(processes)
        options = {
            "vs": vs,
            "variants": variants,
            "baseline": baseline,
            "sizes": sizes,
            "make": make,
            "static_argnums": static_argnums,
            "static_argnames": static_argnames,
            "x64": x64,
            "dtype": input_dtype,
            "time_budget": time_budget,
            "precision": precision,
            "min_runs": min_runs,
            "runs": runs,
            "loops": loops,
            "check": check,
            "rtol": rtol,
            "atol": atol,
            "peak": False,
            "flops": flops,
            "bytes_accessed": bytes_accessed,
            "progress": None,
            "label": label,
        }
        result = _in_processes(fn, args, kwargs, options, count, reporter, shipped)
        if result is not None:
            return _with_peak(result, roofline)
    result = _here(
        fn,
        args,
        kwargs,
        vs,
        variants,
        baseline,
        sizes,
        make,
        nums,
        names,
        x64,
        input_dtype,
        opts,
        reporter,
        label,
    )
    for note in shipped:
        _add_note(result.notes, note)
    return _with_peak(result, roofline)


def _in_processes(
    fn: Any,
    args: tuple,
    kwargs: dict,
    options: dict[str, Any],
    count: int,
    reporter: Any,
    shipped: list[Note],
) -> BenchResult | None:
    """The measurement repeated in `count` fresh processes, or None (with a note in
    `shipped`) when the call cannot be sent to one."""
    if isinstance(fn, ReportingJit):
        fn = fn.jitted
    call = {
        "fn": fn,
        "args": args,
        "kwargs": kwargs,
        "options": options,
        "jax_options": _processes.jax_options(),
    }
    try:
        data = _processes.payload(call)
    except _processes.NotShippable as exc:
        shipped.append(
            Note("warn", f"processes={count} not used: {exc}; timed in this process only")
        )
        return None
    title = options["label"] or (
        ", ".join(map(str, fn)) if isinstance(fn, Mapping) else _stages.function_name(fn)
    )
    reporter.start(count, f"bench {title} in {count} fresh processes")
    clock = Clock()

    def done(k: int, result: BenchResult | None, error: str | None) -> None:
        if result is None:
            reporter.update(k + 1, error or "failed")
            return
        shown = ", ".join(
            f"{t.variant} {_format.format_seconds(t.median_s)}" for t in result.timings[:3]
        )
        reporter.update(k + 1, f"process {k + 1}: {shown}")

    results, errors, interrupted = _processes.run_workers(data, count, done)
    reporter.finish(
        f"{len(results)} of {count} processes in {_format.format_seconds(clock.elapsed)}"
        + (" (stopped by Ctrl-C)" if interrupted else "")
    )
    if not results:
        raise BenchError(
            f"every worker process failed; the first said: {errors[0]}"
            if errors
            else "no worker process finished"
        )
    result = _processes.merge(results)
    if interrupted:
        result.interrupted = True
        _add_note(
            result.notes,
            Note(
                "warn",
                f"interrupted (Ctrl-C) after {len(results)} of {count} worker processes: the "
                f"figures pool those {len(results)}",
                major=True,
            ),
        )
    for line in errors:
        _add_note(result.notes, Note("error", line))
    compiled = {v.name for v in result.variants if v.kind == "jit"}
    memory = memory_notes(result.timings, len(results), compiled, sweep=result.sweep)
    for note in _processes.process_notes(result) + memory:
        _add_note(result.notes, note)
    return result


def _here(
    fn: Any,
    args: tuple,
    kwargs: dict,
    vs: Any,
    variants: Any,
    baseline: str | None,
    sizes: Any,
    make: Any,
    nums: tuple[int, ...],
    names: tuple[str, ...],
    x64: bool,
    input_dtype: Any,
    opts: Options,
    reporter: Any,
    label: str | None,
) -> BenchResult:
    """The measurement in this process."""
    with ExitStack() as stack:
        if x64:
            import jax

            stack.enter_context(jax.enable_x64(True))
        log = stack.enter_context(_compile_events.recording(explain=True))
        notes: list[Note] = []
        if isinstance(fn, Mapping):
            if vs is not None:
                raise BenchError("named variants already say what to compare: leave out vs")
            vlist = named_variants(fn, static_argnums=nums, static_argnames=names)
            title = label or named_title(vlist)
        else:
            vlist, notes = default_variants(fn, vs, static_argnums=nums, static_argnames=names)
            title = label or f"{_format.function_name(fn)}({signature(args, kwargs, fn)})"
            if sizes is not None and label is None:
                title = sweep_title(_format.function_name(fn), parse_sizes(sizes))
        vlist = select(vlist, variants)
        base = baseline if baseline is not None else default_baseline(vlist)
        if base is not None and base not in {v.name for v in vlist}:
            raise BenchError(
                f"no variant named {base!r} to use as the baseline; "
                f"the variants are {', '.join(v.name for v in vlist)}"
            )
        ref = default_reference(vlist)
        settings = _settings(opts, x64, input_dtype)
        if sizes is None:
            apart = Apart(args, kwargs, opts, x64)
            points, interrupted = _single(vlist, args, kwargs, opts, log, ref, apart)
        else:
            factory, how = _factory(vlist, args, kwargs, make, nums)
            settings["sizes_made_by"] = how
            apart = Apart((), {}, opts, x64, sweep=True)
            points, interrupted = _sweep(
                vlist, parse_sizes(sizes), factory, opts, log, ref, reporter, title, notes, apart
            )
        notes.extend(apart.notes)
        result = _assemble(title, vlist, points, base, ref, sizes is not None, notes, settings)
        result.interrupted = interrupted
        named = None if isinstance(fn, Mapping) else fn
        result.arguments = call_summary(named, args, kwargs).rows()
    return result


def named_title(vlist: list[Variant]) -> str:
    """'jit: f_jit(x: f32[8]), numpy: f(f64[8])': each named variant and what it calls."""
    parts = []
    for v in vlist:
        call = _format.function_name(v.fn)
        if v.args is not None:
            call += f"({signature(v.args, v.kwargs or {})})"
        parts.append(f"{v.name}: {call}")
    return ", ".join(parts)


def sweep_title(name: str, sizes: list[int]) -> str:
    """'f over n = 100–1e6': what a size sweep timed (no one shape names it)."""
    lo, hi = min(sizes), max(sizes)
    span = (
        _format.format_size(lo)
        if lo == hi
        else f"{_format.format_size(lo)}–{_format.format_size(hi)}"
    )
    return f"{name} over n = {span}"


def _with_peak(result: BenchResult, roofline: bool) -> BenchResult:
    """Both measured roofs (memory bandwidth; compute in each dtype the variants compute in),
    the caches the OS lists, and a note where a rate is above a roof, saying which and why."""
    if not roofline or not any(t.bytes or t.flops for t in result.timings):
        return result
    peak = _roofline.peak_bandwidth()
    compute = {}
    for dtype in dict.fromkeys(work_dtype(t) for t in result.timings if t.flops):
        try:
            found = _roofline.peak_compute(None, dtype)
        except Exception:  # a dtype XLA cannot multiply here: no compute roof for it
            continue
        for t in result.timings:  # a variant faster than the probe is the better measurement
            rate = t.flops / t.median_s if t.flops and t.samples and t.median_s > 0 else 0.0
            if work_dtype(t) == dtype and rate > found.flops_per_s:
                found = _roofline.beaten(found, rate, t.variant)
        compute[dtype] = {"gflops": found.gflops, "method": found.method}
    result.peak = {
        "gbps": peak.gbps,
        "method": peak.method,
        "device": peak.device,
        "compute": compute,
        "caches": [list(c) for c in _roofline.cache_levels()],
    }
    for t in result.timings:
        roofed = result.roof(t)
        if roofed is not None and roofed.why:
            where = f" at n={t.size}" if result.sweep else ""
            _add_note(
                result.notes,
                Note("info", f"{t.variant}{where}: {roofed.why}", variant=t.variant, topic="roof"),
            )
    return result


def _options(
    time_budget: float,
    precision: float,
    min_runs: int,
    runs: int | None,
    loops: int | None,
    check: bool,
    rtol: float | None,
    atol: float | None,
    input_dtype: Any,
) -> Options:
    def positive(name: str, value: Any, integer: bool = False) -> None:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        if integer:
            ok = ok and float(value).is_integer()
        if not ok:
            kind = "a positive whole number" if integer else "a positive number"
            raise BenchError(f"{name} must be {kind}; got {value!r}")

    positive("time_budget", time_budget)
    positive("precision", precision)
    positive("min_runs", min_runs, integer=True)
    if runs is not None:
        positive("runs", runs, integer=True)
    if loops is not None:
        positive("loops", loops, integer=True)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (isinstance(value, (int, float)) and value >= 0):
            raise BenchError(f"{name} must be a number ≥ 0; got {value!r}")
    dtype = None
    if input_dtype is not None:
        import numpy as np

        try:
            dtype = np.dtype(input_dtype)
        except TypeError:
            raise BenchError(
                f"input_dtype {input_dtype!r} is not a dtype; use e.g. 'float32' or 'float64'"
            ) from None
        if dtype.kind not in "fc" and str(dtype) != "bfloat16":
            raise BenchError(f"input_dtype must be a floating dtype; got {dtype}")
    return Options(
        time_budget=float(time_budget),
        precision=float(precision),
        min_runs=int(min_runs),
        runs=int(runs) if runs is not None else None,
        loops=int(loops) if loops is not None else None,
        check=bool(check),
        rtol=rtol,
        atol=atol,
        dtype=dtype,
    )


def _settings(opts: Options, x64: bool, input_dtype: Any) -> dict[str, Any]:
    return {
        "time_budget_s": opts.time_budget,
        "precision": opts.precision,
        "min_runs": opts.min_runs,
        "runs": opts.runs,
        "loops": opts.loops,
        "x64": bool(x64),
        "input_dtype": str(opts.dtype) if opts.dtype is not None else None,
        "check": opts.check,
        "rtol": opts.rtol,
        "atol": opts.atol,
        "timer_resolution_s": timer.timer_resolution(),
    }


def _factory(
    vlist: list[Variant], args: tuple, kwargs: dict, make: Any, nums: tuple[int, ...]
) -> tuple[Callable[[int], tuple[tuple, dict]], str]:
    fixed = [v.name for v in vlist if v.args is not None]
    if fixed:
        raise BenchError(
            f"a size sweep needs variants given as functions, but {', '.join(fixed)} "
            "are calls with fixed arguments: name the functions and give make"
        )
    if make is not None:
        return user_make(make), "the argument factory"
    return default_make(args, kwargs, nums)


def _single(
    vlist: list[Variant],
    args: tuple,
    kwargs: dict,
    opts: Options,
    log: Any,
    ref: str | None,
    apart: Apart | None = None,
) -> tuple[list[PointOutcome], bool]:
    size = element_count(args, kwargs)
    outcome = run_point(vlist, args, kwargs, size, opts, log, ref, apart=apart)
    if not outcome.timings:
        _raise_first(outcome)
    return [outcome], outcome.interrupted


def _raise_first(outcome: PointOutcome) -> None:
    if outcome.errors:
        raise next(iter(outcome.errors.values()))
    raise BenchError("nothing was timed")


def _sweep(
    vlist: list[Variant],
    size_list: list[int],
    factory: Callable[[int], tuple[tuple, dict]],
    opts: Options,
    log: Any,
    ref: str | None,
    reporter: Any,
    title: str,
    notes: list[Note],
    apart: Apart | None = None,
) -> tuple[list[PointOutcome], bool]:
    points: list[PointOutcome] = []
    interrupted = False
    clock = Clock()
    reporter.start(len(size_list), f"bench {title}")
    try:
        for i, n in enumerate(size_list):
            try:
                args, kwargs = factory(n)
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                message = f"the argument factory failed at n={n}: {explain(exc).message()}"
                if not points:
                    raise BenchError(message) from exc
                notes.append(Note("error", message + "; the sweep stopped there"))
                break
            if apart is not None:
                apart.args, apart.kwargs = args, kwargs
            outcome = run_point(vlist, args, kwargs, n, opts, log, ref, sweep=True, apart=apart)
            if outcome.interrupted:
                raise KeyboardInterrupt
            if not outcome.timings:
                if not points:
                    _raise_first(outcome)
                notes.append(Note("error", f"every variant failed at n={n}; the sweep stopped"))
                points.append(outcome)
                break
            points.append(outcome)
            shown = ", ".join(
                f"{t.variant} {_format.format_seconds(t.median_s)}" for t in outcome.timings
            )
            reporter.update(i + 1, f"n={n}: {shown}")
    except KeyboardInterrupt:
        interrupted = True
        if not any(p.timings for p in points):
            reporter.finish("interrupted before the first size finished")
            raise
        done = sum(1 for p in points if p.timings)
        notes.append(
            Note(
                "warn",
                f"interrupted (Ctrl-C) after {done} of {len(size_list)} sizes: "
                "the finished sizes are kept",
                major=True,
            )
        )
        reporter.finish(f"interrupted after {done} of {len(size_list)} sizes")
        return points, interrupted
    reporter.finish(f"{len(points)} sizes in {_format.format_seconds(clock.elapsed)}")
    return points, interrupted


def _add_note(notes: list[Note], note: Note) -> None:
    if all(n.text != note.text for n in notes):
        notes.append(note)


def _assemble(
    title: str,
    vlist: list[Variant],
    points: list[PointOutcome],
    base: str | None,
    ref: str | None,
    sweep: bool,
    notes: list[Note],
    settings: dict[str, Any],
) -> BenchResult:
    result = BenchResult(
        label=title,
        variants=[v.info for v in vlist],
        timings=[t for p in points for t in p.timings],
        baseline=base,
        reference=ref,
        sweep=sweep,
        environment=machine.environment(),
        settings=settings,
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    for note in notes:
        _add_note(result.notes, note)
    for p in points:
        for name, message in p.failures.items():
            size = f" (at n={p.size})" if sweep else ""
            result.failures.setdefault(name, message + size)
        result.mismatches.extend(p.mismatches)
        for note in p.notes:
            _add_note(result.notes, note)
    timed = {t.variant for t in result.timings}
    if base is not None and base not in timed:
        result.baseline = next((v.name for v in vlist if v.name in timed and v.name != ref), None)
    if ref is not None and ref not in timed:
        result.reference = next((v.name for v in vlist if v.name in timed), None)
    return result
