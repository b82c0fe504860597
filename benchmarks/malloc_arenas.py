"""Does one malloc arena take away the slow, page-faulting mode of a jitted call?

The cubic ``x + x*x + x*x*x`` on a 2000×2000 float32 array (16 MiB out) runs in about
0.5 ms in some processes and about 6 ms in others, where every call faults its 16 MiB output
in afresh (about 3,900 minor faults). XLA's worker threads allocate in glibc malloc arenas of
their own, which can hand freed pages back to the OS. This script runs fresh processes with
the default arenas and with ``GLIBC_TUNABLES=glibc.malloc.arena_max=1`` (one arena for every
thread), alternating. Each process times a plain loop (``block_until_ready``, holding no
output) in several phases, with eager JAX and NumPy work between the phases as in a notebook
(their last results kept in variables), then runs ``jaxlab.bench`` once. It prints the time
and faults per call of every phase, and whether the bench gave the arena advice.

    .venv/bin/python benchmarks/malloc_arenas.py [--processes 8] [--side 2000] [--phases 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ONE_ARENA = "glibc.malloc.arena_max=1"
SLOW_FAULTS = 1000  # a phase with this many faults per call is in the faulting mode


def fn(x):
    return x + x * x + x * x * x


def child(side: int, phases: int) -> dict:
    import jax
    import numpy as np

    import jaxlab

    x = jax.device_put(np.random.default_rng(0).standard_normal((side, side)).astype(np.float32))
    xn = np.asarray(x).copy()
    jf = jax.jit(fn)
    jf(x).block_until_ready()
    rows = []
    kept_eager = kept_numpy = None
    for _ in range(phases):
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        times = []
        for _ in range(100):
            t0 = time.perf_counter()
            jf(x).block_until_ready()
            times.append(time.perf_counter() - t0)
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 100
        rows.append((statistics.median(times), faults))
        # a notebook's other work between the phases, its results kept in variables
        for _ in range(10):
            kept_eager = fn(x).block_until_ready()
            kept_numpy = xn + xn * xn
    del kept_eager, kept_numpy
    r = jaxlab.bench(fn, x, vs="numpy", progress=None, peak=False, time_budget=0.5)
    advice = any("arena_max=1" in n.text for n in r.notes)
    return {"phases": rows, "bench_s": r.timing("jit").median_s, "advice": advice}


def run(side: int, phases: int, one_arena: bool) -> dict:
    env = dict(os.environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t and "arena_max" not in t]
    if one_arena:
        tunables.append(ONE_ARENA)
    env["GLIBC_TUNABLES"] = ":".join(tunables)
    env.pop("MALLOC_ARENA_MAX", None)
    command = [sys.executable, os.path.abspath(__file__), "--child", str(side), str(phases)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=8, help="fresh processes per setting")
    parser.add_argument("--side", type=int, default=2000, help="the array is side × side")
    parser.add_argument("--phases", type=int, default=4)
    parser.add_argument("--child", nargs=2, type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(*args.child)))
        return
    from jaxlab.benchmarking.machine import describe, environment

    print(f"machine: {describe(environment())}; libc {os.confstr('CS_GNU_LIBC_VERSION')}")
    print(
        f"x + x*x + x*x*x on float32[{args.side},{args.side}]; {args.processes} fresh processes "
        f"per setting, alternating; each: {args.phases} phases of 100 plain calls (ms per call "
        "/ minor faults per call), then jaxlab.bench\n"
    )
    settings = {"default arenas": False, ONE_ARENA: True}
    slow = dict.fromkeys(settings, 0)
    phases = dict.fromkeys(settings, 0)
    times: dict[str, list[float]] = {name: [] for name in settings}
    advice = dict.fromkeys(settings, 0)
    for k in range(args.processes):
        for name, one in settings.items():
            row = run(args.side, args.phases, one)
            if "error" in row:
                print(f"  {name:28} process {k + 1}: failed: {row['error']}")
                continue
            cells = []
            for seconds, faults in row["phases"]:
                phases[name] += 1
                times[name].append(seconds)
                slow[name] += faults >= SLOW_FAULTS
                cells.append(f"{seconds * 1e3:5.2f}/{faults:<5.0f}")
            advice[name] += row["advice"]
            print(
                f"  {name:28} process {k + 1}: "
                + "  ".join(cells)
                + f"   bench jit {row['bench_s'] * 1e3:5.2f} ms"
                + ("  (arena advice)" if row["advice"] else "")
            )
    print()
    for name in settings:
        if not phases[name]:
            continue
        print(
            f"{name:28} phases in the faulting mode (≥ {SLOW_FAULTS} faults per call): "
            f"{slow[name]} of {phases[name]}; median {statistics.median(times[name]) * 1e3:.2f} "
            f"ms per call; benches that gave the arena advice: {advice[name]}"
        )


if __name__ == "__main__":
    main()
