"""The timing loop: each call is waited on to the last output leaf, and the number of calls per
sample is calibrated against the timer's resolution."""

from __future__ import annotations

import gc
import math
import resource
import sys
import time
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

# a sample lasts at least this many timer ticks, so the clock's granularity stays below 0.1 %
TICKS_PER_SAMPLE = 1000
# ... and at least this long: between samples the harness does Python work (fault counters,
# deadlines, other variants), XLA's worker threads fall asleep meanwhile, and the first call of
# a sample pays their wake-up. In samples of one or two calls of ~20 µs that read 1.2-2x slow
# against a plain back-to-back loop; a millisecond of calls makes it a fraction of a percent.
MIN_SAMPLE_S = 5e-3


@cache
def timer_resolution() -> float:
    """Effective resolution of ``time.perf_counter`` (seconds): the larger of what the clock
    declares and the smallest step two consecutive readings show."""
    declared = time.get_clock_info("perf_counter").resolution
    steps = []
    for _ in range(200):
        t0 = time.perf_counter()
        t1 = time.perf_counter()
        while t1 == t0:
            t1 = time.perf_counter()
        steps.append(t1 - t0)
    return max(declared, min(steps))


def loop_count(per_call_s: float, resolution: float | None = None) -> int:
    """Calls per sample so that one sample spans at least ``TICKS_PER_SAMPLE`` timer ticks
    and ``MIN_SAMPLE_S`` seconds."""
    resolution = timer_resolution() if resolution is None else resolution
    if per_call_s <= 0:
        return 1000
    span = max(TICKS_PER_SAMPLE * resolution, MIN_SAMPLE_S)
    return max(1, math.ceil(span / per_call_s))


def sync_for(output: Any) -> Callable[[Any], Any]:
    """The function that waits until every leaf of outputs shaped like `output` is computed.

    JAX arrays: ``jax.block_until_ready`` on the whole pytree (not only the first leaf).
    PyTorch tensors on an accelerator: ``torch.cuda.synchronize``. NumPy is synchronous.
    """
    import jax

    if isinstance(output, jax.Array):
        # one array: its own method skips the pytree walk (about 0.8 µs a call here, 4 % of a
        # 20 µs call)
        return _wait_array
    leaves = jax.tree_util.tree_leaves(output)
    waits: list[Callable[[Any], Any]] = []
    if any(isinstance(leaf, jax.Array) for leaf in leaves):
        waits.append(jax.block_until_ready)
    torch = sys.modules.get("torch")
    if torch is not None and any(
        isinstance(leaf, torch.Tensor) and leaf.device.type == "cuda" for leaf in leaves
    ):
        waits.append(lambda _out: torch.cuda.synchronize())
    if not waits:
        return _no_wait
    if len(waits) == 1:
        return waits[0]

    def wait_all(out: Any) -> Any:
        for wait in waits:
            wait(out)
        return out

    return wait_all


def _wait_array(out: Any) -> Any:
    return out.block_until_ready()


def _no_wait(out: Any) -> Any:
    return out


def timed_call(call: Callable[[], Any], sync: Callable[[Any], Any]) -> tuple[Any, float]:
    """One call, waited on; returns (output, seconds)."""
    t0 = time.perf_counter()
    out = call()
    sync(out)
    return out, time.perf_counter() - t0


class Sample(NamedTuple):
    """One sample: seconds, minor page faults and process CPU seconds, each per call."""

    seconds: float
    faults: float
    cpu: float


def sample(call: Callable[[], Any], sync: Callable[[Any], Any], number: int) -> float:
    """Seconds per call over `number` back-to-back calls, each waited on; the garbage collector
    is paused meanwhile (as ``timeit`` does)."""
    return counted_sample(call, sync, number).seconds


def counted_sample(call: Callable[[], Any], sync: Callable[[Any], Any], number: int) -> Sample:
    """Seconds, minor page faults and CPU seconds of the whole process (all its threads, XLA's
    workers included), each per call, over `number` back-to-back calls.

    The loop holds nothing: each output is waited on and dropped before the next call, as
    in ``timeit`` with ``block_until_ready``; the counters are read outside the timed span."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        for _ in range(number):
            sync(call())
        elapsed = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        if gc_was_enabled:
            gc.enable()
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    return Sample(elapsed / number, (r1.ru_minflt - r0.ru_minflt) / number, cpu / number)
