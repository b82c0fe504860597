"""The values of a run in a real JupyterLab and Chromium: `%inspect --numerics` opens on the
origin of the first NaN (scrolled into view in the jaxpr and source panes, beside the values
column), `%numerics` draws a sortable table, and names from the program (named scopes,
function and file names) never become markup."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import jaxlab
from tests.browser._lab import screenshot
from tests.browser._markup import EVIL, assert_nothing_injected, evil_cell, evil_fn, visible_in
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]


# a function long enough that its jaxpr does not fit the pane: the NaN is born far down
STEPS = "\n".join(f"    x = jnp.sin(x) * 1.01 + {i}.0" for i in range(24))
LONG = f"def long_fn(x):\n{STEPS}\n    y = jnp.log(x * 0.0)\n    return (y * 0.0).sum()"
LOG_LINE = 2 + 24  # the line of jnp.log in its cell


def test_inspector_values_column_opens_on_the_origin(lab, page):
    widget = lab.run_to_widgets(
        page,
        "numerics.ipynb",
        [
            "import jax, jax.numpy as jnp",
            LONG,
            "%inspect --numerics long_fn(jnp.linspace(0.5, 1.5, 8))",
        ],
    )
    # the first line of the output is the answer
    answer = widget.locator(".jl-num-answer")
    assert answer.text_content() == (
        f"-Inf born in the forward pass at In [2], line {LOG_LINE}: "
        "log of a value that reaches 0.0."
    )
    top = widget.bounding_box()["y"]
    assert answer.bounding_box()["y"] - top < 40
    source, jaxpr = widget.locator(".jl-pane").nth(0), widget.locator(".jl-pane").nth(1)
    # the jaxpr pane scrolled down to the origin, which is outlined and marked in red
    scroller = jaxpr.locator(".jl-scroll")
    assert scroller.evaluate("el => el.scrollTop") > 0
    origin = jaxpr.locator(".jl-l.jl-origin")
    assert origin.count() == 1
    assert " log " in origin.text_content()
    assert visible_in(scroller, origin)
    cell = origin.locator(".jl-val-origin")
    assert cell.text_content() == "-Inf 8"
    assert "log → f32[8]" in cell.get_attribute("title")
    # every equation has its values beside it
    ranges = jaxpr.locator(".jl-val-finite")
    assert ranges.count() >= 10
    assert " … " in ranges.first.text_content()
    # the source line that made it is marked and in view too
    marked = source.locator(".jl-l.jl-origin")
    assert "jnp.log(x * 0.0)" in marked.text_content()
    assert visible_in(source.locator(".jl-scroll"), marked)
    screenshot(widget, "numerics-inspector-origin")
    # the table sorts by any column; hovering a row lights its equation in the jaxpr pane
    widget.locator(".jl-numerics details > summary").click()
    rows = widget.locator(".jl-numerics-table tbody tr")
    rows.first.wait_for()
    widget.locator(".jl-numerics-table th", has_text="NaN / Inf").click()
    assert (
        "jl-origin-row" in rows.first.get_attribute("class") or "NaN" in rows.first.text_content()
    )
    rows.nth(1).hover()
    assert jaxpr.locator(".jl-l.jl-hl").count() >= 1
    assert page.dialogs == []


# a function named with markup, in a file named with markup, with a named scope of markup
EVIL_BODY = "return jnp.log(x - 1.0)"


def test_names_from_the_program_are_shown_as_text(lab, page):
    hosts = lab.run_to_widgets(
        page,
        "numerics_xss.ipynb",
        [
            "import jax, jax.numpy as jnp",
            evil_cell(EVIL_BODY),
            "%numerics evil(jnp.ones(4))",
            "%inspect --numerics evil(jnp.ones(4))",
        ],
        count=2,
    )
    numerics, inspector = hosts.nth(0), hosts.nth(1)
    table = numerics.locator(".jl-numerics-table")
    assert table.locator("td", has_text="<img src=x onerror=").count() >= 1  # the scope, as text
    assert EVIL + ".py" in numerics.locator(".jl-num-answer").text_content()
    inspector.locator(".jl-pane").nth(1).locator(".jl-val").first.hover()
    page.wait_for_timeout(300)
    assert_nothing_injected(page)
    screenshot(numerics, "numerics-names-escaped")
    # the static views (exports, GitHub) too
    evil = evil_fn(EVIL_BODY)
    for html in (
        jaxlab.numerics(evil, jnp.ones(4)).to_html(),
        jaxlab.inspect(evil, jnp.ones(4), numerics=True).to_html(),
    ):
        page.set_content(html)
        page.locator(".jl-num-answer").hover()
        page.wait_for_timeout(100)
        assert_nothing_injected(page)
        assert page.get_by_text("<img src=x onerror=").count() >= 1
