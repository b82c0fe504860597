"""Views name notebook code by its cell ("In [19], line 2"), never by IPython's temporary file
name for the cell ("224308452.py:2"): the fusion table of `%hlo`, the inspector's source headers
and fusion explorer, and `%bench`'s notes, in their HTML and their text."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.kernel

# what IPython names a cell's code: /tmp/ipykernel_<pid>/<hash>.py
TEMP_NAME = re.compile(r"ipykernel_\d+|\b\d{5,}\.py\b")

FAST = "--time-budget 0.02 --no-peak"


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


def _shown(result) -> str:
    return result.html + result.text + result.stdout + result.stderr


def test_every_view_names_notebook_code_by_its_cell(kernel):
    """Every view a notebook user meets — IR texts, transformations, the platform inspector,
    memory, placement, the compile diff, `%recompiles` and its diff, the guards, the error
    card — in its HTML and its text: no temporary file name of IPython's."""
    defined = kernel.ok(
        "def body_ev(x, s):\n    y = jnp.tanh(x * s)\n    return (y * y).sum()\n"
        "step_ev = jax.jit(body_ev)"
    )
    label = f"In [{defined.execution_count}]"
    kernel.ok("x_ev = jnp.ones((4, 3))")
    cells = {
        "%jaxpr": "%jaxpr body_ev(x_ev, 2.0)",
        "%hlo": "%hlo body_ev(x_ev, 2.0)",
        "%inspect --platforms": "%inspect --platforms tpu body_ev(x_ev, 2.0)",
        "%inspect --compile-profile": "%inspect --compile-profile body_ev(x_ev, 2.0)",
        "%passes": "%passes body_ev(x_ev, 2.0)",
        "%grad": "%grad body_ev(x_ev, 2.0)",
        "%vmap": "%vmap body_ev(jnp.ones((2, 4, 3)), 2.0) --in-axes (0,None)",
        "%jit": "%jit body_ev(x_ev, 2.0)",
        "%memory": "%memory",
        "%where": "%where x_ev",
        "diff": "jaxlab.diff(jaxlab.inspect(body_ev, x_ev, 2.0), "
        "jaxlab.inspect(body_ev, jnp.ones((8, 3)), 2.0))",
    }
    kernel.ok("import jaxlab")
    shown = {name: _shown(kernel.ok(code)) for name, code in cells.items()}
    # two compilations of the jitted step, then the recompile views
    kernel.ok("step_ev(jnp.ones((5, 3)), 2.0)\nstep_ev(jnp.ones((6, 3)), 2.0)")
    shown["%recompiles"] = _shown(kernel.ok("%recompiles"))
    shown["%recompiles f"] = _shown(kernel.ok("%recompiles body_ev"))
    shown["%recompiles f --diff"] = _shown(kernel.ok("%recompiles body_ev --diff"))
    # the guards: a side effect at trace time and a stale global
    kernel.ok("scale_ev = 2.0\n@jax.jit\ndef stale_ev(x):\n    print(x)\n    return x * scale_ev")
    shown["side-effect guard"] = _shown(kernel.ok("stale_ev(1.0)"))
    shown["stale guard"] = _shown(kernel.ok("scale_ev = 3.0\nstale_ev(1.0)"))
    # an error card: a tracer used as a Python bool
    kernel.ok("def branch_ev(x):\n    if x > 0:\n        return x\n    return -x")
    shown["error card"] = _shown(kernel.run("%inspect branch_ev(1.0)"))
    for name, text in shown.items():
        assert text, name
        assert not TEMP_NAME.search(text), (name, TEMP_NAME.search(text))
    assert f"{label}, line 2" in shown["%recompiles f --diff"]
    assert f"{label}, line 1" in shown["%recompiles f"]
    assert "stale_ev" in shown["side-effect guard"] and "scale_ev" in shown["stale guard"]
