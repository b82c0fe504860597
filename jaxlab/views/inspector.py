"""The inspector's view model: one JSON-able dict built from an :class:`jaxlab.Inspection`, fed
to both renderers (static HTML in ``inspector_html``, the live widget in ``extension/``).

The model is a list of sections, each ``{"kind": ..., ...}``. A section may carry ``html``
(its static rendering); the widget shows such sections as they are, so a new kind of section
needs only a builder here and a static renderer.

Links are colour groups: group ``g`` is line ``g`` of the source pane (0-based), and every line
of every IR pane lists the groups it came from (-1 for none, an int for one, a list for more).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jaxlab.api.inspection import Inspection
from jaxlab.base import format as _format
from jaxlab.base.display import renders
from jaxlab.base.format import source_location
from jaxlab.core import analysis as _analysis
from jaxlab.ir.hlo import HloModule
from jaxlab.views._html import esc
from jaxlab.views.inspection import analysis_table, timings_table
from jaxlab.views.program import distribution_sections

VERSION = 1
MAX_FUSION_ROWS = 5000  # rows sent to the widget; the static table shows fewer

_METADATA = re.compile(r', metadata=\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}')
_TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")

# section builders, in display order; each takes the inspection and the shared context
SECTION_BUILDERS: list[Callable[[Any, dict], dict | None]] = []


def section(builder: Callable[[Any, dict], dict | None]) -> Callable[[Any, dict], dict | None]:
    SECTION_BUILDERS.append(builder)
    return builder


@renders(Inspection, "view model")
def view_model(insp: Any) -> dict[str, Any]:
    """The whole view model of an inspection."""
    context: dict[str, Any] = {}
    sections = []
    for build in SECTION_BUILDERS:
        built = build(insp, context)
        if built is not None:
            sections.append(built)
    return {
        "version": VERSION,
        "title": f"{insp.fn_name}{insp.in_avals}",
        "sections": sections,
    }


def short_path(file: str) -> str:
    """A file as a reader names it: the notebook cell ("In [19]") or its base name."""
    return source_location(file)


# -- header and summary -------------------------------------------------------------------


@section
def _header(insp: Any, context: dict) -> dict:
    devices = ", ".join(str(d) for d in insp.devices)
    html = (
        f'<div class="jl-title">Inspection of <code>{esc(insp.fn_name)}{esc(insp.in_avals)}'
        f"</code> → <code>{esc(insp.out_avals)}</code></div>"
        f'<div class="jl-muted">devices: {esc(devices)}</div>'
    )
    return {"kind": "header", "html": html}


@section
def _summary(insp: Any, context: dict) -> dict:
    html = (
        '<div class="jl-grid">'
        f"<div>{timings_table(insp.timings)}</div><div>{analysis_table(insp)}</div></div>"
    )
    return {"kind": "summary", "html": html}


# -- linked panes -------------------------------------------------------------------------


def hlo_display(module: HloModule) -> tuple[list[str], list[int]]:
    """The optimized HLO without its metadata and stack-frame tables (the panes show that as
    links), and the display line (1-based) of each line of the original text (0: dropped)."""
    lines: list[str] = []
    mapping = [0]
    skipping = False
    for raw in module.text.split("\n"):
        stripped = raw.strip()
        if stripped in _TABLES:
            skipping = True
        elif skipping and not stripped:
            skipping = False
            mapping.append(0)
            continue
        if skipping:
            mapping.append(0)
            continue
        cut = raw.find(", metadata={")
        if cut >= 0:
            end = raw.find("}", cut)
            if end > 0 and raw.count('"', cut, end) % 2 == 0 and "\\" not in raw:
                raw = raw[:cut] + raw[end + 1 :]
            else:
                raw = _METADATA.sub("", raw)
        if not stripped and lines and not lines[-1]:
            mapping.append(0)
            continue
        lines.append(raw)
        mapping.append(len(lines))
    while lines and not lines[-1]:
        lines.pop()
    return lines, mapping


class _Groups:
    """Source lines shown in the source pane, and the groups of a list of frames."""

    def __init__(self, blocks: list[Any]):
        self.lines: list[str] = []
        self.numbers: list[int] = []  # file line number of each pane line (0: a header)
        self.headers: list[int] = []
        self.index: dict[tuple[str, int], int] = {}
        for block in blocks:
            where = source_location(block.file, block.first_line)
            label = f"# {where}" + (f" ({block.function})" if block.function else "")
            self.headers.append(len(self.lines))
            self.lines.append(label)
            self.numbers.append(0)
            for k, text in enumerate(block.lines):
                self.index[(block.file, block.first_line + k)] = len(self.lines)
                self.lines.append(text)
                self.numbers.append(block.first_line + k)
        self.files = sorted({b.file for b in blocks})

    def of(self, frames: Any) -> list[int]:
        index = self.index
        out: list[int] = []
        for frame in frames:
            g = index.get((frame[0], frame[1]))
            if g is not None and g not in out:
                out.append(g)
        return out


def _compact(groups: list[int]) -> int | list[int]:
    if not groups:
        return -1
    return groups[0] if len(groups) == 1 else groups


@section
def _panes(insp: Any, context: dict) -> dict:
    links = insp.links
    groups = _Groups(insp.sources)
    context["groups"] = groups
    source_links: list[Any] = [-1] * len(groups.lines)
    for (file, line), g in groups.index.items():
        if links.has_line((file, line)):
            source_links[g] = g
    # jaxpr: lines of equations (a jaxpr printed once for several calls gets all their groups)
    jaxpr_lines = insp.jaxpr_model.text.split("\n")
    jaxpr_links: list[Any] = [-1] * len(jaxpr_lines)
    for eq in insp.jaxpr_model.equations:
        if eq.text_line:
            _add(jaxpr_links, eq.text_line - 1, groups.of(eq.frames))
    # StableHLO
    shlo = insp.stablehlo_module
    shlo_lines = shlo.text.split("\n")
    shlo_links: list[Any] = [-1] * len(shlo_lines)
    memo: dict[int, list[int]] = {}
    for op in shlo.ops:
        key = id(op.location)
        found = memo.get(key)
        if found is None:
            found = memo[key] = groups.of(op.location.frames)
        if found:
            _add(shlo_links, op.line - 1, found)
    # optimized HLO
    module = insp.hlo_module
    hlo_lines, mapping = hlo_display(module)
    context["hlo_mapping"] = mapping
    hlo_links: list[Any] = [-1] * len(hlo_lines)
    by_frame: dict[int, list[int]] = {}

    def instr_groups(instr: Any) -> list[int]:
        key = instr.stack_frame_id
        found = by_frame.get(key) if key else None
        if found is None:
            found = groups.of(module.frames_of(instr))
            if key:
                by_frame[key] = found
        return found

    fusion_groups: dict[str, list[int]] = {}
    for fusion in links.fusions:
        union: list[int] = []
        for op in fusion.ops:
            for g in instr_groups(op):
                if g not in union:
                    union.append(g)
        fusion_groups[fusion.name] = union
        comp = module.called_computation(fusion.instruction)
        if comp is not None and comp.line < len(mapping) and mapping[comp.line]:
            _add(hlo_links, mapping[comp.line] - 1, union)
    context["fusion_groups"] = fusion_groups
    for instr in module:
        line = mapping[instr.line] if instr.line < len(mapping) else 0
        if not line:
            continue
        found = fusion_groups.get(instr.name) if instr.opcode == "fusion" else None
        if not found:
            found = instr_groups(instr)
        if found:
            _add(hlo_links, line - 1, found)
    return {
        "kind": "panes",
        "groups": len(groups.lines),
        "panes": [
            {
                "id": "source",
                "title": "source",
                "dialect": "python",
                "lines": groups.lines,
                "numbers": groups.numbers,
                "headers": groups.headers,
                "links": source_links,
            },
            {
                "id": "jaxpr",
                "title": "jaxpr",
                "dialect": "jaxpr",
                "lines": jaxpr_lines,
                "links": jaxpr_links,
            },
            {
                "id": "stablehlo",
                "title": "StableHLO",
                "dialect": "stablehlo",
                "lines": shlo_lines,
                "links": shlo_links,
            },
            {
                "id": "hlo",
                "title": "optimized HLO",
                "dialect": "hlo",
                "lines": hlo_lines,
                "links": hlo_links,
            },
        ],
    }


def _add(links: list[Any], index: int, groups: list[int]) -> None:
    if not groups or index < 0 or index >= len(links):
        return
    current = links[index]
    if current == -1:
        links[index] = _compact(groups)
        return
    merged = list(current) if isinstance(current, list) else [current]
    for g in groups:
        if g not in merged:
            merged.append(g)
    links[index] = _compact(merged)


# -- fusion explorer ----------------------------------------------------------------------

FUSION_COLUMNS = [
    "kernel", "kind", "ops", "fused ops", "source lines", "jaxpr equations", "output", "dtype",
    "est. FLOPs", "est. bytes",
]  # fmt: skip


@section
def _fusions(insp: Any, context: dict) -> dict:
    fusions = insp.fusions
    mapping = context.get("hlo_mapping") or []
    fusion_groups = context.get("fusion_groups", {})
    rows = []
    for fusion in fusions[:MAX_FUSION_ROWS]:
        opcodes = fusion.opcodes
        counts: dict[str, int] = {}
        for code in opcodes:
            counts[code] = counts.get(code, 0) + 1
        ops_text = ", ".join(f"{c}×{n}" if n > 1 else c for c, n in counts.items())
        sources = ", ".join(source_location(f, n) for f, n in fusion.source_lines[:6])
        if len(fusion.source_lines) > 6:
            sources += f", … ({len(fusion.source_lines)})"
        eq_counts: dict[str, int] = {}
        for key in fusion.equation_keys:
            label = f"{key[-1]}@{key[1]}"
            eq_counts[label] = eq_counts.get(label, 0) + len(fusion.equation_index.get(key, ()))
        eq_text = ", ".join(f"{k}×{n}" if n > 1 else k for k, n in list(eq_counts.items())[:8])
        if len(eq_counts) > 8:
            eq_text += f", … ({len(eq_counts)} distinct)"
        instr = fusion.instruction
        line = mapping[instr.line] if instr.line < len(mapping) else 0
        shapes = fusion.output
        output = str(shapes[0]) if len(shapes) == 1 else f"({', '.join(map(str, shapes[:4]))})"
        rows.append(
            [
                fusion.name,
                fusion.kind,
                len(opcodes),
                ops_text,
                sources,
                eq_text,
                output,
                fusion.dtype,
                fusion.flops,
                fusion.bytes,
                line,
                fusion_groups.get(fusion.name) or [],
            ]
        )
    cost = insp.cost or {}
    totals = {
        "kernels": len(fusions),
        "fusions": sum(1 for f in fusions if f.kind != "unfused"),
        "est_flops": sum(f.flops for f in fusions),
        "est_bytes": sum(f.bytes for f in fusions),
        "xla_flops": cost.get("flops"),
        "xla_bytes": cost.get("bytes accessed"),
        "xla_flops_text": _format.format_count(cost.get("flops"))
        if cost
        else _analysis.UNAVAILABLE,
        "xla_bytes_text": _format.format_bytes(cost.get("bytes accessed"))
        if cost
        else _analysis.UNAVAILABLE,
    }
    return {
        "kind": "fusions",
        "columns": FUSION_COLUMNS,
        "rows": rows,
        "total_rows": len(fusions),
        "totals": totals,
    }


# -- graphs -------------------------------------------------------------------------------


@section
def _graphs(insp: Any, context: dict) -> dict:
    return {
        "kind": "graph",
        "graphs": [
            {"id": "jaxpr", "title": "jaxpr", "size": len(insp.jaxpr_model.equations)},
            {"id": "hlo", "title": "optimized HLO", "size": len(insp.hlo_module)},
        ],
    }


def line_classes(insp: Any) -> dict[tuple[str, int], int]:
    """Source line -> colour group, for graph nodes."""
    return _Groups(insp.sources).index


# -- shardings, collectives, memory -------------------------------------------------------


@section
def _distribution(insp: Any, context: dict) -> dict:
    return {"kind": "distribution", "html": distribution_sections(insp)}


@section
def _pallas(insp: Any, context: dict) -> dict | None:
    from jaxlab.views.pallas import inspector_section

    return inspector_section(insp, context)
