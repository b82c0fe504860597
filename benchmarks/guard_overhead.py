"""What the guards cost after each cell, with many jitted functions in the namespace.

An in-process IPython shell loads jaxlab, then defines N jitted functions (each reads a global
array, a global number and a helper function that reads another global) and calls each once, so
every one of them is traced and watched. It then reports:

  check    the post-cell check alone (recording stopped, recompilations, namespace scan,
           side-effect and stale-closure checks) on a cell that changed nothing: the steady cost
  first    the first check after the N functions were traced (reads their globals and parses
           their source once)
  scan     finding the jitted functions in the namespace, part of `check`; also done when JAX
           traces a function the guards do not know yet (one defined in the running cell)
  cell     a whole `run_cell("pass")` with the guards on, and with every guard off
  arrays   then M NumPy globals of 8 MB each are added, each read by a jitted function traced
           once (so each is watched and fingerprinted after every cell: sampled, not hashed),
           and the post-cell check is timed again

Goal: the post-cell check at most 5 ms per cell with 100 jitted functions, and with 50 NumPy
globals of 8 MB.

    .venv/bin/python benchmarks/guard_overhead.py [--functions 100] [--arrays 50] [--repeats 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

SETUP = """
import jax, jax.numpy as jnp
x = jnp.ones(8)
other = {{'k{{}}'.format(i): i for i in range(200)}}
"""

ONE_FUNCTION = """
W{i} = jnp.full(8, {i}.0)
s{i} = {i}.5
B{i} = jnp.arange(8.0)

def helper{i}(v):
    return v * B{i}

@jax.jit
def f{i}(v):
    return helper{i}(v) + W{i} * s{i}

_ = f{i}(x)
"""


ONE_ARRAY = """
A{i} = np.full({n}, {i}.0)

@jax.jit
def g{i}(v):
    return v + A{i}[3]

_ = g{i}(x)
"""


def stats(samples: list[float]) -> str:
    ms = sorted(s * 1e3 for s in samples)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    return f"median {statistics.median(ms):6.2f} ms   p90 {p90:6.2f} ms   max {ms[-1]:6.2f} ms"


def time_check(guards, namespace: dict, repeats: int) -> list[float]:
    samples = []
    for cell in range(repeats):
        guards.before_cell()
        t = time.perf_counter()
        warnings = guards.after_cell(namespace, cell)
        samples.append(time.perf_counter() - t)
        assert not warnings, [w.text() for w in warnings]
    return samples


def time_cells(ip, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        ip.run_cell("pass", store_history=True)
        samples.append(time.perf_counter() - t)
    return samples


def set_guards(hooks, on: bool) -> None:
    for name in ("stale_closures", "side_effects", "recompiles"):
        setattr(hooks.config, name, on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--arrays", type=int, default=50, help="NumPy globals of --array-mb")
    parser.add_argument("--array-mb", type=float, default=8.0)
    args = parser.parse_args()

    from IPython.testing.globalipapp import start_ipython

    from jaxlab.guards import Guards
    from jaxlab.guards._functions import global_names
    from jaxlab.guards._jitted import jitted_callables
    from jaxlab.guards._side_effects import forget_analyses
    from jaxlab.magics._guards import hooks_of

    ip = start_ipython()
    ip.run_cell("%load_ext jaxlab")
    ip.run_cell(SETUP.format())
    code = "".join(ONE_FUNCTION.format(i=i) for i in range(args.functions))
    result = ip.run_cell(code)
    if not result.success:
        raise SystemExit(f"set-up failed: {result.error_in_exec!r}")
    hooks = hooks_of(ip)
    ns = ip.user_ns
    jitted = jitted_callables(ns)
    traced = sum(j.traced for j in jitted)

    # the first check after the functions were traced, on fresh guards (a few repeats)
    first = []
    for _ in range(max(3, args.repeats // 50)):
        guards = Guards(cell_label=hooks.cell_label)
        global_names.cache_clear()
        forget_analyses()
        guards.before_cell()
        t = time.perf_counter()
        guards.after_cell(ns, 1)
        first.append(time.perf_counter() - t)
    watched = len(guards.stale)

    steady = time_check(hooks.guards, ns, args.repeats)
    scans = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        jitted_callables(ns)
        scans.append(time.perf_counter() - t)

    # whole cells, guards on and off, interleaved in blocks
    on: list[float] = []
    off: list[float] = []
    block = max(1, args.repeats // 10)
    for _ in range(10):
        set_guards(hooks, True)
        on.extend(time_cells(ip, block))
        set_guards(hooks, False)
        off.extend(time_cells(ip, block))
    set_guards(hooks, True)

    # large NumPy globals read by jitted functions: fingerprinted after each cell
    n = int(args.array_mb * 2**20 / 8)
    ip.run_cell("import numpy as np")
    code = "".join(ONE_ARRAY.format(i=i, n=n) for i in range(args.arrays))
    result = ip.run_cell(code)
    if not result.success:
        raise SystemExit(f"set-up of the arrays failed: {result.error_in_exec!r}")
    with_arrays = time_check(hooks.guards, ns, args.repeats)
    # a write into one of them, at a sampled position, is seen (the timing is not faked)
    hooks.guards.before_cell(ns)
    ns["A0"][3] = -1.0
    seen = [w.variable for w in hooks.guards.after_cell(ns, 0)] if args.arrays else []

    print(
        f"{platform.machine()} {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
        f"jax {__import__('jax').__version__}"
    )
    print(
        f"namespace: {len(ns)} names, {len(jitted)} jitted functions ({traced} traced, "
        f"{watched} watched), each reading 3 globals and a helper; {args.repeats} repeats"
    )
    print(f"  check  post-cell check, nothing changed   {stats(steady)}")
    print(f"  first  first check after tracing them     {stats(first)}")
    print(f"  scan   namespace scan, part of check       {stats(scans)}")
    print(f"  cell   run_cell('pass'), guards on        {stats(on)}")
    print(f"  cell   run_cell('pass'), guards off       {stats(off)}")
    print(
        f"  arrays post-cell check, + {args.arrays} NumPy globals of {args.array_mb:g} MB "
        f"{stats(with_arrays)}"
    )
    print(f"  arrays a write into A0 in place is reported: {seen == ['A0']}")
    print(
        f"  added per cell by the guards (median on - off): "
        f"{(statistics.median(on) - statistics.median(off)) * 1e3:.2f} ms; "
        f"goal: post-cell check at most 5 ms with 100 jitted functions "
        f"(median {statistics.median(steady) * 1e3:.2f} ms), and with {args.arrays} NumPy "
        f"globals of {args.array_mb:g} MB (median {statistics.median(with_arrays) * 1e3:.2f} ms)"
    )


if __name__ == "__main__":
    main()
