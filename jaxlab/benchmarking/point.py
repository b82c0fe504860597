"""One point of a benchmark: every variant at one size, prepared, warmed up and then timed in
interleaved rounds (compiled variants before those that allocate op by op), with a guard
against compilations inside the timed loop."""

from __future__ import annotations

import functools
import gc
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.base import format as _format
from jaxlab.benchmarking import agree, memory, pace, roofline, stats, timer
from jaxlab.benchmarking.convert import Inputs, convert, dtypes_of, signature
from jaxlab.benchmarking.modes import describe as describe_modes
from jaxlab.benchmarking.result import BenchError, Mismatch, Note, Timing
from jaxlab.benchmarking.variants import Variant
from jaxlab.core import analysis as _analysis
from jaxlab.core import stages as _stages
from jaxlab.core.cache_misses import category, summarize
from jaxlab.core.compile_events import CompileLog
from jaxlab.core.errors import explain

MIN_RUNS_ALWAYS = 3  # even a slow variant is sampled this often
WARMUP_S = 0.05
BLOCK_S = 0.1  # seconds of samples a variant takes in turn, after one untimed call
MIN_WINDOW = 0.15  # fraction of the budget a variant is sampled at least, precision or not
STEADY = 3  # the halves of the samples, and its turns, may differ by this many times the precision
MIN_TURNS = 3  # turns (blocks, at least BLOCK_S apart) a variant is sampled in before it may stop


@dataclass
class Options:
    """How long and how precisely to time (see :func:`jaxlab.bench`)."""

    time_budget: float = 1.0  # seconds of timed runs per variant and size
    precision: float = 0.02  # stop once the median's 95 % interval is within ± this fraction
    min_runs: int = 10
    max_runs: int = 100_000
    runs: int | None = None  # fixed number of samples (no adaptive stop)
    loops: int | None = None  # fixed calls per sample (no calibration)
    check: bool = True
    rtol: float | None = None
    atol: float | None = None
    dtype: Any = None
    flops: Callable[[int], float] | float | None = None
    bytes: Callable[[int], float] | float | None = None


@dataclass
class _Prepared:
    """A variant ready to time. `output` holds an output only for the checks after the
    timing; the timed loop holds no output. `whole` puts back the leaves a jitted call
    could not return (static ones)."""

    variant: Variant
    call: Callable[[], Any]
    sync: Callable[[Any], Any]
    timing: Timing
    output: Any
    number: int = 1
    per_call: float = 0.0  # estimated in the warm-up
    spent: float = 0.0  # seconds in this variant's blocks, opening calls included
    next_check: int = 0
    inputs: tuple[tuple, dict] = ((), {})
    compiled_memory: dict[str, int] | None = None
    jaxpr: Any = None  # the traced program of a compiled variant
    whole: Callable[[Any], Any] | None = None


@dataclass
class PointOutcome:
    timings: list[Timing] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    interrupted: bool = False
    size: int | None = None


def phases(variants: list[Variant]) -> list[list[Variant]]:
    """The variants in the order they are timed: compiled ones first, then those computing in
    NumPy or PyTorch, then those running JAX op by op (eager, a function of the user's own),
    each group prepared, warmed up and timed before the next one runs at all.

    A compiled call that writes a large output reuses the block its previous output freed
    when the allocator keeps it, and gets fresh pages (one fault per page) when it does not;
    which of the two depends on the malloc arenas of XLA's threads, where it allocates. JAX
    run op by op allocates its large temporaries in those same arenas and can change that
    state for the rest of the process: timed after it, the compiled call's time is the one it
    left behind, not the one a plain loop of it gets. NumPy and PyTorch allocate on the
    calling thread, in an arena XLA's threads do not use."""
    compiled = [v for v in variants if v.kind == "jit"]
    host = [v for v in variants if v.kind != "jit" and not on_xla_threads(v)]
    op_by_op = [v for v in variants if on_xla_threads(v)]
    return [group for group in (compiled, host, op_by_op) if group]


def on_xla_threads(v: Variant) -> bool:
    """Whether a variant runs JAX op by op, allocating each result on XLA's threads: eager,
    and a function of the user's own that gets JAX arrays (not a NumPy or PyTorch one)."""
    return v.kind != "jit" and v.framework == "jax"


def run_point(
    variants: list[Variant],
    args: tuple,
    kwargs: dict,
    size: int | None,
    opts: Options,
    log: CompileLog,
    reference: str | None,
    *,
    sweep: bool = False,
    apart: Callable[..., PointOutcome | None] | None = None,
    untimed: Collection[str] = (),
) -> PointOutcome:
    """Every variant at one size (`sweep`: one size of several, which notes then name), timed
    group by group (see :func:`phases`); the outputs are checked (finite, agreeing with the
    reference) after the timing, one untimed call each.

    apart(variants, reference, allocation) may time the group running JAX op by op elsewhere
    (a worker process) and return its outcome, or None to time it here. Variants named in
    `untimed` are prepared and checked against but not timed (a worker's reference)."""
    outcome = PointOutcome(size=size)
    inputs: dict[str, Inputs] = {}
    done: list[_Prepared] = []
    traced = None
    for k, group in enumerate(phases([v for v in variants if v.name not in untimed])):
        if k > 0 and apart is not None and all(map(on_xla_threads, group)):
            compiled = [p.timing for p in done if p.variant.kind == "jit"]
            elsewhere = apart(group, _reference_variant(variants, reference), compiled)
            if elsewhere is not None:
                _merge_outcome(outcome, elsewhere)
                continue
        try:
            prepared = _run_group(group, args, kwargs, size, opts, log, inputs, outcome, traced)
        except KeyboardInterrupt:
            if not any(p.timing.samples for p in done):
                raise
            outcome.interrupted = True
            break
        traced = traced or next((p.jaxpr for p in prepared if p.jaxpr is not None), None)
        done += prepared
        if outcome.interrupted:
            break
    done = [p for p in done if p.variant.name not in outcome.failures]
    for v in variants:
        if v.name in untimed and not outcome.interrupted:
            try:
                done.append(_prepare(v, args, kwargs, size, opts, inputs, outcome))
            except Exception:  # nothing to check against: the checks take the first variant
                continue
    _check_outputs(done, reference, size, opts, outcome)
    here = [p for p in done if p.variant.name not in untimed and p.timing.samples]
    compiled = {p.variant.name for p in here if p.variant.kind == "jit"}
    # the notes of a group timed elsewhere came with it
    notes = memory_notes([p.timing for p in here], compiled=compiled, sweep=sweep)
    outcome.notes.extend(notes)
    order = {v.name: i for i, v in enumerate(variants)}
    timings = [p.timing for p in here] + outcome.timings
    outcome.timings = sorted(timings, key=lambda t: order.get(t.variant, len(order)))
    _apply_work(outcome.timings, opts, size)
    return outcome


def _reference_variant(variants: list[Variant], reference: str | None) -> Variant | None:
    return next((v for v in variants if v.name == reference), None)


def _merge_outcome(outcome: PointOutcome, other: PointOutcome) -> None:
    """A group's outcome timed elsewhere, added to this point's."""
    outcome.timings.extend(other.timings)
    outcome.failures.update(other.failures)
    outcome.errors.update(other.errors)
    outcome.mismatches.extend(other.mismatches)
    outcome.notes.extend(other.notes)
    outcome.interrupted = outcome.interrupted or other.interrupted


def _run_group(
    group: list[Variant],
    args: tuple,
    kwargs: dict,
    size: int | None,
    opts: Options,
    log: CompileLog,
    inputs: dict[str, Inputs],
    outcome: PointOutcome,
    traced: Any,
) -> list[_Prepared]:
    """One group prepared (first call), warmed up and timed in interleaved turns. A Ctrl-C
    after every variant of the group has samples marks the outcome interrupted."""
    prepared: list[_Prepared] = []
    for v in group:
        try:
            p = _prepare(v, args, kwargs, size, opts, inputs, outcome)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            _fail(outcome, v, exc, "failed")
            continue
        # nothing a variant returned stays alive while anything is timed: a live output
        # changes where the allocator puts the next one (fresh pages or reused ones)
        p.output = None
        prepared.append(p)
    if not prepared:
        return prepared
    _measure_allocations(prepared, traced)
    gc.collect()
    for p in prepared:
        try:
            _warm_up(p, opts)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            _fail(outcome, p.variant, exc, "failed")
    prepared = [p for p in prepared if p.variant.name not in outcome.failures]
    if not prepared:
        return prepared
    try:
        _timed_rounds(prepared, opts, log, outcome)
    except KeyboardInterrupt:
        if not all(p.timing.samples for p in prepared):
            raise
        outcome.interrupted = True
        for p in prepared:
            p.timing.stopped = p.timing.stopped or "interrupted"
    return [p for p in prepared if p.variant.name not in outcome.failures]


def _check_outputs(
    prepared: list[_Prepared],
    reference: str | None,
    size: int | None,
    opts: Options,
    outcome: PointOutcome,
) -> None:
    """One untimed call of each variant, after all the timing, for the checks: the
    reference's output finite, every output agreeing with it."""
    if not prepared or outcome.interrupted:
        return
    try:
        for p in prepared:
            p.output = p.sync(p.call())
            if p.whole is not None:
                p.output = p.whole(p.output)
        ref = next((p for p in prepared if p.variant.name == reference), prepared[0])
        _check_finite(ref, outcome)
        if opts.check:
            _check_agreement(prepared, ref, size, opts, outcome)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        outcome.notes.append(Note("warn", f"the outputs could not be checked: {exc}"))
    finally:
        for p in prepared:
            p.output = None


def _measure_allocations(prepared: list[_Prepared], traced: Any = None) -> None:
    """Bytes per call for every variant, from one untimed call each where it takes one:
    XLA's memory analysis for compiled variants, the jitted variant's jaxpr for the eager
    one (the same operations, each allocating its result; never a new trace of the user's
    function, which could have side effects), tracemalloc for
    NumPy (which reports its array data there), resident-memory growth otherwise."""
    traced = next((p.jaxpr for p in prepared if p.jaxpr is not None), traced)
    for p in prepared:
        t = p.timing
        alloc = None
        try:
            if p.compiled_memory is not None:
                alloc = memory.jit_allocation(p.compiled_memory)
            elif p.variant.kind == "eager" and traced is not None:
                alloc = memory.eager_allocation(traced)
            elif p.variant.framework == "numpy":
                alloc = memory.traced_allocation(p.call)
            if alloc is None:
                alloc = memory.rss_growth(p.call, p.sync)
        except KeyboardInterrupt:
            raise
        except Exception:
            alloc = None
        if alloc is not None:
            t.alloc_bytes, t.alloc_source = alloc.bytes, alloc.source
        p.inputs = ((), {})


def memory_notes(
    timings: list[Timing],
    processes: int = 0,
    compiled: Collection[str] = (),
    *,
    sweep: bool = False,
) -> list[Note]:
    """Page faults that explain much of a variant's time, modes and pace changes, with their
    cause. Modes whose samples fault differently are memory; modes that are only the machine's
    turns at different paces are told as a pace change. A jitted variant's fresh pages get
    the malloc-arena advice where it applies (measured for one compiled program per call; op
    by op, the same setting did not keep the pages). A note names the size only in a size
    `sweep` (a bench of one call has one size, its elements)."""
    notes = []
    for t in timings:
        where = f" at n={t.size}" if sweep and t.size is not None else ""
        faults = t.faults_per_call
        fresh = 0.0  # pages per call that faults explain the time (or a slow mode) by
        if faults is not None:
            text = memory.faults_note(t.variant + where, faults, t.median_s)
            if text:
                notes.append(Note("warn", text, variant=t.variant, topic="memory"))
                fresh = faults
        per_mode = t.mode_faults() if t.multimodal else []
        memory_modes = t.multimodal and _slow_mode_faults(per_mode)
        if t.multimodal and (memory_modes or t.pace is None):
            notes.append(
                Note("warn", mode_note(t, where, processes), variant=t.variant, topic="memory")
            )
        if memory_modes:
            fresh = max(fresh, (per_mode[-1] or 0.0) - (per_mode[0] or 0.0))
        arena = memory.arena_note(t.variant + where, fresh) if t.variant in compiled else None
        if arena:
            notes.append(Note("warn", arena, variant=t.variant, topic="memory"))
        if t.pace is not None and not memory_modes:
            notes.append(
                Note("warn", pace.note(t.variant + where, t.pace), variant=t.variant, topic="pace")
            )
    return notes


def _slow_mode_faults(per_mode: list[float | None]) -> bool:
    """The slowest mode takes at least 10 more page faults per call than the fastest."""
    if len(per_mode) < 2 or any(f is None for f in per_mode):
        return False
    fast, slow = per_mode[0], per_mode[-1]
    return slow is not None and fast is not None and slow >= fast + 10


def mode_note(t: Timing, where: str = "", processes: int = 0) -> str:
    """'jit: bimodal: 0.4 ms (55 %) / 5.1 ms (45 %) …': the modes, their faults, the advice."""
    text = f"{t.variant}{where}: {describe_modes(t.modes)}, so no single median describes it"
    per_mode = t.mode_faults()
    if all(f is not None for f in per_mode) and len(per_mode) > 1:
        shown = " / ".join(f"{f:.0f}" for f in per_mode)
        if _slow_mode_faults(per_mode):
            text += (
                f"; page faults per call in each mode {shown}: the slow mode writes into fresh "
                "memory pages (memory, not compute)"
            )
        else:
            text += f"; page faults per call in each mode {shown}: not a memory effect"
    if processes:
        return text + f" (samples of {processes} processes pooled)"
    return text + (
        ". Run it in fresh processes (--processes 5 / processes=5) to see how often each "
        "mode occurs"
    )


def _fail(outcome: PointOutcome, v: Variant, exc: BaseException, verb: str) -> None:
    fn_name = _format.function_name(v.fn)
    summary = str(exc) if isinstance(exc, BenchError) else explain(exc, fn_name=fn_name).message()
    role = {"twin": f"{v.framework} twin", "jit": "jitted function", "eager": "eager run"}.get(
        v.kind, "variant"
    )
    outcome.failures[v.name] = f"{v.name} ({role} `{fn_name}`) {verb}: {summary}"
    outcome.errors[v.name] = exc


def _prepare(
    v: Variant,
    args: tuple,
    kwargs: dict,
    size: int | None,
    opts: Options,
    inputs: dict[str, Inputs],
    outcome: PointOutcome,
) -> _Prepared:
    if v.args is not None:
        inp = Inputs(v.args, v.kwargs or {})
    else:
        key = f"{v.framework}:{v.static_argnums}:{v.static_argnames}"
        if key not in inputs:
            inputs[key] = convert(
                v.framework,
                args,
                kwargs,
                static_argnums=v.static_argnums,
                static_argnames=v.static_argnames,
                dtype=opts.dtype,
            )
        inp = inputs[key]
    timing = Timing(variant=v.name, size=size, transfer_s=inp.transfer_s)
    timing.signature = signature(inp.args, inp.kwargs)
    if inp.moved and not any(n.text.startswith("NumPy inputs") for n in outcome.notes):
        outcome.notes.append(
            Note(
                "info",
                f"NumPy inputs ({', '.join(inp.moved)}) were put on the device before timing "
                f"(host→device {_format.format_seconds(inp.transfer_s)}, reported apart, "
                "not in the times)",
            )
        )
    staged = prepared = None
    if v.kind == "jit":
        jit_options = _compat.jit_options(v.fn) or {}
        if any(jit_options.get(k) for k in ("donate_argnums", "donate_argnames")):
            raise BenchError(
                "it donates its arguments (donate_argnums), so a second call would find them "
                "deleted; jit it without donation to benchmark it"
            )
        # v.fn is the jitted function itself (static arguments included): stage that one,
        # and time the function it staged (the same one when no leaf is held static), so the
        # calls below find its executable in JAX's caches
        prepared = _stages.prepare(v.fn, inp.args, inp.kwargs)
        staged = _stages.stage_prepared(prepared)
        call = functools.partial(prepared.jitted, *prepared.call_args, **prepared.call_kwargs)
        timing.trace_s, timing.lower_s, timing.compile_s = (
            staged.trace_s,
            staged.lower_s,
            staged.compile_s,
        )
        timing.cached = list(staged.cached)
    else:
        call = functools.partial(v.fn, *inp.args, **inp.kwargs)
    t0 = time.perf_counter()
    output = call()
    sync = timer.sync_for(output)
    sync(output)
    timing.first_call_s = time.perf_counter() - t0
    if prepared is not None:  # the leaves jit could not return, back in place
        output = prepared.whole_output(output)
    timing.out_dtypes = dtypes_of(output)
    p = _Prepared(v, call, sync, timing, output)
    p.inputs = (inp.args, inp.kwargs)
    if prepared is not None:
        p.whole = prepared.whole_output
    if staged is not None:
        work = roofline.work_from_cost(_analysis.cost_analysis(staged.compiled))
        if work is not None:
            timing.bytes, timing.flops, timing.work_source = work.bytes, work.flops, work.source
        p.compiled_memory = _analysis.memory_analysis(staged.compiled)
        p.jaxpr = getattr(staged.traced, "jaxpr", None)
    return p


def _warm_up(p: _Prepared, opts: Options) -> None:
    """A few untimed calls (caches, page faults, lazy initialisation), which also estimate the
    time per call for the loop count."""
    times = []
    deadline = time.perf_counter() + min(WARMUP_S, 0.1 * opts.time_budget)
    while not times or (time.perf_counter() < deadline and len(times) < 100):
        times.append(timer.timed_call(p.call, p.sync)[1])
    p.per_call = sorted(times)[len(times) // 2]
    p.number = p.timing.number = opts.loops or timer.loop_count(p.per_call)
    p.next_check = max(opts.min_runs, MIN_RUNS_ALWAYS)


def _apply_work(timings: list[Timing], opts: Options, size: int | None) -> None:
    """Bytes and FLOPs per call: the user's formula, else XLA's estimate for the first
    compiled variant, applied to every variant (they all do the same work)."""
    formula = {}
    for key in ("bytes", "flops"):
        value = getattr(opts, key)
        if value is None:
            continue
        formula[key] = float(value(size) if callable(value) else value)
    if formula:
        for t in timings:
            t.bytes = formula.get("bytes", t.bytes)
            t.flops = formula.get("flops", t.flops)
            t.work_source = "formula"
        return
    source = next((t for t in timings if t.bytes is not None or t.flops is not None), None)
    if source is None:
        for t in timings:
            t.work_source = None
        return
    for t in timings:
        if t.bytes is None and t.flops is None:
            t.bytes, t.flops = source.bytes, source.flops
            t.work_source = f"XLA cost analysis of {source.variant}"


def _timed_rounds(
    prepared: list[_Prepared], opts: Options, log: CompileLog, outcome: PointOutcome
) -> None:
    """Interleaved sampling: each round gives every active variant a block of about
    ``BLOCK_S`` seconds, opened by one untimed call (so that the memory left behind by the
    variant before does not land in this one's times); the first variant of the round rotates.
    Stops per variant by :func:`_stop_reason`."""
    active = list(prepared)
    round_no = 0
    previous = prepared[-1]  # the last one warmed up
    while active:
        k = round_no % len(active)
        for p in active[k:] + active[:k]:
            events, explained, compiled = len(log.events), len(log.explanations), len(log)
            t0 = time.perf_counter()
            reason = ""
            try:
                if previous is not None and previous is not p:
                    timer.timed_call(p.call, p.sync)
                p.timing.blocks.append(len(p.timing.samples))
                for _ in range(_block_samples(p)):
                    measured = timer.counted_sample(p.call, p.sync, p.number)
                    p.timing.samples.append(measured.seconds)
                    p.timing.faults.append(measured.faults)
                    p.timing.cpu_s.append(measured.cpu)
                    if len(log.events) > events:
                        p.timing.recompilations.extend(_reasons(log, explained, compiled))
                        events, explained, compiled = (
                            len(log.events),
                            len(log.explanations),
                            len(log),
                        )
                    reason = _stop_reason(p, opts, p.spent + time.perf_counter() - t0)
                    if reason:
                        break
            except Exception as exc:
                _fail(outcome, p.variant, exc, "failed while being timed")
                active.remove(p)
                continue
            finally:
                previous = p
            p.spent += time.perf_counter() - t0
            if reason:
                p.timing.stopped = reason
                active.remove(p)
        round_no += 1


def _block_samples(p: _Prepared) -> int:
    per_sample = max(p.per_call * p.number, 1e-9)
    return max(1, math.ceil(BLOCK_S / per_sample))


def _reasons(log: CompileLog, explained: int, compiled: int) -> list[str]:
    # a new object at each call first: the user's closure, before the misses it causes inside
    # a library (the note shows the first)
    found = sorted(log.explanations[explained:], key=lambda nw: category(nw[1]) != "new-object")
    reasons = [f"{name}: {summarize(why)}" for name, why in found]
    if not reasons:
        names = [c.name for c in log.compilations[compiled:]] or ["a function"]
        reasons = [f"{name} was traced or compiled again" for name in names]
    return reasons


def _stop_reason(p: _Prepared, opts: Options, spent: float) -> str:
    n = len(p.timing.samples)
    if opts.runs is not None:
        return "runs" if n >= opts.runs else ""
    if p.timing.recompilations and n >= MIN_RUNS_ALWAYS:
        return "recompiled"
    if n >= opts.max_runs:
        return "max runs"
    # the precision rule needs a window long enough to see the machine's slower swings (some
    # turns, spread over the other variants' blocks: samples of one turn share the machine's
    # state and are not independent), and a steady one: the two halves of the samples and
    # every turn's median must agree (a shared machine that changes pace mid-way keeps the
    # variant sampling until its budget is spent, and the result says so)
    t = p.timing
    # a turn counts once it holds the samples it is compared by (the one being taken may not)
    least = min(pace.MIN_BLOCK_SAMPLES, _block_samples(p))
    if (
        n >= p.next_check
        and spent >= MIN_WINDOW * opts.time_budget
        and len(t.blocks) >= MIN_TURNS
        and len(pace.block_medians(t.samples, t.blocks, least)) >= MIN_TURNS
    ):
        p.next_check = max(n + 1, math.ceil(n * 1.1))
        summary = stats.summarize(t.samples)
        if summary.rel_half_width <= opts.precision and _steady(t, opts.precision, least):
            return "precision"
    if spent >= opts.time_budget and n >= MIN_RUNS_ALWAYS:
        return "budget"
    return ""


def _steady(t: Timing, precision: float, least: int | None = None) -> bool:
    """The medians of the first and the second half of the samples, and those of every turn,
    differ by at most ``STEADY`` × `precision`."""
    samples = t.samples
    half = len(samples) // 2
    first, second = sorted(samples[:half]), sorted(samples[half:])
    m1, m2 = first[len(first) // 2], second[len(second) // 2]
    tolerance = STEADY * precision
    return abs(m1 - m2) <= tolerance * min(m1, m2) and pace.steady(
        samples, t.blocks, tolerance, least
    )


NONFINITE = "nonfinite"  # the topic of the note saying the output holds NaN or Inf


def _check_finite(ref: _Prepared, outcome: PointOutcome) -> None:
    """A note when the reference variant's output holds NaN or Inf (counted on the device):
    its times are those of a computation that went wrong."""
    from jaxlab.core.nonfinite import nonfinite

    found = nonfinite(ref.output)
    if found is None:
        return
    outcome.notes.append(
        Note(
            "warn",
            f"{ref.variant.name} returns {found.counts_text()}{found.where_text()}: "
            "these are the times of a computation that went wrong",
            variant=ref.variant.name,
            topic=NONFINITE,
        )
    )


def _check_agreement(
    prepared: list[_Prepared],
    ref: _Prepared,
    size: int | None,
    opts: Options,
    outcome: PointOutcome,
) -> None:
    """Every output against the reference's (`ref`, one of `prepared`)."""
    for p in prepared:
        if p is ref:
            continue
        problem, gap = agree.compare_outputs(ref.output, p.output, rtol=opts.rtol, atol=opts.atol)
        name, ref_name = p.variant.name, ref.variant.name
        if problem is not None:
            outcome.mismatches.append(
                Mismatch(
                    name, ref_name, size, f"{name} disagrees with {ref_name}: {problem.message}"
                )
            )
        if gap is not None:
            outcome.notes.append(
                Note(
                    "warn",
                    f"{ref_name} computes in {gap.theirs} but {name} in {gap.ours}: not the same "
                    "work. Run JAX in 64-bit (--x64 / x64=True) or cast every input "
                    "(--dtype float32 / dtype='float32').",
                    variant=name,
                    major=True,
                )
            )
