"""Both roofs: which one bounds a call (compute, memory, a cache level, or overhead) and the
share of it achieved, on synthetic figures and on real kernels of this CPU in ``bench`` and a
size sweep (the profile's kernels are in test_profile.py)."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.benchmarking.roofline import ComputePeak, Peak, Work, roof

MEMORY = Peak(20e9, "cpu:0", "probe", 0.0)  # 20 GB/s
COMPUTE = ComputePeak(100e9, "cpu:0", "float32", "matmul", 0.0)  # 100 GFLOP/s
CACHES = [(1, 32 << 10), (2, 1 << 20), (3, 32 << 20)]


def test_the_longer_roof_time_bounds_the_call():
    # a matmul: 2 GFLOP and 12 MB in 40 ms: 20 ms at the compute roof, 0.6 ms at memory's
    r = roof(Work(12e6, 2e9, "XLA"), 0.040, MEMORY, COMPUTE, CACHES)
    assert (r.bound, r.roof) == ("compute", "peak FLOP/s (float32)")
    assert r.percent == pytest.approx(50.0) and r.why == ""
    # an elementwise op on 200 MB: 10 ms at the memory roof, taking 20 ms
    r = roof(Work(200e6, 50e6, "XLA"), 0.020, MEMORY, COMPUTE, CACHES)
    assert (r.bound, r.percent, r.cell()) == ("memory", pytest.approx(50.0), "memory 50 %")


def test_data_that_fits_in_a_cache_is_bound_by_that_cache():
    # 512 KiB moved at 40 GB/s: above the memory roof, from L2
    r = roof(Work(512 << 10, 1e5, "XLA"), (512 << 10) / 40e9 + 0, MEMORY, None, CACHES)
    assert r.bound == "cache" and r.level == "L2" and r.percent == pytest.approx(200.0)
    assert "fit in the L2 cache (1 MiB)" in r.why and "200 % of the memory roof" in r.why
    assert r.cell() == "L2 cache, 200 % of memory BW"
    # 4 MiB (within half the last level) at 80 % of the memory roof: still the L3's
    r = roof(Work(4 << 20, None, "XLA"), (4 << 20) / 16e9, MEMORY, None, CACHES)
    assert (r.bound, r.level) == ("cache", "L3") and "stay there" in r.why
    # above the memory roof yet larger than every cache: the byte count includes re-reads
    r = roof(Work(400e6, None, "XLA"), 400e6 / 30e9, MEMORY, None, CACHES)
    assert r.bound == "cache" and r.level == "" and "include re-reads" in r.why
    # no caches known: above the roof is still a cache, never memory above 100 %
    r = roof(Work(400e6, None, "XLA"), 400e6 / 30e9, MEMORY, None, [])
    assert r.bound == "cache"


def test_a_call_far_below_both_roofs_and_short_is_overhead():
    # 48 KiB would take 2.5 µs at the memory roof: dispatch dominates its 30 µs, or 150 µs
    for seconds in (30e-6, 150e-6):
        r = roof(Work(48 << 10, 1e4, "XLA"), seconds, MEMORY, COMPUTE, CACHES)
        assert r.bound == "overhead" and r.percent < 10
    # long and far below the roof: still memory (the eager run of a large op)
    r = roof(Work(200e6, None, "XLA"), 0.5, MEMORY, None, CACHES)
    assert r.bound == "memory" and r.percent == pytest.approx(2.0)


def test_above_the_compute_roof_says_which_roof_and_why():
    r = roof(Work(1e6, 3e9, "XLA cost analysis"), 0.020, MEMORY, COMPUTE, CACHES)
    assert r.bound == "compute" and r.percent == pytest.approx(150.0)
    assert "above the 100 GFLOP/s the float32 matmul reached" in r.why


def test_no_work_or_no_roofs_gives_no_bound():
    assert roof(None, 1.0, MEMORY, COMPUTE) is None
    assert roof(Work(None, None, "x"), 1.0, MEMORY, COMPUTE) is None
    assert roof(Work(1e6, None, "x"), 1.0, None, COMPUTE) is None


def seed(x):
    return x + x * x + x * x * x


def matmul(a, b):
    return a @ b


QUICK = {"variants": ("jit",), "vs": (), "time_budget": 0.1, "progress": False}


def _checked(r) -> dict:
    rows = {(row["variant"], row["size"]): row for row in r.rows()}
    for row in rows.values():
        assert row["bound"] in ("compute", "memory", "cache", "overhead")
        assert row["percent_of_roof"] is not None and row["percent_of_roof"] > 0
        if row["percent_of_roof"] > 100:
            assert row["bound"] == "cache", row
    frame = r.to_pandas()
    assert {"bound", "percent_of_roof"} <= set(frame.columns)
    return rows


@pytest.fixture(scope="module")
def roofs():
    """One bench per kind of kernel (the roofs are measured once for the session)."""
    big = jnp.ones((5000, 5000))  # 100 MB in, 100 MB out: far beyond the 32 MiB L3
    return {
        "matmul": jaxlab.bench(matmul, jnp.ones((1024, 1024)), jnp.ones((1024, 1024)), **QUICK),
        "elementwise": jaxlab.bench(seed, big, **QUICK),
        "in cache": jaxlab.bench(seed, jnp.ones((1024, 1024)), **QUICK),
    }


def test_bench_finds_a_large_matmul_compute_bound(roofs):
    (row,) = _checked(roofs["matmul"]).values()
    assert row["bound"] == "compute"
    r = roofs["matmul"]
    assert r.peak["compute"]["float32"]["gflops"] > 0
    assert "XLA matmul" in r.peak["compute"]["float32"]["method"]
    assert "compute" in r.details() and "peak compute" in r.details()


def test_bench_finds_a_large_elementwise_op_memory_bound(roofs):
    (row,) = _checked(roofs["elementwise"]).values()
    assert row["bound"] == "memory" and row["percent_of_roof"] <= 100


def test_bench_finds_a_kernel_whose_data_fits_in_cache_cache_bound(roofs):
    (row,) = _checked(roofs["in cache"]).values()
    # 4 MiB in and 4 MiB out: within half the L3 (or above the memory roof)
    assert row["bound"] == "cache"
    r = roofs["in cache"]
    assert r.roof(r.timing("jit")).level in ("L1", "L2", "L3")
    assert " cache, " in repr(r)


def test_a_sweep_bounds_every_point():
    sizes = [256, 1024 * 1024, 16 * 1024 * 1024]
    r = jaxlab.bench(seed, jnp.ones(16), sizes=sizes, **QUICK)
    rows = _checked(r)
    assert [rows[("jit", n)]["bound"] for n in sizes] == ["overhead", "cache", "memory"]
    html = r._repr_html_()
    assert "bound (% of roof)" in html
    details = r.details()
    assert "per size: rates, the roof that bounds each" in details
    assert " cache, " in details and "memory " in details and "overhead " in details


def test_a_kernel_faster_than_the_probe_becomes_the_compute_roof(monkeypatch):
    import jax

    from jaxlab.benchmarking import roofline

    device = jax.devices()[0]
    key = f"{device.platform}:{device.id}:float32"
    slow = ComputePeak(1e6, str(device), "float32", "XLA matmul 256×256 in float32", 0.0)
    monkeypatch.setitem(roofline._compute, key, slow)  # a probe that ran on a busy moment
    x = jnp.ones((256, 256))
    r = jaxlab.bench(matmul, x, x, **QUICK)
    (row,) = _checked(r).values()
    assert row["bound"] == "compute" and row["percent_of_roof"] == pytest.approx(100.0)
    kept = r.peak["compute"]["float32"]
    assert kept["method"].endswith(
        "jit reached " + f"{kept['gflops']:.3g} GFLOP/s, kept as the peak"
    )
    assert roofline._compute[key].flops_per_s == pytest.approx(kept["gflops"] * 1e9)
