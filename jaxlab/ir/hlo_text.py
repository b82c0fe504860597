"""The optimized HLO as a reader is shown it everywhere (``%hlo``, the inspector's pane, the
exported HTML): the program's instructions from the first line on. JAX's stack-frame tables
(``FileNames``, ``FunctionNames``, ``FileLocations``, ``StackFrames``: every frame of the
trace, IPython's, the kernel's and jaxlab's included) and the instructions' metadata are left
out; the module header is wrapped one attribute a line; and, where asked, each instruction
names the line of the user's code it came from in a trailing comment."""

from __future__ import annotations

import re
from typing import Any

from jaxlab.base import scan
from jaxlab.base.format import source_location
from jaxlab.ir.hlo import HloModule
from jaxlab.ir.sources import StagedCall

_METADATA = re.compile(r', metadata=\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}')
TABLES = ("FileNames", "FunctionNames", "FileLocations", "StackFrames")
_HEADER_WIDTH = 100  # a longer attribute is elided (the full text is XLA's own)


def _elide(attribute: str) -> str:
    """An attribute as it fits on a line: ``entry_computation_layout={…}`` when too long (the
    ENTRY computation's signature says the same; the flags' values are one per parameter)."""
    if len(attribute) <= _HEADER_WIDTH:
        return attribute
    key, eq, value = attribute.partition("=")
    return f"{key}={value[0]}…{value[-1]}" if eq and value[:1] in "{([" else attribute[:99] + "…"


def _header_lines(raw: str) -> list[str]:
    """``HloModule name, a=1, b={…}`` as ``HloModule name, a=1,`` and one more attribute a
    line, indented."""
    pieces = [p.strip() for p in scan.split(raw, ",", scan.HLO)]
    kept = [_elide(p) for p in pieces[1:]]
    if not kept:
        return [pieces[0]]
    lines = [f"{pieces[0]}, {kept[0]}"] + [f"    {p}" for p in kept[1:]]
    return [line + "," for line in lines[:-1]] + [lines[-1]]


def strip_metadata(raw: str) -> str:
    """An HLO line without its ``metadata={…}`` (op name, stack frame id)."""
    cut = raw.find(", metadata={")
    if cut < 0:
        return raw
    end = raw.find("}", cut)
    if end > 0 and raw.count('"', cut, end) % 2 == 0 and "\\" not in raw:
        return raw[:cut] + raw[end + 1 :]
    return _METADATA.sub("", raw)


def hlo_display(
    module: HloModule, *, sources: bool = False, fn: Any = None
) -> tuple[list[str], list[int]]:
    """The optimized HLO's display lines, and the display line (1-based) of each line of the
    original text (0: dropped). With `sources`, an instruction made by the user's code ends in
    ``// In [3], line 2`` (`fn`: the staged function, to leave out the lines that called it)."""
    by_line = {instr.line: instr for instr in module} if sources else {}
    call = StagedCall(fn)
    places: dict[int, str] = {}  # stack frame id -> where, found once per position

    def where_made(instr: Any) -> str:
        key = instr.stack_frame_id
        if key not in places:
            line = call.user_line(module.frames_of(instr))
            places[key] = source_location(*line) if line else ""
        return places[key]

    lines: list[str] = []
    mapping = [0]
    skipping = False
    for number, raw in enumerate(module.text.split("\n"), start=1):
        stripped = raw.strip()
        if stripped in TABLES:
            skipping = True
        elif skipping and not stripped:
            skipping = False
            mapping.append(0)
            continue
        if skipping or (not stripped and lines and not lines[-1]):
            mapping.append(0)
            continue
        mapping.append(len(lines) + 1)
        if stripped.startswith("HloModule ") and not lines:
            lines.extend(_header_lines(raw))
            continue
        raw = strip_metadata(raw)
        instr = by_line.get(number)
        where = where_made(instr) if instr is not None else ""
        lines.append(f"{raw}  // {where}" if where else raw)
    while lines and not lines[-1]:
        lines.pop()
    return lines, mapping


def hlo_display_text(module: HloModule, fn: Any = None) -> str:
    """The display lines with their sources, as one text (``%hlo``'s)."""
    return "\n".join(hlo_display(module, sources=True, fn=fn)[0])
