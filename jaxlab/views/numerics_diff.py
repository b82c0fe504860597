"""The views of a :class:`jaxlab.NumericsDiff`: the equation that creates the most error first,
in one sentence with its cell and line, its fix, then the creators and the outputs' errors.
Every name from the program (files, cells, primitives) is escaped here."""

from __future__ import annotations

import math
from typing import Any

from jaxlab.api.numerics_diff import CREATOR_COLUMNS, OUTPUT_COLUMNS, NumericsDiff
from jaxlab.base.display import renders
from jaxlab.views._html import esc, fragment, page, prose, svg, table
from jaxlab.views._text import text_table
from jaxlab.views.numerics import num

SHOWN = 10  # creators in the views; `.creators()` has them all
SPARK_WIDTH = 640  # px: at most one column per pixel; more outputs share a column (the worst)
SPARK_HEIGHT = 48
CARRIED = "#8c959f"  # an output's error (made here or carried in)
MADE = "#cf222e"  # the creators shown in the table


def answer(d: NumericsDiff) -> str:
    """The first line: which equation makes the most error, where, and how much."""
    top = d.top
    against = f"{d.candidate} against {d.reference}"
    final = d.output_error
    if top is not None:
        where = (top["where"] or f"equation {top['equation']}") + inside(top)
        text = (
            f"{top['primitive']} at {where} makes the most error ({against}): local error "
            f"{num(top['local_error'])}, its output off by {num(top['rel_error'])}"
        )
        return text + (f"; the output by {num(final)}." if final is not None else ".")
    if final:
        return f"The output is off by {num(final)} ({against}); no matched equation makes it."
    return f"No error: {d.fn_name} gives the same values ({against})."


def inside(row: dict[str, Any]) -> str:
    """ " (in a scan, worst at iteration 9960)" for an equation inside a loop or a branch."""
    loop = row.get("_loop")
    if not loop:
        return ""
    what = "a cond branch" if loop == "cond" else f"a {loop} loop"
    at = row.get("iteration")
    return f" (in {what}" + (f", worst at iteration {', '.join(map(str, at))})" if at else ")")


def side_notes(d: NumericsDiff) -> list[str]:
    notes = list(d.notes)
    bad = d.reference_nonfinite
    if bad is not None:
        notes.insert(
            0,
            f"the reference ({d.reference}) itself holds NaN or Inf from {bad['primitive']} at "
            f"{bad['where'] or 'equation ' + str(bad['equation'])}: errors there and after "
            "are against a broken reference.",
        )
    if d.cast:
        dtype = {"bf16": "bfloat16", "f16": "float16"}.get(d.compare, d.compare)
        names = ", ".join(d.cast[:6]) + (", …" if len(d.cast) > 6 else "")
        notes.append(f"inputs cast to {dtype}: {names}")
    return notes


def _cells(row: dict[str, Any], columns: tuple[str, ...]) -> list[str]:
    out = []
    for c in columns:
        v = row.get(c)
        if c == "iteration" and v is not None:
            v = ", ".join(map(str, v))
        out.append(num(v) if isinstance(v, float) else ("–" if v is None else str(v)))
    return out


CREATOR_SHOWN = tuple(c for c in CREATOR_COLUMNS if c not in ("line", "fix"))


def creator_columns(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """The creators' columns worth showing: the worst iteration only when one is in a loop."""
    if any(r.get("iteration") for r in rows):
        return CREATOR_SHOWN
    return tuple(c for c in CREATOR_SHOWN if c != "iteration")


@renders(NumericsDiff, "text")
def numerics_diff_text(d: NumericsDiff) -> str:
    lines = [answer(d)]
    top = d.top
    if top is not None:
        lines.append(f"  fix: {top['fix']}")
    lines += [f"  note: {n}" for n in side_notes(d)]
    spark = error_sparkline_text(d)
    if spark:
        lines.append(spark)
    creators = d.creators()
    if creators:
        lines.append(f"creators ({len(creators)}, largest local error first):")
        shown = creator_columns(creators[:SHOWN])
        cells = [_cells(r, shown) for r in creators[:SHOWN]]
        lines += ["  " + x for x in text_table(shown, cells)]
    if d.outputs:
        lines.append("outputs:")
        cells = [_cells(r, OUTPUT_COLUMNS) for r in d.outputs]
        lines += ["  " + x for x in text_table(OUTPUT_COLUMNS, cells)]
    return "\n".join(lines)


def _label(row: dict[str, Any]) -> str:
    where = row["where"] or f"equation {row['equation']}"
    made = "" if row["local_error"] is None else f", makes {num(row['local_error'])}"
    at = row.get("iteration")
    worst = f" (worst at iteration {', '.join(map(str, at))})" if at else ""
    off = f"off by {num(row['rel_error'])}"
    return f"#{row['equation']} {row['primitive']} at {where}: {off}{made}{worst}"


def _log_scale(errors: list[float]) -> tuple[float, float] | None:
    """The decades (log10) a sparkline of `errors` spans: from the smallest positive finite
    error to the largest, at least one decade; None when no output is off."""
    finite = [e for e in errors if e > 0 and math.isfinite(e)]
    if not finite and not any(e == math.inf for e in errors):
        return None
    low = math.log10(min(finite)) if finite else 0.0
    return low, max(math.log10(max(finite)) if finite else 0.0, low + 1.0)


def error_sparkline(d: NumericsDiff) -> str:
    """The error of every matched output in execution order, as bars on a log scale (grey:
    how far the output is off, made there or carried in), the creators of the table marked in
    red with a tick above: where the error appears and where it is made, at a glance. Every
    bar's tooltip names its equation (escaped). "" when no output is off."""
    rows = d.rows
    scale = _log_scale([r["rel_error"] for r in rows])
    if scale is None:
        return ""
    low, high = scale
    creators = {(r["equation"], r["output"]) for r in d.creators()[:SHOWN]}
    columns = min(len(rows), SPARK_WIDTH)
    width = SPARK_WIDTH / columns
    top = 8  # room for the creators' ticks
    span = SPARK_HEIGHT - top - 1
    parts = [
        f'<line x1="0" y1="{SPARK_HEIGHT - 0.5}" x2="{SPARK_WIDTH}" y2="{SPARK_HEIGHT - 0.5}" '
        f'stroke="{CARRIED}" stroke-width="1"/>'
    ]
    for k in range(columns):
        first, last = k * len(rows) // columns, (k + 1) * len(rows) // columns
        group = rows[first:last]
        worst = max(group, key=lambda r: r["rel_error"])
        made = [r for r in group if (r["equation"], r["output"]) in creators]
        e = worst["rel_error"]
        if e <= 0:
            h = 0.0
        elif not math.isfinite(e):
            h = span
        else:
            h = max(1.5, span * (math.log10(e) - low + 0.15 * (high - low)) / (1.15 * (high - low)))
        x = k * width
        tip = _label(made[0] if made else worst)
        if len(group) > 1:
            tip = f"outputs {first}–{last - 1}; worst: {tip}"
        colour = MADE if made else CARRIED
        parts.append(
            f'<rect x="{x:.1f}" y="{SPARK_HEIGHT - 1 - h:.1f}" width="{max(width - 0.5, 1.0):.1f}" '
            f'height="{max(h, 0.5):.1f}" fill="{colour}"><title>{esc(tip)}</title></rect>'
        )
        if made:
            cx = x + max(width - 0.5, 1.0) / 2
            parts.append(
                f'<path d="M{cx - 3:.1f},0 L{cx + 3:.1f},0 L{cx:.1f},5 Z" fill="{MADE}" '
                f'class="jl-creator-mark"><title>{esc(tip)}</title></path>'
            )
    label = (
        f"error of {len(rows):,} outputs in execution order, {num(10**low)} … "
        f"{num(10**high)} (log scale); creators in red"
    )
    return (
        '<div class="jl-title">error along the program</div>'
        + svg(SPARK_WIDTH, SPARK_HEIGHT, "".join(parts), cls="jl-error-spark", label=label)
        + f'<div class="jl-muted">{esc(label)}</div>'
    )


TEXT_COLUMNS = 64  # characters of the text sparkline
BLOCKS = "▁▂▃▄▅▆▇█"


def error_sparkline_text(d: NumericsDiff) -> str:
    """The error along the program in one line of block characters (log scale, the worst of
    the outputs each character covers), for the text view; "" when no output is off."""
    rows = d.rows
    errors = [r["rel_error"] for r in rows]
    scale = _log_scale(errors)
    if scale is None:
        return ""
    low, high = scale
    columns = min(len(rows), TEXT_COLUMNS)
    chars = []
    for k in range(columns):
        e = max(errors[k * len(rows) // columns : (k + 1) * len(rows) // columns])
        if e <= 0:
            chars.append(" ")
        elif not math.isfinite(e):
            chars.append(BLOCKS[-1])
        else:
            level = (math.log10(e) - low) / (high - low)
            chars.append(BLOCKS[min(len(BLOCKS) - 1, int(level * len(BLOCKS)))])
    return (
        f"error along the program: {''.join(chars)}  ({len(rows):,} outputs in execution "
        f"order, {num(10**low)} … {num(10**high)}, log scale)"
    )


def numerics_diff_body(d: NumericsDiff) -> str:
    body = f'<div class="jl-num-answer">{esc(answer(d))}</div>'
    top = d.top
    if top is not None:
        body += f'<div class="jl-num-fix">fix: {prose(top["fix"])}</div>'
    for n in side_notes(d):
        body += f'<div class="jl-note">{prose(n)}</div>'
    body += error_sparkline(d)
    creators = d.creators()
    if creators:
        body += f'<div class="jl-title">creators ({len(creators)}, largest local error first)</div>'
        shown = creator_columns(creators[:SHOWN])
        body += table(shown, tuple(tuple(_cells(r, shown)) for r in creators[:SHOWN]))
    if d.outputs:
        body += '<div class="jl-title">outputs</div>'
        body += table(OUTPUT_COLUMNS, tuple(tuple(_cells(r, OUTPUT_COLUMNS)) for r in d.outputs))
    return body


@renders(NumericsDiff, "html")
def numerics_diff_html(d: NumericsDiff) -> str:
    return fragment(numerics_diff_body(d), extra_class="jl-numerics")


@renders(NumericsDiff, "page")
def numerics_diff_page(d: NumericsDiff) -> str:
    return page(
        f"jaxlab numerics_diff: {d.fn_name}", numerics_diff_body(d), extra_class="jl-numerics"
    )
