"""What the inspector shows in its place when the function fails to trace, lower or compile:
the short explanation and the user's source line, with the lines around it."""

from __future__ import annotations

import linecache

from jaxlab.base.display import Displayed, renders
from jaxlab.base.format import source_location
from jaxlab.core.errors import Explanation, user_frame
from jaxlab.views._html import esc, fragment, prose

CONTEXT_LINES = 2


class InspectionError(Displayed):
    """A failed inspection, displayed as an error card (HTML) or a short text."""

    def __init__(self, exc: BaseException, explanation: Explanation, stage: str = "inspect"):
        self.exc = exc
        self.explanation = explanation
        self.stage = stage
        self.frame = user_frame(exc.__traceback__)


@renders(InspectionError, "text")
def failure_text(failure: InspectionError) -> str:
    return failure.explanation.message(prefix="inspect failed: ")


@renders(InspectionError, "html")
def failure_html(failure: InspectionError) -> str:
    e = failure.explanation
    parts = [f'<div class="jl-title jl-bad">inspect failed: {prose(e.summary)}</div>']
    if e.where:
        parts.append(f'<div class="jl-muted">at {esc(e.where)}</div>')
    if failure.frame is not None:
        parts.append(_source_excerpt(failure.frame))
    if e.fix:
        parts.append(f"<div>fix: {prose(e.fix)}</div>")
    return fragment(f'<div class="jl-error">{"".join(parts)}</div>')


def _source_excerpt(frame: tuple[str, int, str, str]) -> str:
    file, line, _, _ = frame
    lines = linecache.getlines(file)
    if not lines:
        return ""
    first = max(line - CONTEXT_LINES, 1)
    spans = []
    for n in range(first, min(line + CONTEXT_LINES, len(lines)) + 1):
        text = esc(lines[n - 1].rstrip("\n")) or " "
        cls = "jl-l jl-bad" if n == line else "jl-l"
        spans.append(f'<span class="{cls}" data-line="{n}">{n:>4}  {text}</span>')
    name = esc(source_location(file))
    return f'<div class="jl-muted">{name}</div><pre class="jl-code">{"".join(spans)}</pre>'
