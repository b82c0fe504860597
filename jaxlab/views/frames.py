"""Source frames as the views name them: the user's lines in full, library frames (Flax, Optax,
JAX, anything installed) by package and folded to a count."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from jaxlab.base.format import source_location
from jaxlab.ir.sources import user_first

if TYPE_CHECKING:
    from jaxlab.ir.fusions import Fusion


def library_path(file: str) -> str:
    """An installed file from its package on: ``flax/nnx/nn/linear.py``."""
    parts = file.replace(os.sep, "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1 :])
    return "/".join(parts[-3:])


def source_lines_text(fusion: Fusion, most: int = 6) -> str:
    """A kernel's source lines, the user's in full and the libraries' folded to a count:
    ``model.py:12, step.py:30 (+ 2 in flax)``."""
    user, library = user_first(fusion.source_lines)
    mine = fusion.user_lines or user
    text = ", ".join(source_location(f, n) for f, n in mine[:most])
    if len(mine) > most:
        text += f", … ({len(mine)})"
    if library:
        packages = sorted({library_path(f).split("/")[0] for f, _ in library})
        more = f"+ {len(library)} in {', '.join(packages[:3])}"
        text = f"{text} ({more})" if text else more
    return text
