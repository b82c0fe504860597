"""The numerics explorer at model scale: the 48-layer unrolled transformer training step
(``transformer.py``: value and gradient of the loss), instrumented against the plain jitted
step.

Prints: the rows recorded; the instrumented call's time against the plain jitted call's (median
of several calls after a warm-up; goal at most 3x); the instrumented program's compile time
against the plain compile (goal at most 3x); the device memory XLA plans beyond the plain run
(temporaries and outputs from ``memory_analysis``; goal at most 10 %); and jaxlab's own
processing (rebuilding the program while tracing it, decoding the statistics, the origin
search; goal at most 1 s), with JAX's own trace of the same step for scale.

Times on a shared machine are noisy; the script also prints figures that depend less on the
load: the CPU time of the compile and of jaxlab's own processing, the number of HLO
instructions and of fusion kernels of both programs, and the device memory split into
temporaries, the function's outputs and the statistics' records.

With ``--compare bf16`` (or another ``numerics_diff`` configuration) it also runs the precision
explorer on the same step: the ranked creators, the final loss's error, and the comparison's
wall time against the numerics run's (trace, compile and run; goal at most 3x).

    .venv/bin/python benchmarks/numerics_scale.py [--layers 48] [--calls 5] [--compare bf16]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import jax  # noqa: E402
from transformer import shapes, step  # noqa: E402

from jaxlab.core import numerics as _numerics  # noqa: E402
from jaxlab.core.analysis import memory_analysis  # noqa: E402
from jaxlab.ir.numerics_origin import find_origin  # noqa: E402


def real_arguments(layers: int):
    specs, xspec = shapes(layers)
    keys = iter(jax.random.split(jax.random.key(0), 8 * layers + 2))
    params = [
        {k: jax.random.normal(next(keys), s.shape, s.dtype) * 0.05 for k, s in layer.items()}
        for layer in specs
    ]
    return params, jax.random.normal(next(keys), xspec.shape, xspec.dtype)


def call_times(fn, args, calls: int) -> float:
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def planned_bytes(compiled) -> int | None:
    """Device memory XLA plans for one call beyond the arguments: temporaries and outputs."""
    mem = memory_analysis(compiled)
    if not mem:
        return None
    return int(mem.get("temp_size", 0)) + int(mem.get("output_size", 0))


def memory_parts(compiled) -> tuple[float, float]:
    """(temporaries, outputs) in MiB."""
    mem = memory_analysis(compiled) or {}
    return int(mem.get("temp_size", 0)) / 2**20, int(mem.get("output_size", 0)) / 2**20


def hlo_size(compiled) -> tuple[int, int]:
    """(instructions, fusion kernels) of the optimized HLO."""
    text = compiled.as_text() or ""
    instructions = len(re.findall(r"^\s*(?:ROOT )?%\S+ = ", text, re.M))
    entry = text.split("\nENTRY", 1)[-1]
    return instructions, len(re.findall(r" fusion\(", entry))


def compiled_timed(lowered):
    """``lowered.compile()`` with its wall and CPU (all threads) seconds."""
    t0, c0 = time.perf_counter(), time.process_time()
    compiled = lowered.compile()
    return compiled, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--compare", default=None, help="also run numerics_diff, e.g. bf16")
    options = parser.parse_args()
    params, x = real_arguments(options.layers)
    leaves = jax.tree_util.tree_leaves((params, x))
    print(f"machine: {platform.processor() or platform.machine()}, {jax.devices()[0].platform}")
    print(f"program: value_and_grad of {options.layers} transformer blocks, width 64, 128 tokens")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    # JAX's own trace of the step (one layer traced first, so that JAX's first-use costs
    # are not counted): what rebuilding the program while tracing it is measured against
    jax.jit(step).trace(params[:1], x)
    t0 = time.perf_counter()
    jax.jit(step).trace(params, x)
    trace_s = time.perf_counter() - t0
    plain, plain_compile, plain_cpu = compiled_timed(jax.jit(step).lower(params, x))
    plain_call = call_times(plain, (params, x), options.calls)

    t_numerics = time.perf_counter()
    closed = jax.jit(step).trace(params, x).jaxpr
    inst = _numerics.instrument(closed, leaves, value_outputs=1)
    t0, c0 = time.perf_counter(), time.process_time()
    rows, _ = _numerics.decode_rows(inst)
    names = [f"leaf {i}" for i in range(len(leaves))]
    arguments = _numerics.decode_arguments(inst, names, closed.in_avals)
    origin = find_origin(rows, arguments)
    decode_s, decode_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    numerics_s = time.perf_counter() - t_numerics
    inst_call = call_times(inst.compiled, leaves, options.calls)
    inst_compile = inst.lower_s + inst.compile_s

    plain_bytes, inst_bytes = planned_bytes(plain), planned_bytes(inst.compiled)
    print(f"rows recorded: {len(rows):,} equation outputs; origin: {origin}")
    (plain_instr, plain_kernels), (inst_instr, inst_kernels) = map(hlo_size, (plain, inst.compiled))
    print(
        f"HLO:     plain {plain_instr:,} instructions, {plain_kernels:,} fusions   "
        f"instrumented {inst_instr:,} instructions, {inst_kernels:,} fusions"
    )
    print(
        f"call:    plain {plain_call * 1e3:8.1f} ms   instrumented {inst_call * 1e3:8.1f} ms"
        f"   ratio {inst_call / plain_call:5.2f}x  (goal <= 3x)"
    )
    print(
        f"compile: plain {plain_compile:8.2f} s    instrumented {inst_compile:8.2f} s "
        f"   ratio {inst_compile / plain_compile:5.2f}x  (goal <= 3x)"
    )
    print(
        f"compile CPU time (all threads): plain {plain_cpu:.2f} s   instrumented "
        f"{inst.compile_cpu_s:.2f} s   ratio {inst.compile_cpu_s / plain_cpu:5.2f}x"
    )
    if plain_bytes and inst_bytes:
        extra = (inst_bytes - plain_bytes) / plain_bytes * 100
        print(
            f"device memory planned (temporaries + outputs): plain {plain_bytes / 2**20:.2f} MiB"
            f"   instrumented {inst_bytes / 2**20:.2f} MiB   beyond plain {extra:+.1f} %"
            "  (goal <= 10 %)"
        )
        (pt, po), (it, io) = map(memory_parts, (plain, inst.compiled))
        print(
            f"  temporaries: plain {pt:.2f} MiB, instrumented {it:.2f} MiB ({it - pt:+.2f});  "
            f"outputs: plain {po:.2f} MiB, instrumented {io:.2f} MiB (the statistics' "
            f"records: {io - po:+.2f})"
        )
    else:
        print("device memory: memory_analysis unavailable on this backend")
    own = inst.instrument_s + decode_s
    print(
        f"jaxlab's own processing: {own:.2f} s (rebuilding while tracing {inst.instrument_s:.2f}"
        f" s, decoding and origin search {decode_s:.2f} s; JAX's own trace of the step"
        f" {trace_s:.2f} s)  (goal <= 1 s)"
    )
    print(
        f"  its CPU time: {inst.instrument_cpu_s + decode_cpu_s:.2f} s (rebuilding"
        f" {inst.instrument_cpu_s:.2f} s, decoding and origin search {decode_cpu_s:.2f} s)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if options.compare:
        compare_report(params, x, options.compare, numerics_s)


def compare_report(params, x, compare: str, numerics_s: float) -> None:
    import jaxlab

    t0 = time.perf_counter()
    d = jaxlab.numerics_diff(step, params, x, compare=compare)
    diff_s = time.perf_counter() - t0
    loss = d.outputs[0] if d.outputs else None
    print(
        f"numerics_diff compare={compare}: {len(d.rows):,} matched outputs of "
        f"{d.equations[1]:,} equations; final loss error "
        f"{loss['rel_error']:.3g} ({loss['ulps']:.3g} ulps)"
        if loss
        else "no floating output"
    )
    for r in d.creators()[:5]:
        print(
            f"  creator: {r['primitive']:<14} line {r['line']}  local_error "
            f"{r['local_error']:.3g}  rel_error {r['rel_error']:.3g}"
        )
    print(
        f"cost: numerics_diff {diff_s:.2f} s against the numerics run {numerics_s:.2f} s"
        f"   ratio {diff_s / numerics_s:5.2f}x  (goal <= 3x)"
    )


if __name__ == "__main__":
    main()
