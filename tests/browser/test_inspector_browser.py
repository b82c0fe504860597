"""The inspector in a real JupyterLab and Chromium: hovering a source line highlights the HLO
fusion it became; user strings never become markup."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from tests.browser._lab import screenshot
from tests.browser._markup import EVIL, assert_nothing_injected
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]


def test_hovering_a_source_line_highlights_its_fusion(lab, page):
    widgets = lab.run_to_widgets(
        page,
        "seed.ipynb",
        [
            "import jax, jax.numpy as jnp",
            "def fn(x):\n    return x + x*x + x*x*x",
            "%inspect fn(jnp.ones((1000, 1000)))",
            "def other(x):\n    return jnp.sin(x) * 2.0\n%inspect other(jnp.ones(8))",
        ],
        count=2,
    )
    assert widgets.count() == 2
    # the static renderings stay in the notebook for exports but are hidden by the widgets
    statics = page.locator("[data-jaxlab-static]")
    assert statics.count() == 2
    assert not statics.nth(0).is_visible() and not statics.nth(1).is_visible()
    first, second = widgets.nth(0), widgets.nth(1)
    source, jaxpr, _, hlo = (first.locator(".jl-pane").nth(i) for i in range(4))
    line = source.locator(".jl-l", has_text="return x + x*x + x*x*x")
    line.hover()
    fusion_line = hlo.locator(".jl-l.jl-hl", has_text=" fusion(")
    fusion_line.first.wait_for(timeout=10_000)
    assert fusion_line.count() == 1  # the one fusion of the entry computation
    assert jaxpr.locator(".jl-l.jl-hl").count() == 5  # 3 mul and 2 add equations
    assert line.get_attribute("class").split().count("jl-hl") == 1
    # the other output on the page is untouched
    assert second.locator(".jl-hl").count() == 0
    # the search box finds text in every pane
    first.locator("input.jl-search").fill("multiply")
    counts = first.locator(".jl-count").text_content()
    assert "StableHLO 3" in counts and "optimized HLO" in counts
    assert hlo.locator(".jl-l.jl-match").count() >= 1
    # the fusion explorer lists it, highlighted while the line is hovered
    first.locator("details.jl-fusions > summary").click()
    line.hover()
    row = first.locator("details.jl-fusions tr.jl-hl")
    row.first.wait_for(timeout=10_000)
    assert row.count() == 1
    screenshot(page, "inspector-hover-source-line")


def evil(x):  # the scope written out: the static view's source line shows it
    with jax.named_scope("<img src=x onerror=alert(1)>"):
        return jnp.sin(x) * 2.0


def test_named_scope_markup_is_shown_as_text(lab, page):
    widget = lab.run_to_widgets(
        page,
        "xss.ipynb",
        [
            "import jax, jax.numpy as jnp",
            f"def evil(x):\n    with jax.named_scope({EVIL!r}):\n        return jnp.sin(x) * 2.0",
            "%inspect evil(jnp.ones(3))",
        ],
    )
    source = widget.locator(".jl-pane").nth(0)
    assert source.locator(".jl-l", has_text=EVIL).count() == 1  # shown, as text
    source.locator(".jl-l", has_text="jnp.sin").hover()
    # the graph: the named scope becomes a group whose label is user text
    widget.locator("details.jl-graph-pane > summary").click()
    widget.locator(".jl-graph svg").wait_for(timeout=60_000)
    for box in range(3):
        boxes = widget.locator(".jl-graph .jl-box")
        if boxes.count() == 0:
            break
        boxes.first.click()
        page.wait_for_timeout(500 + 200 * box)
    assert EVIL in widget.locator(".jl-graph svg").text_content()
    page.wait_for_timeout(500)
    assert_nothing_injected(page)
    screenshot(page, "inspector-named-scope-escaped")
    # the static view (what nbconvert and GitHub show) too
    static = jaxlab.inspect(evil, jnp.ones(3), run=False).to_html()
    page.set_content(static)
    page.locator(".jl-l", has_text="jnp.sin").first.hover()
    page.wait_for_timeout(200)
    assert_nothing_injected(page)
    assert page.locator(".jl-l", has_text=EVIL).count() >= 1


def test_graph_falls_back_to_graphviz_in_the_browser_without_dot(lab, page):
    widget = lab.run_to_widgets(
        page,
        "nodot.ipynb",
        [
            # a kernel without Graphviz's `dot`: layouts must happen in the browser
            "import jaxlab.views.graph as G\n"
            "G.layout_svg = lambda *args, **kwargs: None\n"
            "import jax, jax.numpy as jnp",
            "def f(x):\n    return jax.lax.fori_loop(0, 3, lambda i, c: c * 2.0, jnp.tanh(x))",
            "%inspect f(jnp.ones(4))",
        ],
    )
    widget.locator("details.jl-graph-pane > summary").click()
    svg = widget.locator(".jl-graph svg")
    svg.wait_for(timeout=120_000)
    status = widget.locator(".jl-graph-pane .jl-bar .jl-muted").text_content()
    assert "in the browser" in status
    assert svg.locator(".jl-node").count() >= 2
    assert page.evaluate("() => document.querySelectorAll('.jl-graph [id]').length") == 0
    screenshot(page, "inspector-graph-in-browser")
