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
_cost: dict[int, float] = {}
MIN_PROBE_BYTES = 4 << 20
MAX_PROBE_BYTES = 256 << 20
PROBES = 5


def _probe_bytes(nbytes: float | None) -> int:
    """The probe's size for `nbytes` of fresh memory: a power of two between 4 and 256 MiB
    (so that the same cache level, or none, holds it)."""
    if not nbytes:
        return _PROBE_BYTES
    size = MIN_PROBE_BYTES
    while size < nbytes and size < MAX_PROBE_BYTES:
        size *= 2
    return size


def fault_cost(nbytes: float | None = None) -> float:
    """Seconds a minor page fault adds to the write that touches it, measured once per
    process and size on an anonymous mapping of about `nbytes`: writing every byte of fresh
    pages minus writing them again once mapped, divided by the faults the first write took
    (the median of 5 tries).
    Only what the faults add (the trap, and the kernel zeroing the page) is counted: the
    write itself is work the call does whatever pages it lands in."""
    size = _probe_bytes(nbytes)
    with _cost_lock:
        if size in _cost:
            return _cost[size]
        costs = []
        for _ in range(PROBES):
            region = mmap.mmap(-1, size)
            try:
                data = np.frombuffer(region, dtype=np.uint8)
                f0, t0 = minor_faults(), time.perf_counter()
                data.fill(1)
                t1, f1 = time.perf_counter(), minor_faults()
                data.fill(2)
                t2 = time.perf_counter()
                del data
            finally:
                region.close()
            faults = f1 - f0
            if faults > 0:
                costs.append(max((t1 - t0) - (t2 - t1), 0.0) / faults)
        # the median: a difference of two times, each moved by a shared machine's pace
        _cost[size] = sorted(costs)[len(costs) // 2] if costs else 0.0
        return _cost[size]


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
    fresh = faults_per_call * mmap.PAGESIZE
    cost = fault_cost(fresh)
    spent = faults_per_call * cost
    if spent < EXPLAINS * median:
        return None
    from jaxlab.base.format import format_bytes, format_seconds

    probe = (
        f"{format_seconds(cost)} per fault: writing {format_bytes(_probe_bytes(fresh))} into "
        "fresh pages against pages already mapped, measured here"
    )
    if spent < median:
        head = (
            f"{faults_per_call:.0f} page faults per call add about {format_seconds(spent)} to "
            f"its {format_seconds(median)} ({probe})"
        )
    else:  # the probe's figure exceeds the call: it cannot all be the faults'
        head = (
            f"{faults_per_call:.0f} page faults per call add up to most of its "
            f"{format_seconds(median)} ({probe}; {format_seconds(spent)} in all, more than the "
            "call: its threads fault in parallel, or the machine was busier when probed)"
        )
    return (
        f"{variant}: {head}: each call writes into fresh memory pages. Keep buffers alive "
        "across calls, reuse outputs by donating them (jax.jit(f, donate_argnums=…)), or give "
        "each call a larger batch"
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
