"""The inspector's view model, static HTML, graphs and widget protocol: structure, escaping,
bad input and programs too large to show whole."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.ir.graph import FIRST_VIEW_NODES, dot_escape
from jaxlab.ir.stablehlo import StableHloModule
from jaxlab.views.graph import clean_svg, graph_of, graph_view
from jaxlab.views.inspector import html as inspector_html
from jaxlab.views.inspector.widget import answer, encode

EVIL = "<img src=x onerror=alert(1)>"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def evil(x):
    with jax.named_scope(EVIL):
        y = jnp.sin(x) * 2.0
    return y + x


evil.__name__ = '<b onmouseover="alert(2)">evil</b>'


@pytest.fixture(scope="module")
def evil_insp():
    return jaxlab.inspect(evil, jnp.ones(4), run=False)


def sections(model):
    return {s["kind"]: s for s in model["sections"]}


def test_view_model_is_json_with_linked_panes(evil_insp):
    model = evil_insp.view_model()
    assert json.loads(json.dumps(model)) == model
    panes = {p["id"]: p for p in sections(model)["panes"]["panes"]}
    assert list(panes) == ["source", "jaxpr", "stablehlo", "hlo"]
    for pane in panes.values():
        assert len(pane["links"]) == len(pane["lines"])
    source = panes["source"]
    body = next(i for i, line in enumerate(source["lines"]) if "jnp.sin" in line)
    assert source["links"][body] == body  # group g is line g of the source pane

    def lines_in_group(pane, g):
        return [
            i for i, v in enumerate(pane["links"]) if v == g or (isinstance(v, list) and g in v)
        ]

    assert any(" sin " in panes["jaxpr"]["lines"][i] for i in lines_in_group(panes["jaxpr"], body))
    assert any("stablehlo.sine" in panes["stablehlo"]["lines"][i]
               for i in lines_in_group(panes["stablehlo"], body))  # fmt: skip
    hlo_lines = [panes["hlo"]["lines"][i] for i in lines_in_group(panes["hlo"], body)]
    assert any(" fusion(" in line for line in hlo_lines)
    assert all("metadata=" not in line for line in panes["hlo"]["lines"])
    kernels = sections(model)["fusions"]["kernels"]
    assert kernels["kernel"] and any(body in groups for groups in kernels["groups"])


def test_static_html_escapes_everything_and_needs_no_script(evil_insp):
    for html in (evil_insp.to_html(), evil_insp._repr_html_()):
        assert "<script" not in html.lower()
        assert "<img" not in html and "<b " not in html and 'onmouseover="alert' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert not re.search(r"(src|href)=[\"']?https?:", html)
        assert " id=" not in html  # several outputs in one page must not clash


def test_mimebundle_outside_a_kernel_is_static(evil_insp):
    bundle = evil_insp._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert 'class="jaxlab jl-insp"' in bundle["text/html"]


def test_dot_labels_cannot_escape_their_string():
    assert dot_escape('a"b\\N\nc') == 'a\\"b\\\\N c'
    assert dot_escape(EVIL) == EVIL  # quoted DOT strings carry < and > as text


@needs_dot
def test_graph_svg_is_escaped_and_has_no_ids(evil_insp):
    graph = graph_of(evil_insp, "jaxpr")
    scope = next(g for g in graph.groups if g.kind == "scope")
    assert scope.label == EVIL
    for which in ("jaxpr", "hlo"):
        svg = evil_insp.graph_svg(
            which, expanded=list(range(len(graph_of(evil_insp, which).groups)))
        )
        assert svg is not None and svg.startswith("<svg")
        assert "<img" not in svg and "<script" not in svg and ' id="' not in svg
    svg = evil_insp.graph_svg("jaxpr", expanded=[0])
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg


def test_clean_svg_strips_ids_links_and_scripts():
    raw = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- c -->'
        '<svg width="1pt" height="1pt"><g id="graph0"><title>n1</title>'
        '<a xlink:href="javascript:alert(1)"><text>x</text></a><script>alert(1)</script></g></svg>'
    )
    out = clean_svg(raw)
    assert out.startswith("<svg") and "id=" not in out and "href" not in out
    assert "<script" not in out and "<title>" not in out and "<!--" not in out


def unrolled(x):
    for i in range(400):
        x = jnp.sin(x) * (1.0 + i)
    return x


@pytest.fixture(scope="module")
def big_insp():
    return jaxlab.inspect(unrolled, jnp.ones(8), run=False)


def test_hlo_first_view_shows_each_fusion_as_one_box(evil_insp):
    graph = graph_of(evil_insp, "hlo")
    fusions = [g.id for g in graph.groups if g.kind == "fusion"]
    assert fusions
    nodes, boxes = graph.visible(graph.first_view())
    assert set(fusions) <= set(boxes)
    opened, _ = graph.visible(graph.first_view() | {fusions[0]})
    assert len(opened) > len(nodes)  # expanding shows the fused ops


def test_large_program_first_view_is_bounded_and_expands_lazily(big_insp):
    graph = graph_of(big_insp, "jaxpr")
    assert len(graph.nodes) > 800
    first = graph.first_view()
    nodes, boxes = graph.visible(first)
    assert len(nodes) + len(boxes) <= FIRST_VIEW_NODES
    assert boxes  # some groups stay collapsed
    box = boxes[0]
    more_nodes, more_boxes = graph.visible(first | {box})
    assert len(more_nodes) + len(more_boxes) > len(nodes) + len(boxes)
    view = graph_view(big_insp, "jaxpr", sorted(first | {box}), svg=False)
    assert view["expanded"] == sorted(first | {box}) and view["svg"] is None
    assert view["dot"].count("->") > 0


def test_large_program_static_html_is_cut_with_a_note(big_insp, monkeypatch):
    monkeypatch.setattr(inspector_html, "STATIC_MAX_LINES", 300)
    html = big_insp._repr_html_()
    assert "showing 300 of" in html
    assert html.count('class="jl-l') <= 4 * 300 + 10
    assert "graph not drawn in the static view" in html


def test_widget_protocol_answers_layouts_and_rejects_bad_requests(evil_insp):
    reply = answer(evil_insp, {"type": "layout", "graph": "hlo", "expanded": None, "req": 7})
    assert reply["req"] == 7 and reply["type"] == "layout" and reply["dot"].startswith("digraph")
    assert reply["visible"] >= 1
    bad = answer(evil_insp, {"type": "layout", "graph": "nonsense", "req": 8})
    assert bad["req"] == 8 and "unknown graph" in bad["error"]
    bad = answer(evil_insp, {"type": "layout", "graph": "jaxpr", "expanded": "all", "req": 9})
    assert "expanded must be a list" in bad["error"]
    assert answer(evil_insp, {"type": "something else"}) is None


def test_payload_is_gzipped_json_of_the_view_model(evil_insp):
    model = evil_insp.view_model()
    assert json.loads(gzip.decompress(encode(model))) == model


STABLEHLO = """#loc1 = loc("x")
module @jit_f {
  func.func public @main(%arg0: tensor<3xf32> loc("x")) -> tensor<3xf32> {
    %0 = stablehlo.sine %arg0 : tensor<3xf32> loc(#loc7)
    %1 = stablehlo.add %0, %0 : tensor<3xf32> loc(#loc9)
    return %1 : tensor<3xf32> loc(#loc)
  } loc(#loc)
} loc(#loc)
#loc = loc(unknown)
#loc2 = loc("/a/b \\"q\\".py":4:11 to :21)
#loc3 = loc("/a/b \\"q\\".py":9:2)
#loc4 = loc("helper"(#loc2))
#loc5 = loc("main"(#loc3))
#loc6 = loc(callsite(#loc4 at #loc5))
#loc7 = loc("jit(f)/sin"(#loc6))
#loc8 = loc(fused[#loc6, #loc2])
#loc9 = loc("jit(f)/add"(#loc8))
"""


def test_stablehlo_locations_resolve_names_callsites_and_fused():
    module = StableHloModule.parse(STABLEHLO)
    ops = {op.op: op for op in module.ops}
    sine = ops["stablehlo.sine"]
    assert sine.op_name == "jit(f)/sin"
    assert sine.frames == (('/a/b "q".py', 4, 11, "helper"), ('/a/b "q".py', 9, 2, "main"))
    assert ops["stablehlo.add"].frames[0][1] == 4
    assert ops["return"].frames == ()
    text = module.text.splitlines()
    assert text[sine.line - 1].strip() == "%0 = stablehlo.sine %arg0 : tensor<3xf32>"
    assert "loc(" not in module.text


def test_malformed_stablehlo_locations_do_not_crash():
    text = "module {\n  %0 = stablehlo.add %a, %b : tensor<f32> loc(#loc1)\n}\n#loc1 = loc(#loc1)\n"
    module = StableHloModule.parse(text + "#loc2 = loc(callsite(#loc9 at\n")
    assert module.ops[0].frames == ()
