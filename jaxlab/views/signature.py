"""A call's signature as a title: arguments summarised in one line, totals beside it, and every
leaf one click away (a ``<details>`` table that survives export)."""

from __future__ import annotations

from typing import Any

from jaxlab.base.format import format_bytes
from jaxlab.views._html import esc, table

MAX_LEAF_ROWS = 2000


def leaves_details(summary: Any) -> str:
    """The arguments' leaves as a folded table: argument path, type, bytes."""
    leaves = summary.leaves
    rows = [[leaf.path, leaf.text, format_bytes(leaf.nbytes)] for leaf in leaves[:MAX_LEAF_ROWS]]
    more = (
        f'<div class="jl-muted">… {len(leaves) - MAX_LEAF_ROWS:,} more in '
        "<code>.arguments.to_pandas()</code></div>"
        if len(leaves) > MAX_LEAF_ROWS
        else ""
    )
    n = len(leaves)
    return (
        f'<details class="jl-leaves"><summary>{n:,} lea{"f" if n == 1 else "ves"}</summary>'
        f"{table(['argument', 'type', 'bytes'], rows, numeric=[False, False, True])}{more}"
        "</details>"
    )


def signature_html(name: str, summary: Any, results: str | None = None, prefix: str = "") -> str:
    """``<prefix> name(args) → results`` as a title, then totals and the folded leaf list."""
    out = f" → <code>{esc(results)}</code>" if results else ""
    return (
        f'<div class="jl-title jl-signature">{esc(prefix)}<code>{esc(name)}({esc(summary.text)})'
        f"</code>{out}</div>"
        f'<div class="jl-muted">arguments: {esc(summary.totals)}</div>'
        f"{leaves_details(summary)}"
    )
