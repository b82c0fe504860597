"""The executed tour exported by nbconvert to HTML shows jaxlab's views without a kernel or a
widget manager: the jaxpr and HLO texts, the inspector (colour-linked, hover included) with its
graph, the bench table and plot, and the sharding grid, loaded from a file in chromium."""

from __future__ import annotations

import pytest
from nbconvert import HTMLExporter

from tests.browser._lab import has_dot, screenshot
from tests.notebooks._run import execute

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def exported(kernel_prefix, tmp_path_factory):
    # the tour's run of the notebook tests (its widget state saved, as `jupyter nbconvert
    # --execute` saves it)
    html, _ = HTMLExporter().from_notebook_node(execute("tour.ipynb").nb)
    path = tmp_path_factory.mktemp("export") / "tour.html"
    path.write_text(html)
    return path


def visible(page, selector: str):
    element = page.locator(selector).first
    element.scroll_into_view_if_needed()
    assert element.is_visible(), selector
    return element


def test_exported_tour_shows_every_view(exported, page):
    page.goto(exported.as_uri(), wait_until="load", timeout=120_000)
    assert page.dialogs == []
    visible(page, "pre.jl-code.jl-jaxpr")
    visible(page, "pre.jl-code.jl-hlo")
    inspector = visible(page, ".jaxlab.jl-insp")
    assert inspector.locator(".jl-pane").count() == 4
    if has_dot():
        assert inspector.locator(".jl-graph svg").count() >= 1
    visible(page, ".jl-bench table")
    visible(page, "svg.jl-plot")
    grid = visible(page, "svg.jl-sharding-grid")
    assert grid.locator(".jl-tile").count() == 8
    screenshot(page, "tour-exported")


def test_static_inspector_links_lines_on_hover(exported, page):
    page.goto(exported.as_uri(), wait_until="load", timeout=120_000)
    inspector = page.locator(".jaxlab.jl-insp").first
    source, jaxpr = inspector.locator(".jl-pane").nth(0), inspector.locator(".jl-pane").nth(1)
    line = source.locator(".jl-l", has_text="h = jnp.tanh(x @ params")
    line.scroll_into_view_if_needed()
    group = line.get_attribute("data-g")
    linked = jaxpr.locator(f'.jl-l[data-g~="{group.split()[0]}"]').first

    def background() -> str:
        return linked.evaluate("el => getComputedStyle(el).backgroundColor")

    page.mouse.move(0, 0)
    before = background()
    line.hover()
    assert background() != before
    screenshot(inspector, "tour-exported-inspector-hover")
