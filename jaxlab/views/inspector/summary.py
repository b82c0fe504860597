"""Parts of the static rendering of an :class:`jaxlab.Inspection`: the text summary, timings,
XLA's analyses and the fusion table (the inspector composes them, ``%hlo`` shows the table)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxlab.api.inspection import Inspection
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_count, format_seconds, plural
from jaxlab.core import analysis as _analysis
from jaxlab.views._html import table
from jaxlab.views.frames import source_lines_text
from jaxlab.views.numerics import numerics_lines
from jaxlab.views.program import distribution_lines

if TYPE_CHECKING:
    from jaxlab.core.stages import StageTimings
    from jaxlab.ir.fusions import Fusion

MAX_TEXT_LINES = 4000
MAX_FUSION_ROWS = 200


@renders(Inspection, "text")
def inspection_text(insp: Inspection) -> str:
    """Plain-text summary (the ``text/plain`` fallback)."""
    lines = [f"Inspection of {insp.fn_name}({insp.arguments.text}) -> {insp.results}"]
    lines.append(f"  arguments: {insp.arguments.totals} (.arguments.to_pandas() lists them)")
    lines.append(f"  stages: {insp.timings.summary()}")
    module = insp.hlo_module
    fusions = fusions_of_inspection(insp)
    lines.append(
        f"  optimized HLO: {len(module):,} instructions, {len(fusions):,} fusions"
        + (
            f" ({', '.join(f'{f.name}: {f.kind}' for f in fusions[:4])}"
            + (", …" if len(fusions) > 4 else "")
            + ")"
            if fusions
            else ""
        )
    )
    cost = insp.cost
    if cost:
        lines.append(
            f"  XLA cost estimate: {format_count(cost.get('flops'))} FLOPs, "
            f"{format_bytes(cost.get('bytes accessed'))} accessed"
        )
    else:
        lines.append(f"  XLA cost estimate: {_analysis.UNAVAILABLE}")
    mem = insp.memory
    if mem:
        lines.append(
            "  XLA memory: "
            + ", ".join(
                f"{k} {format_bytes(mem.get(k))}"
                for k in ("argument_size", "output_size", "temp_size")
                if k in mem
            )
        )
    else:
        lines.append(f"  XLA memory: {_analysis.UNAVAILABLE}")
    lines.append("  devices: " + ", ".join(str(d) for d in insp.devices))
    lines.extend(distribution_lines(insp))
    lines.append("  texts: .jaxpr_text, .stablehlo, .hlo")
    numerics = getattr(insp, "numerics", None)
    if numerics is not None:  # the answer first: where the first NaN or Inf is born
        lines[:0] = numerics_lines(numerics)
        lines.append(f"  values: .numerics ({len(numerics.equation_stats):,} equation outputs)")
    return "\n".join(lines)


def fusions_of_inspection(insp: Inspection) -> list[Fusion]:
    """The fusions of an inspection (its kernels without the ops XLA left unfused)."""
    return [f for f in insp.fusions if f.kind != "unfused"]


def timings_table(timings: StageTimings) -> str:
    rows = [
        (
            stage + (" (cached)" if stage in timings.cached else ""),
            format_seconds(getattr(timings, f"{stage}_s")),
        )
        for stage in ("trace", "lower", "compile")
    ]
    if timings.first_run_s is not None:
        rows.append(("first run", format_seconds(timings.first_run_s)))
    if timings.steady_run_s is not None:
        rows.append(
            (f"steady run (median of {timings.steady_runs})", format_seconds(timings.steady_run_s))
        )
    return table(["stage", "wall time"], rows, numeric=[False, True])


def analysis_table(insp: Inspection) -> str:
    rows: list[tuple[str, str]] = []
    cost = insp.cost
    if cost:
        for key, label in _analysis.COST_KEYS.items():
            if key in cost:
                value = cost[key]
                text = format_bytes(value) if "bytes" in key else format_count(value)
                rows.append((f"{label} (XLA estimate)", text))
    else:
        rows.append(("cost analysis", _analysis.UNAVAILABLE))
    mem = insp.memory
    if mem:
        for key in (
            "argument_size",
            "output_size",
            "alias_size",
            "temp_size",
            "generated_code_size",
        ):
            if key in mem:
                rows.append((key.replace("_", " "), format_bytes(mem[key])))
    else:
        rows.append(("memory analysis", _analysis.UNAVAILABLE))
    return table(["XLA analysis", "value"], rows, numeric=[False, True])


def fusion_table(insp: Inspection) -> str:
    fusions = fusions_of_inspection(insp)
    if not fusions:
        return '<div class="jl-note">no fusions in the optimized HLO</div>'
    rows = []
    for f in fusions[:MAX_FUSION_ROWS]:
        ops = f.opcodes
        summary = ", ".join(ops[:6]) + (f", … ({len(ops)} ops)" if len(ops) > 6 else "")
        sources = source_lines_text(f, most=4)
        rows.append((f.name, f.kind, summary, f.shape, sources))
    more = ""
    if len(fusions) > MAX_FUSION_ROWS:
        more = (
            f'<div class="jl-note">{len(fusions) - MAX_FUSION_ROWS:,} more fusions not shown</div>'
        )
    title = f'<div class="jl-title">{plural(len(fusions), "fusion")}</div>'
    return title + table(["fusion", "kind", "ops", "output", "source"], rows) + more
