"""The views of a Numerics result and the inspector's values column: the first line is the
answer, the figures are the ones on the rows, the table and sparklines have their structure,
and every name from the program is escaped."""

from __future__ import annotations

import gzip
import json
import math
import re

import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.core.nonfinite import nonfinite
from jaxlab.ir.numerics import HISTOGRAM_LOW, Stats
from jaxlab.views import numerics as views
from jaxlab.views.binades import EDGES, WIDTH, Axis, sparkline
from jaxlab.views.inspector import values as values_view
from jaxlab.views.inspector.model import sections_of
from jaxlab.views.inspector.widget import encode, numerics_model
from tests.unit._numerics_rows import argument, numerics, origin_of, row, stats_of

EVIL = "<img src=x onerror=alert(1)>"
EVIL_FILE = '/tmp/<script>alert("f")</script>.py'

X = np.array([0.0, 1.0, 2.0], np.float32)


def _backward_log() -> jaxlab.Numerics:
    """A backward pass whose log of 0 gives -Inf, then NaN through a multiply by 0."""
    with np.errstate(all="ignore"):
        log = np.log(X)
        rows = [
            row(X, 0, "mul", file="/nb/cell4.py", line=2, where="In [4], line 2"),
            row(np.exp(np.array([1.0, 12.0], np.float32)), 1, "exp", where="In [4], line 3"),
            row(log, 2, "log", phase="backward", file="/nb/cell4.py", line=3,
                where="In [4], line 3"),
            row(log * 0, 3, "mul", phase="backward", where="In [4], line 3"),
        ]  # fmt: skip
    origin = origin_of(
        rows, 2, (Stats(**stats_of(X)),), trap="log(0) * 0", fix="`jnp.where(x > 0, x, 1)` first"
    )
    return numerics(rows, origin, grad=True, compile_s=0.25, run_s=0.004)


def test_the_first_line_names_the_origin_with_its_line_and_the_fix():
    n = _backward_log()
    text = repr(n).splitlines()
    assert text[0] == (
        "-Inf born in the backward pass at In [4], line 3: log of a value that reaches 0.0."
    )
    assert text[1] == "  log(0) * 0 — fix: `jnp.where(x > 0, x, 1)` first"
    html = n._repr_html_()
    assert "fix: <code>jnp.where(x &gt; 0, x, 1)</code> first" in html
    first = re.search(r'<div class="jl-num-answer[^"]*">(.*?)</div>', html).group(1)
    assert first == text[0]
    assert html.index("jl-num-answer") < html.index("<table")


def test_origin_in_a_loop_on_a_device_and_through_an_argument():
    n = _backward_log()
    looped = origin_of(n.equation_stats, 2, (None,), iteration=(7,), device=3, phase="forward")
    assert views.origin_sentence(looped) == (
        "-Inf born in the forward pass at In [4], line 3, iteration 7 of its loop, on device 3: "
        "log of a value that is a constant."
    )
    bad = np.array([1.0, np.nan], np.float32)
    arg = origin_of(n.equation_stats, 0, (), argument="params['w1']", row=None, kind="NaN")
    n2 = numerics(n.equation_stats, arg, arguments=[argument(bad, "params['w1']")])
    lines = repr(n2).splitlines()
    assert lines[0] == "NaN comes in through the argument params['w1']; no equation made it."
    html = n2._repr_html_()
    assert "<td>params[&#x27;w1&#x27;]</td>" in html and "<td>NaN 1</td>" in html


def test_input_phrases_say_what_the_operands_held():
    neg = Stats(**stats_of(np.array([-1.5, 2.0], np.float32)))
    big = Stats(**stats_of(np.array([3.0, 95.0], np.float32)))
    zero = Stats(**stats_of(np.array([0.0, 2.0], np.float32)))
    n = _backward_log()
    assert views.origin_cause(origin_of(n.equation_stats, 2, (neg,), primitive="sqrt")) == (
        "sqrt of a value that goes down to -1.5"
    )
    assert views.origin_cause(origin_of(n.equation_stats, 1, (big,), primitive="exp")) == (
        "exp of a value that reaches 95"
    )
    assert views.origin_cause(origin_of(n.equation_stats, 3, (big, zero), primitive="div")) == (
        "div of a value that reaches 95 and one that reaches 0.0"
    )


def test_a_clean_run_says_so_first_with_the_widest_range():
    x = np.array([1e-8, 0.5, 3.0], np.float32)
    y = np.array([2.0, 70000.0], np.float32)
    n = numerics(
        [row(x, 0, "sin", where="m.py:3"), row(y, 1, "exp", where="m.py:4"), row(
            np.arange(4, dtype=np.int32), 2, "iota", where="m.py:5")]
    )  # fmt: skip
    first = repr(n).splitlines()[0]
    assert first == "No NaN or Inf in 3 outputs; |x| spans 1e-8 … 7e4 (largest: exp at m.py:4)."
    assert views.cast_sentences(n) == [
        "bf16: every float value fits",
        "f16: 1 output would overflow (up to 7e4, exp at m.py:4); 1 would flush values to zero "
        "(up to 33.3 % of sin at m.py:3)",
        "fp8 e4m3: 1 output would overflow (up to 7e4, exp at m.py:4); 1 would flush values "
        "to zero (up to 33.3 % of sin at m.py:3)",
    ]
    assert n.equation_stats[1].overflow_f16 == 0.5  # 70000 of [2, 70000] overflows f16 (65504)
    assert "jl-clean-run" in n._repr_html_()


def test_numbers_and_fractions():
    assert [views.num(v) for v in (None, 0.0, -2.5, 12345.0, 3.1e-8, 0.6931472, math.inf)] == [
        "–", "0", "-2.5", "1.23e4", "3.1e-8", "0.6931", "Inf",
    ]  # fmt: skip
    assert [views.percent(v) for v in (None, 0.0, 1e-6, 0.3333, 1.0, 0.99999)] == [
        "", "", "<0.01 %", "33.3 %", "100 %", ">99.9 %",
    ]  # fmt: skip


def test_static_table_puts_the_origin_and_nonfinite_rows_first():
    n = _backward_log()
    html = n._repr_html_()
    order = [int(i) for i in re.findall(r'<tr(?: class="jl-origin-row")? data-row="(\d+)"', html)]
    assert order == [2, 3, 1, 0]  # origin, other NaN rows, then by largest |x|
    assert '<tr class="jl-origin-row" data-row="2">' in html
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", html.split("jl-numerics-table")[1])
    assert heads[:4] == ["#", "op", "pass", "line"]
    assert "scope" not in heads and "subnormal" not in heads  # empty columns left out
    assert "f16 overflow" in heads and heads[-1] == "binades"
    many = numerics([row(X, i, "add", where=f"m.py:{i}") for i in range(80)])
    html = many._repr_html_()
    assert html.count("<tr data-row=") == views.STATIC_ROWS
    assert f"{views.STATIC_ROWS} of 80 outputs: NaN and Inf first, then what a narrower" in html


def test_sparkline_bars_sit_on_their_binades_with_the_formats_edges():
    x = np.array([1.0, 1.5, 2.0, 1024.0], np.float32)  # binades 0, 0, 1, 10
    hist = row(x, 0, "add").histogram
    assert hist[0 - HISTOGRAM_LOW] == 2 and hist[10 - HISTOGRAM_LOW] == 1
    axis = Axis.of([hist])
    assert (axis.low, axis.high) == (-26, 18)  # f16's range (-24 … 16) and two binades
    svg = sparkline(hist, axis, "add at <b>")
    assert svg.count("<rect") == 3
    xs = [float(v) for v in re.findall(r'<rect x="([\d.]+)"', svg)]
    per = WIDTH / (axis.high + 1 - axis.low)
    assert xs == pytest.approx([round(per * (b - axis.low), 1) for b in (0, 1, 10)], abs=0.06)
    assert "f16 overflows from 2^16" in svg and "fp8 e4m3 flushes to 0 below 2^-9" in svg
    assert "bf16" not in svg  # bf16's edges (2^-133, 2^128) are off this axis
    assert "<title>add at &lt;b&gt;</title>" in svg
    assert sparkline([0] * len(hist), axis, "none") == ""
    assert {e.name for e in EDGES} == {"bf16", "f16", "fp8 e4m3"}


def test_program_names_are_escaped_in_every_view():
    rows = [
        row(np.array([np.nan], np.float32), 0, "log", scope=EVIL, file=EVIL_FILE, line=1,
            where=f"{EVIL}:1"),
    ]  # fmt: skip
    n = numerics(rows, origin_of(rows, 0, (None,)), fn_name=EVIL, notes=[EVIL])
    section = views.numerics_section(n)
    for html in (n._repr_html_(), n.to_html(), section["html"], section["head_html"]):
        assert "<img" not in html and "<script" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert section["rows"]["scope"] == [EVIL]  # the widget writes rows as text


def _scoped(x):
    import jax

    with jax.named_scope(EVIL), jax.named_scope("attn(q, k)/v"):
        return jnp.sum(jnp.log(x) ** 2)


@pytest.mark.parametrize("grad", [False, True], ids=["forward", "grad"])
def test_named_scopes_of_a_real_run_are_shown_as_written_and_escaped(grad):
    """Scopes come from JAX's name stack as the user wrote them: parentheses and slashes in
    a scope are kept (not taken for transforms such as jvp(...)), and escaped in HTML."""
    n = jaxlab.numerics(_scoped, jnp.array([1.0, 2.0]), grad=grad)
    want = f"{EVIL}/attn(q, k)/v"
    scopes = {r.scope for r in n.equation_stats if r.primitive == "log"}
    assert scopes == {want}
    if grad:
        assert {r.scope for r in n.equation_stats if r.phase == "backward"} >= {want}
    section = views.numerics_section(n)
    assert want in section["rows"]["scope"]
    for html in (n._repr_html_(), n.to_html(), section["html"]):
        assert "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;/attn(q, k)/v" in html
    only = jaxlab.numerics(_scoped, jnp.array([1.0, 2.0]), only="attn(q, k)")
    assert {r.scope for r in only.equation_stats} == {want}


def _loss(x, w):
    h = jnp.log(x) * w
    y = jnp.exp(h)
    return (y * 0).sum()


@pytest.fixture(scope="module")
def inspected():
    """A real inspection with the numerics of its equations, computed on the host."""
    x, w = X, np.ones(3, np.float32)
    insp = jaxlab.inspect(_loss, x, w, run=False)
    with np.errstate(all="ignore"):
        values = [np.log(x)]
        values += [values[0] * w]
        values += [np.exp(values[1])]
        values += [values[2] * 0]
        values += [np.array(values[3].sum(), np.float32)]
    eqs = insp.jaxpr_model.equations
    rows = [
        row(v, i, eq.primitive, eqn_path=eq.path, file=eq.source[0], line=eq.source[1],
            where=f"line {eq.source[1]}", scope=EVIL)
        for i, (v, eq) in enumerate(zip(values, eqs, strict=True))
    ]  # fmt: skip
    insp.numerics = numerics(rows, origin_of(rows, 0, (Stats(**stats_of(x)),)))
    return insp


def test_inspector_values_column_marks_and_origin(inspected):
    text = repr(inspected).splitlines()
    assert text[0].startswith("-Inf born in the forward pass at line ")
    assert text[1].startswith("Inspection of _loss(")
    assert text[-1] == "  values: .numerics (5 equation outputs)"
    model = inspected.view_model()
    assert model["sections"][0]["kind"] == "numerics"  # the answer comes first
    sec = sections_of(model)["numerics"]
    panes = {p["id"]: p for p in sections_of(model)["panes"]["panes"]}
    eqs = inspected.jaxpr_model.equations
    jaxpr_lines = [eq.text_line - 1 for eq in eqs]
    assert sec["rows"]["jaxpr_line"] == jaxpr_lines
    assert sorted(sec["values"]) == sorted(str(n) for n in jaxpr_lines)
    log, mul = sec["values"][str(jaxpr_lines[0])], sec["values"][str(jaxpr_lines[1])]
    assert (log["state"], log["text"]) == ("origin", "-Inf 1")
    assert (mul["state"], mul["text"]) == ("nonfinite", "-Inf 1")
    assert sec["values"][str(jaxpr_lines[2])]["text"] == "0 … 2"
    assert " log " in panes["jaxpr"]["lines"][sec["origin_lines"]["jaxpr"]]
    source_line = sec["origin_lines"]["source"]
    assert "jnp.log(x)" in panes["source"]["lines"][source_line]
    assert sec["source_marks"][str(source_line)] == "origin"
    html = inspected.to_html()
    (anchor,) = re.findall(
        r'<span class="jl-l[^"]*jl-origin"[^>]*id="(jl-numerics-origin-\w+)"', html
    )
    assert html.count(f'href="#{anchor}"') == 1
    assert '<span class="jl-val jl-val-origin" style="--jl-heat:0.0"' in html
    assert "<img" not in html


def test_headroom_heat_is_the_share_of_the_exponent_range_used():
    f16 = row(np.array([65504.0], np.float16), 0, "mul")
    half = row(np.array([256.0, -2.0], np.float16), 0, "mul")
    f32 = row(np.array([1e4], np.float32), 0, "mul")
    small = row(np.array([0.5], np.float32), 0, "mul")
    ints = row(np.array([70000], np.int32), 0, "add")
    assert values_view.headroom_heat(f16) == pytest.approx(1.0, abs=1e-3)
    assert values_view.headroom_heat(half) == 0.5
    assert values_view.headroom_heat(f32) == pytest.approx(math.log2(1e4) / 128, abs=1e-3)
    assert values_view.headroom_heat(small) == 0.0 and values_view.headroom_heat(ints) == 0.0


def test_the_widget_gets_the_numerics_alone_as_json():
    n = _backward_log()
    model = numerics_model(n)
    decoded = json.loads(gzip.decompress(encode(model)))
    (sec,) = decoded["sections"]
    assert sec["kind"] == "numerics" and sec["origin_row"] == 2 and not sec["clean"]
    assert sec["rows"]["primitive"] == ["mul", "exp", "log", "mul"]
    assert sec["rows"]["hist_low"][2] == -1  # log(1), log(2): binades -1 (0.69) only
    assert sec["rows"]["hist"][2] == [1]
    assert sec["rows"]["min"][2] is None or sec["rows"]["min"][2] == 0.0
    assert sec["answer"].startswith("-Inf born in the backward pass")


def test_nonfinite_counts_of_a_jax_value_match_the_rows():
    with np.errstate(all="ignore"):
        host = np.log(np.array([0.0, -1.0, 3.0], np.float32))
    r = row(host, 0, "log")
    found = nonfinite(jnp.asarray(host))
    assert (found.nan, found.neginf) == (r.nan, r.neginf) == (1, 1)


def test_a_line_shared_by_many_outputs_shows_the_worst_and_names_a_few():
    finite = row(np.array([1.0, 2.0], np.float32), 0, "sin")
    bad = row(np.array([np.nan, 1.0], np.float32), 1, "sin")
    cell = None
    for i in range(10):
        cell = values_view._merge(
            cell, bad if i == 6 else finite, "nonfinite" if i == 6 else "finite"
        )
    assert (cell["state"], cell["text"]) == ("nonfinite", "NaN 1")
    tips = cell["tip"].split("\n")
    assert len(tips) == values_view.MAX_TIPS + 1 and tips[-1].startswith("…")


def test_a_clean_run_lists_first_what_a_narrower_type_would_damage():
    small = np.array([1e-9, 1.0], np.float32)  # 1e-9 flushes to zero in f16
    large = np.array([300.0, 1.0], np.float32)  # fits every format (fp8 e4m3 holds 448)
    huge = np.array([1000.0, 1.0], np.float32)  # overflows fp8 e4m3 only
    n = numerics(
        [row(large, 0, "a"), row(huge, 1, "b"), row(small, 2, "c"), row(np.ones(2), 3, "d")]
    )
    assert views.cast_damage(n.equation_stats[2]) == (0.0, 0.5, 0.5)
    assert views.cast_damage(n.equation_stats[1]) == (0.0, 0.0, 0.5)
    assert views.chosen_rows(n, 10) == [2, 1, 0, 3]  # f16 damage, fp8 damage, then by |x|
