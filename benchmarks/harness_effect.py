"""Why a timing loop that keeps an output alive measures something else: where XLA's CPU
outputs land in memory, and the page faults that follow.

Times ``jax.jit(x + x*x + x*x*x)`` on a 2000×2000 float32 array (16 MB per output) in three
loops, one after another in this process: holding no output, holding the previous output
(as a harness that keeps one result for checking would), and holding none again. For every
call it reads the output's address in ``/proc/self/maps`` (the memory region it landed in,
with that region's size), the minor page faults the call took and its time.

On glibc, XLA's CPU client allocates from per-thread malloc arenas, 64 MiB heaps that grow
and shrink: an output that lands in a heap whose top is given back when freed takes ~3,900
faults (16 MB of fresh, zeroed pages) on its next call; one that lands in a region already
resident takes none.

    .venv/bin/python benchmarks/harness_effect.py [--calls 40] [--size 2000]
"""

from __future__ import annotations

import argparse
import collections
import resource
import statistics
import time

import jax
import numpy as np


def fn(x):
    return x + x * x + x * x * x


def region(ptr: int) -> str:
    with open("/proc/self/maps", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            low, high = (int(v, 16) for v in parts[0].split("-"))
            if low <= ptr < high:
                name = parts[5] if len(parts) > 5 else "anonymous"
                return f"{name} {(high - low) >> 20} MiB at {low:#x}"
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--size", type=int, default=2000)
    args = parser.parse_args()
    x = jax.device_put(
        np.random.default_rng(0).standard_normal((args.size, args.size)).astype(np.float32)
    )
    jf = jax.jit(fn)
    jf(x).block_until_ready()
    print(f"jax.jit(fn) on float32[{args.size},{args.size}], {args.calls} calls per loop\n")
    for loop in ("holding nothing", "holding the previous output", "holding nothing again"):
        regions: collections.Counter[tuple[str, bool]] = collections.Counter()
        times, faults = [], []
        kept = None
        for _ in range(args.calls):
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t0 = time.perf_counter()
            y = jf(x)
            y.block_until_ready()
            times.append(time.perf_counter() - t0)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
            regions[(region(y.unsafe_buffer_pointer()), faults[-1] > 1000)] += 1
            if loop == "holding the previous output":
                kept = y
            del y
        del kept
        print(
            f"{loop}: median {statistics.median(times) * 1e3:.3f} ms, "
            f"median {statistics.median(faults):.0f} page faults per call"
        )
        for (where, faulted), count in sorted(regions.items(), key=lambda kv: -kv[1]):
            print(f"  {count:4} calls  output in {where:<36} {'faulted' if faulted else ''}")
        print()


if __name__ == "__main__":
    main()
