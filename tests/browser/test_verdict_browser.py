"""The bench and profile pages in Chromium: the verdict is the first thing on each, the notes
that can change it are in full, and the others sit under a closed fold that opens on them."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.benchmarking.result import BenchResult, Note, Timing, VariantInfo
from tests.browser._lab import screenshot

pytestmark = [pytest.mark.browser]

TURNS = 6


def _timing(name: str, levels: list[float]) -> Timing:
    samples, blocks = [], []
    for k, level in enumerate(levels):
        blocks.append(len(samples))
        samples += [level * (1 + 0.002 * ((i * 7 + k) % 5 - 2)) for i in range(20)]
    return Timing(variant=name, size=None, samples=samples, blocks=blocks)


def _unsettled() -> BenchResult:
    """jit 10 % faster than numpy except in one turn: a verdict a change of pace unsettles."""
    jit = [0.9e-3] * TURNS
    jit[3] = 1.4e-3
    return BenchResult(
        label="cubic(x: f32[2000,2000])",
        variants=[
            VariantInfo("jit", "jit", "jax", "jax.jit(cubic)"),
            VariantInfo("eager", "eager", "jax", "cubic op by op, without jit"),
            VariantInfo("numpy", "twin", "numpy", "cubic itself, called with NumPy arrays"),
        ],
        timings=[
            _timing("jit", jit),
            _timing("eager", [4e-3] * TURNS),
            _timing("numpy", [1e-3] * TURNS),
        ],
        baseline="numpy",
        notes=[
            Note("warn", "jit: the machine changed pace while it was timed …", "jit", "pace"),
            Note("warn", "eager: 300 page faults per call add about 1 ms …", "eager", "memory"),
        ],
        settings={"time_budget_s": 1.0},
    )


def _order(page, *selectors: str) -> list[float]:
    return [page.locator(s).first.bounding_box()["y"] for s in selectors]


def _check_bench_page(page, path, name: str, in_full: str = "") -> None:
    page.goto(path.as_uri(), wait_until="load")
    if in_full:  # what threatens the verdict is shown in full, outside the fold
        assert page.locator("ul.jl-notes li", has_text=in_full).first.is_visible()
    assert page.dialogs == []
    top, title, table = _order(page, ".jl-verdict", ".jl-bench .jl-title", ".jl-bench table")
    assert top < title < table
    fold = page.locator("details", has_text="notes that leave the verdict standing").first
    assert fold.get_attribute("open") is None
    hidden = fold.locator("li").first
    assert not hidden.is_visible()
    screenshot(page, f"{name}-folded")
    fold.locator("summary").click()
    assert hidden.is_visible()
    screenshot(page, f"{name}-unfolded")


def test_bench_pages_lead_with_the_verdict_and_fold_the_other_notes(page, tmp_path):
    shaky = tmp_path / "bench-unsettled.html"
    shaky.write_text(_unsettled().to_html())
    _check_bench_page(page, shaky, "bench-verdict-unsettled", in_full="changed pace")
    assert "unsettled" in page.locator(".jl-verdict").first.inner_text()

    def cubic(x):
        return x + x * x + x * x * x

    r = jaxlab.bench(cubic, jnp.ones((256, 256)), time_budget=0.3, progress=False)
    real = tmp_path / "bench-real.html"
    real.write_text(r.to_html())
    _check_bench_page(page, real, "bench-verdict")
    assert page.locator(".jl-verdict").first.inner_text().split(" · ", 1)[1] == r.verdict


def test_profile_page_leads_with_where_the_time_goes(page, tmp_path):
    def step(a, b):
        return jnp.tanh(a @ b).sum(axis=0)

    x = jnp.ones((512, 512))
    p = jaxlab.profile(step, x, x, runs=3)
    path = tmp_path / "profile.html"
    path.write_text(p.to_html())
    page.goto(path.as_uri(), wait_until="load")
    verdict, title = _order(page, ".jl-verdict", ".jl-title")
    assert verdict < title
    assert page.locator(".jl-verdict").first.inner_text() == p.verdict
    assert "% of kernel time in" in p.verdict
    screenshot(page, "profile-verdict")


def _wide() -> BenchResult:
    """A result whose every column is filled, with the longest cells a bench shows: compile
    stages with a cached one, rates, the roof, page faults and bytes per call."""
    r = _unsettled()
    for t, first in zip(r.timings, (22.3e-3, 0.332, 16.5e-3), strict=True):
        t.first_call_s, t.bytes, t.flops = first, 3.2e7, 1.6e7
        t.faults = [3907.0] * len(t.samples)
        t.alloc_bytes = 16e6
    jit = r.timings[0]
    jit.trace_s, jit.lower_s, jit.compile_s, jit.cached = 7.39e-3, 41.2e-3, 90.1e-3, ["lower"]
    r.peak = {
        "gbps": 12.0,
        "method": "STREAM",
        "device": "cpu",
        "compute": {"float32": {"gflops": 50.0, "method": "matmul"}},
        "caches": [],
    }
    return r


LAYOUT = """() => [...document.querySelectorAll('.jl-bench table.jl-table')].map(t => ({
  width: t.scrollWidth,
  room: t.parentElement.clientWidth,
  cells: [...t.querySelectorAll('tbody td')].map(td => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return {text: td.innerText, lines: new Set([...range.getClientRects()].map(r => r.top)).size};
  }),
}))"""


def test_bench_table_fits_a_1100_px_page_without_wrapping_a_number(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    try:
        path = tmp_path / "bench-wide.html"
        path.write_text(_wide().to_html())
        page.goto(path.as_uri(), wait_until="load")
        tables = page.evaluate(LAYOUT)
        assert len(tables) == 2  # how long a call takes; what it costs
        for t in tables:
            assert 0 < t["width"] <= t["room"], t["width"]
            wrapped = [c["text"] for c in t["cells"] if c["lines"] > 1]
            assert wrapped == []
        every = [c["text"] for t in tables for c in t["cells"]]
        assert "trace 7.39 ms, lower 41.2 ms (cached), compile 90.1 ms" in every
        assert "3,907" in every and "15.3 MiB" in every
        # the variants head both tables, in the same order
        assert [c["text"] for c in tables[1]["cells"][::8]] == ["jit", "eager", "numpy"]
        screenshot(page, "bench-table-1100px")
    finally:
        context.close()
