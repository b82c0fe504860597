"""Highlighted code blocks: one ``<span class="jl-l" data-line="N">`` per line.

Per-line spans let views link and highlight lines; token colours come from Pygments' short
class names with a stylesheet scoped to ``.jaxlab``.
"""

from __future__ import annotations

from functools import cache

from pygments.token import STANDARD_TYPES

from jaxlab.views._html import esc
from jaxlab.views.lexers import LEXERS


@cache
def _lexer(dialect: str):
    from pygments.lexers import PythonLexer

    if dialect == "python":
        return PythonLexer(stripnl=False, ensurenl=False)
    return LEXERS[dialect](stripnl=False, ensurenl=False)


def _css_class(ttype) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def highlight_lines(text: str, dialect: str) -> list[str]:
    """The text as a list of highlighted HTML lines (escaped), one per source line."""
    lines: list[str] = []
    current: list[str] = []
    for ttype, value in _lexer(dialect).get_tokens(text):
        css = _css_class(ttype)
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append("".join(current))
                current = []
            if part:
                current.append(f'<span class="{css}">{esc(part)}</span>' if css else esc(part))
    if current:
        lines.append("".join(current))
    return lines


def code_block(
    text: str, dialect: str, *, first_line: int = 1, max_lines: int | None = None
) -> str:
    """A ``<pre>`` with highlighted, numbered line spans. Long texts are cut at `max_lines`."""
    lines = highlight_lines(text, dialect)
    note = ""
    if max_lines is not None and len(lines) > max_lines:
        note = (
            f'<div class="jl-note">showing {max_lines:,} of {len(lines):,} lines; '
            "the full text is in the returned object</div>"
        )
        lines = lines[:max_lines]
    spans = "".join(
        f'<span class="jl-l" data-line="{n}">{line or " "}</span>'
        for n, line in enumerate(lines, start=first_line)
    )
    return f'<pre class="jl-code jl-{esc(dialect)}">{spans}</pre>{note}'
