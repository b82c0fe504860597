"""Both roofs of a roofline: peak memory bandwidth (STREAM-style kernels) and peak compute per
dtype (a matmul), each measured once per session; the rates a timing achieves (from XLA's
cost analysis or a formula of the user's) and the roof that bounds it: compute, memory, a
cache level (its bytes per second exceed the memory roof) or overhead (too small to reach
either)."""

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
    return _once(_peaks, f"{device.platform}:{device.id}:{elements}", _measure, device, elements)


def _once(found: dict[str, Any], key: str, measure: Any, *args: Any) -> Any:
    """`found[key]`, measured by ``measure(*args)`` the first time (kept for the session)."""
    with _lock:
        if key in found:
            return found[key]
    value = measure(*args)
    with _lock:
        found.setdefault(key, value)
        return found[key]


def cached_peak(device: Any = None) -> Peak | None:
    import jax

    device = device if device is not None else jax.devices()[0]
    with _lock:
        return _peaks.get(f"{device.platform}:{device.id}:None")


CACHE_FOLDER = "/sys/devices/system/cpu/cpu0/cache"


def cache_levels(base: str = CACHE_FOLDER) -> list[tuple[int, int]]:
    """(level, bytes) of each data or unified CPU cache the OS lists, smallest level first;
    [] when it lists none."""
    levels: dict[int, int] = {}
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
            if size:
                levels[level] = max(levels.get(level, 0), size)
    except (OSError, ValueError):
        return []
    return sorted(levels.items())


def last_level_cache() -> tuple[int, str] | None:
    """(bytes, where it was read) of the CPU's last-level cache: the highest-level data or
    unified cache in /sys/devices/system/cpu/cpu0/cache, else ``getconf``; None when the OS
    does not say."""
    levels = cache_levels()
    if levels:
        level, size = levels[-1]
        return size, f"L{level} {size >> 20} MiB from {CACHE_FOLDER}"
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
class ComputePeak:
    """Best operations per second seen on a device for one dtype, and how it was measured."""

    flops_per_s: float
    device: str
    dtype: str
    method: str
    seconds: float

    @property
    def gflops(self) -> float:
        return self.flops_per_s / 1e9


_compute: dict[str, ComputePeak] = {}
MATMUL_SIDES = (256, 512, 1024)
MATMUL_ENOUGH_S = 0.02  # a matmul this long is past its start-up costs: stop growing


def peak_compute(device: Any = None, dtype: Any = "float32") -> ComputePeak:
    """The device's peak operations per second in `dtype`, measured on first use and cached
    for the session: a square matmul compiled by XLA (2·n³ operations), grown from 256 until
    one call takes 20 ms (at most 1024), best of several calls."""
    import jax
    import numpy as np

    device = device if device is not None else jax.devices()[0]
    name = np.dtype(dtype).name if str(dtype) != "bfloat16" else "bfloat16"
    return _once(_compute, f"{device.platform}:{device.id}:{name}", _measure_compute, device, name)


def beaten(peak: ComputePeak, rate: float, by: str) -> ComputePeak:
    """A kernel that ran faster than the matmul probe is the better measurement of the roof (a
    roof is the best rate seen): its rate becomes the peak, for the rest of the session too."""
    better = ComputePeak(
        rate,
        peak.device,
        peak.dtype,
        f"{peak.method}; {by} reached {rate / 1e9:.3g} GFLOP/s, kept as the peak",
        peak.seconds,
    )
    with _lock:
        for key, seen in _compute.items():
            if seen.device == peak.device and seen.dtype == peak.dtype and seen.flops_per_s < rate:
                _compute[key] = better
    return better


def cached_compute(device: Any = None) -> dict[str, ComputePeak]:
    """The compute peaks measured so far on the device, by dtype."""
    import jax

    device = device if device is not None else jax.devices()[0]
    prefix = f"{device.platform}:{device.id}:"
    with _lock:
        return {k[len(prefix) :]: v for k, v in _compute.items() if k.startswith(prefix)}


def _measure_compute(device: Any, dtype: str) -> ComputePeak:
    import jax
    import jax.numpy as jnp

    start = time.perf_counter()
    matmul = jax.jit(lambda a, b: a @ b)
    best, side = 0.0, MATMUL_SIDES[0]
    wide = dtype in ("float64", "int64", "uint64", "complex128")
    with jax.enable_x64(wide):
        for n in MATMUL_SIDES:
            a = jax.device_put(jnp.ones((n, n), dtype=dtype), device)
            jax.block_until_ready(matmul(a, a))
            t = min(_time(lambda a=a: jax.block_until_ready(matmul(a, a))) for _ in range(REPEATS))
            if 2 * n**3 / t > best:
                best, side = 2 * n**3 / t, n
            del a
            if t >= MATMUL_ENOUGH_S:
                break
    return ComputePeak(
        flops_per_s=best,
        device=str(device),
        dtype=dtype,
        method=f"XLA matmul {side}×{side} in {dtype}, best of {REPEATS} calls",
        seconds=time.perf_counter() - start,
    )


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


OVERHEAD_PERCENT = 50  # below this share of its roof ...
# ... a call whose work would take less than this at the roof is overhead: its time goes to
# dispatch, launch and Python, which no kernel that small can hide
OVERHEAD_S = 10e-6
CACHE_ROOM = 0.5  # bytes moved within this share of the last-level cache stay in it


@dataclass(frozen=True)
class Roof:
    """The roof that bounds a timing: `bound` is 'compute', 'memory', 'cache' (its bytes per
    second exceed the memory roof: its data came from a cache, `level` when known) or
    'overhead' (too small to reach either roof); `percent` of that roof (for 'cache', of the
    memory roof it exceeded); `why` says what a figure above 100 % means."""

    bound: str
    percent: float | None
    roof: str  # 'peak FLOP/s (float32)', 'memory bandwidth'
    level: str = ""  # 'L2' for a cache bound, when known
    why: str = ""

    def cell(self) -> str:
        """'compute 41 %', 'memory 62 %', 'L3 cache, 213 % of memory BW', 'overhead 3 %'."""
        pct = "" if self.percent is None else f" {self.percent:.0f} %"
        if self.bound == "cache":
            where = f"{self.level} cache" if self.level else "cache"
            return f"{where},{pct} of memory BW" if pct else where
        return f"{self.bound}{pct}"


def roof(
    work: Work | None,
    seconds: float,
    bandwidth: Peak | None,
    compute: ComputePeak | None,
    caches: list[tuple[int, int]] | None = None,
) -> Roof | None:
    """Which roof bounds a call of `work` that took `seconds`: the one whose time for that work
    (bytes / bandwidth or operations / peak) is longer, and the share of it achieved. A call
    whose work would take under 10 µs at its roof, and that reached less than half of it, is
    overhead. On the memory side, a rate above
    the memory roof, or bytes that fit in a cache with room to spare (a level below the last,
    or half the last), are a cache's: the smallest level that holds them."""
    if work is None or seconds <= 0:
        return None
    t_mem = work.bytes / bandwidth.bytes_per_s if work.bytes and bandwidth else 0.0
    t_comp = work.flops / compute.flops_per_s if work.flops and compute else 0.0
    if t_mem <= 0 and t_comp <= 0:
        return None
    if t_comp >= t_mem and compute is not None:
        percent = round(100 * t_comp / seconds, 6)  # a kernel that set the roof reads 100
        name = f"peak FLOP/s ({compute.dtype})"
        if percent < OVERHEAD_PERCENT and t_comp < OVERHEAD_S:
            return Roof("overhead", percent, name)
        why = (
            f"above the {compute.gflops:.3g} GFLOP/s the {compute.dtype} matmul reached: the "
            f"operation count ({work.source}) is an estimate, or this kernel beats the probe"
            if percent > 100
            else ""
        )
        return Roof("compute", percent, name, why=why)
    percent = round(100 * t_mem / seconds, 6)
    if percent < OVERHEAD_PERCENT and t_mem < OVERHEAD_S:
        return Roof("overhead", percent, "memory bandwidth")
    nbytes = work.bytes or 0.0
    levels = caches or []
    held = [(lvl, size) for lvl, size in levels if nbytes <= size]
    # the data fits in a cache with room to spare (not at the last level's edge, where other
    # tenants and the outputs evict it): it stays there from call to call
    stays = bool(held) and (held[0][0] != levels[-1][0] or nbytes <= CACHE_ROOM * held[0][1])
    if percent > 100 or stays:
        if held:
            lvl, size = held[0]
            why = f"its {_mib(nbytes)} fit in the L{lvl} cache ({_mib(size)})" + (
                f", so at {percent:.0f} % of the memory roof they came from there, not memory"
                if percent > 100
                else ", so they stay there from call to call: the memory roof does not bound it"
            )
            return Roof("cache", percent, "memory bandwidth", f"L{lvl}", why)
        return Roof(
            "cache",
            percent,
            "memory bandwidth",
            why=f"{percent:.0f} % of the memory roof: part of its data came from a cache "
            f"(the {_mib(nbytes)} counted by {work.source} include re-reads)",
        )
    return Roof("memory", percent, "memory bandwidth")


def _mib(nbytes: float) -> str:
    if nbytes >= 1 << 20:
        return f"{nbytes / (1 << 20):.3g} MiB"
    return f"{nbytes / 1024:.3g} KiB"
