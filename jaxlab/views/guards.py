"""Static HTML of the guards' output: one warning, and the ``%recompiles`` table."""

from __future__ import annotations

from jaxlab.base.display import renders
from jaxlab.base.format import format_seconds
from jaxlab.guards._recompiles import FunctionCompiles, RecompileReport
from jaxlab.guards._warning import GuardWarning
from jaxlab.views._html import esc, fragment, prose, table
from jaxlab.views._text import text_table

GUARD_CSS = (
    "<style>.jaxlab.jl-guard { border-left: 3px solid #9a6700; padding: 2px 8px; }"
    ".jaxlab.jl-guard .jl-line { margin: 1px 0; }</style>"
)


@renders(GuardWarning, "html")
def warning_html(warning: GuardWarning) -> str:
    lines = [
        f'<div class="jl-line"><span class="jl-warn"><b>jaxlab: {esc(warning.title)}</b></span> '
        f"{prose(warning.summary)}</div>"
    ]
    if warning.where:
        lines.append(f'<div class="jl-line jl-muted">at <code>{esc(warning.where)}</code></div>')
    lines.extend(f'<div class="jl-line jl-muted">{prose(d)}</div>' for d in warning.details)
    if warning.fix:
        lines.append(f'<div class="jl-line"><b>fix:</b> {prose(warning.fix)}</div>')
    return fragment(GUARD_CSS + "".join(lines), extra_class="jl-guard")


def _entry_text(report: RecompileReport, entry: FunctionCompiles) -> list[str]:
    where = report.defined_at(entry)
    head = (
        f"{entry.label}: {entry.count} compilation{'s' if entry.count != 1 else ''} "
        f"({format_seconds(entry.compile_s)})" + (f", defined at {where}" if where else "")
    )
    lines = [head]
    if entry.count > len(entry.records):
        lines.append(f"  (the last {len(entry.records)} are listed)")
    for r in entry.records:
        cell = f"[{r.cell}]" if r.cell is not None else "[?]"
        lines.append(f"  cell {cell:<6} {format_seconds(r.compile_s):>9}  {r.reason}")
    return lines


def _cells(report: RecompileReport) -> list[list[str]]:
    return [
        [
            r["function"],
            r["compilations"],
            r["cells"],
            format_seconds(r["compile_s"]),
            r["last_reason"],
        ]
        for r in report.rows()
    ]


@renders(RecompileReport, "text")
def recompiles_text(report: RecompileReport) -> str:
    if report.name is not None:
        return "\n\n".join("\n".join(_entry_text(report, e)) for e in report.functions)
    if not report.functions:
        return "no compilations of user functions recorded yet"
    n = len(report.functions)
    lines = [
        f"compilations per function ({n} function{'s' if n != 1 else ''}, "
        f"{report.total} compilation{'s' if report.total != 1 else ''})"
    ]
    headers = ["function", "count", "cells", "time", "last reason"]
    table_lines = text_table(headers, _cells(report), numeric=[False, True])
    return "\n".join(lines + ["  " + line for line in table_lines])


def _entry_html(report: RecompileReport, entry: FunctionCompiles) -> str:
    where = report.defined_at(entry)
    title = (
        f'<div class="jl-title"><code>{esc(entry.label)}</code>: {entry.count} '
        f"compilation{'s' if entry.count != 1 else ''}"
        + (f' <span class="jl-muted">defined at {esc(where)}</span>' if where else "")
        + "</div>"
    )
    rows = [
        (
            f"[{r.cell}]" if r.cell is not None else "[?]",
            format_seconds(r.compile_s),
            prose(r.reason),
        )
        for r in entry.records
    ]
    return title + table(["cell", "time", "reason"], rows, raw=True)


@renders(RecompileReport, "html")
def recompiles_html(report: RecompileReport) -> str:
    if report.name is not None:
        return fragment("".join(_entry_html(report, e) for e in report.functions))
    if not report.functions:
        return fragment(
            '<div class="jl-muted">no compilations of user functions recorded yet</div>'
        )
    n, total = len(report.functions), report.total
    title = (
        f'<div class="jl-title">compilations per function ({n} function{"s" if n != 1 else ""}, '
        f"{total} compilation{'s' if total != 1 else ''})</div>"
    )
    rows = [[*map(esc, row[:-1]), prose(row[-1])] for row in _cells(report)]
    return fragment(
        title
        + table(
            ["function", "count", "cells", "time", "last reason"],
            rows,
            numeric=[False, True, False, True, False],
            raw=True,
        )
    )
