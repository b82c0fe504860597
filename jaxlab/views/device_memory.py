"""Views of device memory snapshots (`jaxlab.memory`, ``%memory``) and their diffs: a bar per
array, largest first, with the names that hold it and the cell and line that made it. Names,
file names and source come from the user's program and are escaped."""

from __future__ import annotations

from typing import Any

from jaxlab.api.memory import MemoryDiff, MemorySnapshot
from jaxlab.base.display import renders
from jaxlab.base.format import format_bytes
from jaxlab.views._html import esc, fragment, table
from jaxlab.views._text import text_table

MAX_ROWS = 40
BAR_WIDTH = 220

CSS = """
.jaxlab .jl-mem-bar { display: inline-block; height: 10px; background: #5cbfff;
  vertical-align: middle; }
.jaxlab .jl-mem-bar.jl-history { background: #ff8fa8; }
.jaxlab tr.jl-history td { background: rgba(255,80,120,.08); }
"""


SMALL_BYTES = 1024  # arrays under this share one row of the tables (twenty scalars: one row)


def _names(a: Any) -> str:
    if a.referenced_by:
        return ", ".join(a.referenced_by)
    return f"(no variable) {a.held_via}" if a.held_via else "(no variable)"


def _split_small(arrays: list) -> tuple[list, list]:
    """The arrays worth a row each, and the small ones (under ``SMALL_BYTES``) when there are
    several of them, for one row."""
    small = [a for a in arrays if a.nbytes < SMALL_BYTES]
    if len(small) < 2:
        return arrays, []
    return [a for a in arrays if a.nbytes >= SMALL_BYTES], small


def _small_row(small: list) -> tuple[str, str, str]:
    """(array, held by, created at) of the row of the small arrays."""
    names = [a.label for a in small if a.referenced_by]
    held = ", ".join(names[:4]) + (f", … {len(names) - 4} more" if len(names) > 4 else "")
    places = list(dict.fromkeys(a.created_at for a in small if a.created_at))
    where = ", ".join(places[:3]) + (f", … {len(places) - 3} more" if len(places) > 3 else "")
    unnamed = len(small) - len(names)
    if unnamed:
        held += f"{', ' if held else ''}{unnamed} with no variable"
    return f"{len(small)} arrays under {format_bytes(SMALL_BYTES)}", held, where


def _devices(by_device: dict[str, int]) -> str:
    return ", ".join(f"{d or '?'} {format_bytes(n)}" for d, n in sorted(by_device.items()))


@renders(MemorySnapshot, "text")
def snapshot_text(s: Any) -> str:
    lines = [
        f"Device memory: {format_bytes(s.total_bytes)} in {len(s.arrays)} arrays "
        f"({_devices(s.by_device)})"
    ]
    large, small = _split_small(s.arrays)
    rows = [
        [a.label, "x".join(map(str, a.shape)) or "()", a.dtype, format_bytes(a.nbytes),
         _names(a), a.created_at]
        for a in large[:20]
    ]  # fmt: skip
    if small:
        label, held, where = _small_row(small)
        rows.append([label, "", "", format_bytes(sum(a.nbytes for a in small)), held, where])
    lines += text_table(
        ["array", "shape", "dtype", "bytes", "held by", "created at"],
        rows,
        numeric=[False, False, False, True, False, False],
    )
    if len(large) > 20:
        lines.append(f"… {len(large) - 20} more arrays (.to_pandas())")
    history = s.held_only_by_history
    if history:
        held = format_bytes(sum(a.nbytes for a in history))
        lines.append(
            f"held only by IPython's output history: {held} "
            f"({', '.join(a.label for a in history[:5])}); `%reset -f out` releases it"
        )
    if s.profile_error:
        lines.append(s.profile_error)
    return "\n".join(lines)


def _bar(nbytes: int, largest: int, history: bool) -> str:
    width = min(BAR_WIDTH, max(1, round(BAR_WIDTH * nbytes / largest))) if largest else 1
    cls = "jl-mem-bar jl-history" if history else "jl-mem-bar"
    return f'<span class="{cls}" style="width:{width}px"></span>'


def _rows(arrays: list, largest: int) -> list[list[str]]:
    """A row per array, largest first, up to ``MAX_ROWS``; the small arrays share one last
    row."""
    large, small = _split_small(arrays)
    rows = _array_rows(large[:MAX_ROWS], largest)
    if small:
        label, held, where = _small_row(small)
        total = sum(a.nbytes for a in small)
        rows.append(
            [_bar(total, largest, False), esc(label), "", "", esc(format_bytes(total)),
             esc(", ".join(dict.fromkeys(d for a in small for d in a.devices))), esc(held),
             esc(where)]
        )  # fmt: skip
    return rows


def _array_rows(arrays: list, largest: int) -> list[list[str]]:
    return [
        [
            _bar(a.nbytes, largest, a.only_history),
            esc(a.label),
            esc("x".join(map(str, a.shape)) or "()"),
            esc(a.dtype),
            esc(format_bytes(a.nbytes)),
            esc(", ".join(a.devices)),
            esc(_names(a)),
            esc(a.created_at),
        ]
        for a in arrays
    ]


HEADERS = ["", "array", "shape", "dtype", "bytes", "devices", "held by", "created at"]
NUMERIC = [False, False, False, False, True, False, False, False]


@renders(MemorySnapshot, "html")
def snapshot_html(s: Any) -> str:
    largest = s.arrays[0].nbytes if s.arrays else 0
    large, _ = _split_small(s.arrays)
    history = s.held_only_by_history
    note = ""
    if history:
        note = (
            '<div class="jl-warn">held only by IPython\'s output history (pink): '
            f"{esc(format_bytes(sum(a.nbytes for a in history)))} in "
            f"{esc(', '.join(a.label for a in history[:8]))} — <code>%reset -f out</code> "
            "releases it</div>"
        )
    body = (
        f"<style>{CSS}</style>"
        f'<div class="jl-title">Device memory: {esc(format_bytes(s.total_bytes))} in '
        f"{len(s.arrays)} arrays</div>"
        f'<div class="jl-muted">{esc(_devices(s.by_device))}; creators from JAX\'s device '
        "memory profile</div>"
        + note
        + table(HEADERS, _rows(s.arrays, largest), numeric=NUMERIC, raw=True)
        + (
            f'<div class="jl-muted">… {len(large) - MAX_ROWS} more in '
            "<code>.to_pandas()</code></div>"
            if len(large) > MAX_ROWS
            else ""
        )
        + (f'<div class="jl-note">{esc(s.profile_error)}</div>' if s.profile_error else "")
    )
    return fragment(body, extra_class="jl-memory")


@renders(MemoryDiff, "text")
def diff_text(d: Any) -> str:
    sign = "+" if d.delta_bytes >= 0 else "−"
    lines = [
        f"Memory diff: {sign}{format_bytes(abs(d.delta_bytes))}; {len(d.created)} arrays created, "
        f"{len(d.freed)} freed"
    ]
    lines += text_table(
        ["change", "array", "shape", "bytes", "created at"],
        [[change, a.label, "x".join(map(str, a.shape)) or "()", format_bytes(a.nbytes),
          a.created_at]
         for change, arrays in (("created", d.created), ("freed", d.freed))
         for a in arrays[:20]],
        numeric=[False, False, False, True, False],
    )  # fmt: skip
    return "\n".join(lines)


@renders(MemoryDiff, "html")
def diff_html(d: Any) -> str:
    sign = "+" if d.delta_bytes >= 0 else "−"
    largest = max((a.nbytes for a in d.created + d.freed), default=0)
    parts = [
        f"<style>{CSS}</style>",
        f'<div class="jl-title">Memory diff: {esc(sign + format_bytes(abs(d.delta_bytes)))}, '
        f"{len(d.created)} arrays created, {len(d.freed)} freed</div>",
    ]
    for title, arrays in (("created", d.created), ("freed", d.freed)):
        if arrays:
            parts.append(f'<div class="jl-title">{title}</div>')
            parts.append(table(HEADERS, _rows(arrays, largest), numeric=NUMERIC, raw=True))
    return fragment("".join(parts), extra_class="jl-memory")
