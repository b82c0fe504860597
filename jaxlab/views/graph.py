"""Graph views laid out by Graphviz ``dot`` in the kernel, as SVG safe to inline.

Without ``dot`` the DOT source goes to the widget, which lays it out in the browser with
Graphviz compiled to WebAssembly (``@viz-js/viz``).
"""

from __future__ import annotations

import re
import shutil
import subprocess

from jaxlab.api.inspection import Inspection
from jaxlab.base.display import renders
from jaxlab.ir.graph import Graph, hlo_graph, jaxpr_graph
from jaxlab.views.inspector.model import GraphView, line_classes

LAYOUT_TIMEOUT_S = 30.0

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ID = re.compile(r'\s(?:id|xlink:href|href)="[^"]*"')
_TITLE = re.compile(r"<title>[^<]*</title>")


def dot_available() -> bool:
    return shutil.which("dot") is not None


def layout_svg(dot_source: str, timeout: float = LAYOUT_TIMEOUT_S) -> str | None:
    """SVG of a DOT graph laid out by Graphviz, or None when ``dot`` is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-Tsvg"], input=dot_source.encode(), capture_output=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return clean_svg(done.stdout.decode("utf-8", "replace"))


def clean_svg(svg: str) -> str:
    """Graphviz SVG made fit to inline many times in one page: no XML prolog or comments, no
    element ids (they would be global), no links; text is already XML-escaped by Graphviz."""
    svg = _PROLOG.sub("", svg, count=1)
    svg = _COMMENT.sub("", svg)
    svg = _ID.sub("", svg)
    svg = _TITLE.sub("", svg)
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.S | re.I)
    return svg.strip()


def input_names(insp: Inspection) -> list[str] | None:
    """The jaxpr's inputs as the call names them (``params['w1']: f32[16,32]``): the array
    leaves of the arguments, in order; None when they do not line up one to one."""
    try:
        leaves = insp.arguments.leaves
        count = len(insp.jaxpr_model.invars)
    except Exception:  # best-effort: the graph then numbers its inputs
        return None
    arrays = [leaf for leaf in leaves if leaf.array]
    if len(arrays) != count:  # Python numbers traced as arrays too
        arrays = leaves if len(leaves) == count else []
    if not arrays:
        return None
    return [
        f"{leaf.path}: {leaf.text}" if leaf.array and leaf.path else leaf.path or leaf.text
        for leaf in arrays
    ]


def graph_of(insp: Inspection, which: str) -> Graph:
    """The jaxpr or HLO graph of an inspection, built once."""
    cache = insp.__dict__.setdefault("_graphs", {})
    graph = cache.get(which)
    if graph is None:
        if which == "jaxpr":
            graph = jaxpr_graph(insp.jaxpr_model, f"jaxpr of {insp.fn_name}", input_names(insp))
        elif which == "hlo":
            graph = hlo_graph(insp.hlo_module, f"optimized HLO of {insp.fn_name}")
        else:
            raise ValueError(f"unknown graph {which!r}; use 'jaxpr' or 'hlo'")
        cache[which] = graph
    return graph


@renders(Inspection, "graph")
def graph_view(
    insp: Inspection, which: str, expanded: list[int] | None = None, *, svg: bool = True
) -> GraphView:
    """One view of a graph: its DOT source and, where ``dot`` exists, its SVG."""
    graph = graph_of(insp, which)
    open_ = graph.first_view() if expanded is None else {int(g) for g in expanded} | {0}
    open_ = {g for g in open_ if 0 <= g < len(graph.groups)}
    nodes, boxes = graph.visible(open_)
    dot = graph.to_dot(open_, line_classes=line_classes(insp))
    return {
        "graph": which,
        "expanded": sorted(open_),
        "visible": len(nodes) + len(boxes),
        "total": len(graph.nodes),
        "dot": dot,
        "svg": layout_svg(dot) if svg else None,
    }
