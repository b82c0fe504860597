"""`jaxlab.profile` at model scale: the inspector-scale program (a 48-layer unrolled
transformer-block training step, `transformer.py`), profiled for 10 calls.

Prints the number of kernels and trace events, the wall time of the profiled calls, what JAX's
profiler takes to collect and write its trace (`stop_trace`), and jaxlab's own processing after
that: reading and parsing the trace, linking kernels to the program (HLO parse, links, fusions),
attributing times, the per-line roll-up, the timeline model and the static HTML (goal: at most
1.0 s beyond the calls). Also checks that the sum of kernel time stays within the wall time.

    .venv/bin/python benchmarks/profile_scale.py [--layers 48] [--runs 10]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from transformer import shapes, step  # noqa: E402

import jaxlab  # noqa: E402
from jaxlab.benchmarking.machine import describe, environment  # noqa: E402
from jaxlab.views.profile import profile_html, timeline_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    print(describe(environment()))
    # warm imports and the session's peak-bandwidth measurement on a small program
    t = time.perf_counter()
    jaxlab.profile(lambda x: x * 2, jnp.ones(1000), runs=2)
    print(f"first profile (imports, peak bandwidth measured once): {time.perf_counter() - t:.2f} s")

    params, x = shapes(opts.layers)
    params = jax.tree.map(lambda s: jnp.full(s.shape, 0.01, s.dtype), params)
    x = jnp.full(x.shape, 0.01, x.dtype)
    t = time.perf_counter()
    p = jaxlab.profile(step, params, x, runs=opts.runs)
    total = time.perf_counter() - t
    insp = p.inspection
    print(
        f"program: {opts.layers} layers, {len(insp.hlo_module)} HLO instructions, "
        f"{len({k.kernel for k in p.kernels})} kernels run; {p.kernels_per_call:.0f} kernel "
        "events per call"
    )
    print(f"profile() total: {total:.2f} s (trace, lower, compile, warm-up, calls, processing)")
    print(f"calls ({opts.runs}, wall): {p.wall_s:.3f} s")
    print(f"JAX's stop_trace (collect, write the Perfetto trace): {p.stop_s:.3f} s")
    print(f"jaxlab processing (parse trace, link, attribute): {p.processing_s:.3f} s")
    for step_name, seconds in p.steps.items():
        print(f"  {step_name}: {seconds:.3f} s")
    gc.collect()  # collect the garbage of compiling and profiling before timing views
    t = time.perf_counter()
    lines = p.by_line()
    rows = p.rows()
    t_rows = time.perf_counter() - t
    t = time.perf_counter()
    model = timeline_model(p)
    t_model = time.perf_counter() - t
    t = time.perf_counter()
    html = profile_html(p)
    t_html = time.perf_counter() - t
    print(f"  rows + by_line: {t_rows:.3f} s ({len(rows)} kernel rows, {len(lines)} lines)")
    print(f"  timeline model: {t_model:.3f} s ({len(model['events'])} events)")
    print(f"  static HTML: {t_html:.3f} s ({len(html) / 1e6:.2f} MB)")
    beyond = p.processing_s + t_rows + t_model + t_html
    print(f"jaxlab processing beyond the calls: {beyond:.3f} s (goal <= 1.0 s)")
    print(
        f"kernel time {p.kernel_s:.3f} s (overlaps once), summed {p.kernel_sum_s:.3f} s, "
        f"wall {p.wall_s:.3f} s, coverage {p.coverage:.0%}, within wall: {p.kernel_s <= p.wall_s}"
    )
    top = lines[0]
    print(f"top line: {top['where']} {top['code']!r} {top['percent']:.1f}%")


if __name__ == "__main__":
    main()
