"""``%profile`` leads with where the time goes in one sentence, and every kernel gets the roof
that bounds it (compute, memory, a cache level, or overhead)."""

from __future__ import annotations

import re

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.base.display import renderer


def matmul_then_small(a, b):
    c = a @ b
    return jnp.tanh(c).sum(axis=0)


def seed(x):
    return x + x * x + x * x * x


def _no_roof_above_100_without_cache(p):
    for row in p.rows():
        assert row["bound"] in ("compute", "memory", "cache", "overhead"), row
        if row["percent_of_roof"] > 100:
            assert row["bound"] == "cache", row


@pytest.fixture(scope="module")
def matmul_profile():
    x = jnp.ones((1024, 1024))
    return jaxlab.profile(matmul_then_small, x, x, runs=2)


def test_the_verdict_names_the_lines_and_the_top_kernel_with_its_roof(matmul_profile):
    p = matmul_profile
    assert re.match(
        r"(9\d|100) % of kernel time in 1 line; top: test_profile_verdict\.py:\d+, a matmul, "
        r"compute-bound at \d+ % of peak FLOP/s$",
        p.verdict,
    ), p.verdict
    _no_roof_above_100_without_cache(p)
    assert p.compute is not None and p.compute.dtype == "float32"
    frame = p.to_pandas()
    assert {"bound", "percent_of_roof"} <= set(frame.columns)


def test_text_and_html_lead_with_the_verdict(matmul_profile):
    p = matmul_profile
    assert renderer(p, "text")(p).splitlines()[0] == p.verdict
    html = renderer(p, "html")(p)
    assert html.index('class="jl-verdict"') < html.index('class="jl-title"')
    assert "bound (% of roof)" in html and "compute " in html
    # the roofs and how they were measured sit under a fold, after the tables
    fold = html[html.index("<summary>roofs: memory ") :]
    assert "GFLOP/s in float32</summary>" in fold and "STREAM-style" in fold
    assert "STREAM-style" not in html[: html.index("<summary>roofs: memory ")]


def test_a_large_elementwise_kernel_is_memory_bound():
    p = jaxlab.profile(seed, jnp.ones((4096, 4096)), runs=2)
    _no_roof_above_100_without_cache(p)
    top = max(p.rows(), key=lambda r: r["total_s"])
    assert top["bound"] == "memory"
    assert "an elementwise loop, memory-bound at " in p.verdict


def test_a_kernel_whose_data_fits_in_cache_runs_from_it():
    p = jaxlab.profile(seed, jnp.ones((512, 512)), runs=5)
    _no_roof_above_100_without_cache(p)
    top = max(p.rows(), key=lambda r: r["total_s"])
    assert top["bound"] == "cache"
    assert re.search(r"running from the L\d cache \(\d+ % of the memory roof\)$", p.verdict)


def test_without_peaks_there_is_no_bound_and_the_verdict_says_so():
    p = jaxlab.profile(seed, jnp.ones((64, 64)), runs=2, peak=False)
    assert all(r["bound"] is None for r in p.rows())
    assert p.verdict.endswith("its roof unknown (no peak measured)")


def test_the_roofs_are_saved_with_the_profile(matmul_profile, tmp_path):
    p = matmul_profile
    again = type(p).load(p.save(tmp_path / "p.json"))
    assert again.compute == p.compute and again.caches == p.caches
    assert [r["bound"] for r in again.rows()] == [r["bound"] for r in p.rows()]
    assert again.verdict.split("; top: ")[0] == p.verdict.split("; top: ")[0]


def test_a_kernel_faster_than_the_probe_raises_the_compute_roof(monkeypatch):
    import jax

    from jaxlab.benchmarking import roofline

    device = jax.devices()[0]
    key = f"{device.platform}:{device.id}:float32"
    slow = roofline.ComputePeak(1e6, str(device), "float32", "XLA matmul 256×256", 0.0)
    monkeypatch.setitem(roofline._compute, key, slow)
    x = jnp.ones((256, 256))
    p = jaxlab.profile(matmul_then_small, x, x, runs=2)
    _no_roof_above_100_without_cache(p)
    assert "kept as the peak" in p.compute.method
    assert re.search(r"compute-bound at 100 % of peak FLOP/s$", p.verdict), p.verdict
