"""The inspector's view model, built from an :class:`jaxlab.Inspection` and drawn by both
renderers (static HTML in ``html``, the live widget in ``extension/``).

The model is JSON: typed dicts (``TypedDict``), so it travels to the widget as it is, and the
TypeScript types of the widget are generated from these classes (``schema``). It is a list of
sections, each with a ``kind``. A section may carry ``html`` (its static rendering); the widget
shows such sections as they are, so a new kind of section needs only a builder here and a
static renderer.

Links are colour groups: group ``g`` is line ``g`` of the source pane (0-based), and every line
of every IR pane lists the groups it came from (-1 for none, an int for one, a list for more).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict

from jaxlab.api.inspection import Inspection
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_count, source_location
from jaxlab.core.analysis import UNAVAILABLE
from jaxlab.ir.hlo import HloInstruction
from jaxlab.ir.hlo_text import hlo_display
from jaxlab.views._html import esc
from jaxlab.views.frames import library_path, source_lines_text
from jaxlab.views.inspector.summary import analysis_table, timings_table
from jaxlab.views.inspector.values_model import (
    BinadeEdge,
    NumericsColumn,
    NumericsColumns,
    NumericsKey,
    NumericsSection,
    PrecisionSection,
    ValueCell,
)
from jaxlab.views.pallas import inspector_section
from jaxlab.views.program import distribution_sections
from jaxlab.views.signature import signature_html

if TYPE_CHECKING:
    from jaxlab.ir.sources import SourceBlock

VERSION = 2  # of the model's shape: 2 named every field (rows became FusionColumns)
MAX_FUSION_ROWS = 5000  # rows sent to the widget; the static table shows fewer


# the groups of one line: -1 for none, a group, or several
LineLinks = int | list[int]


# -- the model ----------------------------------------------------------------------------


class HtmlSection(TypedDict):
    """A section drawn by the static renderer only (the header, the summary, the distribution
    and any later kind); the widget shows its `html` as it is."""

    kind: str
    html: str


class Fold(TypedDict):
    """A library's frame in the source pane (site-packages, JAX, the standard library), folded
    to its header line; the header links every group of the lines it hides."""

    header: int  # the header line
    first: int  # its first and last line
    last: int
    equations: int  # jaxpr equations its lines made
    kernels: int  # kernels holding them


class PaneNumbering(TypedDict, total=False):
    """What only the source pane has."""

    numbers: list[int]  # file line number of each line (0: a header)
    headers: list[int]  # lines that name a function and its file
    folds: list[Fold]  # library frames, folded until opened


class Pane(PaneNumbering):
    """One code pane: its lines and the colour groups of each line."""

    id: str  # source, jaxpr, stablehlo, hlo
    title: str
    dialect: str  # python, jaxpr, stablehlo, hlo: the lexer of ``views.code``
    lines: list[str]
    links: list[LineLinks]


class PanesSection(TypedDict):
    kind: Literal["panes"]
    groups: int  # number of colour groups (= lines of the source pane)
    panes: list[Pane]


class FusionColumn(TypedDict):
    """A column of the fusion explorer: the field it shows, its title, how it sorts."""

    key: Literal[
        "kernel", "kind", "ops", "fused_ops", "sources", "equations", "output", "flops", "bytes",
    ]  # fmt: skip
    title: str
    numeric: bool


class FusionColumns(TypedDict):
    """The kernels of the optimized program (fusions, and ops XLA left unfused), one list per
    field: kernel i is item i of every list. The widget reads them as rows (``FusionRow``)."""

    kernel: list[str]
    kind: list[str]
    ops: list[int]
    fused_ops: list[str]  # opcodes with their counts
    sources: list[str]  # file:line of the source lines it came from
    equations: list[str]  # jaxpr primitive@line with their counts
    output: list[str]  # shape(s) with dtype
    flops: list[int]  # estimated from shapes
    bytes: list[int]  # estimated from shapes
    hlo_line: list[int]  # line of the fusion in the optimized HLO pane (1-based; 0: not shown)
    groups: list[list[int]]  # colour groups it links to


class FusionTotals(TypedDict):
    kernels: int
    fusions: int
    est_flops: int
    est_bytes: int
    xla_flops: float | None
    xla_bytes: float | None
    xla_flops_text: str
    xla_bytes_text: str


class FusionsSection(TypedDict):
    kind: Literal["fusions"]
    columns: list[FusionColumn]
    kernels: FusionColumns  # the first MAX_FUSION_ROWS kernels
    total_rows: int
    totals: FusionTotals


class GraphRef(TypedDict):
    id: Literal["jaxpr", "hlo"]
    title: str
    size: int  # nodes of the graph


class GraphSection(TypedDict):
    kind: Literal["graph"]
    graphs: list[GraphRef]


class TimelineKernel(TypedDict):
    """A kernel of the profile timeline: its colour groups, lines and named scope."""

    name: str
    kind: str
    groups: list[int]
    lines: list[str]  # file:line
    scope: str
    collective: bool


class TimelineModel(TypedDict):
    """One profiled call's kernels on a time axis, one track per device and thread."""

    call: int  # which call (0-based): the median by wall time
    duration_us: float
    tracks: list[str]
    events: list[list[float]]  # [track, start µs, duration µs, kernel index]
    kernels: list[TimelineKernel]
    fills: list[str]  # the fill of colour group g is fills[g % len(fills)]


class ProfileHeat(TypedDict):
    """Measured time per line (0..1 of the hottest), keyed by pane line (0-based)."""

    source: dict[str, float]
    hlo: dict[str, float]


class ProfileSection(TypedDict):
    """Measured kernel times (``inspect(..., profile=True)``): a time column for the fusion
    explorer, heat on the source and HLO panes, the timeline of one call."""

    kind: Literal["profile"]
    html: str  # the static rendering
    tables_html: str  # time by line and per kernel, drawn by the static renderer
    summary: str
    kernel_times: dict[str, float]  # seconds per call, by kernel name
    heat: ProfileHeat
    timeline: TimelineModel


Section = (
    HtmlSection
    | PanesSection
    | FusionsSection
    | GraphSection
    | ProfileSection
    | NumericsSection
    | PrecisionSection
)


class ViewModel(TypedDict):
    version: int
    title: str
    sections: list[Section]


# -- the widget's requests answered by the kernel (``widget.answer``) --------------------------


class GraphView(TypedDict):
    """One view of a graph: its DOT source and, where Graphviz ``dot`` exists, its SVG."""

    graph: str  # jaxpr or hlo
    expanded: list[int]  # the groups shown open
    visible: int  # nodes and boxes drawn
    total: int  # nodes of the whole graph
    dot: str
    svg: str | None


class LayoutReply(GraphView):
    """The answer to the widget's ``{"type": "layout", "graph", "expanded", "req"}``."""

    type: Literal["layout"]
    req: int | None


class LayoutFailure(TypedDict):
    """A layout request that could not be answered, and why."""

    type: Literal["layout"]
    req: int | None
    error: str


class VizReply(TypedDict):
    """The answer to ``{"type": "viz"}``: Graphviz compiled to WebAssembly, as an ES module."""

    type: Literal["viz"]
    req: int | None
    source: str


FUSION_COLUMNS: list[FusionColumn] = [
    {"key": "kernel", "title": "kernel", "numeric": False},
    {"key": "kind", "title": "kind", "numeric": False},
    {"key": "ops", "title": "ops", "numeric": True},
    {"key": "fused_ops", "title": "fused ops", "numeric": False},
    {"key": "sources", "title": "source lines", "numeric": False},
    {"key": "equations", "title": "jaxpr equations", "numeric": False},
    {"key": "output", "title": "output", "numeric": False},
    {"key": "flops", "title": "est. FLOPs", "numeric": True},
    {"key": "bytes", "title": "est. bytes", "numeric": True},
]

# the types of the model and its aliases, in the order the TypeScript file declares them
# (``schema`` writes it)
ALIASES = {"LineLinks": LineLinks, "NumericsKey": NumericsKey, "Section": Section}
# row types of the tables kept one list per field: the widget reads them row by row
ROW_TYPES = {"FusionRow": "FusionColumns", "NumericsRow": "NumericsColumns"}
MODEL_TYPES = (
    HtmlSection, Fold, Pane, PanesSection, FusionColumn, FusionColumns, FusionTotals,
    FusionsSection, GraphRef, GraphSection, TimelineKernel, TimelineModel, ProfileHeat,
    ProfileSection, NumericsColumn, NumericsColumns, BinadeEdge, ValueCell, NumericsSection,
    PrecisionSection, ViewModel, GraphView, LayoutReply, LayoutFailure, VizReply,
)  # fmt: skip


# -- building it --------------------------------------------------------------------------


@renders(Inspection, "view model")
def view_model(insp: Inspection) -> ViewModel:
    """The whole view model of an inspection. Linking the panes finds what the fusion explorer
    links to (HLO display lines, groups of each fusion); it is handed on explicitly."""
    linked = link_panes(insp)
    return {
        "version": VERSION,
        "title": f"{insp.fn_name}({insp.arguments.text})",
        "sections": [
            *numerics_sections(insp),  # its first line is the answer: where the NaN is born
            *precision_sections(insp),  # ... or which equation loses the precision
            header_section(insp),
            summary_section(insp),
            linked.section,
            fusions_section(insp, linked),
            *profile_sections(insp, linked),
            graph_section(insp),
            distribution_section(insp),
            *pallas_sections(insp),
        ],
    }


def short_path(file: str) -> str:
    """A file as a reader names it: the notebook cell ("In [19]") or its base name."""
    return source_location(file)


# -- header and summary -------------------------------------------------------------------


def header_section(insp: Inspection) -> HtmlSection:
    devices = ", ".join(str(d) for d in insp.devices)
    html = signature_html(insp.fn_name, insp.arguments, insp.results, "Inspection of ") + (
        f'<div class="jl-muted">devices: {esc(devices)}</div>'
    )
    return {"kind": "header", "html": html}


def summary_section(insp: Inspection) -> HtmlSection:
    html = (
        '<div class="jl-grid">'
        f"<div>{timings_table(insp.timings)}</div><div>{analysis_table(insp)}</div></div>"
    )
    return {"kind": "summary", "html": html}


# -- linked panes -------------------------------------------------------------------------


class SourceGroups:
    """Source lines shown in the source pane, and the groups of a list of frames."""

    def __init__(self, blocks: list[SourceBlock]):
        self.lines: list[str] = []
        self.numbers: list[int] = []  # file line number of each pane line (0: a header)
        self.headers: list[int] = []
        self.index: dict[tuple[str, int], int] = {}
        self.folds: list[Fold] = []  # library blocks (counts filled in by `link_panes`)
        for block in blocks:
            if block.library:
                where = f"{library_path(block.file)}:{block.first_line}"
                first = len(self.lines) + 1
                self.folds.append(
                    {"header": first - 1, "first": first, "last": first + len(block.lines) - 1,
                     "equations": 0, "kernels": 0}
                )  # fmt: skip
            else:
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

    def of(self, frames: Iterable[tuple]) -> list[int]:
        """The groups of `frames` ((file, line, ...) tuples), innermost first, without
        repeats."""
        index = self.index
        out: list[int] = []
        for frame in frames:
            g = index.get((frame[0], frame[1]))
            if g is not None and g not in out:
                out.append(g)
        return out


@dataclass(frozen=True)
class LinkedPanes:
    """The panes section and what linking it found, for the sections that link to it."""

    section: PanesSection
    hlo_mapping: list[int]  # display line (1-based) of each line of the optimized HLO text
    fusion_groups: dict[str, list[int]]  # groups of each fusion (the union of its ops')


def _compact(groups: list[int]) -> LineLinks:
    if not groups:
        return -1
    return groups[0] if len(groups) == 1 else groups


def link_panes(insp: Inspection) -> LinkedPanes:
    """The four code panes with the colour group of every line."""
    links = insp.links
    groups = SourceGroups(insp.sources)
    source_links: list[LineLinks] = [-1] * len(groups.lines)
    for (file, line), g in groups.index.items():
        if links.has_line((file, line)):
            source_links[g] = g
    # jaxpr: lines of equations (a jaxpr printed once for several calls gets all their groups)
    jaxpr_lines = insp.jaxpr_model.text.split("\n")
    jaxpr_links: list[LineLinks] = [-1] * len(jaxpr_lines)
    for eq in insp.jaxpr_model.equations:
        if eq.text_line:
            _add(jaxpr_links, eq.text_line - 1, groups.of(eq.frames))
    # StableHLO
    shlo = insp.stablehlo_module
    shlo_lines = shlo.text.split("\n")
    shlo_links: list[LineLinks] = [-1] * len(shlo_lines)
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
    hlo_links: list[LineLinks] = [-1] * len(hlo_lines)
    by_frame: dict[int, list[int]] = {}

    def instr_groups(instr: HloInstruction) -> list[int]:
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
    for instr in module:
        line = mapping[instr.line] if instr.line < len(mapping) else 0
        if not line:
            continue
        found = fusion_groups.get(instr.name) if instr.opcode == "fusion" else None
        if not found:
            found = instr_groups(instr)
        if found:
            _add(hlo_links, line - 1, found)
    folds = _folds(groups, source_links, jaxpr_links, fusion_groups)
    section: PanesSection = {
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
                "folds": folds,
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
    return LinkedPanes(section, mapping, fusion_groups)


def _folds(
    groups: SourceGroups,
    source_links: list[LineLinks],
    jaxpr_links: list[LineLinks],
    fusion_groups: dict[str, list[int]],
) -> list[Fold]:
    """Library blocks of the source pane, folded to their header line: the header links to
    every group of the block (hovering it lights what the block made) and says how many
    equations and kernels that is."""
    out: list[Fold] = []
    for fold in groups.folds:
        inside = set(range(fold["first"], fold["last"] + 1))
        linked = [g for g in sorted(inside) if source_links[g] != -1]
        equations = sum(1 for v in jaxpr_links if inside.intersection(_as_list(v)))
        kernels = sum(1 for gs in fusion_groups.values() if inside.intersection(gs))
        header = fold["header"]
        groups.lines[header] += (
            f"  · library: {equations:,} equation{'s' * (equations != 1)}, "
            f"{kernels:,} kernel{'s' * (kernels != 1)}"
        )
        if linked:
            source_links[header] = _compact(linked)
        out.append({**fold, "equations": equations, "kernels": kernels})
    return out


def _as_list(value: LineLinks) -> list[int]:
    if isinstance(value, list):
        return value
    return [value] if value != -1 else []


def _add(links: list[LineLinks], index: int, groups: list[int]) -> None:
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


def fusions_section(insp: Inspection, linked: LinkedPanes) -> FusionsSection:
    fusions = insp.fusions
    mapping = linked.hlo_mapping
    fusion_groups = linked.fusion_groups
    kernels: FusionColumns = {
        "kernel": [], "kind": [], "ops": [], "fused_ops": [], "sources": [], "equations": [],
        "output": [], "flops": [], "bytes": [], "hlo_line": [], "groups": [],
    }  # fmt: skip
    for fusion in fusions[:MAX_FUSION_ROWS]:
        opcodes = fusion.opcodes
        counts: dict[str, int] = {}
        for code in opcodes:
            counts[code] = counts.get(code, 0) + 1
        ops_text = ", ".join(f"{c}×{n}" if n > 1 else c for c, n in counts.items())
        sources = source_lines_text(fusion)
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
        kernels["kernel"].append(fusion.name)
        kernels["kind"].append(fusion.kind)
        kernels["ops"].append(len(opcodes))
        kernels["fused_ops"].append(ops_text)
        kernels["sources"].append(sources)
        kernels["equations"].append(eq_text)
        kernels["output"].append(output)
        kernels["flops"].append(fusion.flops)
        kernels["bytes"].append(fusion.bytes)
        kernels["hlo_line"].append(line)
        kernels["groups"].append(fusion_groups.get(fusion.name) or [])
    cost = insp.cost or {}
    totals: FusionTotals = {
        "kernels": len(fusions),
        "fusions": sum(1 for f in fusions if f.kind != "unfused"),
        "est_flops": sum(f.flops for f in fusions),
        "est_bytes": sum(f.bytes for f in fusions),
        "xla_flops": cost.get("flops"),
        "xla_bytes": cost.get("bytes accessed"),
        "xla_flops_text": format_count(cost.get("flops")) if cost else UNAVAILABLE,
        "xla_bytes_text": format_bytes(cost.get("bytes accessed")) if cost else UNAVAILABLE,
    }
    return {
        "kind": "fusions",
        "columns": FUSION_COLUMNS,
        "kernels": kernels,
        "total_rows": len(fusions),
        "totals": totals,
    }


# -- measured times (inspect with profile=True) ---------------------------------------------


def profile_sections(insp: Inspection, linked: LinkedPanes) -> list[ProfileSection]:
    """Measured kernel times, heat and a timeline, when inspected with profile=True."""
    if getattr(insp, "profile", None) is None:
        return []
    from jaxlab.views.profile import inspector_section

    return [inspector_section(insp, line_classes(insp), linked.hlo_mapping)]


# -- values (inspect with numerics=True) -----------------------------------------------------


def numerics_sections(insp: Inspection) -> list[NumericsSection]:
    """The values of every equation output, when inspected with numerics=True."""
    if getattr(insp, "numerics", None) is None:
        return []
    from jaxlab.views.inspector.values import inspector_section

    return [inspector_section(insp, line_classes(insp))]


def precision_sections(insp: Inspection) -> list[PrecisionSection]:
    """The error of every equation under a second configuration, when inspected with
    compare=..."""
    if getattr(insp, "numerics_diff", None) is None:
        return []
    from jaxlab.views.inspector.errors import inspector_section as error_section

    return [error_section(insp, line_classes(insp))]


# -- graphs -------------------------------------------------------------------------------


def graph_section(insp: Inspection) -> GraphSection:
    return {
        "kind": "graph",
        "graphs": [
            {"id": "jaxpr", "title": "jaxpr", "size": len(insp.jaxpr_model.equations)},
            {"id": "hlo", "title": "optimized HLO", "size": len(insp.hlo_module)},
        ],
    }


def line_classes(insp: Inspection) -> dict[tuple[str, int], int]:
    """Source line -> colour group, for graph nodes."""
    return SourceGroups(insp.sources).index


# -- shardings, collectives, memory -------------------------------------------------------


def distribution_section(insp: Inspection) -> HtmlSection:
    return {"kind": "distribution", "html": distribution_sections(insp)}


def pallas_sections(insp: Inspection) -> list[HtmlSection]:
    """The Pallas kernels the program calls, drawn with their grids (none: no section)."""
    section = inspector_section(insp)
    return [section] if section else []


def sections_of(model: ViewModel) -> dict[str, Section]:
    """The sections of a model by kind."""
    return {s["kind"]: s for s in model["sections"]}
