"""Small things every view says right: counts agree with their nouns."""

from __future__ import annotations

from types import SimpleNamespace

from jaxlab.base.format import plural


def test_plural_agrees_with_the_count():
    assert plural(1, "kernel") == "1 kernel"
    assert plural(0, "kernel") == "0 kernels"
    assert plural(1.0, "kernel") == "1 kernel"
    assert plural(1.5, "kernel") == "1.5 kernels"
    assert plural(2500, "device") == "2,500 devices"
    assert plural(1, "process", "processes") == "1 process"
    assert plural(2, "process", "processes") == "2 processes"


def test_views_count_one_thing_in_the_singular():
    from jaxlab.views.devices import headline
    from jaxlab.views.profile import summary_line
    from jaxlab.views.program import collectives_summary

    report = SimpleNamespace(
        backend="cpu", default_backend="cpu", devices=[0] * 8, addressable=[0] * 8,
        process_count=1, process_index=0,
    )  # fmt: skip
    assert headline(report).endswith(
        "8 devices in 1 process; this is process 0, which addresses 8 devices"
    )
    one = SimpleNamespace(kind="all-reduce", bytes_moved=64)
    assert collectives_summary([one]).startswith("1 collective (1 all-reduce)")
    assert collectives_summary([one, one]).startswith("2 collectives (2 all-reduce)")
    profile = SimpleNamespace(
        kernels=[object()], calls=[0, 1], runs=2, wall_s=2e-3, kernel_s=1e-3, gaps_s=0.0,
        host_s=1e-3, coverage_frac=0.5, kernels_per_call=1.0,
    )  # fmt: skip
    assert summary_line(profile).endswith("· 1 kernel per call")


def test_an_error_explanation_wraps_at_spaces_never_mid_word():
    from jaxlab.core.errors import Explanation

    e = Explanation(
        "`rectified_cube` uses a traced value in Python control flow (if/while/and/or) (it "
        "depends on argument `x`); under jit or vmap its value is not known while tracing.",
        "use jax.lax.cond, jnp.where or jax.lax.while_loop, or make the argument static "
        "(static_argnums / --static-argnums).",
        "In [4], line 3: if x < 0.:",
    )
    text = e.message(prefix="[jaxlab] ", width=88)
    lines = text.split("\n")
    assert all(len(line) <= 88 for line in lines) and len(lines) >= 4
    assert " ".join(line.strip() for line in lines).startswith(
        "[jaxlab] `rectified_cube` uses a traced value in Python control flow"
    )
    words = set(e.summary.split()) | set(e.fix.split())
    assert all(w in words or w in ("[jaxlab]", "at", "fix:") or w in e.where.split()
               for line in lines for w in line.split())  # fmt: skip
    assert e.message() == "\n".join(  # without a width: one line each, as before
        [e.summary, f"  at {e.where}", f"  fix: {e.fix}"]
    )


def test_the_source_pane_title_counts_the_lines_it_shows():
    import jax.numpy as jnp
    import pytest

    import jaxlab
    from jaxlab.views.inspector.html import pane_title

    pane = {"title": "source", "lines": ["x"] * 285, "folds": [
        {"header": 22, "first": 23, "last": 140, "equations": 5, "kernels": 2},
        {"header": 141, "first": 142, "last": 284, "equations": 1, "kernels": 1},
    ]}  # fmt: skip
    assert pane_title(pane) == "source (24 lines; 261 more in 2 folded library frames)"
    assert pane_title({"title": "jaxpr", "lines": ["a", "b"]}) == "jaxpr (2 lines)"
    nnx = pytest.importorskip("flax.nnx", reason="Flax is in the `examples` extra")
    layer = nnx.Linear(3, 4, rngs=nnx.Rngs(0))
    graphdef, state = nnx.split(layer)

    def forward(state, x):
        return nnx.merge(graphdef, state)(x)

    html = jaxlab.inspect(forward, state, jnp.ones((2, 3)), run=False)._repr_html_()
    title = html.split('class="jl-pane-title">', 1)[1].split("<", 1)[0]
    assert title.startswith("source (") and "folded library frame" in title


def test_graph_inputs_are_named_as_the_call_names_them():
    import jax
    import jax.numpy as jnp

    import jaxlab
    from jaxlab.views.graph import graph_of

    def loss(params, x, y):
        return jnp.mean((jnp.tanh(x @ params["w1"] + params["b1"]) - y) ** 2)

    params = {"w1": jnp.ones((4, 3)), "b1": jnp.zeros((1, 3))}
    insp = jaxlab.inspect(jax.grad(loss), params, jnp.ones((2, 4)), jnp.ones((2, 3)), run=False)
    expected = ["params['b1']: f32[1,3]", "params['w1']: f32[4,3]", "x: f32[2,4]", "y: f32[2,3]"]
    assert [n.label for n in graph_of(insp, "jaxpr").nodes if n.kind == "input"] == expected
    assert [n.label for n in graph_of(insp, "hlo").nodes if n.kind == "param"] == expected

    def scaled(x, k):
        return jnp.sin(x) * k

    traced_number = jaxlab.inspect(scaled, jnp.ones(3), 2.0, run=False)
    inputs = [n.label for n in graph_of(traced_number, "jaxpr").nodes if n.kind == "input"]
    assert inputs == ["x: f32[3]", "k"]


def _lab(colour: str) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of a ``#rrggbb`` colour."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in (r, g, b))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    fx, fy, fz = (v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in (x, y, z))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def test_device_colours_are_told_apart_and_keep_text_readable():
    import itertools
    import math

    from jaxlab.views.colours import PALETTE

    def delta(a: str, b: str) -> float:
        return math.dist(_lab(a), _lab(b))

    assert len(set(PALETTE)) == len(PALETTE) == 16
    eight = min(delta(a, b) for a, b in itertools.combinations(PALETTE[:8], 2))
    sixteen = min(delta(a, b) for a, b in itertools.combinations(PALETTE, 2))
    assert eight >= 30 and sixteen >= 19, (eight, sixteen)
    assert all(70 <= _lab(c)[0] <= 90 for c in PALETTE)
