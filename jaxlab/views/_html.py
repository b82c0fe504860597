"""Small HTML building blocks shared by the static renderers.

All text that may come from the user's program goes through :func:`esc`; nothing here emits
script. The CSS is scoped under ``.jaxlab`` so outputs do not restyle the notebook.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any


def esc(value: Any) -> str:
    """Escape any value for HTML text and attribute context."""
    return html.escape(str(value), quote=True)


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose(value: Any) -> str:
    """Escaped text whose `code spans` (written with backticks, as messages name code) are
    shown as code, without the backticks."""
    return _CODE_SPAN.sub(r"<code>\1</code>", esc(value))


@cache
def base_css() -> str:
    return BASE_CSS + token_css()


@cache
def token_css() -> str:
    """Pygments' token colours, scoped to jaxlab's code blocks."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".jaxlab .jl-code")


BASE_CSS = """
.jaxlab { font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: 13px;
  color: var(--jp-content-font-color1, #1f2328); line-height: 1.4; max-width: 100%; }
.jaxlab .jl-title { font-weight: 600; font-size: 14px; margin: 2px 0 6px; }
.jaxlab .jl-title code { font-size: 13px; }
.jaxlab .jl-muted { color: var(--jp-content-font-color2, #59636e); }
.jaxlab .jl-note { color: var(--jp-content-font-color2, #59636e); font-style: italic; }
.jaxlab .jl-warn { color: #9a6700; }
.jaxlab .jl-bad { color: #cf222e; font-weight: 600; }
.jaxlab table.jl-table { border-collapse: collapse; margin: 4px 0 8px; font-size: 12px; }
.jaxlab table.jl-table th, .jaxlab table.jl-table td { padding: 2px 10px 2px 0;
  text-align: left; vertical-align: top; border-bottom: 1px solid rgba(128,128,128,.2); }
.jaxlab table.jl-table td.num, .jaxlab table.jl-table th.num { text-align: right;
  white-space: nowrap; }
.jaxlab table.jl-table th { font-weight: 600; }
.jaxlab details { margin: 4px 0; }
.jaxlab details > summary { cursor: pointer; font-weight: 600; }
.jaxlab details.jl-lib { margin: 0; }
.jaxlab details.jl-lib > summary { font-weight: normal; white-space: nowrap; }
.jaxlab .jl-grid { display: flex; flex-wrap: wrap; gap: 18px; }
.jaxlab pre.jl-code { margin: 4px 0; padding: 6px 8px; overflow: auto; max-height: 480px;
  background: var(--jp-cell-editor-background, #f6f8fa); border-radius: 4px;
  font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 12px;
  line-height: 1.35; white-space: pre; }
.jaxlab pre.jl-code .jl-l { display: block; }
.jaxlab .jl-error { border-left: 3px solid #cf222e; padding: 4px 8px; }
"""


def fragment(body: str, *, extra_class: str = "", static_id: str = "") -> str:
    """A self-contained output fragment: scoped CSS plus the body.

    `static_id` marks a static rendering that a live widget showing the same thing hides once
    it has started (``data-jaxlab-static``)."""
    cls = "jaxlab" + (f" {extra_class}" if extra_class else "")
    mark = f' data-jaxlab-static="{esc(static_id)}"' if static_id else ""
    return f'<div class="{cls}"{mark}><style>{base_css()}</style>{body}</div>'


def page(title: str, body: str, *, extra_class: str = "") -> str:
    """A complete, self-contained HTML document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title></head>"
        f"<body>{fragment(body, extra_class=extra_class)}</body></html>\n"
    )


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[bool] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless `raw` (for cells already built by this module)."""
    numeric = numeric or [False] * len(headers)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if n else f"<th>{esc(h)}</th>"
        for h, n in zip(headers, numeric, strict=False)
    )
    body = []
    for row in rows:
        cells = []
        for value, n in zip(row, numeric, strict=False):
            content = value if raw else esc(value)
            cells.append(f'<td class="num">{content}</td>' if n else f"<td>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="jl-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def svg(
    width: float,
    height: float,
    body: str,
    *,
    cls: str,
    label: str,
    font: str = "ui-monospace, monospace",
    font_size: int = 11,
) -> str:
    """An inline SVG image (self-contained, no script) around `body`; `label` is escaped."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" class="{esc(cls)}" '
        f'aria-label="{esc(label)}" style="font-family: {font}; font-size: {font_size}px">'
        f"{body}</svg>"
    )


def library_fold(
    names: Sequence[str],
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    numeric: Sequence[bool],
) -> str:
    """The library lines folded into a line of the user's code, one click away: a closed fold
    named by the first of `names` (and how many more), holding their table."""
    if not names:
        return ""
    summary = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
    body = table(headers, rows, numeric=numeric)
    return f'<details class="jl-lib"><summary>{esc(summary)}</summary>{body}</details>'


def notes_list(notes: Iterable[tuple[str, str]]) -> str:
    """A list of notes, each a (class, text) pair: ``<ul class="jl-notes">``, texts escaped."""
    items = "".join(f'<li class="{cls}">{esc(text)}</li>' for cls, text in notes)
    return f'<ul class="jl-notes">{items}</ul>'


def details(summary: str, body: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{body}</details>"
