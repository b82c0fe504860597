"""Static HTML of the inspector's view model: self-contained, no script, survives nbconvert.

Linked lines share a background colour (one per source line, as Compiler Explorer does), and
hovering any line outlines every line of its group through CSS ``:has()`` rules scoped to the
output, so several inspector outputs in one page never affect each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from jaxlab.api.inspection import Inspection
from jaxlab.base import format as _format
from jaxlab.base.display import renders
from jaxlab.views._html import esc, fragment, page, table
from jaxlab.views.code import highlight_lines
from jaxlab.views.graph import dot_available, graph_view
from jaxlab.views.inspector.model import (
    FusionColumns,
    FusionsSection,
    GraphSection,
    NumericsSection,
    Pane,
    PanesSection,
    PrecisionSection,
    Section,
    ValueCell,
    ViewModel,
)
from jaxlab.views.inspector.style import PALETTE, stylesheet

STATIC_MAX_LINES = 2000  # per pane; the widget and the returned object have everything
HIGHLIGHT_MAX_LINES = 1500  # panes longer than this are shown without token colours
MAX_STATIC_FUSIONS = 100
MAX_HOVER_RULES = 400
STATIC_GRAPH_MAX_NODES = 300  # lay out graphs in the static view when the program is this small
ORIGIN_ANCHOR = "jl-numerics-origin"  # the jaxpr line of the first NaN or Inf (+ its key)
CREATOR_ANCHOR = "jl-precision-top"  # the jaxpr line that makes the most error (+ its key)


def inspector_body(model: ViewModel, insp: Inspection | None = None) -> str:
    parts = [f"<style>{stylesheet()}{_hover_css(model)}</style>"]
    numerics = next((s for s in model["sections"] if s["kind"] == "numerics"), None)
    precision = next((s for s in model["sections"] if s["kind"] == "precision"), None)
    runs = Runs(numerics, precision)  # type: ignore[arg-type]
    for sec in model["sections"]:
        parts.append(_section(sec, insp, runs))  # type: ignore[arg-type]
    return "".join(parts)


def inspector_html(model: ViewModel, insp: Inspection | None = None, static_id: str = "") -> str:
    return fragment(inspector_body(model, insp), extra_class="jl-insp", static_id=static_id)


@renders(Inspection, "html")
def inspection_html(insp: Inspection) -> str:
    """The static inspector of an :class:`jaxlab.Inspection` (its ``_repr_html_``)."""
    return inspector_html(insp.view_model(), insp)


@renders(Inspection, "page")
def inspection_page(insp: Inspection) -> str:
    """One self-contained HTML page with every view (``Inspection.to_html``)."""
    return page(
        f"jaxlab: {insp.fn_name}", inspector_body(insp.view_model(), insp), extra_class="jl-insp"
    )


@dataclass
class Runs:
    """What runs of the call add to the panes: the values of an instrumented run
    (``numerics=True``) and the error under a second configuration (``compare=...``)."""

    numerics: NumericsSection | None = None
    precision: PrecisionSection | None = None


def _section(sec: Section, insp: Inspection | None, runs: Runs) -> str:
    if sec["kind"] == "panes":
        return _panes(sec, runs)
    if sec["kind"] == "numerics":
        return _numerics(sec)
    if sec["kind"] == "precision":
        return _precision(sec)
    if sec["kind"] == "fusions":
        return _fusions(sec)
    if sec["kind"] == "graph":
        return _graph(sec, insp)
    return sec.get("html", "")  # a section of another kind draws itself


def _hover_css(model: ViewModel) -> str:
    panes: PanesSection | None = None
    for sec in model["sections"]:
        if sec["kind"] == "panes":
            panes = sec
            break
    if panes is None:
        return ""
    used: set[int] = set()
    for pane in panes["panes"]:
        for value in pane["links"][:STATIC_MAX_LINES]:
            if isinstance(value, list):
                used.update(value)
            elif value >= 0:
                used.add(value)
    rules = []
    for g in sorted(used)[:MAX_HOVER_RULES]:
        sel = f'[data-g~="{g}"]'
        rules.append(
            f".jaxlab.jl-insp:has(.jl-l{sel}:hover) .jl-l{sel}"
            "{outline:1px solid var(--jl-linked-outline);background:var(--jl-linked-background);}"
        )
    return "".join(rules)


def origin_anchor(sec: NumericsSection) -> str:
    """The id of the origin's jaxpr line: one per answer and program, so that several
    inspections on one page each link to their own."""
    key = f"{sec['answer']}|{sec['total_rows']}|{sorted(sec['origin_lines'].items())}"
    return f"{ORIGIN_ANCHOR}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def _numerics(sec: NumericsSection) -> str:
    """The answer with a link to the origin's line in the jaxpr pane, then the table."""
    jump = ""
    if "jaxpr" in sec["origin_lines"]:
        jump = (
            f'<div><a class="jl-origin-link" href="#{origin_anchor(sec)}">'
            "show the origin in the jaxpr pane ↓</a></div>"
        )
    return f'<div class="jl-section jl-numerics">{sec["html"]}{jump}</div>'


def creator_anchor(sec: PrecisionSection) -> str:
    """The id of the jaxpr line that makes the most error: one per answer and program."""
    key = f"{sec['answer']}|{len(sec['values'])}|{sorted(sec['origin_lines'].items())}"
    return f"{CREATOR_ANCHOR}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def _precision(sec: PrecisionSection) -> str:
    """The answer with a link to the jaxpr line that makes the most error, then the rest of
    the comparison (error along the program, creators, outputs)."""
    jump = ""
    if "jaxpr" in sec["origin_lines"]:
        jump = (
            f'<div><a class="jl-origin-link" href="#{creator_anchor(sec)}">'
            "show it in the jaxpr pane ↓</a></div>"
        )
    return f'<div class="jl-section jl-numerics jl-precision">{sec["html"]}{jump}</div>'


def pane_title(pane: Pane) -> str:
    """``source (23 lines; 262 more in 4 folded library frames)``: the lines a pane shows,
    not all it holds (the widget's title says the same, ``paneTitle``)."""
    folds = pane.get("folds") or []
    hidden = sum(f["last"] - f["first"] + 1 for f in folds)
    shown = f"{pane['title']} ({len(pane['lines']) - hidden:,} lines"
    if not folds:
        return shown + ")"
    return f"{shown}; {hidden:,} more in {_format.plural(len(folds), 'folded library frame')})"


def _panes(sec: PanesSection, runs: Runs | None = None) -> str:
    out = ['<div class="jl-panes">']
    for pane in sec["panes"]:
        out.append(
            f'<div class="jl-pane"><div class="jl-pane-title">{esc(pane_title(pane))}</div>'
            f"{_pane_code(pane, runs or Runs())}</div>"
        )
    out.append("</div>")
    return "".join(out)


def _value_cell(cell: ValueCell | None, kind: str = "jl-val", anchor: str = "") -> str:
    """The values (or errors: `kind` "jl-val jl-err") column of one jaxpr line (blank where
    the line is no equation); `anchor`: its id."""
    if cell is None:
        return f'<span class="{kind}"></span>'
    named = f' id="{anchor}"' if anchor else ""
    return (
        f'<span class="{kind} jl-val-{cell["state"]}"{named} style="--jl-heat:{cell["heat"]}" '
        f'title="{esc(cell["tip"])}">{esc(cell["text"])}</span>'
    )


def _pane_code(pane: Pane, runs: Runs | None = None) -> str:
    lines = pane["lines"]
    shown = lines[:STATIC_MAX_LINES]
    if len(lines) <= HIGHLIGHT_MAX_LINES:
        html_lines = highlight_lines("\n".join(shown), pane["dialect"])
        html_lines += [""] * (len(shown) - len(html_lines))
    else:
        html_lines = [esc(line) for line in shown]
    links = pane["links"]
    numbers = pane.get("numbers")
    headers = set(pane.get("headers", ()))
    folds = {f["header"]: f["last"] for f in pane.get("folds", ())}
    runs = runs or Runs()
    numerics, precision = runs.numerics, runs.precision
    values = numerics["values"] if numerics and pane["id"] == "jaxpr" else None
    errors = precision["values"] if precision and pane["id"] == "jaxpr" else None
    marks = numerics["source_marks"] if numerics and pane["id"] == "source" else {}
    error_heat = precision["source_heat"] if precision and pane["id"] == "source" else {}
    origin = numerics["origin_lines"].get(pane["id"], -1) if numerics else -1
    creator = precision["origin_lines"].get(pane["id"], -1) if precision else -1
    fold_end = -1
    spans = []
    for i, html_line in enumerate(html_lines[: len(shown)]):
        groups = links[i] if i < len(links) else -1
        if isinstance(groups, int):
            groups = [groups] if groups >= 0 else []
        cls = "jl-l"
        attrs = f' data-line="{i + 1}"'
        if groups:
            cls += f" jl-c{groups[0] % PALETTE}"
            attrs += f' data-g="{" ".join(map(str, groups))}"'
        if i in headers:
            cls += " jl-hdr"
            html_line = esc(shown[i])
        elif numbers:
            html_line = f'<span class="jl-num">{numbers[i]}</span>{html_line}'
        if errors is not None:
            anchor = creator_anchor(precision) if i == creator else ""  # type: ignore[arg-type]
            html_line = _value_cell(errors.get(str(i)), "jl-val jl-err", anchor) + html_line
        if values is not None:
            html_line = _value_cell(values.get(str(i))) + html_line
        mark = marks.get(str(i))
        if mark:
            cls += f" jl-mark-{mark}"
        heat = error_heat.get(str(i))
        if heat:
            cls += " jl-err-heat"
            attrs += f' style="--jl-err:{heat}"'
        if i == origin:
            cls += " jl-origin"
            if pane["id"] == "jaxpr":
                attrs += f' id="{origin_anchor(numerics)}"'
        if i == creator:
            cls += " jl-origin jl-creator"
        span = f'<span class="{cls}"{attrs}>{html_line or " "}</span>'
        if i in folds:  # a library's frame: folded to its header line
            fold_end = folds[i]
            span = f'<details class="jl-fold"><summary>{span}</summary>'
        spans.append(span)
        if i == fold_end or (fold_end >= 0 and i == len(shown) - 1):
            spans.append("</details>")
            fold_end = -1
    note = ""
    if len(lines) > len(shown):
        note = (
            f'<div class="jl-note">showing {len(shown):,} of {len(lines):,} lines; the live '
            "widget and the returned object have all of them</div>"
        )
    return f'<pre class="jl-code jl-{esc(pane["dialect"])}">{"".join(spans)}</pre>{note}'


def _column(kernels: FusionColumns, key: str, n: int) -> list[Any]:
    values: list[Any] = kernels[key][:n]  # type: ignore[literal-required]
    if key == "flops":
        return [_format.format_count(v) for v in values]
    if key == "bytes":
        return [_format.format_bytes(v) for v in values]
    return values


def _fusions(sec: FusionsSection) -> str:
    totals = sec["totals"]
    kernels, fusions = totals["kernels"], totals["fusions"]
    head = (
        f'<div class="jl-title">{kernels:,} kernel{"s" * (kernels != 1)} '
        f"({fusions:,} fusion{'s' * (fusions != 1)})</div>"
        f'<div class="jl-muted">estimated from shapes: '
        f"{_format.format_count(totals['est_flops'])} FLOPs, "
        f"{_format.format_bytes(totals['est_bytes'])} read and written · "
        f"XLA's estimates: {esc(totals['xla_flops_text'])} FLOPs, "
        f"{esc(totals['xla_bytes_text'])} accessed</div>"
    )
    columns = sec["columns"]
    shown = [_column(sec["kernels"], c["key"], MAX_STATIC_FUSIONS) for c in columns]
    rows = list(zip(*shown, strict=True))
    more = ""
    if sec["total_rows"] > MAX_STATIC_FUSIONS:
        more = (
            f'<div class="jl-note">{sec["total_rows"] - MAX_STATIC_FUSIONS:,} more kernels '
            "in the live widget and in <code>.fusions</code></div>"
        )
    titles = [c["title"] for c in columns]
    body = head + table(titles, rows, numeric=[c["numeric"] for c in columns]) + more
    return f"<details><summary>fusion explorer</summary>{body}</details>"


def _graph(sec: GraphSection, insp: Inspection | None) -> str:
    parts = []
    small = all(g["size"] <= STATIC_GRAPH_MAX_NODES for g in sec["graphs"])
    for g in sec["graphs"]:
        svg = None
        if insp is not None and small and dot_available():
            svg = graph_view(insp, g["id"])["svg"]
        if svg:
            parts.append(
                f'<div class="jl-pane-title">{esc(g["title"])} graph</div>'
                f'<div class="jl-graph">{svg}</div>'
            )
    if not parts:
        why = (
            "Graphviz `dot` is not installed"
            if not dot_available()
            else "the program is large; the live widget lays it out group by group"
        )
        return f'<div class="jl-note">graph not drawn in the static view: {esc(why)}</div>'
    return "<details><summary>graph</summary>" + "".join(parts) + "</details>"
