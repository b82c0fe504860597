"""The views of a :class:`jaxlab.NumericsDiff`: the equation that creates the most error first,
in one sentence with its cell and line, its fix, then the creators and the outputs' errors.
Every name from the program (files, cells, primitives) is escaped here."""

from __future__ import annotations

from typing import Any

from jaxlab.api.numerics_diff import CREATOR_COLUMNS, OUTPUT_COLUMNS, NumericsDiff
from jaxlab.base.display import renders
from jaxlab.views._html import esc, fragment, page, prose, table
from jaxlab.views._text import text_table
from jaxlab.views.numerics import num

SHOWN = 10  # creators in the views; `.creators()` has them all


def answer(d: NumericsDiff) -> str:
    """The first line: which equation makes the most error, where, and how much."""
    top = d.top
    against = f"{d.candidate} against {d.reference}"
    final = d.output_error
    if top is not None:
        where = top["where"] or f"equation {top['equation']}"
        text = (
            f"{top['primitive']} at {where} makes the most error ({against}): local error "
            f"{num(top['local_error'])}, its output off by {num(top['rel_error'])}"
        )
        return text + (f"; the output by {num(final)}." if final is not None else ".")
    if final:
        return f"The output is off by {num(final)} ({against}); no matched equation makes it."
    return f"No error: {d.fn_name} gives the same values ({against})."


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
        notes.append("cast down: " + ", ".join(d.cast[:6]) + (", …" if len(d.cast) > 6 else ""))
    return notes


def _cells(row: dict[str, Any], columns: tuple[str, ...]) -> list[str]:
    out = []
    for c in columns:
        v = row.get(c)
        out.append(num(v) if isinstance(v, float) else ("–" if v is None else str(v)))
    return out


CREATOR_SHOWN = tuple(c for c in CREATOR_COLUMNS if c not in ("line", "fix"))


@renders(NumericsDiff, "text")
def numerics_diff_text(d: NumericsDiff) -> str:
    lines = [answer(d)]
    top = d.top
    if top is not None:
        lines.append(f"  fix: {top['fix']}")
    lines += [f"  note: {n}" for n in side_notes(d)]
    creators = d.creators()
    if creators:
        lines.append(f"creators ({len(creators)}, largest local error first):")
        cells = [_cells(r, CREATOR_SHOWN) for r in creators[:SHOWN]]
        lines += ["  " + x for x in text_table(CREATOR_SHOWN, cells)]
    if d.outputs:
        lines.append("outputs:")
        cells = [_cells(r, OUTPUT_COLUMNS) for r in d.outputs]
        lines += ["  " + x for x in text_table(OUTPUT_COLUMNS, cells)]
    return "\n".join(lines)


def numerics_diff_body(d: NumericsDiff) -> str:
    body = f'<div class="jl-num-answer">{esc(answer(d))}</div>'
    top = d.top
    if top is not None:
        body += f'<div class="jl-num-fix">fix: {prose(top["fix"])}</div>'
    for n in side_notes(d):
        body += f'<div class="jl-note">{prose(n)}</div>'
    creators = d.creators()
    if creators:
        body += f'<div class="jl-title">creators ({len(creators)}, largest local error first)</div>'
        body += table(
            CREATOR_SHOWN, tuple(tuple(_cells(r, CREATOR_SHOWN)) for r in creators[:SHOWN])
        )
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
