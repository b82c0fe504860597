"""Static views of benchmark results: escaped, self-contained, with a text fallback."""

from __future__ import annotations

import re

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.views._html import notes_list
from jaxlab.views.bench import alloc_cell, faults_cell
from jaxlab.views.svgplot import Series, loglog_svg

QUICK = {"time_budget": 0.02, "min_runs": 3, "peak": False, "progress": False}
EVIL = "<script>alert(1)</script>"


def twice(x):
    return x * 2


@pytest.fixture(scope="module")
def sweep():
    return jaxlab.bench(twice, jnp.ones(8), sizes=[8, 64, 512], label=EVIL, **QUICK)


def _no_active_content(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"\s(src|href)=", html)
    assert "javascript:" not in html.lower()


def test_single_point_table(sweep):
    r = jaxlab.bench(twice, jnp.ones(8), label=EVIL, vs={"numpy": lambda x: x * 2}, **QUICK)
    html = r._repr_html_()
    _no_active_content(html)
    assert "&lt;script&gt;" in html
    # two tables, each a header and one row per variant: how long a call takes, and what it
    # costs (compile stages, rates, memory), so that each fits a notebook's width
    assert html.count("<table") == 2 and html.count("<tr>") == 2 * (1 + 3)
    timing, cost = html.split("</table>")[:2]
    assert "95 % CI" in timing and "vs numpy" in timing and "page faults" not in timing
    assert "trace / lower / compile" in cost and "page faults / call" in cost
    assert "95 % CI" not in cost
    text = repr(r)
    assert not re.search(r"<(table|div|span|tr|td)\b", text) and "jit" in text


def test_sweep_has_two_plots_and_a_row_per_size(sweep):
    html = sweep._repr_html_()
    _no_active_content(html)
    assert html.count("<svg") == 2
    # one line per variant in the time plot, one per non-baseline variant in the speedup plot
    assert html.count("<polyline") == 3 + 2
    assert html.count("<circle") == 3 * 3 + 2 * 3
    assert html.count("<tr>") == 1 + 3 + (1 + 9)  # sizes table, per size and variant table
    assert "achieved GB/s, GFLOP/s, the roof that bounds it, page faults" in html
    # a speedup is never shown without its interval, in the plot's tooltips too
    tips = re.findall(r"at n=\S+ against numpy: ([^<]*)<", html)
    assert tips and all(re.search(r"\(\S+–\S+×", tip) for tip in tips), tips
    # each (size, variant) row carries its page faults and allocation per call
    detail = html[html.index("page faults / call") :]
    detail = detail[: detail.index("</tbody>")]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in detail.split("<tr>")[1:]]
    timings = sorted(sweep.timings, key=lambda t: t.size)
    assert len(rows) == len(timings)
    for row, t in zip(rows, timings, strict=True):
        assert row[1] == t.variant
        assert row[5] == faults_cell(t) and row[6] == alloc_cell(t)
    assert "&lt;script&gt;" in html


def test_page_is_self_contained(sweep):
    page = sweep.to_html()
    assert page.startswith("<!DOCTYPE html>")
    _no_active_content(page)


def test_failures_and_flags_are_escaped():
    def bad(x):
        raise ValueError(EVIL)

    r = jaxlab.bench(twice, jnp.ones(8), vs={"numpy": bad}, **QUICK)
    html = r._repr_html_()
    _no_active_content(html)
    assert "ValueError: &lt;script&gt;" in html


def test_plot_escapes_series_names_and_handles_one_point():
    svg = loglog_svg(
        [Series(EVIL, [10.0], [1e-3])],
        title=EVIL,
        xlabel="n",
        ylabel="s",
        xformat=str,
        yformat=str,
    )
    assert "<script" not in svg and svg.count("<circle") == 1
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_comparison_view(sweep):
    comp = jaxlab.compare(sweep, sweep, labels=["a", EVIL])
    html = comp._repr_html_()
    _no_active_content(html)
    assert html.count("<tr>") == 1 + 9
    assert "≈ same" in html  # a result against itself is not significantly different


def test_notes_are_one_list_of_escaped_items_each_with_its_class():
    assert notes_list([("jl-warn", EVIL), ("jl-muted", "a & b")]) == (
        '<ul class="jl-notes"><li class="jl-warn">&lt;script&gt;alert(1)&lt;/script&gt;</li>'
        '<li class="jl-muted">a &amp; b</li></ul>'
    )
    assert notes_list([]) == '<ul class="jl-notes"></ul>'


def test_progress_bar_html():
    from jaxlab.views.bench import progress_html

    html = progress_html(2, 5, EVIL, "n=1e3")
    assert '<progress value="2" max="5"' in html and "&lt;script&gt;" in html


def _two_variants(base_ms, other_ms, label="r"):
    from jaxlab.benchmarking.result import BenchResult, Timing, VariantInfo

    variants = [VariantInfo("base", "jit", "jax"), VariantInfo("other", "jit", "jax")]
    timings = [
        Timing("base", None, [s * 1e-3 for s in base_ms]),
        Timing("other", None, [s * 1e-3 for s in other_ms]),
    ]
    return BenchResult(label, variants, timings, baseline="base")


BASE_MS = [1 + i / 29 for i in range(30)]
OTHER_MS = {
    # Mann–Whitney alone says p < 0.05 here, but the ratio's interval includes 1
    "p small, interval spans 1": [t + 0.2 for t in BASE_MS],
    "clearly slower": [t + 1.0 for t in BASE_MS],
    "the same samples": BASE_MS,
}


@pytest.mark.parametrize("case", list(OTHER_MS))
def test_the_table_shows_what_compare_concludes(case):
    from jaxlab.benchmarking import stats
    from jaxlab.views.bench import vs_baseline

    base, other = BASE_MS, OTHER_MS[case]
    one = _two_variants(base, base, "one")
    two = _two_variants(base, other, "two")
    # `compare` sets the same samples side by side: result one's "other" is `base`
    (row,) = [r for r in jaxlab.compare(one, two).entries if r.variant == "other"]
    significant = row.ratios[0].significant
    cell = vs_baseline(two, two.timing("other"))
    assert ("≈ same" not in cell) == significant, (case, cell)
    assert ("≈ same" in repr(two)) == (not significant)
    assert ("≈ same" in two._repr_html_()) == (not significant)
    if case == "p small, interval spans 1":
        assert stats.mann_whitney(base, other) < 0.05 and not significant
    if case == "clearly slower":
        assert significant and "slower" in cell
