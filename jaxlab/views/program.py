"""Static sections about a compiled program's distribution: input and output shardings, the
partitioned HLO's collectives, and memory. Each takes plain data and returns HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxlab.base.format import format_bytes, plural
from jaxlab.core.analysis import UNAVAILABLE
from jaxlab.views._html import details, esc, table
from jaxlab.views.memory import memory_section

if TYPE_CHECKING:
    from jaxlab.api.inspection import Inspection
    from jaxlab.ir.collectives import Collective
    from jaxlab.ir.shardings import ProgramShardings

MAX_ROWS = 256


def _shape(shape: tuple[int, ...] | None) -> str:
    return "–" if shape is None else "[" + ",".join(map(str, shape)) + "]"


def shardings_section(s: ProgramShardings | None) -> str:
    """Tables of the input and output shardings (``ProgramShardings``)."""
    if s is None:
        return f'<div class="jl-note">shardings: {UNAVAILABLE}</div>'
    parts = []
    for title, entries, is_input in (("inputs", s.inputs, True), ("outputs", s.outputs, False)):
        rows = [
            [e.path, e.type_text, e.sharding_type, e.spec + (f" over {e.mesh}" if e.mesh else ""),
             _shape(e.shard_shape), e.num_devices]
            + (["donated" if e.donated else ""] if is_input else [])
            for e in entries[:MAX_ROWS]
        ]  # fmt: skip
        headers = [title, "type", "sharding", "spec", "shard shape", "devices"]
        headers += [""] if is_input else []
        more = len(entries) - MAX_ROWS
        parts.append(
            table(headers, rows, numeric=[False] * 5 + [True] + [False] * is_input)
            + (f'<div class="jl-note">{more:,} more {title}</div>' if more > 0 else "")
        )
    return '<div class="jl-shardings">' + "".join(parts) + "</div>"


def collectives_summary(collectives: list[Collective]) -> str:
    if not collectives:
        return "no collectives"
    kinds: dict[str, int] = {}
    for c in collectives:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    moved = sum(c.bytes_moved for c in collectives)
    listed = ", ".join(f"{n} {k}" for k, n in kinds.items())
    count = plural(len(collectives), "collective")
    return f"{count} ({listed}); {format_bytes(moved)} sent per device"


def collectives_section(collectives: list[Collective] | None, entry: str = "") -> str:
    """A table of the partitioned HLO's collectives with replica groups and bytes moved."""
    if collectives is None:
        return f'<div class="jl-note">collectives: {UNAVAILABLE}</div>'
    if not collectives:
        return '<div class="jl-note">no collectives in the optimized HLO</div>'
    rows = []
    for c in collectives[:MAX_ROWS]:
        where = "" if not entry or c.computation == entry else f"in {c.computation}"
        rows.append(
            (
                c.name,
                c.kind + (" (async)" if c.is_async else ""),
                c.instruction.shape,
                f"{c.num_groups} × {c.group_size}"
                if c.kind != "collective-permute"
                else f"{len(c.pairs)} pairs",
                c.groups_summary(),
                format_bytes(c.bytes),
                format_bytes(c.bytes_moved),
                format_bytes(c.total_bytes_moved),
                where,
                c.op_name,
            )
        )
    more = len(collectives) - MAX_ROWS
    return (
        f'<div class="jl-title">{esc(collectives_summary(collectives))}</div>'
        + table(
            [
                "instruction",
                "kind",
                "shape",
                "groups",
                "replica groups",
                "data / device",
                "sent / device",
                "sent, all devices",
                "",
                "from",
            ],
            rows,
            numeric=[False, False, False, False, False, True, True, True, False, False],
        )
        + (f'<div class="jl-note">{more:,} more collectives</div>' if more > 0 else "")
        + '<div class="jl-note">bytes per execution, estimated for ring algorithms; a '
        "collective inside a loop runs once per iteration</div>"
    )


def distribution_sections(insp: Inspection) -> str:
    """The shardings, collectives and memory of an Inspection, as collapsible sections."""
    shardings = insp.shardings
    devices = shardings.num_devices if shardings is not None else 1
    collectives = insp.collectives
    timeline = insp.memory_timeline
    entry = insp.hlo_module.entry.name if insp.hlo_module.entry else ""
    memory_title = "memory"
    if timeline is not None and timeline.steps:
        memory_title += f" (peak {format_bytes(timeline.peak_bytes)} per device)"
    return (
        details(
            f"shardings ({plural(devices, 'device')})",
            shardings_section(shardings),
        )
        + details(
            f"collectives ({len(collectives or [])})",
            collectives_section(collectives, entry),
            open_=bool(collectives),
        )
        + details(memory_title, memory_section(timeline, insp.memory))
    )


def hlo_distribution(insp: Inspection) -> str:
    """What ``%hlo`` adds under the fusions: shardings and collectives of a partitioned
    program (nothing for a single-device program without collectives)."""
    shardings = insp.shardings
    if (shardings is None or shardings.num_devices <= 1) and not insp.collectives:
        return ""
    entry = insp.hlo_module.entry.name if insp.hlo_module.entry else ""
    return details(
        f"shardings ({plural(shardings.num_devices, 'device') if shardings else '? devices'})",
        shardings_section(shardings),
    ) + collectives_section(insp.collectives, entry)


def distribution_lines(insp: Inspection) -> list[str]:
    """Plain-text lines for an Inspection's repr."""
    lines = []
    shardings = insp.shardings
    if shardings is not None and shardings.num_devices > 1:
        specs = ", ".join(sorted({e.spec for e in shardings.inputs}))[:120]
        lines.append(f"  shardings: {shardings.num_devices} devices; inputs {specs}")
    if insp.collectives:
        lines.append(f"  collectives: {collectives_summary(insp.collectives)}")
    timeline = insp.memory_timeline
    if timeline is not None and timeline.steps:
        lines.append(
            f"  memory timeline: peak {format_bytes(timeline.peak_bytes)} per device at "
            f"{timeline.peak_instruction}"
        )
    return lines
