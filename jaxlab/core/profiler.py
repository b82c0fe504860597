"""Calls run under JAX's profiler (``jax.profiler.start_trace`` with a Perfetto trace), and
the device memory profile: the measurements ``jaxlab.profile`` and ``jaxlab.memory`` read.

The trace goes to a temporary folder that is always removed; only the trace's bytes are kept.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TRACE_FILE = "perfetto_trace.json.gz"


class ProfilerBusy(RuntimeError):
    """Another profiler session (the user's own ``jax.profiler.start_trace``, a profiler
    server's capture) is active; jaxlab leaves it alone."""


@dataclass
class TracedCalls:
    """The trace of `runs` calls (gzip'd Chrome-trace JSON) and each call's wall time."""

    trace: bytes
    walls: list[float] = field(default_factory=list)
    start_s: float = 0.0  # what starting the profiler took
    stop_s: float = 0.0  # what stopping it took (JAX collects and writes the trace)


def _options() -> Any:
    import jax

    options = jax.profiler.ProfileOptions()
    with contextlib.suppress(Exception):
        options.python_tracer_level = 0  # Python frames would slow every call down
        options.host_tracer_level = 1  # kernels and runtime activity, not every wait
    return options


def trace_calls(call: Callable[[], float], runs: int) -> TracedCalls:
    """Run `call` `runs` times under the profiler; `call` returns the wall time of its call
    (it prepares its arguments before starting its clock and waits for every output).

    Raises :class:`ProfilerBusy` when a profiler session is already active, leaving it
    running."""
    import jax

    folder = tempfile.mkdtemp(prefix="jaxlab-profile-")
    try:
        t0 = time.perf_counter()
        try:
            jax.profiler.start_trace(
                folder, create_perfetto_trace=True, profiler_options=_options()
            )
        except RuntimeError as exc:
            if "already" in str(exc).lower():
                raise ProfilerBusy(
                    "a profiler session is already active (e.g. `jax.profiler.start_trace`); "
                    "stop it with `jax.profiler.stop_trace()` first — jaxlab left it running."
                ) from None
            raise
        started = time.perf_counter()
        walls: list[float] = []
        try:
            for _ in range(runs):
                walls.append(call())
        finally:
            t1 = time.perf_counter()
            jax.profiler.stop_trace()
            stopped = time.perf_counter()
        found = glob.glob(os.path.join(folder, "**", TRACE_FILE), recursive=True)
        if not found:
            raise RuntimeError(
                "JAX's profiler wrote no Perfetto trace; this jaxlib may not support "
                "`create_perfetto_trace`."
            )
        with open(max(found, key=os.path.getmtime), "rb") as f:
            blob = f.read()
        return TracedCalls(blob, walls, started - t0, stopped - t1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def device_memory_profile(backend: str | None = None) -> bytes:
    """JAX's pprof profile of the live device buffers (gzip'd protobuf)."""
    import jax

    return jax.profiler.device_memory_profile(backend)
