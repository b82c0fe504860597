"""Peak memory bandwidth, measured once per session with STREAM-style kernels, and the rates a
timing achieves against it (from XLA's cost analysis or a formula of the user's)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

# STREAM's rule: each array at least 4× the last-level cache (read from the OS), so no
# kernel runs from cache; at least 64 MiB, at most 512 MiB each (three arrays are alive)
MIN_CPU_BYTES = 64 << 20
MAX_CPU_BYTES = 512 << 20
CACHE_FACTOR = 4
ACCELERATOR_ELEMENTS = 1 << 26
REPEATS = 4
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
    compiled by XLA on the device, plus NumPy's copy and copy-scale on CPUs; the best rate
    wins. On CPUs each array is at least 4× the last-level cache (STREAM's rule), so that
    no kernel runs from cache.
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


def last_level_cache() -> tuple[int, str] | None:
    """(bytes, where it was read) of the CPU's last-level cache: the highest-level data or
    unified cache in /sys/devices/system/cpu/cpu0/cache, else ``getconf``; None when the OS
    does not say."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    best: tuple[int, int] | None = None
    try:
        for entry in sorted(os.listdir(base)):
            if not entry.startswith("index"):
                continue
            folder = os.path.join(base, entry)
            with open(os.path.join(folder, "type"), encoding="ascii") as f:
                kind = f.read().strip()
            if kind == "Instruction":
                continue
            with open(os.path.join(folder, "level"), encoding="ascii") as f:
                level = int(f.read())
            with open(os.path.join(folder, "size"), encoding="ascii") as f:
                size = _cache_bytes(f.read().strip())
            if size and (best is None or level > best[0]):
                best = (level, size)
    except (OSError, ValueError):
        best = None
    if best is not None:
        return best[1], f"L{best[0]} {best[1] >> 20} MiB from {base}"
    for level in (3, 2):
        try:
            size = os.sysconf(f"SC_LEVEL{level}_CACHE_SIZE")
        except (ValueError, OSError):
            continue
        if size and size > 0:
            return size, f"L{level} {size >> 20} MiB from getconf"
    return None


def _cache_bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def cpu_elements() -> tuple[int, str]:
    """float32 elements per array by STREAM's rule, and why that many."""
    cache = last_level_cache()
    if cache is None:
        nbytes, why = MIN_CPU_BYTES, "last-level cache unknown"
    else:
        nbytes = min(max(CACHE_FACTOR * cache[0], MIN_CPU_BYTES), MAX_CPU_BYTES)
        capped = " (capped)" if CACHE_FACTOR * cache[0] > MAX_CPU_BYTES else ""
        why = f"≥ {CACHE_FACTOR}× the {cache[1]}{capped}"
    return nbytes // 4, why


def _measure(device: Any, elements: int | None) -> Peak:
    import jax
    import jax.numpy as jnp

    why = "as asked"
    if elements:
        n = elements
    elif device.platform == "cpu":
        n, why = cpu_elements()
    else:
        n, why = ACCELERATOR_ELEMENTS, "accelerator"
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
        for name, kernel in (
            ("copy", lambda: np.copyto(ha, hb)),
            ("copy-scale", lambda: np.multiply(hb, 1.5, out=ha)),
        ):
            kernel()
            t = min(_time(kernel) for _ in range(REPEATS))
            if 2 * n * item / t > best:
                best, method = 2 * n * item / t, f"NumPy {name}"
        del ha, hb
    del b, c
    return Peak(
        bytes_per_s=best,
        device=str(device),
        method=f"STREAM-style, best of copy, copy-scale and triad on {n * item / 2**20:.0f} MiB "
        f"float32 arrays, {why} ({method})",
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
