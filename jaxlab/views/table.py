"""Text and HTML of a :class:`jaxlab.base.table.Table`: the rows a result method returned
(``Profile.by_line()``, ``CompileProfile.passes``, ...), each cell in human units by its
column's name (``*_s`` seconds, ``percent*`` percent, ``bytes*`` binary units)."""

from __future__ import annotations

from typing import Any

from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_count, format_seconds
from jaxlab.base.table import Table
from jaxlab.views._html import esc, fragment, table
from jaxlab.views._text import text_table

MAX_ROWS = 50


def cell(column: str, value: Any) -> str:
    """One cell as text, in the unit its column's name says."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):  # kernels, lines; rows nested in a row
        return ", ".join(_nested(v) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, (int, float)):
        if column.endswith("_s") or column == "seconds":
            return format_seconds(value)
        if column.startswith("percent"):
            return f"{value:.1f} %"
        if column.startswith("bytes") or column.endswith("_bytes"):
            return format_bytes(value)
        if isinstance(value, float):
            return f"{value:.4g}"
        return format_count(value) if abs(value) >= 10_000 else str(value)
    return str(value)


def _nested(row: dict[str, Any]) -> str:
    """A row nested in a cell (the library lines of a ``by_line()`` row) by where it is and,
    when it has one, its time: ``fakelib.py:6 1.2 ms``; never the dict itself."""
    where = row.get("where") or row.get("name") or "?"
    time = next((row[k] for k in ("total_s", "time_s") if isinstance(row.get(k), float)), None)
    return f"{where} {format_seconds(time)}" if time is not None else str(where)


def _numeric(t: Table) -> list[bool]:
    return [
        any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in t)
        for c in t.columns
    ]


def headline(t: Table) -> str:
    n = len(t)
    return f"{t.title}: {n} row{'s' if n != 1 else ''}"


def _more(t: Table) -> str:
    hidden = len(t) - MAX_ROWS
    return f"{hidden} more rows: `.rows()` or `.to_pandas()` has them all" if hidden > 0 else ""


@renders(Table, "text")
def table_text(t: Table) -> str:
    lines = [headline(t)]
    if t.note:
        lines.append(t.note)
    if t:
        cells = [[cell(c, r.get(c)) for c in t.columns] for r in t[:MAX_ROWS]]
        lines += ["  " + line for line in text_table(t.columns, cells, numeric=_numeric(t))]
    if _more(t):
        lines.append(_more(t))
    if getattr(t, "footer", ""):
        lines.append(t.footer)
    return "\n".join(lines)


@renders(Table, "html")
def table_html(t: Table) -> str:
    body = f'<div class="jl-title">{esc(headline(t))}</div>'
    if t.note:
        body += f'<div class="jl-note">{esc(t.note)}</div>'
    if t:
        cells = [[cell(c, r.get(c)) for c in t.columns] for r in t[:MAX_ROWS]]
        body += table(list(t.columns), cells, numeric=_numeric(t))
    if _more(t):
        body += f'<div class="jl-muted">{esc(_more(t))}</div>'
    if getattr(t, "footer", ""):
        body += f'<div class="jl-note">{esc(t.footer)}</div>'
    return fragment(body)
