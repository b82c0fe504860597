"""Views of measured profiles: text, static HTML with a timeline of one call as inline SVG, the
timeline's JSON model (the live widget draws the same), and profile diffs.

Kernel names, named scopes, file names and source text come from the user's program: every one
goes through :func:`esc` (HTML) or into the JSON model as data, never as markup.
"""

from __future__ import annotations

from typing import Any

from jaxlab.api.profile import Profile, ProfileDiff, where
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_count, format_seconds, plural
from jaxlab.ir._bulk import gc_paused
from jaxlab.views._html import details, esc, fragment, library_fold, page, svg, table
from jaxlab.views._text import text_table

# the inspector's link colours (group g of the source pane is colour g % 10), opaque enough
# for timeline boxes
LINK_FILLS = (
    "#ffc94d",
    "#5cbfff",
    "#6fdc82",
    "#ff8fa8",
    "#b896ff",
    "#4fdcd2",
    "#ffab5c",
    "#b4cf4f",
    "#e88ae8",
    "#7fa8ff",
)
NO_LINE_FILL = "#c8ccd1"
TIMELINE_WIDTH = 900
TRACK_HEIGHT = 18
LABEL_WIDTH = 190
MAX_TABLE_ROWS = 40
TOP_KERNELS = 10  # kernel rows shown before the rest fold
MAX_FOLDED_KERNELS = 400  # kernel rows in the fold; any beyond are in .to_pandas()


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.1f}%"


def _rate(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


# -- colour groups: the inspector's -------------------------------------------------------


def line_groups(profile: Any) -> dict[tuple[str, int], int]:
    """Source line -> colour group, numbered as the inspector numbers the rows of its source
    pane (a header row per block, then the block's lines), so that a profile and an inspector
    of the same call colour a line alike."""
    insp = profile.inspection
    if insp is None:
        return {}
    try:
        from jaxlab.ir.sources import source_blocks

        if "links" in insp.__dict__:
            blocks = insp.sources
        else:  # the same blocks without linking the jaxpr
            innermost = {line for k in profile.kernels for line, _ in k.lines if line[1]}
            blocks = source_blocks(insp._staged.fn, innermost)
    except Exception:
        return {}
    index: dict[tuple[str, int], int] = {}
    row = 0
    for block in blocks:
        row += 1  # the block's header
        for k in range(len(block.lines)):
            index[(block.file, block.first_line + k)] = row
            row += 1
    return index


def kernel_groups(profile: Any, groups: dict[tuple[str, int], int]) -> dict[str, list[int]]:
    """Kernel name -> the colour groups of its source lines, largest share first."""
    out: dict[str, list[int]] = {}
    for k in profile.kernels:
        if k.kernel in out:
            continue
        found = [groups[line] for line, _ in k.lines if line in groups]
        out[k.kernel] = list(dict.fromkeys(found))
    return out


# -- the timeline model -------------------------------------------------------------------


def timeline_model(
    profile: Any, groups: dict[tuple[str, int], int] | None = None
) -> dict[str, Any]:
    """One call's kernels as JSON-able data: tracks (device / thread), events
    ``[track, start_us, dur_us, kernel index]``, kernel names, their colour groups (`groups`:
    source line -> group, by default numbered as the inspector's source pane) and lines."""
    if groups is not None:
        with gc_paused():
            return _timeline_model(profile, groups)
    cached = profile.__dict__.get("_timeline_model")
    if cached is None:
        with gc_paused():
            cached = _timeline_model(profile, line_groups(profile))
            profile.__dict__["_timeline_model"] = cached
    return cached


def _timeline_model(profile: Any, groups: dict[tuple[str, int], int]) -> dict[str, Any]:
    kgroups = kernel_groups(profile, groups)
    by_kernel = {}
    for k in profile.kernels:
        by_kernel.setdefault(k.kernel, k)
    names: list[str] = []
    index: dict[str, int] = {}
    used_tracks: dict[tuple[int, int], int] = {}
    events = []
    for ev in profile.timeline:
        i = index.get(ev.kernel)
        if i is None:
            i = index[ev.kernel] = len(names)
            names.append(ev.kernel)
        key = (ev.device, ev.track)
        if key not in used_tracks:
            used_tracks[key] = len(used_tracks)
        events.append([key, round(ev.start_us, 3), round(ev.dur_us, 3), i])
    order = sorted(used_tracks)
    remap = {key: n for n, key in enumerate(order)}
    tracks = []
    seen: dict[str, int] = {}
    for device, track in order:
        full = profile.tracks[track] if track < len(profile.tracks) else f"track {track}"
        thread = full.split(" / ", 1)[-1].split("/", 1)[0].removeprefix("tf_") or "thread"
        label = f"device {device} · {thread}"
        seen[label] = seen.get(label, 0) + 1
        tracks.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    rows = [[remap[key], s, d, i] for key, s, d, i in events]
    duration = max((s + d for _, s, d, _ in rows), default=0.0)
    kernels = []
    for name in names:
        k = by_kernel.get(name)
        kernels.append(
            {
                "name": name,
                "kind": k.kind if k else "",
                "groups": kgroups.get(name, []),
                "lines": [where(line, profile.file_labels) for line, _ in k.lines] if k else [],
                "scope": ", ".join(s for s, _ in k.scopes if s) if k else "",
                "collective": bool(k and k.collective),
            }
        )
    return {
        "call": profile.timeline_call,
        "duration_us": duration,
        "tracks": tracks,
        "events": rows,
        "kernels": kernels,
        "fills": list(LINK_FILLS),
    }


def _fill(kernel: dict) -> str:
    g = kernel["groups"]
    return LINK_FILLS[g[0] % len(LINK_FILLS)] if g else NO_LINE_FILL


def timeline_svg_of(model: dict, width: int = TIMELINE_WIDTH) -> str:
    """The timeline as inline SVG. Kernels narrower than a pixel are merged with their
    neighbours on the track into one box whose title counts them, so the SVG stays small
    whatever the number of kernels."""
    tracks = model["tracks"]
    duration = model["duration_us"] or 1.0
    plot = width - LABEL_WIDTH - 10
    scale = plot / duration
    kernels = model["kernels"]
    per_track: list[list] = [[] for _ in tracks]
    for t, s, d, i in model["events"]:
        per_track[t].append((s, d, i))
    parts = []
    axis_y = len(tracks) * TRACK_HEIGHT + 4
    for t, label in enumerate(tracks):
        y = t * TRACK_HEIGHT
        parts.append(
            f'<text x="4" y="{y + 13}" class="jl-tl-label">{esc(label)}</text>'
            f'<line x1="{LABEL_WIDTH}" x2="{width - 10}" y1="{y + TRACK_HEIGHT - 1}" '
            f'y2="{y + TRACK_HEIGHT - 1}" stroke="#e1e4e8"/>'
        )
        boxes = sorted(per_track[t])
        k = 0
        while k < len(boxes):
            s, d, i = boxes[k]
            x0 = LABEL_WIDTH + s * scale
            x1 = x0 + d * scale
            if x1 - x0 >= 1.0:
                kern = kernels[i]
                title = (
                    f"{kern['name']} ({kern['kind']}) {format_seconds(d * 1e-6)}"
                    + (f" · {', '.join(kern['lines'])}" if kern["lines"] else "")
                    + (f" · scope {kern['scope']}" if kern["scope"] else "")
                )
                stroke = ' stroke="#cf222e" stroke-width="1.5"' if kern["collective"] else ""
                parts.append(
                    f'<rect x="{x0:.1f}" y="{y + 2}" width="{x1 - x0:.1f}" '
                    f'height="{TRACK_HEIGHT - 5}" fill="{_fill(kern)}"{stroke} '
                    f'data-k="{i}"><title>{esc(title)}</title></rect>'
                )
                k += 1
                continue
            # aggregate: everything that starts within this pixel
            start_px = int(x0)
            count, busy, end = 0, 0.0, x1
            while k < len(boxes):
                s2, d2, _ = boxes[k]
                bx0 = LABEL_WIDTH + s2 * scale
                if int(bx0) > start_px and (bx0 + d2 * scale) - bx0 >= 1.0:
                    break
                if int(bx0) > start_px + 1:
                    break
                count += 1
                busy += d2
                end = max(end, bx0 + d2 * scale)
                k += 1
            parts.append(
                f'<rect x="{x0:.1f}" y="{y + 2}" width="{max(end - x0, 1.0):.1f}" '
                f'height="{TRACK_HEIGHT - 5}" fill="#8c959f">'
                f"<title>{count} kernels, {esc(format_seconds(busy * 1e-6))}</title></rect>"
            )
    ticks = 5
    for n in range(ticks + 1):
        x = LABEL_WIDTH + plot * n / ticks
        anchor = "start" if n == 0 else "end" if n == ticks else "middle"
        parts.append(
            f'<text x="{x:.0f}" y="{axis_y + 10}" text-anchor="{anchor}" '
            f'class="jl-tl-axis">{esc(format_seconds(duration * 1e-6 * n / ticks))}</text>'
        )
    height = axis_y + 16
    return svg(width, height, "".join(parts), cls="jl-timeline", label="kernel timeline")


@renders(Profile, "timeline")
def timeline_svg(profile: Any, groups: dict[tuple[str, int], int] | None = None) -> str:
    return timeline_svg_of(timeline_model(profile, groups))


# -- text ---------------------------------------------------------------------------------


NO_KERNELS = (
    "the profiler's trace names no kernel of this program (this backend's profiler may not "
    "record kernels); only wall times are measured"
)


def summary_line(p: Any) -> str:
    if not p.kernels:
        per = p.wall_s / len(p.calls) if p.calls else 0.0
        return f"{p.runs} calls; {NO_KERNELS}" + (f"; {format_seconds(per)} each" if per else "")
    per_call = p.wall_s / len(p.calls) if p.calls else 0.0
    return (
        f"{p.runs} calls, {format_seconds(per_call)} each (wall): kernels "
        f"{format_seconds(p.kernel_s / max(len(p.calls), 1))}, gaps between kernels "
        f"{format_seconds(p.gaps_s / max(len(p.calls), 1))}, host "
        f"{format_seconds(p.host_s / max(len(p.calls), 1))} · coverage {p.coverage_frac:.0%} · "
        f"{plural(round(p.kernels_per_call, 1), 'kernel')} per call"
    )


def call_text(p: Any) -> str:
    """``train_step(state: State(20 arrays, 53.3 KiB), x: f32[64,4])``: the profiled call with
    its arguments summarised (the name alone when the inspection is not kept)."""
    if p.inspection is None:
        return p.fn_name
    return p.inspection.call_text


@renders(Profile, "text")
def profile_text(p: Any) -> str:
    lines = [p.verdict, f"Profile of {call_text(p)} ({p.module}): {summary_line(p)}"]
    rows = p.rows()[:15]
    lines += text_table(
        ["kernel", "kind", "dev", "mean", "%", "source"],
        [
            [
                r["kernel"],
                r["kind"],
                r["device"],
                format_seconds(r["mean_s"]),
                f"{r['percent']:.1f}",
                r["source"],
            ]
            for r in rows
        ],
        numeric=[False, False, True, True, True, False],
    )
    if len(p.kernels) > 15:
        lines.append(f"… {len(p.kernels) - 15} more kernels (.to_pandas())")
    lines.append("by line (library code counted in the line of yours that called it):")
    rows = []
    for r in p.by_line()[:10]:
        rows.append(
            [r["where"], format_seconds(r["per_call_s"]), f"{r['percent']:.1f}", r["code"][:60]]
        )
        rows += [
            [
                f"  {lib['where']}",
                format_seconds(lib["per_call_s"]),
                f"{lib['percent']:.1f}",
                lib["code"][:58],
            ]
            for lib in r["library"][:3]
        ]
    lines += text_table(["line", "per call", "%", "code"], rows, numeric=[0, 1, 1, 0])
    if p.unattributed:
        total = sum(k.total_s for k in p.unattributed)
        lines.append(
            f"unattributed: {len(p.unattributed)} kernels, {format_seconds(total)} "
            f"({', '.join(k.kernel for k in p.unattributed[:5])})"
        )
    return "\n".join(lines)


# -- HTML ---------------------------------------------------------------------------------

PROFILE_CSS = """
.jaxlab .jl-timeline .jl-tl-label { font-size: 10px; fill: #59636e; }
.jaxlab .jl-timeline .jl-tl-axis { font-size: 10px; fill: #59636e; }
.jaxlab .jl-timeline rect:hover { stroke: #1f2328; stroke-width: 1.5; }
.jaxlab .jl-tl-wrap { overflow-x: auto; }
"""


KERNEL_HEADERS = [
    "kernel", "kind", "device", "calls", "mean", "%", "source", "library code", "scope",
    "est. bytes", "est. FLOPs", "GB/s", "bound (% of roof)",
]  # fmt: skip
KERNEL_NUMERIC = [False, False, True, True, True, True, False, False, False, True, True, True, True]


def _kernel_cells(r: dict) -> list:
    return [
        r["kernel"],
        r["kind"],
        r["device"],
        r["calls"],
        format_seconds(r["mean_s"]),
        f"{r['percent']:.1f}",
        r["source"],
        r["library_source"],
        r["scope"],
        format_bytes(r["bytes"]),
        format_count(r["flops"]),
        _rate(r["gbps"]),
        _roof_cell(r),
    ]


def _roof_cell(r: dict) -> str:
    """'compute 41 %', 'memory 62 %', 'cache 213 % of memory BW', 'overhead 3 %' or '–'."""
    if r["bound"] is None:
        return "–"
    pct = f" {r['percent_of_roof']:.0f} %" if r["percent_of_roof"] is not None else ""
    return f"{r['bound']},{pct} of memory BW" if r["bound"] == "cache" else f"{r['bound']}{pct}"


def kernels_table(p: Any, top: int = TOP_KERNELS, limit: int = MAX_FOLDED_KERNELS) -> str:
    """The `top` kernels by time; the next ones (up to `limit`) fold under them."""
    rows = p.rows()
    body = table(KERNEL_HEADERS, [_kernel_cells(r) for r in rows[:top]], numeric=KERNEL_NUMERIC)
    rest = rows[top:limit]
    if rest:
        share = sum(r["percent"] for r in rows[top:])
        n = len(rows) - top
        body += details(
            f"{n} more {'kernel' if n == 1 else 'kernels'} ({share:.1f}% of kernel time)",
            table(KERNEL_HEADERS, [_kernel_cells(r) for r in rest], numeric=KERNEL_NUMERIC),
        )
    if len(rows) > limit:
        body += (
            f'<div class="jl-muted">… {len(rows) - limit} more kernels in '
            f"<code>.to_pandas()</code></div>"
        )
    return body


def _library_cell(r: Any) -> str:
    """The library lines folded into a line of the user's code, one click away."""
    return library_fold(
        [lib["where"] for lib in r["library"]],
        ["line", "per call", "%", "code"],
        [
            [lib["where"], format_seconds(lib["per_call_s"]), f"{lib['percent']:.1f}", lib["code"]]
            for lib in r["library"]
        ],
        [False, True, True, False],
    )


def lines_table(p: Any, limit: int = MAX_TABLE_ROWS, *, library: bool = False) -> str:
    """Time per source line; library lines fold into the user's line that called them (each
    such row opens on them), or with `library` stand as rows of their own."""
    rows = p.by_line(library=library)[:limit]
    headers = ["line", "code", "per call", "%", "kernels"]
    headers += [] if library else ["library code inside"]
    body = []
    for r in rows:
        cells = [esc(r["where"]), esc(r["code"]), esc(format_seconds(r["per_call_s"]))]
        cells += [f"{r['percent']:.1f}", str(len(r["kernels"]))]
        cells += [] if library else [_library_cell(r)]
        body.append(cells)
    numeric = [False, False, True, True, True, False]
    return table(headers, body, numeric=numeric, raw=True)


def scopes_table(p: Any, limit: int = MAX_FOLDED_KERNELS) -> str:
    rows = p.by_scope()[:limit]
    return table(
        ["named scope", "per call", "%", "kernels"],
        [
            [
                r["scope"] or "(none)",
                format_seconds(r["per_call_s"]),
                f"{r['percent']:.1f}",
                len(r["kernels"]),
            ]
            for r in rows
        ],
        numeric=[False, True, True, True],
    )


LIBRARY_NOTE = (
    '<div class="jl-muted">Library code (Flax, Optax, JAX…) counts in the line of yours that '
    "called it; <code>.by_line(library=True)</code> lists every line on its own.</div>"
)


def roofs(p: Any) -> tuple[str, str]:
    """The fold of the measured roofs: its summary line, and how each was measured."""
    if p.peak is None:
        return "roofs not measured (peak=False)", ""
    summary = f"roofs: memory {p.peak.gbps:.3g} GB/s"
    lines = [f"peak memory bandwidth {p.peak.gbps:.3g} GB/s ({p.peak.method})"]
    if p.compute is not None:
        summary += f", compute {p.compute.gflops:.3g} GFLOP/s in {p.compute.dtype}"
        lines.append(f"peak compute {p.compute.gflops:.3g} GFLOP/s ({p.compute.method})")
    if p.caches:
        lines.append("caches " + ", ".join(f"L{lvl} {format_bytes(b)}" for lvl, b in p.caches))
    return summary, "<br>".join(esc(line) for line in lines)


def profile_body(p: Any) -> str:
    parts = [
        f"<style>{PROFILE_CSS}</style>",
        f'<div class="jl-verdict" style="font-weight:600">{esc(p.verdict)}</div>',
        f'<div class="jl-title">Profile of <code>{esc(call_text(p))}</code> '
        f'<span class="jl-muted">({esc(p.module)})</span></div>',
        f"<div>{esc(summary_line(p))}</div>",
        '<div class="jl-muted">kernel times measured by JAX\'s profiler; bytes and FLOPs '
        "estimated from shapes</div>",
        f'<div class="jl-title">timeline of call {p.timeline_call + 1} (median)</div>',
        f'<div class="jl-tl-wrap">{timeline_svg(p)}</div>',
        details("time by source line", lines_table(p) + LIBRARY_NOTE, open_=True),
        details("kernels", kernels_table(p), open_=True),
        details("time by named scope", scopes_table(p)),
        details(*roofs(p)),
    ]
    if p.unattributed:
        parts.append(
            details(
                f"unattributed kernels ({len(p.unattributed)})",
                table(
                    ["kernel", "device", "calls", "total"],
                    [
                        [k.kernel, k.device, k.calls, format_seconds(k.total_s)]
                        for k in p.unattributed
                    ],
                ),
                open_=True,
            )
        )
    if p.collectives:
        parts.append(
            f'<div class="jl-muted">collectives (outlined red in the timeline): '
            f"{esc(', '.join(sorted({k.kernel for k in p.collectives})[:10]))}</div>"
        )
    return "".join(parts)


@renders(Profile, "html")
def profile_html(p: Any) -> str:
    return fragment(profile_body(p), extra_class="jl-profile")


@renders(Profile, "page")
def profile_page(p: Any) -> str:
    return page(f"jaxlab profile: {p.fn_name}", profile_body(p), extra_class="jl-profile")


# -- diffs --------------------------------------------------------------------------------


def _diff_rows(rows: list[dict]) -> list[list[str]]:
    def s(v: float | None) -> str:
        return "—" if v is None else format_seconds(v)

    return [
        [
            r["what"],
            s(r["before_s"]),
            s(r["after_s"]),
            ("+" if r["delta_s"] > 0 else "−" if r["delta_s"] < 0 else "")
            + format_seconds(abs(r["delta_s"])),
            "" if r["speedup"] is None else f"×{r['speedup']:.2f}",
        ]
        for r in rows
    ]


DIFF_HEADERS = ["source line", "before", "after", "change", "speedup"]


@renders(ProfileDiff, "text")
def profile_diff_text(d: Any) -> str:
    lines = [f"Profile diff: {d.before} → {d.after} (time per call)"]
    lines += text_table(DIFF_HEADERS, _diff_rows(d.lines[:15]), numeric=[0, 1, 1, 1, 1])
    return "\n".join(lines)


@renders(ProfileDiff, "html")
def profile_diff_html(d: Any) -> str:
    numeric = [False, True, True, True, True]
    body = (
        f'<div class="jl-title">Profile diff: <code>{esc(d.before)}</code> → '
        f"<code>{esc(d.after)}</code> (time per call, matched by source line)</div>"
        + table(DIFF_HEADERS, _diff_rows(d.lines[:MAX_TABLE_ROWS]), numeric=numeric)
        + details(
            "kernels (matched by kind and source lines)",
            table(
                ["kernel", *DIFF_HEADERS[1:]],
                _diff_rows(d.kernels[:MAX_TABLE_ROWS]),
                numeric=numeric,
            ),
        )
    )
    return fragment(body, extra_class="jl-profile")


# -- inside the inspector -----------------------------------------------------------------


MAX_HEAT_RULES = 400


def static_heat_css(heat_by_pane: dict[int, dict[str, float]]) -> str:
    """Heat bars on the static inspector's lines: CSS rules scoped (through ``:has()``) to
    the output that holds this marker, so other outputs on the page are untouched. `heat_by_pane`
    maps a pane's position (1: source, 4: optimized HLO) to {line index: 0..1}."""
    import uuid

    token = f"jl-heat-{uuid.uuid4().hex[:12]}"
    rules = []
    for position, heat in heat_by_pane.items():
        hottest = sorted(heat.items(), key=lambda kv: -kv[1])[:MAX_HEAT_RULES]
        for line, value in hottest:
            alpha = 0.15 + 0.85 * value
            rules.append(
                f".jaxlab.jl-insp:has(.{token}) .jl-pane:nth-child({position}) "
                f'.jl-l[data-line="{int(line) + 1}"] '
                "{ box-shadow: inset 4px 0 0 color-mix(in srgb, var(--jl-heat-colour) "
                f"{100 * alpha:.0f}%, transparent); }}"
            )
    return f'<span class="{token}" hidden></span><style>{"".join(rules)}</style>'


def inspector_section(
    insp: Any, groups: dict[tuple[str, int], int], hlo_mapping: list[int]
) -> dict[str, Any]:
    """The inspector's profile section (``ProfileSection`` of the inspector's model):
    measured time per kernel for the fusion explorer, heat (0..1, of the hottest) per line of
    the source pane (`groups`: source line -> its row) and of the HLO pane (`hlo_mapping`:
    display line of each line of the HLO text), the timeline model, and its static rendering.
    """
    p = insp.profile
    runs = max(p.runs, 1)
    times: dict[str, float] = {}
    for k in p.kernels:
        times[k.kernel] = times.get(k.kernel, 0.0) + k.total_s / runs
    source_heat: dict[int, float] = {}
    for user_row in p.by_line():  # a line of yours with the library code it called
        for row in (user_row, *user_row["library"]):
            g = groups.get((row["file"], row["line"]))
            if g is not None:
                source_heat[g] = source_heat.get(g, 0.0) + row["per_call_s"]
    hlo_heat: dict[int, float] = {}
    mapping = hlo_mapping
    module = insp.hlo_module
    for name, t in times.items():
        instr = module.instructions.get(name)
        if instr is None:
            continue
        lines = [instr.line]
        comp = module.called_computation(instr)
        if comp is not None:
            lines.extend(op.line for op in comp.instructions)
        for n in lines:
            if 0 < n < len(mapping) and mapping[n]:
                hlo_heat[mapping[n] - 1] = max(hlo_heat.get(mapping[n] - 1, 0.0), t)

    def scaled(heat: dict[int, float]) -> dict[str, float]:
        top = max(heat.values(), default=0.0)
        return {str(k): round(v / top, 3) for k, v in heat.items() if top > 0 and v > 0}

    tables = details("time by source line", lines_table(p), open_=True) + details(
        "kernel times", kernels_table(p)
    )
    source_scaled, hlo_scaled = scaled(source_heat), scaled(hlo_heat)
    model = timeline_model(p, groups)
    html = (
        f"<style>{PROFILE_CSS}</style>"
        + static_heat_css({1: source_scaled, 4: hlo_scaled})
        + f'<div class="jl-title">Measured: {esc(summary_line(p))}</div>'
        f'<div class="jl-tl-wrap">{timeline_svg_of(model)}</div>' + tables
    )
    return {
        "kind": "profile",
        "html": html,
        "tables_html": tables,
        "summary": summary_line(p),
        "kernel_times": times,
        "heat": {"source": source_scaled, "hlo": hlo_scaled},
        "timeline": model,
    }
