"""Static HTML of an :class:`jaxlab.IRText` (``%jaxpr``, ``%hlo``)."""

from __future__ import annotations

from jaxlab.api.irtext import IRText
from jaxlab.base.display import renders
from jaxlab.base.format import relabel_cells
from jaxlab.views._html import esc, fragment
from jaxlab.views.code import code_block
from jaxlab.views.inspector.summary import MAX_TEXT_LINES, fusion_table
from jaxlab.views.program import hlo_distribution


@renders(IRText, "text")
def irtext_text(text: IRText) -> str:
    """The text itself: an IR's repr is the IR (notebook cells named by their labels)."""
    return relabel_cells(str.__str__(text))


@renders(IRText, "html")
def irtext_html(text: IRText) -> str:
    parts = []
    if text.title:
        parts.append(f'<div class="jl-title">{esc(text.title)}</div>')
    if text.dialect == "hlo" and text.inspection is not None:
        parts.append(fusion_table(text.inspection))
        parts.append(hlo_distribution(text.inspection))
    parts.append(code_block(irtext_text(text), text.dialect, max_lines=MAX_TEXT_LINES))
    return fragment("".join(parts))
