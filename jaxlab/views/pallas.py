"""Static HTML of Pallas kernels: the grid of programs and, per operand, the grid of its blocks
(hover a program to see the blocks it reads and writes: CSS only, no script), the on-chip
footprint of one step against the platform's limit, and a ready ``pl.CostEstimate`` line.
Every name and text from the user's program is escaped."""

from __future__ import annotations

from typing import Any

from jaxlab.api.kernels import KernelCheck
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes, format_count, function_location
from jaxlab.views._html import esc, svg, table

CELL = 22
MAX_CELLS = 1024  # cells drawn per picture; bigger grids are described, not drawn
MAX_HOVER_PROGRAMS = 512

PALLAS_CSS = """
.jaxlab .jl-kernel { border-top: 1px solid rgba(128,128,128,.3); margin-top: 8px;
  padding-top: 4px; }
.jaxlab .jl-kernel .jl-pictures { display: flex; flex-wrap: wrap; gap: 16px;
  align-items: flex-start; }
.jaxlab .jl-kernel figure { margin: 0; }
.jaxlab .jl-kernel figcaption { font-size: 12px; font-weight: 600; }
.jaxlab .jl-kernel rect.jl-prog, .jaxlab .jl-kernel rect.jl-blk { fill: #f6f8fa; stroke: #8c959f; }
.jaxlab .jl-kernel rect.jl-prog:hover { fill: #0969da; }
.jaxlab .jl-kernel rect.jl-blk.jl-sel, .jaxlab .jl-kernel rect.jl-prog.jl-sel { fill: #ffb300; }
.jaxlab .jl-kernel rect.jl-oob { fill: #ffd7d5; stroke: #cf222e; stroke-dasharray: 3 2; }
.jaxlab .jl-kernel rect.jl-unused { fill: #ffffff; }
.jaxlab .jl-kernel pre.jl-cost { user-select: all; }
"""


def kernels_html(kernels: list[Any], platforms: tuple[str, ...] = ("tpu",)) -> str:
    if not kernels:
        return ""
    parts = [f"<style>{PALLAS_CSS}</style>"]
    parts += [kernel_html(k, platforms=platforms) for k in kernels]
    return "".join(parts)


def kernel_html(
    kernel: Any,
    program: tuple[int, ...] | None = None,
    platforms: tuple[str, ...] = ("tpu",),
    uid: str = "",
) -> str:
    """One kernel: header, program grid, a block grid per operand, footprint, cost, jaxpr.

    `program` is drawn selected (default: the first program)."""
    if program is None:
        program = tuple(0 for _ in kernel.grid)
    selected = 0 if kernel.dynamic_grid else kernel.program_index(program)
    grid = "×".join(map(str, kernel.grid)) or "none (one program)"
    head = (
        f'<div class="jl-title">Pallas kernel <code class="jl-kname">{esc(kernel.name)}</code> '
        f"· grid {esc(grid)} · {kernel.num_programs:,} programs"
        + (" · interpret mode" if kernel.interpret else "")
        + "</div>"
        f'<div class="jl-muted">{esc(function_location(kernel.source))} · selected program '
        f"<code>{esc(program)}</code>; hover a program to see the blocks it reads and "
        "writes</div>"
    )
    notes = "".join(f'<div class="jl-note">{esc(n)}</div>' for n in kernel.notes)
    oob = kernel.out_of_bounds
    if oob:
        rows = [(name, str(pid), str(block)) for name, pid, block in oob[:20]]
        notes += (
            f'<div class="jl-bad">{len(oob):,} block{"s" * (len(oob) != 1)} outside '
            "the array (index map out of bounds)</div>"
            + table(["operand", "program", "block index"], rows)
        )
    for b in kernel.blocks:
        if b.error:
            notes += f'<div class="jl-warn">{esc(b.name)}: {esc(b.error)}</div>'
    pictures = blocks = ""
    if not kernel.dynamic_grid:
        drawn = [_program_grid(kernel, selected)]
        drawn += [_block_grid(kernel, b, selected) for b in kernel.blocks]
        pictures = f'<div class="jl-pictures">{"".join(drawn)}</div>'
        blocks = _blocks_table(kernel, selected)
    hover = _hover_css(kernel, uid)
    body = (
        head
        + notes
        + pictures
        + blocks
        + "".join(_footprint(kernel, p) for p in _footprint_platforms(platforms))
        + _cost(kernel)
        + "<details><summary>kernel jaxpr</summary>"
        f'<pre class="jl-code jl-jaxpr">{esc(kernel.kernel_jaxpr_text)}</pre></details>'
    )
    uid_attr = f' data-kid="{esc(uid)}"' if uid else ""
    return f'<div class="jl-kernel"{uid_attr}>{hover}{body}</div>'


def _footprint_platforms(platforms: tuple[str, ...]) -> list[str]:
    out = []
    for p in platforms:
        kind = "tpu" if p == "tpu" else "gpu" if p in ("cuda", "rocm") else ""
        if kind and kind not in out:
            out.append(kind)
    return out or ["tpu"]


def _layout(shape: tuple[int, ...]) -> tuple[int, int]:
    """Rows and columns of a picture of an n-d grid: the last axis across, the rest down."""
    if not shape:
        return 1, 1
    cols = shape[-1]
    rows = 1
    for n in shape[:-1]:
        rows *= n
    return rows, cols


def _program_grid(kernel: Any, selected: int) -> str:
    rows, cols = _layout(kernel.grid)
    n = kernel.programs_evaluated or kernel.num_programs
    if rows * cols > MAX_CELLS:
        return (
            f'<figure><figcaption>programs</figcaption><div class="jl-note">'
            f"{kernel.num_programs:,} programs: too many to draw</div></figure>"
        )
    cells = []
    for k in range(min(n, rows * cols)):
        r, c = divmod(k, cols)
        pid = kernel.program_id(k)
        blocks = ", ".join(
            f"{b.name}: block {b.block_of(k)}" for b in kernel.blocks if b.block_of(k) is not None
        )
        cls = "jl-prog" + (" jl-sel" if k == selected else "")
        cells.append(
            f'<rect class="{cls}" data-p="{k}" data-pid="{esc(",".join(map(str, pid)))}" '
            f'x="{c * CELL + 1}" y="{r * CELL + 1}" width="{CELL - 2}" height="{CELL - 2}">'
            f"<title>program {esc(pid)}: {esc(blocks)}</title></rect>"
        )
    picture = svg(
        cols * CELL, rows * CELL, "".join(cells), cls="jl-grid-programs", label="programs"
    )
    caption = "programs" + (" (leading grid axes down)" if len(kernel.grid) > 2 else "")
    return f"<figure><figcaption>{caption}</figcaption>{picture}</figure>"


def _block_grid(kernel: Any, b: Any, selected: int) -> str:
    caption = (
        f"{esc(b.name)} · {esc(b.dtype)}{esc(list(b.array_shape))} in blocks of "
        f"{esc(list(b.block_shape))}"
    )
    shape = b.grid_of_blocks
    if b.indices is None:
        return (
            f"<figure><figcaption>{caption}</figcaption>"
            f'<div class="jl-note">not drawn: {esc(b.error)}</div></figure>'
        )
    # the drawn range covers the array's blocks and any block an index map points outside it
    lo = [min(0, int(b.indices[:, d].min())) if len(b.indices) else 0 for d in range(len(shape))]
    hi = [
        max(n - 1, int(b.indices[:, d].max())) if len(b.indices) else n - 1
        for d, n in enumerate(shape)
    ]
    span = tuple(h - lo_ + 1 for lo_, h in zip(lo, hi, strict=True))
    rows, cols = _layout(span)
    if rows * cols > MAX_CELLS:
        return (
            f'<figure><figcaption>{caption}</figcaption><div class="jl-note">'
            f"{rows * cols:,} blocks: too many to draw</div></figure>"
        )
    users: dict[tuple[int, ...], list[int]] = {}
    for k in range(len(b.indices)):
        users.setdefault(tuple(int(v) for v in b.indices[k]), []).append(k)
    chosen = b.block_of(selected)
    cells = []
    for flat in range(rows * cols):
        rel = _unravel(flat, span)
        block = tuple(r + lo_ for r, lo_ in zip(rel, lo, strict=True))
        r, c = divmod(flat, cols)
        who = users.get(block, [])
        cls = "jl-blk"
        if b.out_of_bounds(block):
            if not who:
                continue
            cls += " jl-oob"
        elif not who:
            cls += " jl-unused"
        if block == chosen:
            cls += " jl-sel"
        ranges = b.element_ranges(block)
        where = ", ".join(f"{s}:{e}" for s, e in ranges)
        programs = ", ".join(str(kernel.program_id(k)) for k in who[:8]) + (
            f", … ({len(who)})" if len(who) > 8 else ""
        )
        title = (
            f"block {block} = [{where}]"
            + (f"; programs {programs}" if who else "; no program touches it")
            + ("; OUT OF BOUNDS" if "jl-oob" in cls else "")
        )
        cells.append(
            f'<rect class="{cls}" data-block="{esc(",".join(map(str, block)))}" '
            f'data-p="{" ".join(map(str, who[:MAX_HOVER_PROGRAMS]))}" '
            f'x="{c * CELL + 1}" y="{r * CELL + 1}" width="{CELL - 2}" height="{CELL - 2}">'
            f"<title>{esc(title)}</title></rect>"
        )
    picture = svg(cols * CELL, rows * CELL, "".join(cells), cls="jl-grid-blocks", label=b.name)
    return f"<figure><figcaption>{caption}</figcaption>{picture}</figure>"


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for n in reversed(shape):
        flat, r = divmod(flat, n)
        out.append(r)
    return tuple(reversed(out))


def _hover_css(kernel: Any, uid: str) -> str:
    n = min(kernel.programs_evaluated, MAX_HOVER_PROGRAMS)
    if n <= 1:
        return ""
    scope = f'.jl-kernel[data-kid="{esc(uid)}"]' if uid else ".jl-kernel"
    rules = [
        f'{scope}:has(rect.jl-prog[data-p="{k}"]:hover) rect.jl-blk[data-p~="{k}"]{{fill:#0969da;}}'
        for k in range(n)
    ]
    return f"<style>{''.join(rules)}</style>"


def _blocks_table(kernel: Any, selected: int) -> str:
    rows = []
    for b in kernel.blocks:
        block = b.block_of(selected)
        where = (
            ", ".join(f"{s}:{e}" for s, e in b.element_ranges(block)) if block is not None else ""
        )
        rows.append(
            (
                b.name,
                str(block) if block is not None else "—",
                f"[{where}]" if where else "—",
                f"{b.dtype}{list(b.block_shape)}",
                format_bytes(b.block_bytes),
                b.memory_space or "default",
            )
        )
    pid = kernel.program_id(selected)
    return f'<div class="jl-muted">blocks of program {esc(pid)}</div>' + table(
        ["operand", "block index", "elements", "block", "bytes", "memory space"], rows
    )


def _footprint(kernel: Any, platform: str) -> str:
    fp = kernel.footprint(platform)
    rows = [(name, n, format_bytes(size), format_bytes(n * size)) for name, n, size in fp.parts]
    rows.append(("total per step", "", "", format_bytes(fp.bytes)))
    verdict = (
        f'<span class="{"jl-muted" if fp.fits else "jl-bad"}">'
        f"{format_bytes(fp.bytes)} of {format_bytes(fp.limit)} "
        f"({100 * fp.bytes / fp.limit:.1f}%) · limit: {esc(fp.limit_text)}</span>"
    )
    title = "VMEM per step (TPU)" if platform == "tpu" else "shared memory per program (GPU)"
    return (
        f'<div class="jl-title">{title}: {verdict}</div>'
        + table(
            ["operand", "buffers", "block bytes", "bytes"], rows, numeric=[False, True, True, True]
        )
        + f'<div class="jl-note">rule: {esc(fp.rule)}</div>'
    )


def _cost(kernel: Any) -> str:
    cost = kernel.cost
    given = kernel.cost_estimate
    given_text = (
        "the call gives " + ", ".join(f"{k}={v}" for k, v in given.items())
        if given
        else "the call gives no cost_estimate, so XLA treats the kernel as free"
    )
    notes = "".join(f'<div class="jl-note">{esc(n)}</div>' for n in cost.notes)
    return (
        f'<div class="jl-title">cost: {format_count(cost.flops)} FLOPs, '
        f"{format_count(cost.transcendentals)} transcendentals, "
        f"{format_bytes(cost.bytes_accessed)} moved</div>"
        f'<div class="jl-muted">counted from the kernel jaxpr × {kernel.num_programs:,} '
        "programs; bytes = blocks fetched or written back (a block unchanged from the previous "
        f"program is not moved again) × block bytes; {esc(given_text)}. Paste:</div>"
        f'<pre class="jl-code jl-cost">{esc(cost.line())}</pre>{notes}'
    )


def kernels_text(kernels: list[Any], platforms: tuple[str, ...] = ("tpu",)) -> list[str]:
    kind = _footprint_platforms(platforms)[0]
    memory = "VMEM/step" if kind == "tpu" else "shared memory/program"
    lines = []
    for k in kernels:
        fp = k.footprint(kind)
        lines.append(
            f"  kernel {k.name}: grid {k.grid}, {len(k.inputs)} in / {len(k.outputs)} out, "
            f"{memory} {format_bytes(fp.bytes)}"
            + (f", {len(k.out_of_bounds)} out-of-bounds blocks" if k.out_of_bounds else "")
        )
        lines.append(f"    {k.cost.line()}")
    return lines


@renders(KernelCheck, "text")
def kernel_check_text(check: Any) -> str:
    verdict = "OK" if check.ok else "MISMATCH"
    lines = [f"check_kernel {check.kernel_name} vs {check.ref_name} ({check.interpret}): {verdict}"]
    for o in check.outputs:
        lines.append("  " + _output_line(o))
    return "\n".join(lines)


def _output_line(o: Any) -> str:
    if o.problem:
        return f"output {o.index}: {o.problem}"
    head = (
        f"output {o.index} {o.dtype}{list(o.shape)}: {o.mismatches:,} of {o.total:,} "
        f"elements differ (rtol={o.rtol:g}, atol={o.atol:g}; max abs error "
        f"{o.max_abs_error:.3g})"
    )
    if not o.mismatches:
        return head
    head += f"; first at {o.first_index}: kernel {o.kernel_value!r}, reference {o.ref_value!r}"
    if o.first_program is not None:
        where = ", ".join(f"{s}:{e}" for s, e in o.block_elements)
        head += (
            f"; first wrong block: program {o.first_program} writes block {o.first_block} "
            f"[{where}] of kernel {o.kernel} ({o.block_mismatches:,} wrong values in it)"
        )
    return head


@renders(KernelCheck, "html")
def kernel_check_html(check: Any) -> str:
    from jaxlab.views._html import fragment

    verdict = (
        '<span class="jl-muted">outputs match</span>'
        if check.ok
        else '<span class="jl-bad">outputs differ</span>'
    )
    rows = []
    for o in check.outputs:
        where = ", ".join(f"{s}:{e}" for s, e in o.block_elements) if o.block_elements else ""
        rows.append(
            (
                o.index,
                f"{o.dtype}{list(o.shape)}",
                o.problem or f"{o.mismatches:,} / {o.total:,}",
                f"{o.rtol:g} / {o.atol:g}",
                f"{o.max_abs_error:.3g}",
                "" if o.first_index is None else str(o.first_index),
                "" if o.first_program is None else str(o.first_program),
                "" if o.first_block is None else f"{o.first_block} [{where}]",
            )
        )
    body = (
        f'<div class="jl-title">check_kernel <code class="jl-kname">{esc(check.kernel_name)}'
        f"</code> vs <code>{esc(check.ref_name)}</code> ({esc(check.interpret)}): "
        f"{verdict}</div>"
        + table(
            [
                "output",
                "array",
                "wrong values",
                "rtol / atol",
                "max abs error",
                "first wrong element",
                "first wrong program",
                "its output block",
            ],
            rows,
        )
    )
    return fragment(body, extra_class="jl-kcheck")


def inspector_section(insp: Any) -> dict | None:
    """The inspector's section of Pallas kernels (none when the program calls none)."""
    kernels = insp.pallas_kernels
    if not kernels:
        return None
    note = ""
    if any(k.interpret for k in kernels):
        note = (
            '<div class="jl-note">kernels with interpret=True are interpreted on every '
            "platform; without it, <code>%inspect --platforms tpu,cuda</code> shows their "
            "Mosaic and GPU modules linked to the kernel's lines</div>"
        )
    return {"kind": "pallas", "html": note + kernels_html(kernels, ("tpu", "cuda"))}
