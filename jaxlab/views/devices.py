"""Static views of a :class:`jaxlab.DeviceReport` (``%devices``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jaxlab.api.devices import DeviceReport
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, plural
from jaxlab.views._html import esc, fragment, table
from jaxlab.views.colours import device_colour, swatch
from jaxlab.views.placement import device_list

if TYPE_CHECKING:
    from jaxlab.api.devices import DeviceInfo

MAX_ROWS = 1024


def headline(r: DeviceReport) -> str:
    n, local = len(r.devices), len(r.addressable)
    default = " (default)" if r.backend == r.default_backend else f" (default: {r.default_backend})"
    return (
        f"{r.backend} backend{default}: {plural(n, 'device')} in "
        f"{plural(r.process_count, 'process', 'processes')}; this is process "
        f"{r.process_index}, which addresses {plural(local, 'device')}"
    )


def _memory(d: DeviceInfo) -> tuple[str, str, str]:
    if d.memory is None:
        return d.memory_note, "", ""
    return (
        format_bytes(d.bytes_in_use) if d.bytes_in_use is not None else "–",
        format_bytes(d.bytes_limit) if d.bytes_limit is not None else "–",
        format_bytes(d.peak_bytes_in_use) if d.peak_bytes_in_use is not None else "–",
    )


@renders(DeviceReport, "text")
def devices_text(r: DeviceReport) -> str:
    lines = [headline(r)]
    if r.process_count > 1:
        for process, ids in r.processes.items():
            mark = " (this process)" if process == r.process_index else ""
            lines.append(f"  process {process}{mark}: devices {device_list(ids)}")
    for d in r.devices[:MAX_ROWS]:
        used, limit, peak = _memory(d)
        memory = used if not limit else f"in use {used}, limit {limit}, peak {peak}"
        coords = f", coords {d.coords}" if d.coords is not None else ""
        lines.append(
            f"  {d.id}: {d.platform} {d.kind}, process {d.process_index}{coords}, "
            f"{'addressable' if d.addressable else 'not addressable'}, memory: {memory}"
        )
    lines.extend(f"  note: {note}" for note in r.notes)
    return "\n".join(lines)


def devices_body(r: DeviceReport) -> str:
    order = {d.id: i for i, d in enumerate(r.devices)}
    has_coords = any(d.coords is not None for d in r.devices)
    headers = ["", "id", "platform", "kind", "process"]
    headers += ["coords"] if has_coords else []
    headers += ["addressable", "memory in use", "limit", "peak"]
    rows = []
    for d in r.devices[:MAX_ROWS]:
        used, limit, peak = _memory(d)
        cells = [
            swatch(device_colour(order[d.id])),
            esc(d.id),
            esc(d.platform),
            esc(d.kind),
            esc(d.process_index),
        ]
        cells += [esc(d.coords if d.coords is not None else "–")] if has_coords else []
        cells += [
            "yes" if d.addressable else '<span class="jl-muted">no</span>',
            f'<span class="jl-muted">{esc(used)}</span>' if d.memory is None else esc(used),
            esc(limit),
            esc(peak),
        ]
        rows.append(cells)
    numeric = [False, True, False, False, True] + ([False] if has_coords else [])
    numeric += [False, True, True, True]
    parts = [
        '<div class="jl-title">Devices</div>',
        f'<div class="jl-muted">{esc(headline(r))}</div>',
    ]
    if r.process_count > 1:
        items = "".join(
            f"<li>process {p}{' (this process)' if p == r.process_index else ''}: "
            f"devices {esc(device_list(ids))}</li>"
            for p, ids in r.processes.items()
        )
        parts.append(f'<ul class="jl-processes" style="margin:2px 0">{items}</ul>')
    parts.append(table(headers, rows, numeric=numeric, raw=True))
    if len(r.devices) > MAX_ROWS:
        parts.append(f'<div class="jl-note">{len(r.devices) - MAX_ROWS:,} more devices</div>')
    parts.extend(f'<div class="jl-note">{esc(note)}</div>' for note in r.notes)
    return "".join(parts)


@renders(DeviceReport, "html")
def devices_html(r: DeviceReport) -> str:
    return fragment(devices_body(r))
