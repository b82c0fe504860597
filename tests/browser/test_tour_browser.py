"""The tour, end to end, in a real JupyterLab and Notebook 7 driven through Debian's chromium:
every cell runs without an error output, jaxlab's views render (inspector panes and graph, bench
table and plot, sharding grid), hovering in the inspector highlights the linked lines, and no
number in a table wraps (screenshots of the outputs in test-artifacts/, to be looked at)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser._lab import (
    Lab,
    copy_notebook,
    output_of,
    running_lab,
    screenshot,
    wrapped_numbers,
)
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]

RUN_TIMEOUT_MS = 300_000
# screenshot name, a line of the cell whose output it shows
OUTPUTS = [("tour-inspect-grad", "insp = %inspect grad_loss"), ("tour-memory", "%memory")]


def run_tour(server: Lab, page: Any) -> list[dict]:
    server.open(page, copy_notebook(server.root, "tour.ipynb"))
    server.run_all(page)
    server.wait_until_executed(page, RUN_TIMEOUT_MS)
    return server.outputs(page)


def assert_no_errors(outputs: list[dict]) -> None:
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, [f"{e['ename']}: {e['evalue']}" for e in errors]


def hover_highlights(widget: Any) -> tuple[int, int]:
    """Hover the layer-1 line of the source pane: (jaxpr lines, HLO lines) highlighted."""
    source, jaxpr, _, hlo = (widget.locator(".jl-pane").nth(i) for i in range(4))
    line = source.locator(".jl-l", has_text="h = jnp.tanh(x @ params")
    # panes highlight one after another; under load the jaxpr pane can lag the HLO pane, and
    # outputs still settling below can move the line from under the pointer: hover again
    for attempt in range(3):
        line.scroll_into_view_if_needed()
        line.hover()
        try:
            for pane in (hlo, jaxpr):
                pane.locator(".jl-l.jl-hl").first.wait_for(timeout=10_000)
            break
        except Exception:
            if attempt == 2:
                raise
            widget.page.mouse.move(0, 0)
    return jaxpr.locator(".jl-l.jl-hl").count(), hlo.locator(".jl-l.jl-hl").count()


def test_tour_in_jupyterlab(lab, page):
    outputs = run_tour(lab, page)
    assert_no_errors(outputs)
    for shot, needle in OUTPUTS:
        output = output_of(page, needle)
        box = output.bounding_box()
        assert box and box["height"] > 0, (shot, needle)
        screenshot(output, shot)
    assert not wrapped_numbers(page)

    # the inspector: a live widget whose static twin is hidden once it runs
    widget = page.locator(".jl-inspector-host[data-ready='1']")
    widget.wait_for(timeout=RUN_TIMEOUT_MS)
    assert widget.count() == 1
    assert widget.locator(".jl-pane").count() == 4
    static = page.locator("[data-jaxlab-static]")
    assert static.count() == 1 and not static.is_visible()
    jaxpr_hits, hlo_hits = hover_highlights(widget)
    assert jaxpr_hits >= 1 and hlo_hits >= 1
    screenshot(widget, "tour-lab-inspector-hover")

    # its graph: laid out on demand, named scopes as boxes
    widget.locator("details.jl-graph-pane > summary").click()
    graph = widget.locator(".jl-graph svg")
    graph.wait_for(timeout=120_000)
    assert graph.locator(".jl-node, .jl-box").count() >= 2
    screenshot(widget.locator("details.jl-graph-pane"), "tour-lab-graph")

    # %bench: the table and the sweep's log-log plot
    bench = page.locator(".jl-bench table").first
    bench.scroll_into_view_if_needed()
    assert bench.is_visible()
    plot = page.locator("svg.jl-plot").first
    plot.scroll_into_view_if_needed()
    assert plot.is_visible()
    screenshot(plot, "tour-lab-bench-plot")

    # %where: the sharding grid, one tile per device
    grid = page.locator("svg.jl-sharding-grid").first
    grid.scroll_into_view_if_needed()
    assert grid.is_visible()
    assert grid.locator(".jl-tile").count() == 8
    screenshot(grid, "tour-lab-sharding-grid")
    screenshot(page, "tour-lab")


@pytest.fixture(scope="module")
def notebook7(
    kernel_prefix: str, tmp_path_factory: pytest.TempPathFactory, browser
) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("notebook7-root")
    with running_lab(root, app="notebook") as server:
        yield server


def test_tour_in_notebook7(notebook7, page):
    outputs = run_tour(notebook7, page)
    assert_no_errors(outputs)
    widget = page.locator(".jl-inspector-host[data-ready='1']")
    widget.wait_for(timeout=RUN_TIMEOUT_MS)
    jaxpr_hits, hlo_hits = hover_highlights(widget)
    assert jaxpr_hits >= 1 and hlo_hits >= 1
    grid = page.locator("svg.jl-sharding-grid").first
    grid.scroll_into_view_if_needed()
    assert grid.is_visible()
    assert page.locator(".jl-bench table").count() >= 2
    screenshot(page, "tour-notebook7")
