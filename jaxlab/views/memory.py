"""Static view of a :class:`jaxlab.ir.memory_timeline.MemoryTimeline`: a stacked plot of live
bytes (arguments, outputs, temporaries) over the schedule, the peak, and XLA's own figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes
from jaxlab.core.analysis import UNAVAILABLE
from jaxlab.ir.memory_timeline import MemoryTimeline
from jaxlab.views._html import details, esc, fragment, svg, table
from jaxlab.views.colours import swatch

if TYPE_CHECKING:
    from jaxlab.ir.memory_timeline import Step

WIDTH, HEIGHT = 560.0, 150.0
LEFT, BOTTOM, TOP = 64.0, 18.0, 16.0
MAX_POINTS = 1500
COLOURS = {"argument": "#8ecae6", "output": "#90be6d", "temp": "#ffb703"}
LABELS = {"argument": "arguments", "output": "outputs", "temp": "temporaries"}
MAX_PEAK_BUFFERS = 12


def _buckets(steps: list[Step]) -> list[Step]:
    """At most MAX_POINTS steps, keeping each bucket's largest (so the peak survives)."""
    if len(steps) <= MAX_POINTS:
        return steps
    size = -(-len(steps) // MAX_POINTS)
    return [max(steps[i : i + size], key=lambda s: s.total) for i in range(0, len(steps), size)]


def timeline_svg(t: MemoryTimeline, xla_total: int | None = None) -> str:
    """The live bytes of each step, stacked by kind, with the peak marked."""
    steps = _buckets(t.steps)
    if not steps:
        return ""
    top = max(t.peak_bytes, xla_total or 0, 1)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    n = len(steps)

    def x(i: float) -> float:
        return LEFT + plot_w * i / n

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    def stairs(values: list[int]) -> list[str]:
        """Each step holds its value over [i, i + 1): a staircase, left to right."""
        return [f"{x(i + k):.1f},{y(v):.1f}" for i, v in enumerate(values) for k in (0, 1)]

    parts: list[str] = []
    base = [0] * n
    for kind in ("argument", "output", "temp"):
        values = [getattr(s, kind) for s in steps]
        upper = [b + v for b, v in zip(base, values, strict=True)]
        if any(values):
            points = stairs(upper) + stairs(base)[::-1]
            parts.append(
                f'<polygon points="{" ".join(points)}" fill="{COLOURS[kind]}" '
                f'fill-opacity="0.9" data-kind="{kind}"><title>{LABELS[kind]}</title></polygon>'
            )
        base = upper
    # axes and ticks
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#666"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#666"/>'
    )
    for frac in (0.0, 0.5, 1.0):
        value = top * frac
        parts.append(
            f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{esc(format_bytes(value))}</text>"
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 4}">step 0</text>'
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 4}" text-anchor="end">'
        f"step {len(t.steps) - 1}</text>"
    )
    if xla_total:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(xla_total):.1f}" x2="{LEFT + plot_w}" '
            f'y2="{y(xla_total):.1f}" stroke="#cf222e" stroke-dasharray="4 3" '
            'class="jl-xla-total"><title>XLA: arguments + outputs + temp</title></line>'
        )
    peak = t.peak_step
    if peak is not None:
        i = steps.index(peak) if peak in steps else 0
        px = x(i + 0.5)
        anchor = "end" if px > LEFT + plot_w * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(
            f'<line x1="{px:.1f}" y1="{TOP}" x2="{px:.1f}" y2="{TOP + plot_h}" stroke="#111" '
            'stroke-width="1" class="jl-peak"/>'
            f'<text x="{px + dx:.1f}" y="{TOP - 4}" text-anchor="{anchor}">'
            f"peak {esc(format_bytes(t.peak_bytes))} at {esc(peak.instruction)}</text>"
        )
    return svg(
        WIDTH,
        HEIGHT,
        "".join(parts),
        cls="jl-memory-plot",
        label="live memory over the schedule",
        font_size=10,
    )


def _legend(xla: bool) -> str:
    items = [
        f'<span style="margin-right:10px">{swatch(COLOURS[k])}{LABELS[k]}</span>'
        for k in ("argument", "output", "temp")
    ]
    if xla:
        items.append(
            '<span><span style="display:inline-block;width:14px;border-top:2px dashed #cf222e;'
            'margin-right:3px;vertical-align:3px"></span>XLA: arguments + outputs + temp</span>'
        )
    return f'<div class="jl-legend" style="font-size:11px">{"".join(items)}</div>'


@renders(MemoryTimeline, "text")
def timeline_text(t: MemoryTimeline) -> str:
    """One line: steps, the peak and where, and XLA's total beside it."""
    comparison = t.compare(t.xla_memory)
    text = (
        f"MemoryTimeline of {t.computation or 'the program'}: {len(t.steps)} steps, "
        f"peak {format_bytes(t.peak_bytes)} at {t.peak_instruction or '–'}"
    )
    if comparison is not None:
        text += (
            f"; XLA arguments + outputs + temp {format_bytes(comparison.xla_bytes)} "
            f"(peak / XLA {comparison.ratio:.3f})"
        )
    return text


@renders(MemoryTimeline, "html")
def timeline_html(t: MemoryTimeline) -> str:
    return fragment(memory_section(t, t.xla_memory))


def memory_section(t: MemoryTimeline | None, memory: dict[str, int] | None) -> str:
    """XLA's memory analysis next to the live-buffer timeline of the same program."""
    if t is None or not t.steps:
        return f'<div class="jl-note">memory timeline: {UNAVAILABLE}</div>'
    comparison = t.compare(memory)
    rows: list[tuple[str, str]] = []
    if memory:
        for key in ("argument_size", "output_size", "alias_size", "temp_size"):
            if key in memory:
                rows.append((f"XLA {key.replace('_', ' ')}", format_bytes(memory[key])))
    else:
        rows.append(("XLA memory analysis", UNAVAILABLE))
    if comparison is not None:
        rows.append(("XLA arguments + outputs + temp", format_bytes(comparison.xla_bytes)))
    rows.append(("timeline peak (live buffers)", format_bytes(t.peak_bytes)))
    rows.append(("peak at", f"{t.peak_instruction} (step {t.peak_step.index} of {len(t.steps)})"))
    if comparison is not None:
        rows.append(("peak / XLA total", f"{comparison.ratio:.3f}"))
    if t.constant_bytes:
        rows.append(("constants (read-only, not in the peak)", format_bytes(t.constant_bytes)))
    peak_rows = [
        (b.instruction, b.shape, b.kind, format_bytes(b.nbytes))
        for b in t.live_at(t.peak_step.index)[:MAX_PEAK_BUFFERS]
    ]
    notes = "".join(f'<div class="jl-note">{esc(n)}</div>' for n in t.notes)
    return (
        '<div class="jl-memory">'
        + timeline_svg(t, comparison.xla_bytes if comparison else None)
        + _legend(comparison is not None)
        + table(["memory (one device)", "bytes"], rows, numeric=[False, True])
        + details(
            f"buffers live at the peak ({len(t.live_at(t.peak_step.index))})",
            table(
                ["defined by", "shape", "kind", "bytes"],
                peak_rows,
                numeric=[False, False, False, True],
            ),
        )
        + notes
        + '<div class="jl-note">estimated from the scheduled optimized HLO; buffers alive '
        "together never share memory, so the peak is a lower bound of XLA's total</div>"
        "</div>"
    )
