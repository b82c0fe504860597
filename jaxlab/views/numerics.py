"""The views of a :class:`jaxlab.Numerics`: the origin of the first NaN or Inf first, in one
sentence with its cell and line (or, for a clean run, that there is none and how wide the
values range), what a cast to bf16, f16 or fp8 would do, then the outputs as a table with
their exponent histograms.

The table's columns (``COLUMNS``) and rows (``table_columns``) are shared by the text, the
static HTML and the live widget (the inspector's ``NumericsSection``); every name from the
program (functions, files, named scopes) is escaped here.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from jaxlab.api.numerics import Numerics
from jaxlab.base.display import renders
from jaxlab.base.format import format_seconds, short_dtype
from jaxlab.ir.numerics import HISTOGRAM_LOW, Origin, Row, Stats
from jaxlab.views._html import esc, fragment, page, prose, table
from jaxlab.views._text import text_table
from jaxlab.views.binades import Axis, legend_html, sparkline, used_bins
from jaxlab.views.inspector.values_model import (
    MAX_NUMERICS_ROWS,
    NumericsColumn,
    NumericsColumns,
    NumericsSection,
)

STATIC_ROWS = 60  # rows of the static table; the widget and `.rows()` have all of them
TEXT_ROWS = 12

NUMERICS_CSS = (
    ".jaxlab ul.jl-casts { margin: 2px 0 4px; padding-left: 20px; }"
    ".jaxlab .jl-num-answer { font-weight: 600; font-size: 14px; margin: 2px 0 4px; }"
    ".jaxlab .jl-num-answer.jl-bad-run { border-left: 3px solid #cf222e; padding-left: 8px; }"
    ".jaxlab .jl-num-answer.jl-clean-run { border-left: 3px solid #1a7f37; padding-left: 8px; }"
    ".jaxlab .jl-num-fix { margin: 0 0 4px 11px; }"
    ".jaxlab table.jl-table tr.jl-origin-row { background: rgba(207,34,46,.10); }"
    ".jaxlab table.jl-table td.jl-nonfinite { color: #cf222e; font-weight: 600; }"
    ".jaxlab svg.jl-spark { vertical-align: middle; }"
    ".jaxlab .jl-table-scroll { max-height: 480px; overflow: auto; }"
    ".jaxlab .jl-table-scroll th { position: sticky; top: 0;"
    " background: var(--jp-layout-color0, #fff); }"
)


# -- numbers ----------------------------------------------------------------------------------


def num(x: float | None) -> str:
    """A value in at most four significant digits: 0, -2.5, 1.23e4, 3.1e-8 (– for none)."""
    if x is None:
        return "–"
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    mantissa, _, exponent = f"{x:.3g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def percent(fraction: float | None) -> str:
    """A fraction as a percentage ("" for none or zero): 40 %, 0.3 %, <0.01 %."""
    if not fraction:
        return ""
    p = fraction * 100
    if p < 0.01:
        return "<0.01 %"
    return f"{p:.3g} %" if p < 99.95 or p == 100 else ">99.9 %"


def nonfinite_text(s: Stats) -> str:
    """``NaN 3 · +Inf 1`` ("" when every element was finite)."""
    parts = [f"{w} {n:,}" for n, w in ((s.nan, "NaN"), (s.posinf, "+Inf"), (s.neginf, "-Inf")) if n]
    return " · ".join(parts)


def range_text(s: Stats) -> str:
    """``-2.5 … 7`` (the finite values), or what stands instead."""
    if s.count == 0:
        return "not computed"
    if s.min is None or s.max is None:
        return "no finite values"
    return num(s.min) if s.min == s.max else f"{num(s.min)} … {num(s.max)}"


@cache
def is_float(dtype: str) -> bool:
    """A floating-point dtype's name (bfloat16 and the fp8 types too)."""
    import ml_dtypes  # noqa: F401  (bfloat16 and the fp8 types for NumPy)
    import numpy as np

    try:
        return np.dtype(dtype).kind == "f" or "float" in dtype
    except TypeError:
        return "float" in dtype


def value_type(s: Stats) -> str:
    """``f32[64,128]``."""
    return f"{short_dtype(s.dtype)}[{','.join(map(str, s.shape))}]"


# -- the first line -----------------------------------------------------------------------------


def _input_phrase(s: Stats | None, primitive: str) -> str:
    """What about an operand explains the NaN: "reaches 0.0", "goes down to -1.5"."""
    if s is None:
        return "is a constant"
    if s.count == 0:
        return "was never computed"
    if not s.finite:
        return f"already holds {nonfinite_text(s)}"
    if s.min is None or s.max is None:
        return "holds no finite value"
    negative_domain = primitive in ("log", "sqrt", "rsqrt", "pow", "log1p", "lgamma", "digamma")
    if negative_domain and s.min < 0:
        return f"goes down to {num(s.min)}"
    if s.zero_frac:
        return "reaches 0.0"
    if s.min == s.max:
        return f"is {num(s.min)}"
    return f"reaches {num(s.absmax)}" if s.absmax is not None else f"spans {range_text(s)}"


def origin_cause(origin: Origin) -> str:
    """``log of a value that reaches 0.0``: the primitive and what its operands held."""
    prim = origin.primitive or "an operation"
    inputs = list(origin.inputs)
    if not inputs:
        return prim
    if len(inputs) == 1:
        return f"{prim} of a value that {_input_phrase(inputs[0], prim)}"
    first, second = inputs[0], inputs[1]
    return (
        f"{prim} of a value that {_input_phrase(first, prim)} and one that "
        f"{_input_phrase(second, prim)}"
    )


def origin_sentence(origin: Origin) -> str:
    """The answer: "NaN born in the backward pass at In [4], line 3: log of a value that
    reaches 0.0." (an argument holding NaN: "NaN comes in through the argument
    params['w1']; no equation made it.")."""
    kind = origin.kind or "NaN or Inf"
    if origin.argument is not None:
        return f"{kind} comes in through the argument {origin.argument}; no equation made it."
    place = origin.where or "a line jaxlab could not place"
    extra = ""
    if origin.iteration:
        extra += f", iteration {', '.join(map(str, origin.iteration))} of its loop"
    if origin.device is not None:
        extra += f", on device {origin.device}"
    phase = f" in the {origin.phase} pass" if origin.phase else ""
    return f"{kind} born{phase} at {place}{extra}: {origin_cause(origin)}."


def fix_sentence(origin: Origin) -> str:
    """The trap and its fix ("" when the pattern is not a known one)."""
    if origin.argument is not None:
        return (
            "fix: check the data or the previous step that produced it "
            f"(jnp.isfinite(…).all() on {origin.argument})."
        )
    parts = []
    if origin.trap:
        parts.append(f"{origin.trap}" + (f": {origin.detail}" if origin.detail else ""))
    if origin.fix:
        parts.append(f"fix: {origin.fix}")
    return " — ".join(parts)


def widest(n: Numerics) -> tuple[float | None, float | None, Row | None]:
    """The smallest non-zero |x| and the largest |x| of every float output, and the row of
    the largest."""
    low: float | None = None
    high: float | None = None
    top: Row | None = None
    for r in n.equation_stats:
        if not r.count or not is_float(r.dtype):
            continue
        if r.absmin_nonzero is not None and (low is None or r.absmin_nonzero < low):
            low = r.absmin_nonzero
        if r.absmax is not None and (high is None or r.absmax > high):
            high, top = r.absmax, r
    return low, high, top


def clean_sentence(n: Numerics) -> str:
    """ "No NaN or Inf in 312 outputs; |x| spans 1.2e-8 … 3.4e4 (largest: exp at In [3],
    line 5)."""
    outputs = f"{len(n.equation_stats):,} output{'s' * (len(n.equation_stats) != 1)}"
    low, high, top = widest(n)
    if high is None:
        return f"No NaN or Inf in {outputs} (no floating-point values to range)."
    span = f"{num(low)} … {num(high)}" if low is not None else f"up to {num(high)}"
    where = f" (largest: {top.primitive} at {top.where})" if top is not None and top.where else ""
    held = [r for r in n.equation_stats if r.count and not r.finite]
    if held:
        kinds = " and ".join(
            k
            for k, c in (("NaN", "nan"), ("+Inf", "posinf"), ("-Inf", "neginf"))
            if any(getattr(r, c) for r in held)
        )
        return (
            f"No NaN or Inf reaches the outputs: {len(held):,} of {outputs} hold {kinds} "
            f"written on purpose or never used (see the notes); |x| spans {span}{where}."
        )
    return f"No NaN or Inf in {outputs}; |x| spans {span}{where}."


def answer(n: Numerics) -> str:
    """The first line of every view."""
    return clean_sentence(n) if n.origin is None else origin_sentence(n.origin)


def cast_sentences(n: Numerics) -> list[str]:
    """What a cast of every float output would do: one line for the formats that hold every
    value ("bf16: every value fits"), one per format that would lose some ("f16: 2 outputs
    would overflow (up to 9.1e4, exp at In [3], line 5)")."""
    floats = [r for r in n.equation_stats if r.count and is_float(r.dtype)]
    if not floats:
        return []
    fits, lines = [], []
    for key, name in (("bf16", "bf16"), ("f16", "f16"), ("fp8_e4m3", "fp8 e4m3")):
        over = [r for r in floats if getattr(r, f"overflow_{key}", None)]
        under = [r for r in floats if getattr(r, f"underflow_{key}", None)]
        if not over and not under:
            fits.append(name)
            continue
        parts = []
        if over:
            worst = max(over, key=lambda r: r.absmax or 0.0)
            parts.append(
                f"{len(over):,} output{'s' * (len(over) != 1)} would overflow "
                f"(up to {num(worst.absmax)}, {worst.primitive} at {worst.where or '?'})"
            )
        if under:
            worst = max(under, key=lambda r: getattr(r, f"underflow_{key}") or 0.0)
            share = percent(getattr(worst, f"underflow_{key}"))
            parts.append(
                f"{len(under):,} would flush values to zero (up to {share} of "
                f"{worst.primitive} at {worst.where or '?'})"
            )
        line = f"{name}: " + "; ".join(parts)
        call = n.compare_call(key) if key in ("bf16", "f16") else None
        if call:
            line += f"; run the cast program to see the error it makes: {call}"
        lines.append(line)
    if fits:
        names = fits[0] if len(fits) == 1 else f"{', '.join(fits[:-1])} and {fits[-1]}"
        lines.insert(0, f"{names}: every float value fits")
    return lines


def summary_line(n: Numerics) -> str:
    """What was run: "loss, forward and backward (value_and_grad): 312 outputs of one compiled
    run; compile 0.21 s, run 3.1 ms"."""
    what = f"{n.fn_name}, forward and backward" if n.grad else n.fn_name
    parts = [f"{what}: {len(n.equation_stats):,} equation outputs of one compiled run"]
    times = [
        f"{label} {format_seconds(s)}"
        for label, s in (("compile", n.compile_s), ("run", n.run_s))
        if s is not None
    ]
    if n.devices and len(n.devices) > 1:
        parts.append(f"on {len(n.devices)} devices")
    if times:
        parts.append(", ".join(times))
    return "; ".join(parts)


# -- the table ----------------------------------------------------------------------------------

COLUMNS: list[NumericsColumn] = [
    {"key": "equation", "title": "#", "numeric": True},
    {"key": "primitive", "title": "op", "numeric": False},
    {"key": "phase", "title": "pass", "numeric": False},
    {"key": "where", "title": "line", "numeric": False},
    {"key": "scope", "title": "scope", "numeric": False},
    {"key": "value", "title": "value", "numeric": False},
    {"key": "nonfinite", "title": "NaN / Inf", "numeric": True},
    {"key": "min", "title": "min", "numeric": True},
    {"key": "max", "title": "max", "numeric": True},
    {"key": "absmin_nonzero", "title": "smallest |x|≠0", "numeric": True},
    {"key": "zero_frac", "title": "zeros", "numeric": True},
    {"key": "subnormal_frac", "title": "subnormal", "numeric": True},
    {"key": "overflow_bf16", "title": "bf16 overflow", "numeric": True},
    {"key": "overflow_f16", "title": "f16 overflow", "numeric": True},
    {"key": "underflow_f16", "title": "f16 to zero", "numeric": True},
    {"key": "overflow_fp8_e4m3", "title": "fp8 overflow", "numeric": True},
    {"key": "underflow_fp8_e4m3", "title": "fp8 to zero", "numeric": True},
]
_FRACTIONS = {c["key"] for c in COLUMNS[10:]}
_CASTS = (
    ("overflow_bf16",),
    ("overflow_f16", "underflow_f16"),
    ("overflow_fp8_e4m3", "underflow_fp8_e4m3"),
)
_FLOATS = {"min", "max", "absmin_nonzero"}


def _shown_columns(n: Numerics) -> list[NumericsColumn]:
    """The columns worth a reader's eye: no pass column without a backward pass, no scope
    column without named scopes, no column of fractions that are zero in every row."""
    out = []
    for c in COLUMNS:
        key = c["key"]
        if key == "phase" and not n.grad:
            continue
        if key == "scope" and not any(r.scope for r in n.equation_stats):
            continue
        if (
            key in _FRACTIONS
            and key != "zero_frac"
            and not any(getattr(r, key) for r in n.equation_stats)
        ):
            continue
        out.append(c)
    return out


def cell_text(row: Row, key: str) -> str:
    """One cell of the table as text."""
    if key == "value":
        return value_type(row)
    if key == "nonfinite":
        return nonfinite_text(row)
    if key in _FLOATS:
        return num(getattr(row, key)) if row.count else ""
    if key in _FRACTIONS:
        return percent(getattr(row, key))
    value = getattr(row, key)
    return "" if value is None else str(value)


def cast_damage(row: Row) -> tuple[float, float, float]:
    """The shares of a row's elements a cast to bf16, to f16 and to fp8 would turn into Inf
    or zero (the largest of each format's; 0 for integers): sorted by, the wider formats
    decide first."""
    return tuple(  # type: ignore[return-value]
        max(getattr(row, key) or 0.0 for key in keys) for keys in _CASTS
    )


def chosen_rows(n: Numerics, limit: int) -> list[int]:
    """The rows a reader needs first: the origin, the outputs holding NaN or Inf (execution
    order), then those a narrower type would damage most, then the largest |x|."""
    chosen: list[int] = []
    origin = n.origin.row if n.origin is not None else None
    if origin is not None and 0 <= origin < len(n.equation_stats):
        chosen.append(origin)
    seen = set(chosen)
    bad = [i for i, r in enumerate(n.equation_stats) if not r.finite and i not in seen]
    chosen += bad[: max(limit // 3, 1)]
    seen.update(chosen)
    rest = sorted(
        (i for i in range(len(n.equation_stats)) if i not in seen),
        key=lambda i: (
            *(-d for d in cast_damage(n.equation_stats[i])),
            -(n.equation_stats[i].absmax or 0.0),
        ),
    )
    return (chosen + rest)[:limit]


def table_columns(n: Numerics, limit: int) -> tuple[NumericsColumns, Axis]:
    """The first `limit` rows in execution order, one list per field, as the widget sorts
    them: numbers as numbers (None: blank), texts as the static table shows them."""
    rows = n.equation_stats[:limit]
    axis = Axis.of([r.histogram for r in rows])
    columns: NumericsColumns = {
        "row": [], "equation": [], "primitive": [], "phase": [], "where": [], "scope": [],
        "value": [], "nonfinite": [], "nonfinite_text": [], "min": [], "max": [],
        "absmin_nonzero": [], "zero_frac": [], "subnormal_frac": [], "overflow_bf16": [],
        "overflow_f16": [], "underflow_f16": [], "overflow_fp8_e4m3": [],
        "underflow_fp8_e4m3": [], "hist_low": [], "hist": [], "eqn_path": [], "jaxpr_line": [],
    }  # fmt: skip
    for i, r in enumerate(rows):
        columns["row"].append(i)
        columns["equation"].append(r.equation)
        columns["primitive"].append(r.primitive)
        columns["phase"].append(r.phase)
        columns["where"].append(r.where)
        columns["scope"].append(r.scope)
        columns["value"].append(value_type(r))
        columns["nonfinite"].append(r.nonfinite)
        columns["nonfinite_text"].append(nonfinite_text(r))
        for key in _FLOATS | _FRACTIONS:
            value = getattr(r, key) if r.count else None
            columns[key].append(_finite_or_none(value))  # type: ignore[literal-required]
        used = used_bins(r.histogram)
        first, last = used if used is not None else (0, -1)
        columns["hist_low"].append(HISTOGRAM_LOW + first)
        columns["hist"].append(list(r.histogram[first : last + 1]))
        columns["eqn_path"].append(r.eqn_path)
        columns["jaxpr_line"].append(-1)
    return columns, axis


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _sparkline(row: Row, axis: Axis) -> str:
    label = f"{row.primitive} at {row.where}: binades of |x|" if row.where else "binades of |x|"
    return sparkline(row.histogram, axis, label)


def static_table(n: Numerics, limit: int = STATIC_ROWS) -> str:
    """The table of the static HTML: the chosen rows, each with its sparkline."""
    indices = chosen_rows(n, limit)
    columns = _shown_columns(n)
    axis = Axis.of([n.equation_stats[i].histogram for i in indices])
    origin = n.origin.row if n.origin is not None else None
    head = "".join(
        f'<th class="num">{esc(c["title"])}</th>' if c["numeric"] else f"<th>{esc(c['title'])}</th>"
        for c in columns
    )
    body = []
    for i in indices:
        r = n.equation_stats[i]
        cells = []
        for c in columns:
            cls = ' class="num"' if c["numeric"] else ""
            if c["key"] == "nonfinite" and not r.finite:
                cls = ' class="num jl-nonfinite"'
            cells.append(f"<td{cls}>{esc(cell_text(r, c['key']))}</td>")
        cells.append(f"<td>{_sparkline(r, axis)}</td>")
        mark = ' class="jl-origin-row"' if i == origin else ""
        body.append(f'<tr{mark} data-row="{i}">{"".join(cells)}</tr>')
    shown = len(indices)
    note = ""
    if shown < len(n.equation_stats):
        note = (
            f'<div class="jl-note">{shown:,} of {len(n.equation_stats):,} outputs: NaN and Inf '
            "first, then what a narrower type would damage, then the largest |x|; the live view "
            "sorts all of them, <code>.rows()</code> and <code>.to_pandas()</code> have every "
            "figure</div>"
        )
    return (
        '<div class="jl-table-scroll"><table class="jl-table jl-numerics-table"><thead><tr>'
        f"{head}<th>binades</th></tr></thead><tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def arguments_html(n: Numerics) -> str:
    """The arguments' statistics (shown when one of them holds NaN or Inf)."""
    rows = [
        (a.name, value_type(a), nonfinite_text(a), range_text(a), percent(a.zero_frac))
        for a in n.arguments
    ]
    return table(["argument", "value", "NaN / Inf", "range", "zeros"], rows)


def head_html(n: Numerics) -> str:
    """The answer, its fix, what was run, the casts and the notes."""
    bad = n.origin is not None
    parts = [
        f'<div class="jl-num-answer {"jl-bad-run" if bad else "jl-clean-run"}">'
        f"{esc(answer(n))}</div>"
    ]
    if bad and (fix := fix_sentence(n.origin)):
        parts.append(f'<div class="jl-num-fix">{prose(fix)}</div>')
    parts.append(f'<div class="jl-muted">{esc(summary_line(n))}</div>')
    casts = cast_sentences(n)
    if casts:
        items = "".join(f"<li>{esc(c)}</li>" for c in casts)
        parts.append(f'<div>cast to a narrower type:<ul class="jl-casts">{items}</ul></div>')
    parts.extend(f'<div class="jl-note">{prose(note)}</div>' for note in n.notes)
    if bad and n.origin.argument is not None:
        parts.append(arguments_html(n))
    return "".join(parts)


def numerics_body(n: Numerics, *, table_open: bool = True, head: str | None = None) -> str:
    return (
        f"<style>{NUMERICS_CSS}</style>"
        + (head if head is not None else head_html(n))
        + f"<details{' open' * table_open}><summary>values of every equation output</summary>"
        + legend_html()
        + static_table(n)
        + "</details>"
    )


@renders(Numerics, "html")
def numerics_html(n: Numerics) -> str:
    """The static view of a :class:`jaxlab.Numerics` (its ``_repr_html_``)."""
    return fragment(numerics_body(n), extra_class="jl-numerics")


@renders(Numerics, "page")
def numerics_page(n: Numerics) -> str:
    return page(f"jaxlab numerics: {n.fn_name}", numerics_body(n), extra_class="jl-numerics")


def numerics_lines(n: Numerics) -> list[str]:
    """The answer and, for a NaN or Inf, its fix: the first lines of every text view."""
    lines = [answer(n)]
    if n.origin is not None and (fix := fix_sentence(n.origin)):
        lines.append(f"  {fix}")
    return lines


@renders(Numerics, "text")
def numerics_text(n: Numerics) -> str:
    """The text view: the answer, its fix, what was run, the casts and the first rows."""
    lines = numerics_lines(n)
    lines.append(summary_line(n))
    lines += [f"  {c}" for c in cast_sentences(n)]
    lines += [f"  note: {note}" for note in n.notes]
    indices = chosen_rows(n, TEXT_ROWS)
    if indices:
        keys = ["equation", "primitive", "where", "value", "nonfinite", "min", "max"]
        if n.grad:
            keys.insert(2, "phase")
        titles = [c["title"] for c in COLUMNS if c["key"] in keys]
        order = [c["key"] for c in COLUMNS if c["key"] in keys]
        rows = [[cell_text(n.equation_stats[i], k) for k in order] for i in indices]
        numeric = [c["numeric"] for c in COLUMNS if c["key"] in keys]
        lines += ["", *text_table(titles, rows, numeric=numeric)]
        if len(indices) < len(n.equation_stats):
            lines.append(
                f"({len(indices)} of {len(n.equation_stats):,} outputs; .to_pandas() has all)"
            )
    return "\n".join(lines)


# -- the live view's section ---------------------------------------------------------------------


def numerics_section(n: Numerics, *, table_open: bool = True) -> NumericsSection:
    """The section the live widget draws (the answer, a sortable table with sparklines) and
    the static renderer shows as `html`; the inspector links it to its panes
    (``inspector.values``)."""
    from jaxlab.views.binades import EDGES

    columns, axis = table_columns(n, MAX_NUMERICS_ROWS)
    head = head_html(n)
    return {
        "kind": "numerics",
        "html": numerics_body(n, table_open=table_open, head=head),
        "head_html": f"<style>{NUMERICS_CSS}</style>{head}",
        "answer": answer(n),
        "clean": n.origin is None,
        "origin_row": -1 if n.origin is None or n.origin.row is None else n.origin.row,
        "columns": _shown_columns(n),
        "rows": columns,
        "total_rows": len(n.equation_stats),
        "axis": [axis.low, axis.high],
        "edges": [
            {"name": e.name, "low": e.low, "high": e.high, "colour": e.colour} for e in EDGES
        ],
        "values": {},
        "source_marks": {},
        "origin_lines": {},
    }
