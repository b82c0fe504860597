"""A notebook using the compile explorer, executed and exported by nbconvert, keeps its static
views (no kernel, no widget manager): the compile profile, the pass list with its folded diffs
(the live pass explorer's output beside it), and a compile diff."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from tests.browser._lab import notebook
from tests.conftest import needs_widget_bundle

pytestmark = pytest.mark.kernel


@needs_widget_bundle
def test_exported_notebook_keeps_the_compile_views(kernel_prefix):
    cells = [
        "import jax, jax.numpy as jnp, jaxlab\ndef fn(x):\n    return x + x*x + x*x*x",
        "%compile_profile fn(jnp.ones(1000))",
        "%passes fn(jnp.ones(1000))",
        "jaxlab.diff(jaxlab.inspect(fn, jnp.ones(1000)), jaxlab.inspect(fn, jnp.ones(8)))",
    ]
    nb = nbformat.from_dict(notebook(cells, "jaxlab-test"))
    NotebookClient(nb, kernel_name="jaxlab-test", timeout=300).execute()
    profile, passes, diff = (nb.cells[i].outputs for i in (1, 2, 3))
    assert "compile profile of <code>fn</code>" in profile[0]["data"]["text/html"]
    static, live = passes
    assert "data-jaxlab-static" in static["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in live["data"]
    assert "f32[8]" in diff[0]["data"]["text/html"]
    html, _ = HTMLExporter().from_notebook_node(nb)
    assert html.count('class="jaxlab jl-compile"') == 3
    assert '<span class="jl-pass">fusion</span>' in html
    assert "unchanged lines</summary>" in html or "<details>" in html
