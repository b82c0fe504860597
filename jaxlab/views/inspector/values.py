"""The values column of the inspector (``inspect(..., numerics=True)``): beside every jaxpr
equation, the range its outputs took, NaN and Inf marks and how much of its dtype's exponent
range the largest value uses (the headroom heat); the source lines that made NaN or Inf
marked; and the origin, which both renderings bring into view."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from jaxlab.ir.numerics import DTYPE_BINADES, Row
from jaxlab.views.numerics import nonfinite_text, num, numerics_section, percent, value_type

if TYPE_CHECKING:
    from jaxlab.api.inspection import Inspection
    from jaxlab.views.inspector.values_model import NumericsSection, ValueCell

MAX_TIPS = 4  # outputs named in one line's tooltip (a jaxpr printed once for many calls)
_RANK = {"unrun": 0, "finite": 1, "nonfinite": 2, "origin": 3}


def headroom_heat(row: Row) -> float:
    """The share (0..1) of its dtype's positive exponent range the row's largest |x| uses:
    0 for values up to 1, 1 at the dtype's largest finite value (f16: 65504 is 1.0, 256 is
    0.5; f32: 1e4 is 0.1). 0 for integers."""
    binades = DTYPE_BINADES.get(row.dtype)
    if binades is None or not row.absmax or row.absmax <= 1.0:
        return 0.0
    return round(min(1.0, math.log2(row.absmax) / (binades[2] + 1)), 3)


def cell_text(row: Row) -> str:
    """The values of one output in a few characters: "NaN 3", "-2.5 … 7", "not run"."""
    if row.count == 0:
        return "not run"
    if not row.finite:
        return nonfinite_text(row).split(" · ")[0]
    if row.min is None or row.max is None:
        return ""
    return num(row.min) if row.min == row.max else f"{num(row.min)} … {num(row.max)}"


def cell_tip(row: Row) -> str:
    """Everything about one output, for the tooltip."""
    parts = [f"{row.primitive} → {value_type(row)}"]
    if row.count == 0:
        return parts[0] + ": never computed (a branch not taken)"
    if not row.finite:
        parts.append(nonfinite_text(row))
    if row.min is not None and row.max is not None:
        parts.append(f"finite values {num(row.min)} … {num(row.max)}")
    if row.absmin_nonzero is not None:
        parts.append(f"smallest |x|≠0 {num(row.absmin_nonzero)}")
    for key, name in (
        ("zero_frac", "zeros"),
        ("overflow_f16", "overflow in f16"),
        ("underflow_f16", "zero in f16"),
        ("overflow_bf16", "overflow in bf16"),
        ("overflow_fp8_e4m3", "overflow in fp8"),
        ("underflow_fp8_e4m3", "zero in fp8"),
    ):
        share = percent(getattr(row, key))
        if share:
            parts.append(f"{share} {name}")
    if row.first_nonfinite:
        parts.append(f"first at iteration {', '.join(map(str, row.first_nonfinite))}")
    return " · ".join(parts)


def merge_cell(
    cell: ValueCell | None, new: ValueCell, *, by_heat: bool = False, listed_in: str = "the table"
) -> ValueCell:
    """One cell for a jaxpr line that prints several outputs: the text and state of the worst
    (by state, then by heat where `by_heat`), the largest heat, and the tooltips of the first
    MAX_TIPS outputs followed by a line saying that `listed_in` lists them all."""
    if cell is None:
        return new
    if by_heat:
        worse = (_RANK[new["state"]], new["heat"]) > (_RANK[cell["state"]], cell["heat"])
    else:
        worse = _RANK[new["state"]] > _RANK[cell["state"]]
    if worse:
        cell["text"], cell["state"] = new["text"], new["state"]
    cell["heat"] = max(cell["heat"], new["heat"])
    tips = cell["tip"].split("\n")
    if len(tips) < MAX_TIPS:
        cell["tip"] = f"{cell['tip']}\n{new['tip']}"
    elif len(tips) == MAX_TIPS:
        cell["tip"] += f"\n… ({listed_in} lists every output of this line)"
    return cell


def _merge(cell: ValueCell | None, row: Row, state: str) -> ValueCell:
    """One cell for a jaxpr line: the worst state of its outputs, their heats' maximum."""
    new: ValueCell = {
        "text": cell_text(row),
        "state": state,  # type: ignore[typeddict-item]
        "heat": headroom_heat(row),
        "tip": cell_tip(row),
    }
    return merge_cell(cell, new)


def inspector_section(insp: Inspection, source: dict[tuple[str, int], int]) -> NumericsSection:
    """The numerics section of an inspection, linked to its panes (`source`: the source
    pane's line of each (file, line))."""
    n = insp.numerics
    section = numerics_section(n, table_open=False)
    by_path = {eq.path: eq for eq in insp.jaxpr_model.equations if eq.path}
    origin = n.origin.row if n.origin is not None else None
    values: dict[str, ValueCell] = {}
    marks: dict[str, str] = {}
    origin_lines: dict[str, int] = {}
    jaxpr_lines = section["rows"]["jaxpr_line"]
    for i, row in enumerate(n.equation_stats):
        eq = by_path.get(row.eqn_path)
        linked_line = -1
        if eq is not None and eq.primitive == row.primitive and eq.text_line:
            linked_line = eq.text_line - 1
        if i < len(jaxpr_lines):
            jaxpr_lines[i] = linked_line
        state = "unrun" if row.count == 0 else "finite" if row.finite else "nonfinite"
        if i == origin:
            state = "origin"
        if linked_line >= 0:
            key = str(linked_line)
            values[key] = _merge(values.get(key), row, state)
        src = source.get((row.file, row.line)) if row.file and row.line else None
        marked = src is not None and state in ("nonfinite", "origin")
        if marked and marks.get(str(src)) != "origin":
            marks[str(src)] = state
        if i == origin:
            if linked_line >= 0:
                origin_lines["jaxpr"] = linked_line
            if src is not None:
                origin_lines["source"] = src
    section["values"] = values
    section["source_marks"] = marks  # type: ignore[typeddict-item]
    section["origin_lines"] = origin_lines
    return section
