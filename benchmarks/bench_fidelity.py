"""Does ``%bench`` give the number a careful engineer gets, when memory gets in the way?

1. The seed function ``x + x*x + x*x*x`` (float32, square arrays) at sizes from 1e4 to 2.5e7
   elements, each in several fresh processes. Every process times a plain reference loop
   (``timeit`` + ``block_until_ready``, holding no output) before and after
   ``jaxlab.bench(fn, x, vs="numpy")``, so both see the same process (heap layout, arenas).
   Outcome per (size, process): the jit median agrees with the reference within 10 %, or the
   result is flagged multi-modal or memory-bound (page faults) with its cause, or it
   disagrees unflagged. Ratios are taken within one process, so a loaded machine moves both.
2. ``processes=5`` on 2000×2000: each worker process's median.
3. ``%jit f`` dispatch against ``jax.jit`` (``benchmarks/jit_dispatch.py``).
4. The peak bandwidth (STREAM's rule) against an independent 1 GiB NumPy copy, same run.

    .venv/bin/python benchmarks/bench_fidelity.py [--quick] [--processes 5] [--time 0.5]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
# square arrays of 100² … 5000² (1e4 … 2.5e7 elements), 2000×2000 among them
SIZES = [side**2 for side in (100, 158, 253, 400, 632, 1000, 1500, 2000, 3162, 5000)]
QUICK_SIZES = [10_000, 250_000, 4_000_000, 25_000_000]
TOLERANCE = 0.10


def fn(x):
    return x + x * x + x * x * x


def side(n: int) -> int:
    return max(1, round(math.sqrt(n)))


# -- one process -----------------------------------------------------------------------------


def reference(jf, x, seconds: float) -> tuple[list[float], float]:
    """Per-call seconds of a plain loop holding no output (``timeit`` + ``block_until_ready``,
    as ``%timeit`` runs it: one timer, samples of at least 2 ms back to back), and its page
    faults per call.

    Samples of a few calls with Python work between them (a new timer each) read 1.5-2.5x
    slow below ~1 ms per call here: XLA's worker threads fall asleep in the gaps and each
    sample pays their wake-up. That measures the gaps, not the function."""
    jf(x).block_until_ready()
    timer = timeit.Timer(lambda: jf(x).block_until_ready())
    t = timer.timeit(number=1)
    number = max(1, math.ceil(2e-3 / max(t, 1e-9)))
    samples: list[float] = []
    calls = 0
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        samples.extend(dt / number for dt in timer.repeat(repeat=5, number=number))
        calls += 5 * number
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / calls
    return samples, faults


def child(n: int, budget: float) -> dict:
    import jax
    import numpy as np

    import jaxlab

    s = side(n)
    x = jax.device_put(np.random.default_rng(0).standard_normal((s, s)).astype(np.float32))
    jf = jax.jit(fn)
    before, f_before = reference(jf, x, budget / 2)
    r = jaxlab.bench(fn, x, vs="numpy", progress=None, roofline=False, time_budget=budget)
    after, f_after = reference(jf, x, budget / 2)
    t = r.timing("jit")
    ref = statistics.median(before + after)
    memory = [n.text for n in r.notes if n.variant == "jit" and "page faults per call" in n.text]
    return {
        "n": s * s,
        "shape": f"{s}×{s}",
        "ref_s": ref,
        "ref_before_s": statistics.median(before),
        "ref_after_s": statistics.median(after),
        "ref_faults": (f_before + f_after) / 2,
        "ref_faults_before": f_before,
        "ref_faults_after": f_after,
        "jit_s": t.median,
        "jit_faults": t.faults_per_call,
        "jit_modes": jaxlab.benchmarking.modes.describe(t.modes),
        "memory_note": memory[0] if memory else "",
        "numpy_s": r.timing("numpy").median,
    }


def outcome(row: dict) -> str:
    if abs(row["jit_s"] / row["ref_s"] - 1) <= TOLERANCE:
        return "agrees"
    before, after = row["ref_before_s"], row["ref_after_s"]
    near = [abs(row["jit_s"] / r - 1) <= TOLERANCE for r in (before, after)]
    if any(near) and abs(before / after - 1) > TOLERANCE:
        which = "after" if near[1] else "before"
        return f"agrees with the loop {which}; the plain loop itself changed between the two"
    if row["jit_modes"]:
        return "flagged multi-modal"
    if row["memory_note"]:
        return "flagged memory-bound"
    if row["jit_s"] < row["ref_s"] and row["ref_faults"] >= (row["jit_faults"] or 0) + 100:
        return "DISAGREES: the reference loop faults, the bench does not"
    return "DISAGREES, unflagged"


def run_child(n: int, budget: float) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--child", str(n), "--time", str(budget)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"n": n, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f}"


# -- the parts ---------------------------------------------------------------------------------


def part_sizes(sizes: list[int], processes: int, budget: float) -> None:
    print(
        f"1. seed function, {len(sizes)} sizes × {processes} fresh processes; per process: "
        "reference loop, jaxlab.bench(fn, x, vs='numpy'), reference loop\n"
    )
    print(
        "ref: the plain loop before | after the bench (ms; page faults per call); jit: "
        "jaxlab.bench's jit median and faults per call; jit/ref against both loops pooled\n"
    )
    header = (
        f"{'size':>12} {'proc':>4} {'ref ms before | after':>21} {'ref faults':>13} "
        f"{'jit ms':>9} {'jit flt':>8} {'jit/ref':>8}  outcome / modes"
    )
    print(header)
    print("-" * len(header))
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for n in sizes:
        for k in range(processes):
            row = run_child(n, budget)
            if "error" in row:
                counts["worker failed"] = counts.get("worker failed", 0) + 1
                print(f"{n:>12} {k + 1:>4}  worker failed: {row['error']}")
                continue
            verdict = outcome(row)
            counts[verdict] = counts.get(verdict, 0) + 1
            extra = f" ({row['jit_modes']})" if row["jit_modes"] else ""
            refs = f"{ms(row['ref_before_s'])} | {ms(row['ref_after_s']).strip():<9}"
            faults = f"{row['ref_faults_before']:6.0f} | {row['ref_faults_after']:<6.0f}"
            print(
                f"{row['shape']:>12} {k + 1:>4} {refs:>21} {faults:>13} "
                f"{ms(row['jit_s'])} {row['jit_faults'] or 0:8.0f} "
                f"{row['jit_s'] / row['ref_s']:8.3f}  {verdict}{extra}"
            )
            if row["memory_note"] and verdict != "agrees":
                print(f"{'':>14}{row['memory_note'][:150]}…")
    total = sum(counts.values())
    print(
        f"\noutcomes over {total} (size, process) pairs in "
        f"{time.perf_counter() - start:.0f} s: "
        + ", ".join(f"{v}: {c}" for v, c in sorted(counts.items()))
    )


def part_processes(processes: int, budget: float) -> None:
    import jax
    import numpy as np

    import jaxlab

    print(f"\n2. jaxlab.bench(fn, x, vs='numpy', processes={processes}) on 2000×2000\n")
    x = jax.device_put(np.random.default_rng(0).standard_normal((2000, 2000)).astype(np.float32))
    r = jaxlab.bench(fn, x, vs="numpy", processes=processes, progress=None, time_budget=budget)
    for t in r.timings:
        meds = ", ".join(f"{m * 1e3:.3f}" for m in t.process_medians)
        print(f"  {t.variant:6} per-process medians (ms): {meds}")
    for note in r.notes:
        if note.topic is not None:
            print(f"  - {note.text}")


def part_dispatch(rounds: int) -> None:
    print("\n3. %jit dispatch against jax.jit\n")
    command = [sys.executable, os.path.join(HERE, "jit_dispatch.py"), "--rounds", str(rounds)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    print("  " + "\n  ".join((out.stdout or out.stderr).strip().splitlines()))


def gib_copy(np) -> float:
    """GB/s of copying 1 GiB into another 1 GiB (read + write), best of 12 (as many tries as
    the peak measurement gets: on a shared machine a best-of favours more tries)."""
    src = np.ones(1 << 28, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(timeit.repeat(lambda: np.copyto(dst, src), number=1, repeat=12))
    return 2 * src.nbytes / best / 1e9


def part_peak(rounds: int) -> None:
    import jax
    import numpy as np

    from jaxlab.benchmarking import roofline

    print(
        f"\n4. peak memory bandwidth against an independent 1 GiB copy, {rounds} alternating "
        "rounds (the load of a shared machine moves both)\n"
    )
    ratios = []
    for i in range(rounds):
        peak = roofline._measure(jax.devices()[0], None)  # afresh, not the session's cache
        copy = gib_copy(np)
        ratios.append(peak.gbps / copy)
        print(f"  round {i + 1}: peak {peak.gbps:6.2f} GB/s, 1 GiB copy {copy:6.2f} GB/s")
    print(f"  median peak / copy: {statistics.median(ratios):.3f} (goal: within 15 %)")
    print(f"  method: {peak.method}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sizes, 2 processes")
    parser.add_argument("--processes", type=int, default=None, help="fresh processes per size")
    parser.add_argument("--time", type=float, default=0.5, help="bench budget per variant")
    parser.add_argument("--parts", default="1234", help="which parts to run, e.g. 13")
    parser.add_argument("--sizes", default=None, help="sizes of part 1, e.g. 4e6,2.5e7")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.time)))
        return
    from jaxlab.benchmarking.machine import describe, environment

    processes = args.processes or (2 if args.quick else 5)
    print(f"machine: {describe(environment())}; load average {os.getloadavg()[0]:.1f}\n")
    if "1" in args.parts:
        sizes = QUICK_SIZES if args.quick else SIZES
        if args.sizes:
            sizes = [round(float(v)) for v in args.sizes.split(",")]
        part_sizes(sizes, processes, args.time)
    if "2" in args.parts:
        part_processes(processes if args.quick else 5, args.time)
    if "3" in args.parts:
        part_dispatch(11 if args.quick else 41)
    if "4" in args.parts:
        part_peak(3 if args.quick else 5)


if __name__ == "__main__":
    main()
