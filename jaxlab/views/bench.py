"""Static views of a :class:`jaxlab.BenchResult` and of :func:`jaxlab.compare`: an HTML table
(and, for size sweeps, SVG plots) plus a plain-text fallback. Everything the user named
(labels, variant names, messages) is escaped here."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from jaxlab.base.display import renders
from jaxlab.base.format import format_seconds, format_size, format_stages
from jaxlab.benchmarking import machine
from jaxlab.benchmarking.compare import Comparison, ratio
from jaxlab.benchmarking.result import BenchResult
from jaxlab.views._html import details, esc, fragment, page, table
from jaxlab.views._text import text_table
from jaxlab.views.svgplot import Series, loglog_svg

if TYPE_CHECKING:
    from jaxlab.benchmarking.result import Timing

BENCH_CSS = """
.jaxlab .jl-bench .jl-banner { border-left: 3px solid #cf222e; padding: 3px 8px; margin: 4px 0;
  color: #cf222e; }
.jaxlab .jl-bench .jl-notes { margin: 4px 0 4px 18px; padding: 0; }
.jaxlab .jl-bench table.jl-table td.num { white-space: nowrap; }
"""


def _ratio(speedup: float | None) -> str:
    if speedup is None or not math.isfinite(speedup) or speedup <= 0:
        return "–"
    factor = speedup if speedup >= 1 else 1 / speedup
    shown = f"{factor:,.0f}" if factor >= 1000 else f"{factor:.3g}"
    return f"{shown}× {'faster' if speedup >= 1 else 'slower'}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} %"


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def vs_baseline(result: BenchResult, timing: Timing) -> str:
    """The ratio cell: 'baseline', '12.3× faster', or '≈ (not significant)'."""
    base = result.baseline
    if base is None:
        return "–"
    if timing.variant == base:
        return "baseline"
    try:
        other = result.timing(base, timing.size)
    except KeyError:
        return "–"
    r = ratio(other, timing)  # the rule of jaxlab.compare
    if not r.significant:
        p = f": p={r.p:.2f}" if math.isfinite(r.p) else ""
        return f"≈ same ({_ratio(r.speedup)}, not significant{p})"
    return _ratio(r.speedup)


def _compile_cell(t: Timing) -> str:
    if t.compile_s is None:
        return "–"
    return format_stages(t.trace_s, t.lower_s, t.compile_s, t.cached)


def _flags(t: Timing) -> list[tuple[str, str]]:
    """(level, text) flags of one timing."""
    out = []
    if not t.valid:
        out.append(("error", f"invalid: compiled during the timed loop ({len(t.recompilations)}×)"))
    if t.samples and t.noisy:
        out.append(("warn", f"noisy: IQR is {100 * t.summary.rel_iqr:.0f} % of the median"))
    if t.stopped == "interrupted":
        out.append(("warn", "stopped early by Ctrl-C"))
    return out


def _problems(result: BenchResult) -> list[str]:
    lines = list(result.failures.values())
    lines += [
        m.message + (f" (n={m.size})" if result.sweep and m.size is not None else "")
        for m in result.mismatches
    ]
    for t in result.timings:
        if t.recompilations:
            where = f" at n={t.size}" if result.sweep else ""
            lines.append(
                f"{t.variant}{where}: JAX compiled during the timed loop, so its times include "
                f"compilation. Why: {' '.join(t.recompilations[0].split())}"
            )
    return lines


def _single_rows(result: BenchResult) -> tuple[list[str], list[list[str]], list[bool]]:
    headers = [
        "variant",
        "median ± 95 % CI",
        "95 % CI of median",
        "IQR",
        "min",
        "max",
        "runs × loops",
        f"vs {result.baseline}" if result.baseline else "ratio",
        "trace / lower / compile",
        "first call",
        "GB/s",
        "GFLOP/s",
        "% of peak",
    ]
    numeric = [False, True, True, True, True, True, True, True, False, True, True, True, True]
    rows = []
    for t in result.timings:
        s = t.summary
        r = result.rates(t)
        rows.append(
            [
                t.variant,
                f"{format_seconds(s.median)} ±{100 * s.rel_half_width:.1f} %",
                f"{format_seconds(s.ci_low)} – {format_seconds(s.ci_high)}",
                format_seconds(s.iqr),
                format_seconds(s.min),
                format_seconds(s.max),
                f"{s.runs} × {t.number}",
                vs_baseline(result, t),
                _compile_cell(t),
                format_seconds(t.first_call_s),
                _num(r.gbps if r else None),
                _num(r.gflops if r else None),
                _pct(r.percent_of_peak if r else None),
            ]
        )
    return headers, rows, numeric


def _sweep_rows(result: BenchResult) -> tuple[list[str], list[list[str]], list[bool]]:
    names = result.variant_names
    headers = ["n"] + [f"{n} median" for n in names]
    if result.baseline:
        headers += [f"{n} vs {result.baseline}" for n in names if n != result.baseline]
    numeric = [True] * len(headers)
    rows = []
    for size in result.sizes:
        row = [format_size(size)]
        for n in names:
            try:
                t = result.timing(n, size)
                cell = format_seconds(t.median) + ("" if t.valid else " (invalid)")
            except KeyError:
                cell = "–"
            row.append(cell)
        if result.baseline:
            for n in names:
                if n == result.baseline:
                    continue
                try:
                    row.append(vs_baseline(result, result.timing(n, size)))
                except KeyError:
                    row.append("–")
        rows.append(row)
    return headers, rows, numeric


def _sweep_roofline_rows(result: BenchResult) -> list[list[str]]:
    rows = []
    for t in sorted(result.timings, key=lambda t: t.size or 0):
        r = result.rates(t)
        if r is not None:
            rows.append(
                [
                    format_size(t.size or 0),
                    t.variant,
                    _num(r.gbps),
                    _num(r.gflops),
                    _pct(r.percent_of_peak),
                ]
            )
    return rows


def _crossovers(result: BenchResult) -> list[str]:
    if not result.sweep or not result.baseline:
        return []
    out = []
    for n in result.variant_names:
        c = result.crossover(n)
        if c is not None:
            out.append(c.describe())
    return out


def _plots(result: BenchResult) -> str:
    names = result.variant_names
    series = []
    for n in names:
        ts = [t for t in result.timings if t.variant == n and t.size]
        ts.sort(key=lambda t: t.size)
        series.append(
            Series(
                n,
                [t.size for t in ts],
                [t.median for t in ts],
                [f"{n} at n={format_size(t.size)}: {format_seconds(t.median)}" for t in ts],
            )
        )
    time_plot = loglog_svg(
        series,
        title="time per call",
        xlabel="n",
        ylabel="seconds",
        xformat=format_size,
        yformat=format_seconds,
    )
    if not result.baseline:
        return time_plot
    speedups = []
    first_cross = None
    for n in names:
        if n == result.baseline:
            continue
        pairs = []
        for size in result.sizes:
            try:
                pairs.append((size, result.speedup(n, result.baseline, size)))
            except KeyError:
                continue
        if pairs:
            speedups.append(
                Series(
                    n,
                    [p[0] for p in pairs],
                    [p[1] for p in pairs],
                    [
                        f"{n} at n={format_size(s)}: {_ratio(r)} than {result.baseline}"
                        for s, r in pairs
                    ],
                )
            )
        c = result.crossover(n)
        if first_cross is None and c is not None and c.size is not None:
            first_cross = (c.size, f"{n} crossover ≈ {format_size(c.size)}")
    speed_plot = loglog_svg(
        speedups,
        title=f"speedup over {result.baseline}",
        xlabel="n",
        ylabel="speedup (×)",
        xformat=format_size,
        yformat=lambda v: f"{v:.3g}×",
        hline=1.0,
        vline=first_cross,
    )
    return f'<div class="jl-grid">{time_plot}{speed_plot}</div>'


def _notes(result: BenchResult) -> list[tuple[str, str]]:
    notes = [(n.level, n.text) for n in result.notes]
    if result.interrupted and not any("interrupted" in text for _, text in notes):
        notes.append(("warn", "interrupted (Ctrl-C): the figures cover what had finished"))
    notes += [("info", f"{v.name}: {v.how}") for v in result.variants if v.how]
    return notes


def _machine_text(result: BenchResult) -> list[str]:
    lines = [machine.describe(result.environment)] if result.environment else []
    if result.peak:
        lines.append(
            f"peak memory bandwidth {result.peak['gbps']:.3g} GB/s on {result.peak['device']} "
            f"({result.peak['method']})"
        )
    s = result.settings
    if s:
        lines.append(
            f"budget {s.get('time_budget_s')} s per variant, target "
            f"±{100 * s.get('precision', 0):g} % (95 % interval of the median), timer resolution "
            f"{format_seconds(s.get('timer_resolution_s'))}"
            + (", JAX in 64-bit" if s.get("x64") else "")
            + (f", inputs cast to {s['input_dtype']}" if s.get("input_dtype") else "")
        )
    return lines


@renders(BenchResult, "page")
def bench_page(result: BenchResult) -> str:
    """A complete, self-contained HTML page of the result (``BenchResult.to_html``)."""
    return page(f"bench {result.label}", bench_body(result))


def bench_body(result: BenchResult) -> str:
    """The view of a result, with its own (scoped) styles: for a fragment or a page."""
    return f'<div class="jl-bench"><style>{BENCH_CSS}</style>{_bench_parts(result)}</div>'


def _bench_parts(result: BenchResult) -> str:
    title = (
        f'<div class="jl-title">bench <code>{esc(result.label)}</code>'
        + (' <span class="jl-bad">INVALID</span>' if not result.valid else "")
        + "</div>"
    )
    parts = [title]
    problems = _problems(result)
    if problems:
        parts.append('<div class="jl-banner">' + "<br>".join(esc(p) for p in problems) + "</div>")
    if not result.timings:
        parts.append('<div class="jl-note">nothing was timed</div>')
    elif result.sweep:
        parts.append(_plots(result))
        headers, rows, numeric = _sweep_rows(result)
        parts.append(table(headers, rows, numeric=numeric))
        parts.extend(f'<div class="jl-warn">{esc(c)}</div>' for c in _crossovers(result))
        roofline_rows = _sweep_roofline_rows(result)
        if roofline_rows:
            parts.append(
                details(
                    "roofline: achieved GB/s, GFLOP/s and % of peak",
                    table(
                        ["n", "variant", "GB/s", "GFLOP/s", "% of peak"],
                        roofline_rows,
                        numeric=[True, False, True, True, True],
                    ),
                )
            )
    else:
        headers, rows, numeric = _single_rows(result)
        flagged = []
        for t, row in zip(result.timings, rows, strict=True):
            flags = _flags(t)
            cells = [esc(c) for c in row]
            if flags:
                cells[0] += "".join(
                    f'<br><span class="{"jl-bad" if lvl == "error" else "jl-warn"}">'
                    f"{esc(text)}</span>"
                    for lvl, text in flags
                )
            flagged.append(cells)
        parts.append(table(headers, flagged, numeric=numeric, raw=True))
    notes = _notes(result)
    if notes:
        cls = {"error": "jl-bad", "warn": "jl-warn", "info": "jl-muted"}
        parts.append(
            '<ul class="jl-notes">'
            + "".join(f'<li class="{cls.get(lvl, "jl-muted")}">{esc(t)}</li>' for lvl, t in notes)
            + "</ul>"
        )
    machine_lines = _machine_text(result)
    if machine_lines:
        parts.append(
            details("machine and settings", "<br>".join(esc(line) for line in machine_lines))
        )
    return "".join(parts)


@renders(BenchResult, "html")
def bench_html(result: BenchResult) -> str:
    return fragment(bench_body(result))


@renders(BenchResult, "text")
def bench_text(result: BenchResult) -> str:
    lines = [f"bench {result.label}" + ("  [INVALID]" if not result.valid else "")]
    lines += [f"  !! {p}" for p in _problems(result)]
    if result.timings:
        if result.sweep:
            headers, rows, _ = _sweep_rows(result)
        else:
            headers, rows, _ = _single_rows(result)
            keep = [0, 1, 2, 3, 6, 7, 8, 10]
            headers = [headers[i] for i in keep]
            rows = [[r[i] for i in keep] for r in rows]
        lines += ["  " + line for line in text_table(headers, rows)]
        if not result.sweep:
            for t in result.timings:
                lines += [f"  {t.variant}: {text}" for _, text in _flags(t)]
        lines += [f"  {c}" for c in _crossovers(result)]
    else:
        lines.append("  nothing was timed")
    lines += [f"  {'!' if lvl == 'error' else '-'} {t}" for lvl, t in _notes(result)]
    lines += [f"  {line}" for line in _machine_text(result)]
    return "\n".join(lines)


# -- compare -----------------------------------------------------------------------------------


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return "<1e-4" if p < 1e-4 else f"{p:.2g}"


def comparison_rows(comp: Comparison) -> tuple[list[str], list[list[str]]]:
    headers = ["variant", "n"] + [f"[{i}] {label}" for i, label in enumerate(comp.labels)]
    for i in range(1, len(comp.labels)):
        headers += [f"[{i}] vs [0]", "speedup 95 % CI", "p"]
    rows = []
    for row in comp.rows:
        cells = [row.variant, format_size(row.size) if row.size else "–"]
        cells += [format_seconds(m) if m is not None else "–" for m in row.medians]
        for r in row.ratios:
            if r is None:
                cells += ["–", "–", "–"]
                continue
            verdict = _ratio(r.speedup) if r.significant else "≈ same (not significant)"
            cells += [
                verdict,
                f"{_num(r.ci_low)}–{_num(r.ci_high)}×" if math.isfinite(r.ci_low) else "–",
                _p(r.p),
            ]
        rows.append(cells)
    return headers, rows


@renders(Comparison, "html")
def comparison_html(comp: Comparison) -> str:
    headers, rows = comparison_rows(comp)
    body = f'<div class="jl-title">compare {esc(", ".join(comp.labels))}</div>'
    body += table(headers, rows, numeric=[False] + [True] * (len(headers) - 1))
    body += (
        '<ul class="jl-notes">'
        + "".join(f'<li class="jl-muted">{esc(n)}</li>' for n in comp.notes)
        + "</ul>"
    )
    return fragment(f'<div class="jl-bench"><style>{BENCH_CSS}</style>{body}</div>')


@renders(Comparison, "text")
def comparison_text(comp: Comparison) -> str:
    headers, rows = comparison_rows(comp)
    lines = [f"compare {', '.join(comp.labels)}"]
    lines += (
        ["  " + line for line in text_table(headers, rows)] if rows else ["  nothing in common"]
    )
    lines += [f"  - {n}" for n in comp.notes]
    return "\n".join(lines)


# -- progress ----------------------------------------------------------------------------------


def progress_html(done: int, total: int, title: str, text: str) -> str:
    """A progress bar (a plain ``<progress>`` element: no script needed)."""
    return (
        '<div class="jaxlab jl-progress" style="font-size:12px">'
        f"<span>{esc(title)}</span> "
        f'<progress value="{int(done)}" max="{max(int(total), 1)}" '
        'style="width:180px;vertical-align:middle"></progress> '
        f"<span>{int(done)}/{int(total)}</span> "
        f'<span style="color:#59636e">{esc(text)}</span></div>'
    )
