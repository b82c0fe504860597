"""Static views of a :class:`jaxlab.BenchResult` and of :func:`jaxlab.compare`: an HTML table
(and, for size sweeps, SVG plots) plus a plain-text fallback. Everything the user named
(labels, variant names, messages) is escaped here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_seconds, format_size, format_stages
from jaxlab.benchmarking import machine
from jaxlab.benchmarking.compare import Comparison
from jaxlab.benchmarking.consequence import flags, ranked
from jaxlab.benchmarking.result import BenchResult, Note
from jaxlab.benchmarking.verdict import findings, interval, ratio
from jaxlab.views._html import details, esc, fragment, notes_list, page, prose, table
from jaxlab.views._text import text_table
from jaxlab.views.svgplot import Series, loglog_svg

if TYPE_CHECKING:
    from jaxlab.benchmarking.result import Timing

BENCH_CSS = """
.jaxlab .jl-bench .jl-banner { border-left: 3px solid #cf222e; padding: 3px 8px; margin: 4px 0;
  color: #cf222e; }
.jaxlab .jl-bench .jl-notes { margin: 4px 0 4px 18px; padding: 0; }
.jaxlab .jl-bench .jl-verdict { font-weight: 600; margin: 2px 0 4px; }
.jaxlab .jl-bench .jl-verdict .jl-holds { color: #1a7f37; }
.jaxlab .jl-bench .jl-verdict .jl-unsettled { color: #9a6700; }
.jaxlab .jl-bench .jl-wide { max-width: 100%; overflow-x: auto; }
.jaxlab .jl-bench table.jl-table td { white-space: nowrap; }
.jaxlab .jl-bench table.jl-table th, .jaxlab .jl-bench table.jl-table th.num {
  white-space: normal; vertical-align: bottom; }
"""

# the single-size table is drawn as two, each narrow enough for a notebook's width: how long
# a call takes, and what it costs (compile stages, rates, memory); the variant heads both
TIME_COLUMNS = ("variant", "median", "ci", "iqr", "min", "max", "runs", "ratio")


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
    """The ratio cell, never without its interval: 'baseline', '12.3× faster (11.9–12.8×)',
    or '≈ same (0.97–1.04×, not significant)'."""
    base = result.baseline
    if base is None:
        return "–"
    if timing.variant == base:
        return "baseline"
    try:
        other = result.timing(base, timing.size)
    except KeyError:
        return "–"
    r = ratio(other, timing)  # the rule of jaxlab.compare and of the verdict
    if r.significant:
        return f"{_ratio(r.speedup)} ({interval(r.speedup_low, r.speedup_high, r.speedup)})"
    spans = not (math.isfinite(r.speedup_low) and math.isfinite(r.speedup_high)) or (
        r.speedup_low <= 1.0 <= r.speedup_high
    )
    if spans:
        return f"≈ same ({interval(r.speedup_low, r.speedup_high, 1.0)}, not significant)"
    p = f": p={r.p:.2g}" if math.isfinite(r.p) else ""
    shown = interval(r.speedup_low, r.speedup_high, r.speedup)
    return f"{_ratio(r.speedup)}? ({shown}, too few samples{p})"


def _compile_cell(t: Timing) -> str:
    if t.compile_s is None:
        return "–"
    return format_stages(t.trace_s, t.lower_s, t.compile_s, t.cached)


def _roof_cell(result: BenchResult, t: Timing) -> str:
    """'compute 41 %', 'memory 62 %', 'L3 cache 213 % of memory', 'overhead 3 %' or '–'."""
    found = result.roof(t)
    return found.cell() if found is not None else "–"


def faults_cell(t: Timing) -> str:
    """Minor page faults per call (median over the samples)."""
    f = t.faults_per_call
    if f is None:
        return "–"
    return f"{f:,.0f}" if f >= 10 else f"{f:.2g}"


def alloc_cell(t: Timing) -> str:
    return "–" if t.alloc_bytes is None else format_bytes(t.alloc_bytes)


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


@dataclass(frozen=True)
class Column:
    """A column of a bench table: the row field it shows, its title, whether its cells are
    numbers (right-aligned), and whether the plain-text table shows it too."""

    key: str
    title: str
    numeric: bool = True
    in_text: bool = True


@dataclass(frozen=True)
class CellTable:
    """The formatted cells of a bench table that both renderers draw: its columns and its rows
    (a text cell per column key). The data behind them is `BenchResult.rows()`."""

    columns: list[Column]
    rows: list[dict[str, str]]

    def titles(self, *, text: bool = False) -> list[str]:
        return [c.title for c in self.columns if c.in_text or not text]

    def cells(self, *, text: bool = False) -> list[list[str]]:
        keys = [c.key for c in self.columns if c.in_text or not text]
        return [[row[k] for k in keys] for row in self.rows]

    @property
    def numeric(self) -> list[bool]:
        return [c.numeric for c in self.columns]

    def split(self, keys: tuple[str, ...]) -> tuple[CellTable, CellTable]:
        """The columns named in `keys`, and the first column with every other one."""
        first = [c for c in self.columns if c.key in keys]
        rest = [self.columns[0]] + [c for c in self.columns[1:] if c.key not in keys]
        return CellTable(first, self.rows), CellTable(rest, self.rows)


class TimingRow(TypedDict):
    """One variant of a single-size bench, as its table shows it."""

    variant: str
    median: str
    ci: str
    iqr: str
    min: str
    max: str
    runs: str
    ratio: str
    stages: str
    first_call: str
    gbps: str
    gflops: str
    roof: str
    faults: str
    alloc: str


def _single_table(result: BenchResult) -> CellTable:
    columns = [
        Column("variant", "variant", numeric=False),
        Column("median", "median ± 95 % CI"),
        Column("ci", "95 % CI of median", in_text=False),
        Column("iqr", "IQR", in_text=False),
        Column("min", "min", in_text=False),
        Column("max", "max", in_text=False),
        Column("runs", "runs × loops"),
        Column("ratio", f"vs {result.baseline}" if result.baseline else "ratio"),
        Column("stages", "trace / lower / compile", numeric=False),
        Column("first_call", "first call", in_text=False),
        Column("gbps", "GB/s", in_text=False),
        Column("gflops", "GFLOP/s", in_text=False),
        Column("roof", "bound (% of roof)"),
        Column("faults", "page faults / call", in_text=False),
        Column("alloc", "alloc / call", in_text=False),
    ]
    rows: list[dict[str, str]] = []
    for t in result.timings:
        s = t.summary
        r = result.rates(t)
        row: TimingRow = {
            "variant": t.variant,
            "median": f"{format_seconds(s.median_s)} ±{100 * s.rel_half_width:.1f} %",
            "ci": f"{format_seconds(s.ci_low_s)} – {format_seconds(s.ci_high_s)}",
            "iqr": format_seconds(s.iqr_s),
            "min": format_seconds(s.min_s),
            "max": format_seconds(s.max_s),
            "runs": f"{s.runs} × {t.number}",
            "ratio": vs_baseline(result, t),
            "stages": _compile_cell(t),
            "first_call": format_seconds(t.first_call_s),
            "gbps": _num(r.gbps if r else None),
            "gflops": _num(r.gflops if r else None),
            "roof": _roof_cell(result, t),
            "faults": faults_cell(t),
            "alloc": alloc_cell(t),
        }
        rows.append(dict(row))
    return CellTable(columns, rows)


def _sweep_table(result: BenchResult) -> CellTable:
    names = result.variant_names
    base = result.baseline
    columns = [Column("n", "n")] + [Column(f"median:{n}", f"{n} median") for n in names]
    if base:
        columns += [Column(f"ratio:{n}", f"{n} vs {base}") for n in names if n != base]
    rows = []
    for size in result.sizes:
        row = {"n": format_size(size)}
        for n in names:
            try:
                t = result.timing(n, size)
                cell = format_seconds(t.median_s) + ("" if t.valid else " (invalid)")
            except KeyError:
                cell = "–"
            row[f"median:{n}"] = cell
        if base:
            for n in names:
                if n == base:
                    continue
                try:
                    row[f"ratio:{n}"] = vs_baseline(result, result.timing(n, size))
                except KeyError:
                    row[f"ratio:{n}"] = "–"
        rows.append(row)
    return CellTable(columns, rows)


def _sweep_detail_table(result: BenchResult) -> CellTable:
    """One row per size and variant: the rates, the memory per call and the flags."""
    columns = [
        Column("n", "n"),
        Column("variant", "variant", numeric=False),
        Column("gbps", "GB/s"),
        Column("gflops", "GFLOP/s"),
        Column("roof", "bound (% of roof)"),
        Column("faults", "page faults / call"),
        Column("alloc", "alloc / call"),
        Column("flags", "flags", numeric=False),
    ]
    rows = []
    for t in sorted(result.timings, key=lambda t: t.size or 0):
        r = result.rates(t)
        rows.append(
            {
                "n": format_size(t.size or 0),
                "variant": t.variant,
                "gbps": _num(r.gbps if r else None),
                "gflops": _num(r.gflops if r else None),
                "roof": _roof_cell(result, t),
                "faults": faults_cell(t),
                "alloc": alloc_cell(t),
                "flags": "; ".join(f.text.split(": ", 1)[-1] for f in flags(t, True)),
            }
        )
    return CellTable(columns, rows)


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
                [t.median_s for t in ts],
                [f"{n} at n={format_size(t.size)}: {format_seconds(t.median_s)}" for t in ts],
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
                        f"{n} at n={format_size(s)} against {result.baseline}: "
                        + vs_baseline(result, result.timing(n, s))
                        for s, _ in pairs
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


def _machine_text(result: BenchResult) -> list[str]:
    lines = [machine.describe(result.environment)] if result.environment else []
    if result.peak:
        lines.append(
            f"peak memory bandwidth {result.peak['gbps']:.3g} GB/s on {result.peak['device']} "
            f"({result.peak['method']})"
        )
        for dtype, found in (result.peak.get("compute") or {}).items():
            lines.append(
                f"peak compute {found['gflops']:.3g} GFLOP/s in {dtype} ({found['method']})"
            )
        caches = result.peak.get("caches") or []
        if caches:
            lines.append(
                "caches "
                + ", ".join(f"L{lvl} {format_bytes(size)}" for lvl, size in caches)
                + " (from the OS)"
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


def _verdict_html(result: BenchResult) -> str:
    found = findings(result)
    if not found:
        return ""
    settled = all(f.holds for f in found)
    word = (
        '<span class="jl-holds">holds</span>'
        if settled
        else '<span class="jl-unsettled">unsettled</span>'
    )
    return f'<div class="jl-verdict" title="verdict">{word} · {esc(result.verdict)}</div>'


def _notes_html(notes: list[Note]) -> str:
    cls = {"error": "jl-bad", "warn": "jl-warn", "info": "jl-muted"}
    return notes_list((cls.get(n.level, "jl-muted"), n.text) for n in notes)


def _folded_summary(minor: list[Note]) -> str:
    """'notes that leave the verdict standing: 4 (unsteady turns, …)': what the fold holds."""
    topics = {
        "pace": "unsteady turns",
        "noise": "noise",
        "memory": "memory",
        "modes": "modes",
        "processes": "processes",
        "variant": "what each variant is",
        "roof": "roofs",
    }
    named = list(dict.fromkeys(topics.get(n.topic or "", "other") for n in minor))
    return f"notes that leave the verdict standing: {len(minor)} ({', '.join(named)})"


def _bench_parts(result: BenchResult) -> str:
    title = (
        f'<div class="jl-title">bench <code>{esc(result.label)}</code>'
        + (' <span class="jl-bad">INVALID</span>' if not result.valid else "")
        + "</div>"
    )
    parts = [_verdict_html(result), title]
    problems = _problems(result)
    if problems:
        parts.append('<div class="jl-banner">' + "<br>".join(prose(p) for p in problems) + "</div>")
    if not result.timings:
        parts.append('<div class="jl-note">nothing was timed</div>')
    elif result.sweep:
        parts.append(_plots(result))
        sweep = _sweep_table(result)
        parts.append(table(sweep.titles(), sweep.cells(), numeric=sweep.numeric))
        parts.extend(f'<div class="jl-warn">{esc(c)}</div>' for c in _crossovers(result))
        detail = _sweep_detail_table(result)
        if detail.rows:
            parts.append(
                details(
                    "per size: achieved GB/s, GFLOP/s, the roof that bounds it, page faults "
                    "and allocation per call, flags",
                    table(detail.titles(), detail.cells(), numeric=detail.numeric),
                )
            )
    else:
        for part in _single_table(result).split(TIME_COLUMNS):
            parts.append(
                '<div class="jl-wide">'
                + table(part.titles(), part.cells(), numeric=part.numeric)
                + "</div>"
            )
    major, minor = ranked(result)
    if major:
        parts.append(_notes_html(major))
    if minor:
        parts.append(details(_folded_summary(minor), _notes_html(minor)))
    machine_lines = _machine_text(result)
    if machine_lines:
        parts.append(
            details("machine and settings", "<br>".join(esc(line) for line in machine_lines))
        )
    return "".join(parts)


@renders(BenchResult, "html")
def bench_html(result: BenchResult) -> str:
    return fragment(bench_body(result))


def _text_lines(result: BenchResult, *, full: bool) -> tuple[list[str], list[Note], list[Note]]:
    """The verdict, the title, the problems and the table (every column when `full`)."""
    lines = [result.verdict] if result.timings else []
    lines.append(f"bench {result.label}" + ("  [INVALID]" if not result.valid else ""))
    lines += [f"  !! {p}" for p in _problems(result)]
    if result.timings:
        shown = _sweep_table(result) if result.sweep else _single_table(result)
        lines += [
            "  " + line
            for line in text_table(shown.titles(text=not full), shown.cells(text=not full))
        ]
        lines += [f"  {c}" for c in _crossovers(result)]
    else:
        lines.append("  nothing was timed")
    major, minor = ranked(result)
    lines += [f"  ! {n.text}" for n in major]
    return lines, major, minor


@renders(BenchResult, "text")
def bench_text(result: BenchResult) -> str:
    """What can change the conclusion; the rest behind ``.details()``."""
    lines, _, minor = _text_lines(result, full=False)
    folded = f"{_folded_summary(minor)}; " if minor else ""
    lines.append(f"  ({folded}machine and settings: print(r.details()))")
    return "\n".join(lines)


@renders(BenchResult, "details")
def bench_details(result: BenchResult) -> str:
    """Everything: the table's every column, every note in full, the machine, the settings."""
    lines, _, minor = _text_lines(result, full=True)
    if result.sweep and result.timings:
        detail = _sweep_detail_table(result)
        lines.append("  per size: rates, the roof that bounds each, memory per call, flags")
        lines += ["    " + line for line in text_table(detail.titles(), detail.cells())]
    lines += [f"  - {n.text}" for n in minor]
    lines += [f"  {line}" for line in _machine_text(result)]
    return "\n".join(lines)


# -- compare -----------------------------------------------------------------------------------


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "–"
    return "<1e-4" if p < 1e-4 else f"{p:.2g}"


def comparison_table(comp: Comparison) -> CellTable:
    columns = [Column("variant", "variant", numeric=False), Column("n", "n")]
    columns += [Column(f"median:{i}", f"[{i}] {label}") for i, label in enumerate(comp.labels)]
    for i in range(1, len(comp.labels)):
        columns += [
            Column(f"verdict:{i}", f"[{i}] vs [0]"),
            Column(f"ci:{i}", "speedup 95 % CI"),
            Column(f"p:{i}", "p"),
        ]
    rows = []
    for row in comp.entries:
        cells = {"variant": row.variant, "n": format_size(row.size) if row.size else "–"}
        for i, m in enumerate(row.medians_s):
            cells[f"median:{i}"] = format_seconds(m) if m is not None else "–"
        for i, r in enumerate(row.ratios, start=1):
            if r is None:
                cells.update({f"verdict:{i}": "–", f"ci:{i}": "–", f"p:{i}": "–"})
                continue
            verdict = _ratio(r.speedup) if r.significant else "≈ same (not significant)"
            cells[f"verdict:{i}"] = verdict
            cells[f"ci:{i}"] = (
                f"{_num(r.speedup_low)}–{_num(r.speedup_high)}×"
                if math.isfinite(r.speedup_low)
                else "–"
            )
            cells[f"p:{i}"] = _p(r.p)
        rows.append(cells)
    return CellTable(columns, rows)


def _not_the_same(comp: Comparison) -> str:
    """The first line of a comparison of different inputs: what differs."""
    if not comp.differences:
        return ""
    return "not the same inputs, so the speedups compare different work: " + " | ".join(
        comp.differences
    )


@renders(Comparison, "html")
def comparison_html(comp: Comparison) -> str:
    shown = comparison_table(comp)
    warning = _not_the_same(comp)
    body = f'<div class="jl-banner">{esc(warning)}</div>' if warning else ""
    body += f'<div class="jl-title">compare {esc(", ".join(comp.labels))}</div>'
    body += table(shown.titles(), shown.cells(), numeric=shown.numeric)
    body += notes_list(("jl-muted", n) for n in comp.notes)
    return fragment(f'<div class="jl-bench"><style>{BENCH_CSS}</style>{body}</div>')


@renders(Comparison, "text")
def comparison_text(comp: Comparison) -> str:
    shown = comparison_table(comp)
    lines = [_not_the_same(comp)] if comp.differences else []
    lines.append(f"compare {', '.join(comp.labels)}")
    lines += (
        ["  " + line for line in text_table(shown.titles(), shown.cells())]
        if shown.rows
        else ["  nothing in common"]
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
