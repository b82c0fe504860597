"""Static views of a :class:`jaxlab.Placement`: a table of the groups of arrays that share
shape, dtype and sharding, then per sharded or replicated group an N-D sharding grid in SVG (one
colour per device; a piece held by several devices is striped with their colours) and its
shards. Arrays that all sit whole on one device get one line."""

from __future__ import annotations

from itertools import pairwise, product
from typing import TYPE_CHECKING

from jaxlab.api.placement import Placement
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, plural
from jaxlab.views._html import details, esc, fragment, svg, table
from jaxlab.views.colours import device_colour, swatch

if TYPE_CHECKING:
    from jaxlab.api.placement import ArrayGroup, ArrayPlacement

MAX_ARRAYS = 64  # groups of arrays drawn in one output
MAX_GROUP_ROWS = 200
MAX_PANELS = 16  # 2-D slices drawn for arrays of rank 3 and more
MAX_SHARD_ROWS = 512
GRID_WIDTH = 320
MIN_CELL = 26


def device_list(ids: list[int]) -> str:
    """``[0, 1, 2, 3, 6]`` -> ``0–3, 6``."""
    if not ids:
        return "–"
    ordered = sorted(set(ids))
    parts: list[str] = []
    start = prev = ordered[0]
    for i in [*ordered[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        if prev - start >= 2:
            parts.append(f"{start}–{prev}")
        else:
            parts.extend(str(i) for i in range(start, prev + 1))
        if i is not None:
            start = prev = i
    return ", ".join(parts)


# -- text -------------------------------------------------------------------------------------


def array_summary(a: ArrayPlacement) -> str:
    parts = [f"{a.type_text}", format_bytes(a.nbytes), a.sharding_type]
    spec = a.spec + (f" over mesh {a.mesh}" if a.mesh else "")
    parts.append(spec)
    if a.committed is not None:
        parts.append("committed" if a.committed else "uncommitted")
    else:
        parts.append("abstract (no data)")
    if a.memory_kind and a.memory_kind != "device":
        parts.append(f"memory kind {a.memory_kind}")
    if a.note:
        parts.append(a.note)
    return ", ".join(parts)


def layout_summary(a: ArrayPlacement) -> str:
    tiles = a.tiles()
    shard = f"{a.dtype}[{','.join(map(str, a.shard_shape))}]"
    text = (
        f"{len(a.shards)} shard{'s' if len(a.shards) != 1 else ''} of {shard} "
        f"({format_bytes(a.shard_nbytes)}) on device{'s' if len(a.devices) != 1 else ''} "
        f"{device_list(a.devices)}"
    )
    if a.fully_replicated and len(a.devices) > 1:
        text += ", fully replicated"
    elif a.replication > 1:
        text += f", {len(tiles)} distinct pieces, each on {a.replication} devices"
    if not a.fully_addressable:
        local = sum(1 for s in a.shards if s.addressable)
        text += f"; {local} held by this process"
    return text


def headline(p: Placement) -> str:
    """``12 arrays, 1.2 MiB, in 3 groups on 8 devices`` or ``…, all on cpu:0 (device 0)``."""
    devices = sorted({d for a in p.arrays for d in a.devices})
    text = f"{plural(len(p.arrays), 'array')}, {format_bytes(p.nbytes)}"
    if p.single_device is not None:
        spec = p.arrays[0].spec  # ``on cpu:0`` for a single-device sharding
        name = spec.removeprefix("on ") if spec.startswith("on ") else ""
        where = f"{name} (device {p.single_device})" if name else f"device {p.single_device}"
        return text + f", all on {where}"
    groups = len(p.groups())
    return text + f", in {plural(groups, 'group')} on {plural(len(devices), 'device')}"


def group_line(g: ArrayGroup) -> str:
    a = g.first
    count = f" ×{g.count}" if g.count > 1 else ""
    return f"{g.paths}{count}: {array_summary(a)}" + (
        f" ({format_bytes(g.nbytes)} in all)" if g.count > 1 else ""
    )


def change_lines(p: Placement) -> list[str]:
    """``2 arrays laid out otherwise than at the last look: P() → P('model',): a, b``: one
    line per change of layout (the mesh left out when it stayed the same)."""
    moves: dict[tuple[str, str], list[str]] = {}
    for c in p.changes:
        before, after = c.before, c.after
        mesh_b, mesh_a = before.partition(" over ")[2], after.partition(" over ")[2]
        if mesh_b and mesh_b == mesh_a:
            before, after = before.partition(" over ")[0], after.partition(" over ")[0]
        moves.setdefault((before, after), []).append(c.path)
    if not moves:
        return []
    lines = [
        f"{plural(len(p.changes), 'array')} laid out otherwise than at the last look at "
        f"{p.title or p.name}:"
    ]
    for (before, after), paths in moves.items():
        shown = ", ".join(paths[:4]) + (f", … {len(paths) - 4} more" if len(paths) > 4 else "")
        lines.append(f"  {before} → {after}: {shown}")
    return lines


@renders(Placement, "text")
def placement_text(p: Placement) -> str:
    lines = [f"Placement of {p.title or p.name or 'value'}: {headline(p)}"]
    lines += [f"  {line}" for line in change_lines(p)]
    for g in p.groups():
        lines.append(f"  {group_line(g)}")
        if not g.distributed:
            continue
        a = g.first
        lines.append(f"    {layout_summary(a)}")
        for tile in a.tiles()[:8]:
            index = "[" + ", ".join(f"{x}:{y}" for x, y in tile.index) + "]"
            lines.append(f"    {index} on {device_list(tile.devices)}")
        if len(a.tiles()) > 8:
            lines.append(f"    … {len(a.tiles()) - 8} more pieces")
    for path, what in p.skipped:
        lines.append(f"  {path}: not placed ({what})")
    lines.append("  groups: .summary(); shards: .rows() or .to_pandas()")
    return "\n".join(lines)


# -- SVG grid ---------------------------------------------------------------------------------


def _scale(cuts: list[int], length: float) -> list[float]:
    """Pixel positions of the cut points: proportional, with a minimum cell size."""
    extent = cuts[-1] - cuts[0] or 1
    widths = [max(MIN_CELL, length * (b - a) / extent) for a, b in pairwise(cuts)]
    out = [0.0]
    for w in widths:
        out.append(out[-1] + w)
    return out


def _cell(cuts: list[int], start: int, stop: int) -> tuple[int, int]:
    return cuts.index(start), cuts.index(stop)


def grid_svg(a: ArrayPlacement, order: dict[int, int]) -> str:
    """The array's sharding grid: one panel per slice of the leading dimensions, rows and
    columns for the last two; rank 0 and 1 arrays are one row."""
    cuts = a.boundaries()
    rank = len(a.shape)
    if rank == 0:
        row_cuts, col_cuts, lead = [0, 1], [0, 1], []
    elif rank == 1:
        row_cuts, col_cuts, lead = [0, 1], cuts[0], []
    else:
        row_cuts, col_cuts, lead = cuts[-2], cuts[-1], cuts[:-2]
    lead_cells = [list(pairwise(c)) for c in lead]
    panels = list(product(*lead_cells)) if lead else [()]
    shown = panels[:MAX_PANELS]
    grid_w = GRID_WIDTH if len(shown) == 1 else max(120.0, GRID_WIDTH / 2)
    xs = _scale(col_cuts, grid_w)
    if rank >= 2:
        ratio = a.shape[-2] / (a.shape[-1] or 1)
        height = min(max(grid_w * ratio, 48.0), grid_w)
    else:
        height = 40.0
    ys = _scale(row_cuts, height)
    parts: list[str] = []
    pad, label_h = 4.0, (16.0 if lead else 0.0)
    panel_w, panel_h = xs[-1] + 2 * pad, ys[-1] + label_h + 2 * pad
    columns = max(1, min(len(shown), 4, int(2.2 * GRID_WIDTH // (panel_w + 8))))
    for n, panel in enumerate(shown):
        ox = (n % columns) * (panel_w + 8)
        oy = (n // columns) * (panel_h + 4)
        if lead:
            label = "[" + ", ".join([f"{x}:{y}" for x, y in panel] + [":", ":"]) + "]"
            parts.append(
                f'<text x="{ox + pad:.1f}" y="{oy + 12:.1f}" class="jl-grid-label">'
                f"{esc(label)}</text>"
            )
        parts.extend(
            _panel_tiles(
                a, order, panel, rank, row_cuts, col_cuts, xs, ys, ox + pad, oy + pad + label_h
            )
        )
    rows = (len(shown) + columns - 1) // columns
    width = columns * (panel_w + 8)
    total_h = rows * (panel_h + 4)
    more = ""
    if len(panels) > len(shown):
        more = (
            f'<div class="jl-note">showing {len(shown)} of {len(panels)} slices of the '
            "leading dimensions</div>"
        )
    image = svg(
        width, total_h, "".join(parts), cls="jl-sharding-grid", label=f"sharding of {a.path}"
    )
    return image + more


def _panel_tiles(a, order, panel, rank, row_cuts, col_cuts, xs, ys, ox, oy) -> list[str]:
    parts: list[str] = []
    for tile in a.tiles():
        box = tile.index
        if not all(_contains(box[d], panel[d]) for d in range(rank - 2)):
            continue  # the tile is in another slice of the leading dimensions
        if rank == 0:
            (r0, r1), (c0, c1) = (0, 1), (0, 1)
        elif rank == 1:
            (r0, r1), (c0, c1) = (0, 1), _cell(col_cuts, *box[0])
        else:
            (r0, r1), (c0, c1) = _cell(row_cuts, *box[-2]), _cell(col_cuts, *box[-1])
        x, y = ox + xs[c0], oy + ys[r0]
        w, h = xs[c1] - xs[c0], ys[r1] - ys[r0]
        devices = tile.devices
        index = "[" + ", ".join(f"{s}:{e}" for s, e in box) + "]"
        title = f"{index} on device{'s' if len(devices) > 1 else ''} {device_list(devices)}" + (
            f" (replica ids {device_list(tile.replicas)})" if len(devices) > 1 else ""
        )
        stripe = w / len(devices)
        rects = "".join(
            f'<rect x="{x + i * stripe:.1f}" y="{y:.1f}" width="{stripe:.1f}" height="{h:.1f}" '
            f'fill="{device_colour(order.get(d, d))}" data-device="{d}"/>'
            for i, d in enumerate(devices)
        )
        outline = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="none" '
            'stroke="#444" stroke-width="1"/>'
        )
        label = device_list(devices)
        text = ""
        if w >= 7 * min(len(label), 12) and h >= 14:
            if len(label) > 12:
                label = f"×{len(devices)}"
            text = (
                f'<text x="{x + w / 2:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="middle" '
                f'fill="#111">{esc(label)}</text>'
            )
        parts.append(
            f'<g class="jl-tile" data-index="{esc(index)}" data-devices="'
            f'{esc(",".join(map(str, devices)))}"><title>{esc(title)}</title>'
            f"{rects}{outline}{text}</g>"
        )
    return parts


def _contains(outer: tuple[int, int], inner: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


# -- HTML -------------------------------------------------------------------------------------


def legend(ids: list[int], order: dict[int, int], labels: dict[int, str] | None = None) -> str:
    items = []
    for d in ids:
        colour = device_colour(order.get(d, d))
        label = (labels or {}).get(d, str(d))
        items.append(
            '<span style="display:inline-block;margin:0 8px 2px 0;white-space:nowrap">'
            f"{swatch(colour)}{esc(label)}</span>"
        )
    return f'<div class="jl-legend">{"".join(items)}</div>'


def shards_table(a: ArrayPlacement) -> str:
    rows = [
        (s.device_id, s.process_index, s.index_text, s.replica_id, "yes" if s.addressable else "no")
        for s in a.shards[:MAX_SHARD_ROWS]
    ]
    more = ""
    if len(a.shards) > MAX_SHARD_ROWS:
        more = f'<div class="jl-note">{len(a.shards) - MAX_SHARD_ROWS:,} more shards</div>'
    return (
        table(
            ["device", "process", "index", "replica id", "addressable"],
            rows,
            numeric=[True, True, False, True, False],
        )
        + more
    )


def axes_caption(a: ArrayPlacement) -> str:
    rank = len(a.shape)
    if rank == 0:
        return "scalar"
    if rank == 1:
        return f"columns: dimension 0 ({a.shape[0]})"
    text = (
        f"rows: dimension {rank - 2} ({a.shape[-2]}), columns: dimension {rank - 1} ({a.shape[-1]})"
    )
    if rank > 2:
        text += "; one grid per slice of dimensions " + ", ".join(map(str, range(rank - 2)))
    return text


def array_html(a: ArrayPlacement, order: dict[int, int], label: str = "", count: int = 1) -> str:
    """One array's (or one group's) placement: summary, grid, legend and shards; a group is
    drawn once, for its first array."""
    labels = {s.device_id: f"{s.device_id} (process {s.process_index})" for s in a.shards}
    multi_process = len({s.process_index for s in a.shards}) > 1
    times = f" ×{count}" if count > 1 else ""
    return (
        f'<div class="jl-array" data-path="{esc(label or a.path)}" style="margin:6px 0 10px">'
        f"<div><code>{esc(label or a.path)}</code>{esc(times)} {esc(array_summary(a))}</div>"
        f'<div class="jl-muted">{esc(layout_summary(a))}</div>'
        f"{grid_svg(a, order)}"
        f'<div class="jl-note">{esc(axes_caption(a))}</div>'
        f"{legend(a.devices, order, labels if multi_process else None)}"
        f"{details(f'shards ({len(a.shards)})', shards_table(a))}"
        "</div>"
    )


def groups_table(p: Placement) -> str:
    """One row per group of arrays sharing shape, dtype and sharding."""
    rows = []
    for g in p.groups()[:MAX_GROUP_ROWS]:
        a = g.first
        shard = f"{a.dtype}[{','.join(map(str, a.shard_shape))}]" if g.distributed else ""
        rows.append(
            (g.paths, g.count, a.type_text, format_bytes(g.nbytes), a.sharding_type,
             a.spec, shard, device_list(a.devices))
        )  # fmt: skip
    more = len(p.groups()) - len(rows)
    note = f'<div class="jl-note">{more:,} more groups in .summary()</div>' if more > 0 else ""
    return (
        table(
            ["arrays", "count", "type", "bytes", "sharding", "spec", "shard", "devices"],
            rows,
            numeric=[False, True, False, True, False, False, False, False],
        )
        + note
    )


def placement_body(p: Placement) -> str:
    head = (
        f'<div class="jl-title">Placement of <code>{esc(p.title or p.name or "value")}</code>'
        f'</div><div class="jl-muted jl-headline">{esc(headline(p))}</div>'
    )
    changed = change_lines(p)
    if changed:
        head += '<div class="jl-warn">' + "<br>".join(esc(line) for line in changed) + "</div>"
    groups = p.groups()
    body: list[str] = []
    if p.single_device is not None:
        n = len(groups)
        body.append(details(f"arrays ({n} group{'s' * (n != 1)})", groups_table(p)))
    else:
        body.append(groups_table(p))
        drawn = [g for g in groups if g.distributed]
        for g in drawn[:MAX_ARRAYS]:
            body.append(array_html(g.first, p.device_order, g.paths, g.count))
        if len(drawn) > MAX_ARRAYS:
            body.append(
                f'<div class="jl-note">{len(drawn) - MAX_ARRAYS:,} more groups not drawn</div>'
            )
    if p.skipped:
        body.append(
            details(
                f"not placed ({len(p.skipped)})",
                table(["leaf", "what it is"], p.skipped),
            )
        )
    return head + "".join(body)


@renders(Placement, "html")
def placement_html(p: Placement) -> str:
    return fragment(placement_body(p))
