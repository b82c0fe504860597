"""Views that stay readable on real models, in JupyterLab and Chromium: the inspector's title of
a 48-layer training step fits in two lines at 1200 px, and a Flax step's source pane shows the
user's step first with Flax's and Optax's frames folded, a folded frame still linking its
equations (in the live widget and in the static rendering)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser._lab import screenshot
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]

WIDGET_TIMEOUT_MS = 240_000
BENCHMARKS = Path(__file__).parents[2] / "benchmarks"

FLAX_CELLS = [
    "import jax, jax.numpy as jnp, optax\nfrom flax import nnx",
    "class MLP(nnx.Module):\n"
    "    def __init__(self, rngs):\n"
    "        self.l1 = nnx.Linear(4, 32, rngs=rngs)\n"
    "        self.l2 = nnx.Linear(32, 1, rngs=rngs)\n"
    "    def __call__(self, x):\n"
    "        return self.l2(nnx.relu(self.l1(x)))\n"
    "model = MLP(nnx.Rngs(0))\n"
    "opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)\n"
    "graphdef, state = nnx.split((model, opt))",
    "def train_step(state, x, y):\n"
    "    model, opt = nnx.merge(graphdef, state)\n"
    "    loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)\n"
    "    opt.update(model, grads)\n"
    "    return loss, nnx.state((model, opt))",
    "%inspect train_step(state, jnp.ones((16, 4)), jnp.ones((16, 1)))",
]


def lines_of(element) -> float:
    """How many text lines an element spans (its height over its line height)."""
    return element.evaluate(
        "el => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"
    )


def test_48_layer_title_fits_two_lines_and_flax_frames_fold(lab, browser):
    pytest.importorskip("flax")
    name = lab.write_notebook(
        "summaries.ipynb",
        [
            f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r})\n"
            "import transformer\nparams, x = transformer.shapes(48)",
            "%inspect transformer.step(params, x)",
            *FLAX_CELLS,
        ],
    )
    context = browser.new_context(viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    try:
        lab.open(page, name)
        lab.run_all(page)
        widgets = page.locator(".jl-inspector-host[data-ready='1']")
        widgets.nth(1).wait_for(timeout=WIDGET_TIMEOUT_MS)
        big, flax = widgets.nth(0), widgets.nth(1)

        title = big.locator(".jl-title.jl-signature")
        assert "params: list[48] of dict{" in title.text_content()
        # arguments and results, not one entry per leaf
        assert title.text_content().count("f32[64,64]") <= 2
        assert lines_of(title) <= 2.2, title.text_content()
        title.scroll_into_view_if_needed()
        screenshot(big.locator(".jl-header"), "inspector-48-layer-title")
        # the full leaf list is one click away
        big.locator("details.jl-leaves > summary").click()
        assert big.locator("details.jl-leaves tbody tr").count() == 289

        source, jaxpr = flax.locator(".jl-pane").nth(0), flax.locator(".jl-pane").nth(1)
        headers = source.locator(".jl-l.jl-hdr")
        first_lines = source.locator(".jl-l").all_text_contents()[:3]
        assert "train_step" in "".join(first_lines), first_lines  # the user's step first
        folded = source.locator(".jl-l[data-fold='closed']", has_text="flax/nnx/nn/linear.py")
        assert folded.count() == 1
        assert "equations" in folded.text_content()
        assert source.locator(".jl-l", has_text='"""').count() == 0  # no library docstrings
        assert headers.filter(has_text="optax/").count() >= 1
        folded.hover()
        jaxpr.locator(".jl-l.jl-hl").first.wait_for(timeout=10_000)
        assert jaxpr.locator(".jl-l.jl-hl", has_text="dot_general").count() >= 1
        screenshot(flax, "inspector-flax-folded-frame-hover")
        # opening the fold shows Flax's lines
        folded.locator(".jl-fold-toggle").click()
        opened = source.locator(".jl-l[data-fold='open']", has_text="flax/nnx/nn/linear.py")
        opened.wait_for(timeout=5_000)
        assert source.locator(".jl-l", has_text="def __call__").count() >= 2
    finally:
        context.close()


def test_static_flax_inspector_folds_library_frames(tmp_path, page):
    pytest.importorskip("flax")
    import jax.numpy as jnp
    import optax
    from flax import nnx

    import jaxlab

    namespace: dict = {"jnp": jnp, "optax": optax, "nnx": nnx}
    source = tmp_path / "flax_step.py"
    source.write_text("\n\n".join(["import jax, jax.numpy as jnp, optax\nfrom flax import nnx",
                                   *FLAX_CELLS[1:3]]) + "\n")  # fmt: skip
    exec(compile(source.read_text(), str(source), "exec"), namespace)
    insp = jaxlab.inspect(namespace["train_step"], namespace["state"], jnp.ones((16, 4)),
                          jnp.ones((16, 1)))  # fmt: skip
    html = tmp_path / "flax.html"
    html.write_text(insp.to_html())
    page.goto(html.as_uri(), wait_until="load")
    src, jaxpr = page.locator(".jl-pane").nth(0), page.locator(".jl-pane").nth(1)
    assert "train_step" in src.locator(".jl-l").nth(1).text_content()
    fold = src.locator("details.jl-fold", has_text="flax/nnx/nn/linear.py")
    assert fold.count() == 1 and fold.get_attribute("open") is None
    header = fold.locator("summary .jl-l")
    header.hover()
    lit = jaxpr.locator(".jl-l[data-g]")
    highlighted = lit.evaluate_all(
        "els => els.filter(e => getComputedStyle(e).outlineStyle === 'solid').length"
    )
    assert highlighted >= 1
    screenshot(page, "inspector-static-flax-fold-hover")
