"""Memory effects of a call: minor page faults (the kernel handing the process fresh pages, which
it zeroes first) and bytes allocated per call, and whether the faults explain the time."""

from __future__ import annotations

import mmap
import os
import resource
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# faults that cost at least this share of the median time are reported with the fix
EXPLAINS = 0.25
_PROBE_BYTES = 16 << 20
# glibc's malloc hands a buffer this large or larger straight to mmap whatever its arenas do
# (its dynamic mmap threshold grows to at most 32 MiB on 64-bit): it comes back fresh anyway
MMAP_THRESHOLD_MAX = 32 << 20


def minor_faults() -> int:
    """Minor page faults of this process so far (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


_cost_lock = threading.Lock()
_cost: list[float] = []


def fault_cost() -> float:
    """Seconds one minor page fault costs here (first touch of a page, zeroing included),
    measured once per process on a fresh anonymous mapping: first-touch time minus
    second-touch time, divided by the faults the first touch took."""
    with _cost_lock:
        if _cost:
            return _cost[0]
        best = float("inf")
        for _ in range(3):
            region = mmap.mmap(-1, _PROBE_BYTES)
            try:
                pages = np.frombuffer(region, dtype=np.uint8)[:: mmap.PAGESIZE]
                f0, t0 = minor_faults(), time.perf_counter()
                pages[:] = 1
                t1, f1 = time.perf_counter(), minor_faults()
                pages[:] = 2
                t2 = time.perf_counter()
                del pages
            finally:
                region.close()
            faults = f1 - f0
            if faults > 0:
                best = min(best, max((t1 - t0) - (t2 - t1), 0.0) / faults)
        _cost.append(best if best != float("inf") else 0.0)
        return _cost[0]


@dataclass(frozen=True)
class Allocation:
    """Bytes one call allocates at its peak (outputs and temporaries) and how that is known."""

    bytes: float | None
    source: str


def jit_allocation(memory: dict[str, int] | None) -> Allocation | None:
    """Outputs + temporaries from XLA's memory analysis of the compiled program."""
    if not memory or "output_size" not in memory:
        return None
    out = memory.get("output_size", 0) - memory.get("alias_size", 0)
    temp = memory.get("temp_size", 0)
    return Allocation(float(max(out, 0) + temp), "XLA memory analysis (outputs + temporaries)")


def eager_allocation(closed: Any) -> Allocation | None:
    """Run op by op, every equation allocates its result: the peak of the results alive at
    once, from the program's jaxpr (inputs excluded, each result freed after its last use)."""
    jaxpr = getattr(closed, "jaxpr", None)
    if jaxpr is None or not hasattr(jaxpr, "eqns"):
        return None
    last_use: dict[Any, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if hasattr(v, "aval") and not hasattr(v, "val"):
                last_use[v] = i
    outs = {v for v in jaxpr.outvars if not hasattr(v, "val")}
    live = peak = 0.0
    sizes: dict[Any, float] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.outvars:
            aval = getattr(v, "aval", None)
            nbytes = float(
                getattr(aval, "size", 0) * getattr(getattr(aval, "dtype", None), "itemsize", 0)
            )
            sizes[v] = nbytes
            live += nbytes
        peak = max(peak, live)
        for v in eqn.invars:
            if v in sizes and last_use.get(v) == i and v not in outs:
                live -= sizes.pop(v)
    return Allocation(peak, "jaxpr results alive at once, op by op")


def traced_allocation(call: Callable[[], Any]) -> Allocation | None:
    """Peak of the allocations one call makes that Python's tracemalloc sees (NumPy reports
    its array data there)."""
    if tracemalloc.is_tracing():
        return None
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = call()
        peak = tracemalloc.get_traced_memory()[1] - base
        del out
    finally:
        tracemalloc.stop()
    return Allocation(float(peak), "peak of one call's allocations (tracemalloc)")


def rss_growth(call: Callable[[], Any], sync: Callable[[Any], Any]) -> Allocation:
    """Growth of resident memory over one call, output kept until measured."""
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * page

    try:
        before = resident()
        out = sync(call())
        grown = resident() - before
        del out
    except OSError:
        return Allocation(None, "unavailable: no /proc/self/statm")
    return Allocation(float(max(grown, 0)), "host resident-memory growth over one call")


def faults_note(variant: str, faults_per_call: float, median: float) -> str | None:
    """One line when the faults plausibly explain a large part of the time, with the fix."""
    if faults_per_call < 1 or median <= 0:
        return None
    cost = fault_cost()
    spent = faults_per_call * cost
    if spent < EXPLAINS * median:
        return None
    from jaxlab.base.format import format_seconds

    return (
        f"{variant}: {faults_per_call:.0f} page faults per call cost about "
        f"{format_seconds(min(spent, median))} of its {format_seconds(median)} "
        f"({format_seconds(cost)} per fault, measured here): each call writes into fresh "
        "memory pages. Keep buffers alive across calls, reuse outputs by donating them "
        "(jax.jit(f, donate_argnums=…)), or give each call a larger batch"
    )


def glibc_version() -> str | None:
    """'glibc 2.36' under glibc, else None."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    return libc if libc.startswith("glibc") else None


def malloc_setting() -> str | None:
    """'glibc 2.36, per-thread arenas' or 'glibc 2.36, one arena' (None elsewhere): how the
    process's malloc is set, which can move a jitted call's time tenfold (see arena_note)."""
    libc = glibc_version()
    if libc is None:
        return None
    return f"{libc}, " + ("per-thread arenas" if several_arenas() else "one arena")


def several_arenas() -> bool:
    """True under glibc when threads may get malloc arenas of their own (the default), false
    elsewhere or when one arena is set (``GLIBC_TUNABLES=glibc.malloc.arena_max=1`` or
    ``MALLOC_ARENA_MAX=1``)."""
    if glibc_version() is None:
        return False
    tunables = [item.strip() for item in os.environ.get("GLIBC_TUNABLES", "").split(":")]
    if "glibc.malloc.arena_max=1" in tunables:
        return False
    return os.environ.get("MALLOC_ARENA_MAX", "").strip() != "1"


def arena_note(variant: str, faults_per_call: float) -> str | None:
    """For a jitted variant whose calls fault in fewer fresh bytes than glibc's largest mmap
    threshold: the per-thread malloc arenas XLA's threads allocate in, and the setting that
    puts them all in one."""
    fresh = faults_per_call * mmap.PAGESIZE
    if faults_per_call < 10 or fresh >= MMAP_THRESHOLD_MAX or not several_arenas():
        return None
    from jaxlab.base.format import format_bytes

    return (
        f"{variant}: the {format_bytes(fresh)} faulted in per call would fit in glibc's malloc "
        "arenas, yet come back fresh: XLA's threads allocate in arenas of their own, which can "
        "hand freed pages back to the OS, and which arenas a process's threads got can decide "
        "its time (the mode differs between processes). Starting Python with "
        "GLIBC_TUNABLES=glibc.malloc.arena_max=1 (one arena for every thread) keeps those "
        "pages"
    )
