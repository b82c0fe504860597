"""The profile and memory views: static HTML with an SVG timeline, sub-pixel kernels merged,
and every user string (kernel names, named scopes, file names, variable names) escaped."""

from __future__ import annotations

import re

import jax.numpy as jnp

import jaxlab
from jaxlab.views.profile import timeline_svg_of
from tests.unit.test_profile import installed_dense, load_function

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
    return load_function(path, "evil")


def evil_profile(tmp_path):
    p = jaxlab.profile(load_evil(tmp_path), jnp.ones((64, 64)), runs=2, peak=False)
    p.kernels[0].kernel = EVIL  # as if XLA had named a kernel so
    p.__dict__.pop("_timeline_model", None)
    for ev in p.timeline:
        ev.kernel = EVIL
    return p


def test_profile_html_escapes_kernel_names_scopes_and_file_names(tmp_path):
    p = evil_profile(tmp_path)
    assert any(s["scope"] == EVIL for s in p.by_scope())
    assert any(EVIL in r["file"] for r in p.by_line())
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


def many_kernels(x):
    for k in range(24):  # a Python loop: one matmul kernel and one fusion per turn
        x = jnp.tanh(x @ x) + k
    return x


def test_library_detail_is_one_click_away_and_kernels_fold_after_the_top_ones(tmp_path):
    dense = installed_dense(tmp_path)

    def step(x, w):
        h = dense(x, w)
        return many_kernels(h)

    x = jnp.ones((64, 64))
    p = jaxlab.profile(step, x, x, runs=2, peak=False)
    html = p._repr_html_()
    lines = re.search(r"time by source line</summary>(.*?)</table>", html, re.S).group(1)
    # the user's line leads; the library's lines are under a fold in its row
    first = re.search(r"<tbody><tr>(.*?)</tr>", lines, re.S).group(1)
    assert "h = dense(x, w)" in first or "x = jnp.tanh(x @ x) + k" in first
    row = re.search(r"<tr><td>[^<]*</td><td>h = dense\(x, w\)</td>.*?</details>", html, re.S)
    assert row and '<details class="jl-lib"><summary>fakelib.py:6' in row.group(0)
    assert "y = x @ w" in row.group(0)
    assert "by_line(library=True)" in html
    # numbers never wrap: "43.4 µs" stays on one line
    assert re.search(r"td\.num, \.jaxlab table\.jl-table th\.num \{[^}]*white-space: nowrap", html)
    # the kernels: the top ten, then the rest under one fold
    kernels = html[html.index("<summary>kernels</summary>") :]
    top_table = kernels[: kernels.index("</table>")]
    assert top_table.count("<tr>") == 1 + 10
    n = len(p.kernels)
    assert n > 45
    assert re.search(rf"<details><summary>{n - 10} more kernels \(\d+\.\d% of kernel time\)", html)
    folded = kernels[kernels.index(f"{n - 10} more kernels") :]
    assert folded[: folded.index("</table>")].count("<tr>") == 1 + n - 10  # all of them
    assert "more kernels in <code>.to_pandas()" not in html
    text = repr(p)
    assert "by line (library code counted in the line of yours that called it)" in text
    assert "  fakelib.py:6" in text
    # the rows' own view names the library lines and their times, never a raw dict
    shown = repr(p.by_line())
    dense_row = next(line for line in shown.splitlines() if "h = dense(x, w)" in line)
    assert re.search(r"fakelib\.py:6 [\d.]+ [mµn]?s", dense_row), dense_row
    assert "{" not in shown and "'code'" not in shown
    assert "fakelib.py:6" in p.by_line()._repr_html_()
