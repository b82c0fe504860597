"""Peak memory bandwidth, measured once per session with STREAM-style kernels, and the rates a
timing achieves against it (from XLA's cost analysis or a formula of the user's)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

# STREAM asks for arrays well beyond the last-level cache; 64 MiB each on CPUs
CPU_ELEMENTS = 1 << 24
ACCELERATOR_ELEMENTS = 1 << 26
REPEATS = 8
# a rate this much above the measured peak cannot be the memory's: the estimate is off
ABOVE_PEAK = 1.10


@dataclass(frozen=True)
class Peak:
    """Best memory bandwidth seen on a device (bytes per second) and how it was measured."""

    bytes_per_s: float
    device: str
    method: str
    seconds: float  # what measuring took

    @property
    def gbps(self) -> float:
        return self.bytes_per_s / 1e9


_lock = threading.Lock()
_peaks: dict[str, Peak] = {}


def peak_bandwidth(device: Any = None, *, elements: int | None = None) -> Peak:
    """The device's peak memory bandwidth, measured on first use and cached for the session.

    Kernels (float32, best of several runs): copy-scale ``a = s·b`` and triad ``a = b + s·c``
    compiled by XLA on the device, plus NumPy's in-place multiply on CPUs; the best rate wins.
    """
    import jax

    device = device if device is not None else jax.devices()[0]
    key = f"{device.platform}:{device.id}:{elements}"
    with _lock:
        if key in _peaks:
            return _peaks[key]
    peak = _measure(device, elements)
    with _lock:
        _peaks.setdefault(key, peak)
        return _peaks[key]


def cached_peak(device: Any = None) -> Peak | None:
    import jax

    device = device if device is not None else jax.devices()[0]
    with _lock:
        return _peaks.get(f"{device.platform}:{device.id}:None")


def _measure(device: Any, elements: int | None) -> Peak:
    import jax
    import jax.numpy as jnp

    n = elements or (CPU_ELEMENTS if device.platform == "cpu" else ACCELERATOR_ELEMENTS)
    start = time.perf_counter()
    b = jax.device_put(jnp.arange(n, dtype=jnp.float32), device)
    c = jax.device_put(jnp.ones(n, dtype=jnp.float32), device)
    s = jax.device_put(jnp.float32(1.5), device)
    scale = jax.jit(lambda b, s: s * b)
    triad = jax.jit(lambda b, c, s: b + s * c)
    item = 4
    best = 0.0
    method = ""
    for name, fn, args, nbytes in (
        ("copy-scale", scale, (b, s), 2 * n * item),
        ("triad", triad, (b, c, s), 3 * n * item),
    ):
        jax.block_until_ready(fn(*args))
        t = min(
            _time(lambda fn=fn, args=args: jax.block_until_ready(fn(*args))) for _ in range(REPEATS)
        )
        if nbytes / t > best:
            best, method = nbytes / t, f"XLA {name}"
    if device.platform == "cpu":
        hb = np.arange(n, dtype=np.float32)
        ha = np.empty_like(hb)
        np.multiply(hb, 1.5, out=ha)
        t = min(_time(lambda: np.multiply(hb, 1.5, out=ha)) for _ in range(REPEATS))
        if 2 * n * item / t > best:
            best, method = 2 * n * item / t, "NumPy copy-scale"
    del b, c
    return Peak(
        bytes_per_s=best,
        device=str(device),
        method=f"STREAM-style, best of copy-scale and triad on {n * item / 2**20:.0f} MiB "
        f"float32 arrays ({method})",
        seconds=time.perf_counter() - start,
    )


def _time(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


@dataclass(frozen=True)
class Work:
    """Bytes moved and floating-point operations of one call, and where the numbers came from."""

    bytes: float | None
    flops: float | None
    source: str  # "XLA cost analysis" or "formula"


def work_from_cost(cost: dict[str, float] | None) -> Work | None:
    if not cost:
        return None
    nbytes = cost.get("bytes accessed")
    flops = cost.get("flops")
    if nbytes is None and flops is None:
        return None
    return Work(
        nbytes if nbytes and nbytes > 0 else None,
        flops if flops and flops > 0 else None,
        "XLA cost analysis",
    )


@dataclass(frozen=True)
class Rates:
    gbps: float | None
    gflops: float | None
    percent_of_peak: float | None
    above_peak: bool


def rates(work: Work | None, seconds: float, peak: Peak | None) -> Rates | None:
    if work is None or seconds <= 0:
        return None
    gbps = work.bytes / seconds / 1e9 if work.bytes else None
    gflops = work.flops / seconds / 1e9 if work.flops else None
    percent = None
    above = False
    if gbps is not None and peak is not None and peak.gbps > 0:
        percent = 100 * gbps / peak.gbps
        above = gbps > ABOVE_PEAK * peak.gbps
    return Rates(gbps, gflops, percent, above)
