"""The inspector's one stylesheet (``inspector.css``), which the static HTML inlines and the
live widget loads as its CSS, and the size of its link palette (the ``--jl-cN`` properties it
defines), which the static renderer and, through the generated types, the widget share."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

CSS_FILE = Path(__file__).resolve().parent / "inspector.css"


@cache
def stylesheet() -> str:
    """The stylesheet without its comments (as the static HTML inlines it)."""
    return re.sub(r"/\*.*?\*/\s*", "", CSS_FILE.read_text(), flags=re.S)


def palette() -> list[str]:
    """The link colours, in group order: group g is drawn with colour g mod their number."""
    found = dict(re.findall(r"--jl-c(\d+):\s*([^;]+);", stylesheet()))
    return [found[str(i)] for i in range(len(found))]


PALETTE = len(palette())
