"""Static views of :func:`jaxlab.judge`: one row per variant and size with its verdict."""

from __future__ import annotations

import math
from typing import Any

from jaxlab.base.display import renders
from jaxlab.base.format import format_seconds, format_size
from jaxlab.benchmarking.judge import Judgement
from jaxlab.views._html import esc, fragment, notes_list, table
from jaxlab.views._text import text_table

JUDGE_CSS = ".jaxlab .jl-good { color: #1a7f37; font-weight: 600; }"
_CLASS = {"regression": "jl-bad", "improvement": "jl-good", "invariant": "jl-muted"}


def judgement_rows(j: Any) -> tuple[list[str], list[list[str]]]:
    headers = ["variant", "n", "old median", "new median", "speedup", "95 % CI", "p", "verdict"]
    rows = []
    for v in j.verdicts:
        finite = math.isfinite(v.speedup_low) and math.isfinite(v.speedup_high)
        ci = f"{v.speedup_low:.3g}–{v.speedup_high:.3g}" if finite else "–"
        p = "–" if not math.isfinite(v.p) else ("<1e-4" if v.p < 1e-4 else f"{v.p:.2g}")
        rows.append(
            [
                v.variant,
                format_size(v.size) if v.size else "–",
                format_seconds(v.old_s),
                format_seconds(v.new_s),
                f"{v.speedup:.3f}×",
                ci,
                p,
                v.judgement,
            ]
        )
    return headers, rows


def _title(j: Any) -> str:
    return f"judge {j.new_label} against {j.old_label} (tolerance {100 * j.tolerance:g} %)"


@renders(Judgement, "html")
def judgement_html(j: Any) -> str:
    headers, rows = judgement_rows(j)
    cells = []
    for v, row in zip(j.verdicts, rows, strict=True):
        cells.append(
            [esc(c) for c in row[:-1]]
            + [f'<span class="{_CLASS.get(v.judgement, "")}">{esc(row[-1])}</span>']
        )
    body = f'<div class="jl-title">{esc(_title(j))}</div>'
    body += table(headers, cells, numeric=[False] + [True] * 6 + [False], raw=True)
    if j.notes:
        body += notes_list(("jl-warn", n) for n in j.notes)
    return fragment(f'<div class="jl-bench"><style>{JUDGE_CSS}</style>{body}</div>')


@renders(Judgement, "text")
def judgement_text(j: Any) -> str:
    headers, rows = judgement_rows(j)
    lines = [_title(j)]
    lines += (
        ["  " + line for line in text_table(headers, rows)] if rows else ["  nothing in common"]
    )
    lines += [f"  - {n}" for n in j.notes]
    return "\n".join(lines)
