"""The precision explorer in a real JupyterLab and Chromium: `%inspect --compare bf16` opens on
the equation that makes the most error (scrolled into view in the jaxpr and source panes, with
the error column beside every equation and the source lines heated), and names from the
program (named scopes, function and file names) never become markup in the numerics and
numerics_diff views, static or live."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from tests.browser._lab import screenshot
from tests.browser._markup import EVIL, assert_nothing_injected, evil_cell, evil_fn, visible_in
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]

# a variance written as E[x²]−E[x]² after enough harmless steps that its jaxpr line is far down
STEPS = "\n".join(f"    x = x * 1.0001 + {i % 3}.0" for i in range(24))
LONG = (
    f"def long_var(x):\n{STEPS}\n    m = jnp.mean(x)\n    m2 = jnp.mean(x * x)\n"
    "    return m2 - m * m"
)
SUB_LINE = 2 + 24 + 2  # the line of the subtraction in its cell
DATA = "x = jnp.asarray(np.random.default_rng(0).normal(1000.0, 1.0, 4096), jnp.float32)"


def test_inspector_error_column_opens_on_the_top_creator(lab, page):
    widget = lab.run_to_widgets(
        page,
        "precision.ipynb",
        [
            "import jax, jax.numpy as jnp, numpy as np",
            LONG,
            DATA,
            "%inspect --compare bf16 long_var(x)",
        ],
    )
    answer = widget.locator(".jl-num-answer").first
    assert answer.text_content().startswith(
        f"sub at In [2], line {SUB_LINE} makes the most error (bfloat16 inputs against the "
        "program as given)"
    )
    assert answer.bounding_box()["y"] - widget.bounding_box()["y"] < 40  # the answer first
    source, jaxpr = widget.locator(".jl-pane").nth(0), widget.locator(".jl-pane").nth(1)
    scroller = jaxpr.locator(".jl-scroll")
    assert scroller.evaluate("el => el.scrollTop") > 0
    top = jaxpr.locator(".jl-l.jl-creator")
    assert top.count() == 1 and " sub " in top.text_content()
    assert visible_in(scroller, top)
    cell = top.locator(".jl-err.jl-val-origin")
    assert "makes" in cell.get_attribute("title") and "sub → bfloat16[]" in cell.get_attribute(
        "title"
    )
    # the red of the worst creator; the error column beside every matched equation
    assert cell.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(207, 34, 46)"
    assert jaxpr.locator(".jl-err.jl-val-finite").count() >= 10
    # the source line that makes it: in view, outlined, with the hottest bar
    made = source.locator(".jl-l.jl-creator")
    assert "m2 - m * m" in made.text_content()
    assert visible_in(source.locator(".jl-scroll"), made)
    assert made.evaluate("el => el.style.getPropertyValue('--jl-err')") == "1"
    # the comparison itself: the error along the program with the creators marked
    assert widget.locator("svg.jl-error-spark .jl-creator-mark").count() >= 1
    screenshot(widget, "precision-inspector-top-creator")
    widget.locator(".jl-panes").scroll_into_view_if_needed()
    screenshot(widget.locator(".jl-panes"), "precision-inspector-panes")
    assert page.dialogs == []


# a function named with markup, in a file named with markup, with a named scope of markup,
# whose subtraction loses its value in bf16
EVIL_BODY = "m = jnp.mean(x)\nreturn jnp.mean(x * x) - m * m"


def test_names_from_the_program_are_shown_as_text_in_the_precision_views(lab, page):
    inspector = lab.run_to_widgets(
        page,
        "precision_xss.ipynb",
        [
            "import jax, jax.numpy as jnp, numpy as np",
            evil_cell(EVIL_BODY),
            DATA,
            "%numerics evil(x) --compare bf16",
            "%inspect --compare bf16 evil(x)",
        ],
    )
    outputs = page.locator(".jaxlab.jl-numerics")
    diff_view = outputs.filter(has=page.locator("svg.jl-error-spark")).first
    assert EVIL + ".py" in diff_view.locator(".jl-num-answer").text_content()
    assert diff_view.locator("td", has_text=EVIL + ".py").count() >= 1  # the creators table
    for target in (
        diff_view.locator("svg.jl-error-spark rect").first,
        inspector.locator(".jl-pane").nth(1).locator(".jl-err[title]").first,
        inspector.locator(".jl-pane").nth(1).locator(".jl-l", has_text="sub").first,
    ):
        target.hover()
        page.wait_for_timeout(200)
        assert_nothing_injected(page)
    # the named scope reaches the jaxpr pane as text
    assert (
        inspector.get_by_text(EVIL).count()
        + inspector.locator(".jl-pane", has_text="onerror").count()
        >= 1
    )
    screenshot(diff_view, "precision-names-escaped")
    screenshot(inspector, "precision-inspector-names-escaped")
    # the static views (exports, GitHub) too: numerics_diff's page, numerics', the inspector's
    evil = evil_fn(EVIL_BODY)
    x = jnp.asarray(np.random.default_rng(0).normal(1000.0, 1.0, 4096), jnp.float32)
    d = jaxlab.numerics_diff(evil, x, compare="bf16")
    assert d.top is not None and d.top["file"] == EVIL + ".py"
    for html in (
        d.to_html(),
        jaxlab.numerics(evil, x).to_html(),
        jaxlab.inspect(evil, x, compare="bf16", run=False).to_html(),
    ):
        page.set_content(html)
        page.locator(".jl-num-answer").first.hover()
        for svg_bar in page.locator("svg.jl-error-spark rect").all()[:3]:
            svg_bar.hover()
        page.wait_for_timeout(100)
        assert_nothing_injected(page)
        assert page.get_by_text(EVIL, exact=False).count() >= 1
    screenshot(page, "precision-static-page-escaped")
