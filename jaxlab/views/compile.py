"""Static views of the compile explorer: the compile profile, the pass pipeline (passes that
changed the module, each a folded before/after diff coloured by source line) and the diff of
two compilations. Every text from the program (names, IR, source) is escaped here."""

from __future__ import annotations

from typing import Any

from jaxlab.api.compile_diff import CompileDiff, RecompileDiff
from jaxlab.api.compile_profile import CompileProfile
from jaxlab.api.inspection import SavedInspection
from jaxlab.api.passes import PassPipeline
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_seconds, source_location
from jaxlab.ir.hlo_text import hlo_display_text
from jaxlab.views._html import esc, fragment, library_fold, prose, table
from jaxlab.views._text import text_table
from jaxlab.views.colours import PALETTE

CONTEXT = 3  # unchanged rows shown around each change; longer unchanged runs fold
TOP = 12  # rows of the longest tables shown before "more"

# the live pass explorer's stylesheet (the static view's rules below, plus the list and view)
WIDGET_CSS = """
.jl-passes { display: flex; gap: 10px; font-size: 12px; }
.jl-passes .jl-list { min-width: 260px; max-height: 560px; overflow: auto;
  border-right: 1px solid #d0d7de; }
.jl-passes .jl-item { padding: 2px 6px; cursor: pointer; white-space: nowrap; }
.jl-passes .jl-item.jl-sel { background: #ddf4ff; font-weight: 600; }
.jl-passes .jl-item .jl-count { color: #59636e; margin-left: 6px; }
.jl-passes .jl-view { flex: 1; min-width: 0; max-height: 560px; overflow: auto; }
.jl-passes table { border-collapse: collapse; width: 100%; table-layout: fixed;
  font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.jl-passes td { padding: 0 5px; white-space: pre; overflow: hidden; text-overflow: ellipsis; }
.jl-passes td.n { width: 3.5em; text-align: right; color: #8c959f; }
.jl-passes td.src { width: 4em; }
.jl-passes tr.jl-removed td.a, .jl-passes tr.jl-changed td.a { background: #ffebe9; }
.jl-passes tr.jl-added td.b, .jl-passes tr.jl-changed td.b { background: #dafbe1; }
.jl-passes tr.jl-fold td { color: #59636e; font-style: italic; background: #f6f8fa;
  cursor: pointer; }
.jl-passes .jl-tag { border-radius: 3px; padding: 0 3px; font-size: 11px; color: #1f2328; }
.jl-passes tr.jl-lit td { outline: 1px solid #0969da; }
"""

CSS = """<style>
.jaxlab.jl-compile table.jl-diff { border-collapse: collapse; font-size: 12px; width: 100%;
  font-family: var(--jp-code-font-family, ui-monospace, monospace); table-layout: fixed; }
.jaxlab.jl-compile table.jl-diff td { padding: 0 6px; white-space: pre; overflow: hidden;
  text-overflow: ellipsis; vertical-align: top; }
.jaxlab.jl-compile table.jl-diff td.n { width: 3.5em; text-align: right; color: #8c959f; }
.jaxlab.jl-compile table.jl-diff td.src { width: 4.5em; }
.jaxlab.jl-compile tr.jl-removed td.a,
.jaxlab.jl-compile tr.jl-changed td.a { background: #ffebe9; }
.jaxlab.jl-compile tr.jl-added td.b,
.jaxlab.jl-compile tr.jl-changed td.b { background: #dafbe1; }
.jaxlab.jl-compile tr.jl-fold td { color: #59636e; font-style: italic; background: #f6f8fa; }
.jaxlab.jl-compile .jl-tag { display: inline-block; min-width: 3em; border-radius: 3px;
  padding: 0 3px; font-size: 11px; color: #1f2328; }
.jaxlab.jl-compile .jl-advice { border-left: 3px solid #9a6700; padding: 2px 8px; margin: 4px 0; }
.jaxlab.jl-compile .jl-bar { display: inline-block; height: 9px; background: #8ecae6;
  vertical-align: middle; }
</style>"""


# -- shared pieces --------------------------------------------------------------------------


def _frame_tags(hlo_text: str) -> dict[int, tuple[str, int]]:
    """Source line of each instruction line of an HLO text (1-based line → (file, line))."""
    from jaxlab.ir.hlo import HloModule

    try:
        module = HloModule.parse(hlo_text)
    except Exception:
        return {}
    out = {}
    for instr in module:
        frames = module.frames_of(instr)
        if frames and frames[0][1]:
            out[instr.line] = (frames[0][0], frames[0][1])
    return out


def _colour_of(colours: dict[tuple[str, int], str], place: tuple[str, int]) -> str:
    if place not in colours:
        colours[place] = PALETTE[len(colours) % len(PALETTE)]
    return colours[place]


def _tag(place: tuple[str, int] | None, colours: dict[tuple[str, int], str]) -> str:
    if place is None:
        return ""
    title = source_location(*place)
    return (
        f'<span class="jl-tag" style="background:{_colour_of(colours, place)}" '
        f'title="{esc(title)}">L{place[1]}</span>'
    )


def segments(rows: list[Any]) -> list[tuple[int, int, bool]]:
    """(start, end, folded) runs covering the rows of a diff: unchanged runs longer than
    2·CONTEXT fold, keeping CONTEXT rows next to each change."""
    out: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j].kind == "same":
            j += 1
        head = CONTEXT if i > 0 else 0
        tail = CONTEXT if j < len(rows) else 0
        if j - i > head + tail + 1:
            out += [(i, i + head, False), (i + head, j - tail, True), (j - tail, j, False)]
        else:
            out.append((i, j, False))
        if j < len(rows):
            out.append((j, j + 1, False))
        i = j + 1
    return [seg for seg in out if seg[1] > seg[0]]


def diff_table(
    diff: Any,
    tags_a: dict[int, tuple[str, int]] | None = None,
    tags_b: dict[int, tuple[str, int]] | None = None,
    labels: tuple[str, str] = ("before", "after"),
) -> str:
    """A side-by-side diff; unchanged runs longer than 2·CONTEXT fold into one row that opens
    them. With tags, each instruction carries its source line's colour on both sides."""
    if not diff.rows:
        return '<div class="jl-muted">(empty)</div>'
    colours: dict[tuple[str, int], str] = {}
    tags_a, tags_b = tags_a or {}, tags_b or {}
    with_tags = bool(tags_a or tags_b)

    def row_html(r: Any) -> str:
        a = esc(r.a) if r.a is not None else ""
        b = esc(r.b) if r.b is not None else ""
        ta = _tag(tags_a.get(r.a_line), colours) if with_tags else None
        tb = _tag(tags_b.get(r.b_line), colours) if with_tags else None
        cells = [f'<td class="n">{r.a_line or ""}</td>']
        if ta is not None:
            cells.append(f'<td class="src">{ta}</td>')
        cells.append(f'<td class="a" title="{a}">{a}</td><td class="n">{r.b_line or ""}</td>')
        if tb is not None:
            cells.append(f'<td class="src">{tb}</td>')
        cells.append(f'<td class="b" title="{b}">{b}</td>')
        return f'<tr class="jl-{r.kind}">{"".join(cells)}</tr>'

    width = 6 if with_tags else 4
    out: list[str] = []
    for start, end, folded in segments(diff.rows):
        rows = diff.rows[start:end]
        if not folded:
            out.extend(row_html(r) for r in rows)
            continue
        inner = "".join(row_html(r) for r in rows)
        out.append(
            f'<tr class="jl-fold"><td colspan="{width}"><details><summary>'
            f"{len(rows)} unchanged lines</summary>"
            f'<table class="jl-diff">{inner}</table></details></td></tr>'
        )
    cols = '<col style="width:3.5em">' + ('<col style="width:4.5em">' if with_tags else "")
    head_cells = "".join(
        f'<th colspan="{2 if not with_tags else 3}" style="text-align:left">{esc(label)}</th>'
        for label in labels
    )
    return (
        f'<table class="jl-diff"><colgroup>{cols}<col>{cols}<col></colgroup>'
        f"<thead><tr>{head_cells}</tr></thead><tbody>{''.join(out)}</tbody></table>"
    )


def _notes(notes: list[str]) -> str:
    return "".join(f'<div class="jl-note">{esc(n)}</div>' for n in notes)


# -- compile profile ------------------------------------------------------------------------


def _pct(percent: float) -> str:
    return f"{percent:.0f}%"


@renders(CompileProfile, "text")
def profile_text(p: Any) -> str:
    lines = [
        f"compile profile of {p.fn_name}: trace {format_seconds(p.trace_s)}, lower "
        f"{format_seconds(p.lower_s)}, compile {format_seconds(p.compile_s)} (measured)",
        f"  XLA passes {format_seconds(p.passes_s)}, code generation "
        f"{format_seconds(p.codegen_s)}: {_pct(p.explained_percent)} of the compile "
        f"(jaxlab's processing {format_seconds(p.processing_s)})",
    ]
    lines.extend(f"  note: {n}" for n in p.notes)
    if p.passes:
        lines.append("slowest passes:")
        rows = [
            (r["pipeline"], r["pass"], format_seconds(r["time_s"]), r["calls"])
            for r in p.passes[:8]
        ]
        lines.extend(
            "  " + s
            for s in text_table(["pipeline", "pass", "time", "calls"], rows, numeric=[0, 0, 1, 1])
        )
    by_line = p.by_line()
    if by_line:
        lines.append("code generation per source line:")
        rows = [
            (
                source_location(r["file"], r["line"]) if r["line"] else "?",
                r["kernels"],
                format_seconds(r["time_s"]),
                _pct(r["percent"]),
                r["code"][:60],
            )
            for r in by_line[:8]
        ]
        lines.extend(
            "  " + s
            for s in text_table(
                ["line", "kernels", "time", "of compile", "code"], rows, numeric=[0, 1, 1, 1]
            )
        )
    for a in p.advice:
        lines.append(f"advice: {a}")
    return "\n".join(lines)


def _bar(percent: float) -> str:
    width = max(1, min(120, round(1.2 * percent)))
    return f'<span class="jl-bar" style="width:{width}px"></span> {_pct(percent)}'


def profile_body(p: Any) -> str:
    parts = [
        f'<div class="jl-title">compile profile of <code>{esc(p.fn_name)}</code></div>',
        table(
            ["stage", "time", "of trace+lower+compile"],
            [
                [esc(s), esc(format_seconds(t)), _bar(100 * t / p.total_s if p.total_s else 0)]
                for s, t in (
                    ("trace", p.trace_s),
                    ("lower", p.lower_s),
                    ("compile", p.compile_s),
                    ("  XLA passes", p.passes_s),
                    ("  code generation", p.codegen_s),
                )
            ],
            numeric=[False, True, False],
            raw=True,
        ),
        f'<div class="jl-muted">XLA passes and code generation account for '
        f"{_pct(p.explained_percent)} of the compile (measured by XLA's profiler spans); "
        f"jaxlab's processing took {esc(format_seconds(p.processing_s))}.</div>",
        _notes(p.notes),
    ]
    for a in p.advice:
        where = f" at <code>{esc(a.where)}</code>" if a.where else ""
        parts.append(
            f'<div class="jl-advice"><b class="jl-warn">{esc(a.kind)}</b>{where}: '
            f"{esc(a.message)}<br><b>fix:</b> {esc(a.fix)}</div>"
        )
    by_line = p.by_line()
    if by_line:
        rows = [
            [
                esc(source_location(r["file"], r["line"]) if r["line"] else "?"),
                f"<code>{esc(r['code'])}</code>",
                str(r["kernels"]),
                esc(format_seconds(r["time_s"])),
                _bar(r["percent"]),
                library_fold(
                    [source_location(lib["file"], lib["line"]) for lib in r["library"]],
                    ["line", "time", "of compile", "code"],
                    [
                        [
                            source_location(lib["file"], lib["line"]),
                            format_seconds(lib["time_s"]),
                            _pct(lib["percent"]),
                            lib["code"],
                        ]
                        for lib in r["library"]
                    ],
                    [False, True, True, False],
                ),
            ]
            for r in by_line[:TOP]
        ]
        parts.append("<h4>code generation per source line</h4>")
        parts.append(
            table(
                ["line", "code", "kernels", "time", "of compile", "library code inside"],
                rows,
                numeric=[False, False, True, True, False, False],
                raw=True,
            )
        )
        parts.append(
            '<div class="jl-muted">Library code counts in the line of yours that called it; '
            "<code>.by_line(library=True)</code> lists every line on its own.</div>"
        )
    if p.passes:
        rows = [
            [r["pipeline"], r["pass"], format_seconds(r["time_s"]), r["calls"]]
            for r in p.passes[:TOP]
        ]
        parts.append(f"<h4>slowest XLA passes ({len(p.passes)} in all)</h4>")
        parts.append(table(["pipeline", "pass", "time", "calls"], rows, numeric=[0, 0, 1, 1]))
    if p.codegen:
        rows = [
            [k["fusion"], ", ".join(k["lines"]), format_seconds(k["time_s"]), k["op_count"]]
            for k in p.codegen[:TOP]
        ]
        parts.append(f"<h4>kernels ({len(p.codegen)})</h4>")
        parts.append(table(["fusion", "source lines", "time", "ops"], rows, numeric=[0, 0, 1, 1]))
    return "".join(parts)


@renders(CompileProfile, "html")
def profile_html(p: Any) -> str:
    return fragment(CSS + profile_body(p), extra_class="jl-compile")


# -- pass pipeline --------------------------------------------------------------------------


@renders(PassPipeline, "text")
def passes_text(p: Any) -> str:
    changed = p.changed
    lines = [
        f"HLO passes of {p.fn_name} ({p.module}): {len(changed)} changed the module"
        + (f", {len(p) - len(changed)} more only renumbered it" if len(p) > len(changed) else "")
    ]
    lines.extend(f"  note: {n}" for n in p.notes)
    for s in changed:
        lines.append(
            f"  {s.index:>4}  {s.name:<32} {s.pipeline:<40} -{s.diff.removed} +{s.diff.added}"
        )
    return "\n".join(lines)


def pass_model(p: Any) -> dict[str, Any]:
    """The JSON-able model the live pass explorer draws: each step's changed rows with
    CONTEXT rows around them, and folds (row ranges the widget asks the kernel for when
    opened); each row carries the source line of its instruction on each side."""
    steps = []
    for s in p.steps:
        rows = s.diff.rows
        tags = _step_tags(s)
        items: list[list[Any]] = []
        for start, end, folded in segments(rows):
            if folded:
                items.append(["fold", start, end])
            else:
                items.extend(["row", *_row(r, tags)] for r in rows[start:end])
        steps.append(
            {
                "index": s.index,
                "pass": s.name,
                "pipeline": s.pipeline,
                "renumbering_only": s.renumbering_only,
                "removed": s.diff.removed,
                "added": s.diff.added,
                "items": items,
            }
        )
    colours: dict[tuple[str, int], str] = {}
    for s in p.steps:
        tags_a, tags_b = _step_tags(s)
        for place in [*tags_a.values(), *tags_b.values()]:
            _colour_of(colours, place)
    return {
        "fn": p.fn_name,
        "module": p.module,
        "notes": list(p.notes),
        "steps": steps,
        "colours": {_place(place): colour for place, colour in colours.items()},
    }


def step_rows(p: Any, index: int, start: int, end: int) -> list[list[Any]]:
    """Rows `start:end` of the diff of the step XLA numbered `index` (a fold being opened)."""
    step = next(s for s in p.steps if s.index == index)
    tags = _step_tags(step)
    return [_row(r, tags) for r in step.diff.rows[max(0, start) : max(0, end)]]


def _step_tags(step: Any) -> tuple[dict, dict]:
    cache = step.__dict__.setdefault("_tags", None)
    if cache is None:
        cache = step.__dict__["_tags"] = (_frame_tags(step.before), _frame_tags(step.after))
    return cache


def _row(r: Any, tags: tuple[dict, dict]) -> list[Any]:
    return [
        r.kind, r.a, r.b, r.a_line, r.b_line,
        _place(tags[0].get(r.a_line)), _place(tags[1].get(r.b_line)),
    ]  # fmt: skip


def _place(place: tuple[str, int] | None) -> str:
    """The widget's key of a source line (its colour and highlight group), ``file:line``."""
    return f"{place[0]}:{place[1]}" if place else ""


@renders(PassPipeline, "html")
def passes_html(p: Any, static_id: str = "") -> str:
    changed = p.changed
    hidden = len(p) - len(changed)
    parts = [
        f'<div class="jl-title">HLO passes of <code>{esc(p.fn_name)}</code> '
        f"(module <code>{esc(p.module)}</code>): {len(changed)} changed the module</div>",
        '<div class="jl-muted">passes that changed nothing are hidden'
        + (f"; {hidden} that only renumbered names are hidden too" if hidden else "")
        + ". Open a pass for its before/after diff; instructions are coloured by the source "
        "line they came from.</div>",
        _notes(p.notes),
    ]
    for s in changed:
        body = diff_table(s.diff, _frame_tags(s.before), _frame_tags(s.after))
        summary = (
            f'<span class="jl-pass">{esc(s.name)}</span> '
            f'<span class="jl-muted">in {esc(s.pipeline)} · −{s.diff.removed} +{s.diff.added}'
            "</span>"
        )
        parts.append(f"<details><summary>{summary}</summary>{body}</details>")
    return fragment(CSS + "".join(parts), extra_class="jl-compile", static_id=static_id)


# -- compile diff ---------------------------------------------------------------------------


@renders(CompileDiff, "text")
def diff_text(d: Any) -> str:
    la, lb = d.labels
    if d.empty:
        return f"no difference between {la} and {lb} (up to renumbered names)"
    lines = [f"diff of {la} → {lb}"]
    lines.extend(f"  note: {n}" for n in d.notes)
    for ir in (d.jaxpr, d.stablehlo, d.hlo):
        lines.append(
            f"  {ir.what}: " + (f"-{ir.removed} +{ir.added} lines" if ir.changed else "same")
        )
    if d.lines.changes:
        lines.append("source lines whose HLO changed:")
        for c in d.lines.changes:
            lines.append(f"  {c.label}: -[{', '.join(c.removed)}] +[{', '.join(c.added)}]")
    if d.fusions:
        lines.append("fusions:")
        for f in d.fusions:
            detail = f"{f.a} → {f.b}" if f.kind == "changed" else (f.a or f.b)
            lines.append(f"  {f.kind:<8} {f.name}: {detail}")
    changed = [r for r in d.deltas() if r["delta"] and r["group"] != "compile time"]
    for r in changed[:10]:
        lines.append(f"  {r['group']} {r['what']}: {r['a']} → {r['b']}")
    return "\n".join(lines)


def _value(group: str, what: str, v: Any) -> str:
    if v is None:
        return "–"
    if group == "compile time":
        return format_seconds(v)
    if group == "memory" or "bytes" in what:
        return format_bytes(v)
    return f"{v:,.0f}" if isinstance(v, (int, float)) else str(v)


def diff_body(d: Any) -> str:
    la, lb = d.labels
    parts = [f'<div class="jl-title">diff of <code>{esc(la)}</code> → <code>{esc(lb)}</code></div>']
    if d.empty:
        parts.append('<div class="jl-muted">no difference (up to renumbered names)</div>')
    parts.append(_notes(d.notes))
    if d.lines.changes:
        rows = [[c.label, "\n".join(c.removed), "\n".join(c.added)] for c in d.lines.changes]
        parts.append("<h4>source lines whose optimized HLO changed</h4>")
        parts.append(table(["line", la, lb], rows))
    if d.fusions:
        rows = [
            [f.kind, f.name, ", ".join(f"L{n}" for _, n in f.lines), f.a, f.b] for f in d.fusions
        ]
        parts.append("<h4>fusions</h4>")
        parts.append(table(["change", "fusion", "lines", la, lb], rows))
    deltas = [r for r in d.deltas() if r["delta"]]
    if deltas:
        rows = [
            [
                r["group"],
                r["what"],
                _value(r["group"], r["what"], r["a"]),
                _value(r["group"], r["what"], r["b"]),
            ]
            for r in deltas
        ]
        parts.append("<h4>cost (XLA's estimate), memory and compile time (measured)</h4>")
        parts.append(table(["", "what", la, lb], rows, numeric=[0, 0, 1, 1]))
    for ir in (d.hlo, d.stablehlo, d.jaxpr):
        summary = f"{ir.what}: " + (f"−{ir.removed} +{ir.added} lines" if ir.changed else "same")
        body = diff_table(ir, labels=(la, lb)) if ir.changed else ""
        parts.append(
            f"<details{' open' if ir.changed and ir is d.hlo else ''}><summary>{esc(summary)}"
            f"</summary>{body}</details>"
        )
    return "".join(parts)


@renders(CompileDiff, "html")
def diff_html(d: Any) -> str:
    return fragment(CSS + diff_body(d), extra_class="jl-compile")


# -- saved inspection -----------------------------------------------------------------------


@renders(SavedInspection, "text")
def saved_text(insp: Any) -> str:
    return (
        f"saved inspection of {insp.call_text} -> {insp.out_avals} "
        f"(jax {insp.jax_version}, jaxlab {insp.jaxlab_version}); compare with jaxlab.diff"
    )


@renders(SavedInspection, "html")
def saved_html(insp: Any) -> str:
    body = (
        f'<div class="jl-title">saved inspection of <code>{esc(insp.call_text)}</code></div>'
        f'<div class="jl-muted">{esc(saved_text(insp))}</div>'
        f"<details><summary>optimized HLO</summary>"
        f'<pre class="jl-code">{esc(hlo_display_text(insp.hlo_module))}</pre>'
        "</details>"
    )
    return fragment(body, extra_class="jl-compile")


# -- %recompiles f --diff -------------------------------------------------------------------


@renders(RecompileDiff, "text")
def recompile_diff_text(r: Any) -> str:
    lines = [f"why {r.name} compiled again", f"  reason: {r.reason}"]
    for arg, before, now in r.changes:
        lines.append(f"  argument {arg}: {before} → {now}")
    lines.append(diff_text(r.diff))
    return "\n".join(lines)


@renders(RecompileDiff, "html")
def recompile_diff_html(r: Any) -> str:
    parts = [
        f'<div class="jl-title">why <code>{esc(r.name)}</code> compiled again</div>',
        f"<div><b>reason:</b> {prose(r.reason)}</div>",
    ]
    if r.changes:
        parts.append(table(["argument", "before", "now"], [list(c) for c in r.changes]))
    parts.append(diff_body(r.diff))
    return fragment(CSS + "".join(parts), extra_class="jl-compile")


@renders(SavedInspection, "display")
def show_saved(insp: Any) -> None:
    """A saved inspection in a kernel: its summary (there is no live program to inspect)."""
    from IPython.display import display

    display(insp._repr_mimebundle_(), raw=True)
