"""Views name notebook code by its cell ("In [19], line 2"), never by IPython's temporary file
name for the cell ("224308452.py:2"): the fusion table of `%hlo`, the inspector's source headers
and fusion explorer, and `%bench`'s notes, in their HTML and their text."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.kernel

# what IPython names a cell's code: /tmp/ipykernel_<pid>/<hash>.py
TEMP_NAME = re.compile(r"ipykernel_\d+|\b\d{5,}\.py\b")

FAST = "--time 0.02 --no-roofline"


def test_views_name_notebook_code_by_its_cell(kernel):
    defined = kernel.ok("def fused_cl(x):\n    y = jnp.sin(x) * 2\n    return y + jnp.cos(x) * y")
    label = f"In [{defined.execution_count}]"
    hlo = kernel.ok("h_cl = %hlo fused_cl(jnp.ones(64))\nh_cl")
    insp = kernel.ok("i_cl = %inspect fused_cl(jnp.ones(64))\ni_cl")
    bench = kernel.ok(f"b_cl = %bench fused_cl(jnp.ones(64)) --vs numpy {FAST}\nb_cl")
    for name, result in (("%hlo", hlo), ("%inspect", insp), ("%bench", bench)):
        shown = result.html + result.text + result.stdout
        assert shown, name
        assert not TEMP_NAME.search(shown), (name, TEMP_NAME.search(shown))
    assert f"{label}, line 2" in hlo.html  # the fusion table's source column
    assert f"{label}, line 1" in insp.html  # the source header of the inspected function
    # a guard message points at the cell the same way
    kernel.ok("def noisy_cl(x):\n    print(x)\n    return x")
    warned = kernel.ok("z_cl = jax.jit(noisy_cl)(1.0)")
    assert re.search(r"In \[\d+\], line 2", warned.html)
    assert not TEMP_NAME.search(warned.html + warned.text)


def test_profiles_name_notebook_code_by_its_cell(kernel):
    """`%profile` and `%compile_profile` tables and advice say "In [n], line k" too."""
    defined = kernel.ok(
        "def looped_cl(x):\n    for _ in range(12):\n        x = jnp.sin(x) * 1.5\n    return x"
    )
    label = f"In [{defined.execution_count}]"
    profiled = kernel.ok("p_cl = %profile looped_cl(jnp.ones(256)) --runs 2\np_cl")
    compiled = kernel.ok("c_cl = %compile_profile looped_cl(jnp.ones(256))\nc_cl")
    for name, result in (("%profile", profiled), ("%compile_profile", compiled)):
        shown = result.html + result.text + result.stdout
        assert shown, name
        assert not TEMP_NAME.search(shown), (name, TEMP_NAME.search(shown))
        assert label in shown, name
