"""The error column of the inspector (``inspect(..., compare="bf16")``): beside every jaxpr
equation, how far its outputs are off under the candidate configuration and how much error it
makes itself, warm as the error it makes grows past its dtype's rounding; the source lines
warm by the largest error made on them; and the equation that makes the most, which both
renderings bring into view."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from jaxlab.views.inspector.values import merge_cell
from jaxlab.views.numerics import num
from jaxlab.views.numerics_diff import answer, numerics_diff_body

if TYPE_CHECKING:
    from jaxlab.api.inspection import Inspection
    from jaxlab.views.inspector.values_model import PrecisionSection, ValueCell

_MANTISSA = {"bfloat16": 7, "float16": 10, "float32": 23, "float64": 52}


def error_heat(error: float | None, dtype: str) -> float:
    """How far (0..1) an error is past the rounding of `dtype`, on a log scale: 0 up to half
    an ulp relative (the unit roundoff: 2⁻⁸ for bf16, 2⁻²⁴ for f32), 1 at a relative error
    of 1 or more (the value lost), and for NaN or Inf."""
    if error is None or error <= 0:
        return 0.0
    if not math.isfinite(error):
        return 1.0
    unit = 2.0 ** -(_MANTISSA.get(dtype, 23) + 1)
    if error <= unit:
        return 0.0
    return round(min(1.0, math.log(error / unit) / math.log(1 / unit)), 3)


def short(x: float | None) -> str:
    """An error in two significant digits: 0.91, 3.1e-3, Inf (– for none)."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else "Inf"
    if 0.01 <= abs(x) < 100:
        return f"{x:.2g}"
    mantissa, _, exponent = f"{x:.1e}".partition("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def cell_text(row: dict[str, Any]) -> str:
    """ "off by · made": the output's error and the error the equation makes itself."""
    if row["local_error"] is None:
        return short(row["rel_error"])
    return f"{short(row['rel_error'])} · {short(row['local_error'])}"


def cell_tip(row: dict[str, Any]) -> str:
    """Everything about one output's error, for the tooltip."""
    shape = ",".join(map(str, row["shape"]))
    parts = [
        f"{row['primitive']} → {row['dtype']}[{shape}]",
        f"output off by {num(row['rel_error'])} (norm-wise; up to {num(row['max_rel_error'])} "
        "element-wise"
        + (f", median {num(row['ulps'])} ulps" if row["ulps"] is not None else "")
        + ")",
    ]
    if row["local_error"] is not None:
        parts.append(f"makes {num(row['local_error'])} itself (on the reference's inputs)")
    if row.get("iteration") is not None:
        parts.append(f"worst at iteration {', '.join(map(str, row['iteration']))}")
    if row["candidate_nonfinite"]:
        parts.append(f"{row['candidate_nonfinite']:,} NaN or Inf where the reference has none")
    return " · ".join(parts)


def inspector_section(insp: Inspection, source: dict[tuple[str, int], int]) -> PrecisionSection:
    """The precision section of an inspection, linked to its panes (`source`: the source
    pane's line of each (file, line))."""
    d = insp.numerics_diff
    top = d.top
    top_key = (top["equation"], top["output"]) if top is not None else None
    by_path = {eq.path: eq for eq in insp.jaxpr_model.equations if eq.path}
    values: dict[str, ValueCell] = {}
    heat: dict[str, float] = {}
    origin_lines: dict[str, int] = {}
    for row in d.rows:
        eq = by_path.get(row.get("_path", ""))
        linked = -1
        if eq is not None and eq.primitive == row["primitive"] and eq.text_line:
            linked = eq.text_line - 1
        made = error_heat(row["local_error"], row["dtype"])
        is_top = (row["equation"], row["output"]) == top_key
        state = "finite"
        if row["candidate_nonfinite"] or not math.isfinite(row["rel_error"]):
            state = "nonfinite"
        if is_top:
            state = "origin"
        if linked >= 0:
            cell: ValueCell = {
                "text": cell_text(row),
                "state": state,  # type: ignore[typeddict-item]
                "heat": made,
                "tip": cell_tip(row),
            }
            values[str(linked)] = merge_cell(
                values.get(str(linked)), cell, by_heat=True, listed_in="NumericsDiff.table()"
            )
        src = source.get((row["file"], row["line"])) if row["file"] and row["line"] else None
        if src is not None and made > 0:
            heat[str(src)] = max(heat.get(str(src), 0.0), made)
        if is_top:
            if linked >= 0:
                origin_lines["jaxpr"] = linked
            if src is not None:
                origin_lines["source"] = src
    return {
        "kind": "precision",
        "html": numerics_diff_body(d),
        "answer": answer(d),
        "values": values,
        "source_heat": heat,
        "origin_lines": origin_lines,
    }
