"""The profile and memory views: static HTML with an SVG timeline, sub-pixel kernels merged,
and every user string (kernel names, named scopes, file names, variable names) escaped."""

from __future__ import annotations

import importlib.util
import re

import jax.numpy as jnp

import jaxlab
from jaxlab.views.profile import timeline_svg_of

EVIL = "<img src=x onerror=alert(1)>"
EVIL_SOURCE = f"""
import jax, jax.numpy as jnp

def evil(x):
    with jax.named_scope({EVIL!r}):
        return jnp.sin(x @ x) * 2.0
"""


def load_evil(tmp_path):
    path = tmp_path / f"{EVIL}.py"
    path.write_text(EVIL_SOURCE)
    spec = importlib.util.spec_from_file_location("evil_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evil


def evil_profile(tmp_path):
    p = jaxlab.profile(load_evil(tmp_path), jnp.ones((64, 64)), runs=2, peak=False)
    p.kernels[0].kernel = EVIL  # as if XLA had named a kernel so
    p.__dict__.pop("_timeline_model", None)
    for ev in p.timeline:
        ev.kernel = EVIL
    return p


def test_profile_html_escapes_kernel_names_scopes_and_file_names(tmp_path):
    p = evil_profile(tmp_path)
    assert any(s.scope == EVIL for s in p.by_scope())
    assert any(EVIL in r.file for r in p.by_line())
    for html in (p._repr_html_(), p.to_html(), p.timeline_svg()):
        assert EVIL not in html
        assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in p.to_html()


def test_memory_html_escapes_variable_names():
    snap = jaxlab.memory({"d": {EVIL: jnp.ones(5)}})
    html = snap._repr_html_()
    assert EVIL not in html and "&lt;img" in html


def test_sub_pixel_kernels_are_merged_so_the_svg_stays_small():
    n = 20_000
    model = {
        "call": 0,
        "duration_us": n * 0.01,
        "tracks": ["device 0 · Eigen"],
        "events": [[0, i * 0.01, 0.01, i % 3] for i in range(n)],
        "kernels": [
            {"name": f"k{k}", "kind": "loop fusion", "groups": [k], "lines": [], "scope": "",
             "collective": False}
            for k in range(3)
        ],
        "fills": ["#000"],
    }  # fmt: skip
    svg = timeline_svg_of(model, width=900)
    assert len(re.findall("<rect", svg)) <= 900
    assert "kernels" in svg
