"""Numbers and values as people read them: seconds, bytes, counts, problem sizes, short reprs.

Every view and message formats through here, so one quantity reads the same everywhere.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from jaxlab.base.compat import transformation


def function_name(fn: Any, fallback: str | None = None) -> str:
    """How jaxlab names a function in titles and messages: what was staged, with JAX's
    transformations named (``grad(loss)``, ``vmap(grad(loss))``, ``hessian(f)``), through
    ``jax.jit`` and ``functools.wraps`` to the function's own name; else `fallback` (such as
    the expression as written), else its type's name."""
    found = transformation(fn)
    if found is None:
        jitted = getattr(fn, "__wrapped__", None)  # jax.jit's wrapper names what it wraps
        found = transformation(jitted) if jitted is not None else None
    if found is not None:
        name, inner = found
        inside = function_name(inner, fallback)
        if name == "jacfwd" and inside.startswith("jacrev(") and inside.endswith(")"):
            return f"hessian({inside[7:-1]})"  # jax.hessian is jacfwd(jacrev(f))
        return f"{name}({inside})"
    inner = getattr(fn, "__wrapped__", fn)
    name = getattr(inner, "__name__", None) or getattr(fn, "__name__", None)
    return name or fallback or type(fn).__name__


def plural(n: float, word: str, many: str | None = None) -> str:
    """``1 kernel``, ``3 kernels``, ``1.5 kernels``, ``2 processes`` (`many`: the plural when
    it is not `word` + s). Whole counts print with thousands separators."""
    whole = float(n).is_integer()
    count = f"{int(n):,}" if whole else f"{n:,.1f}"
    return f"{count} {word if whole and int(n) == 1 else (many or word + 's')}"


def format_seconds(seconds: float | None) -> str:
    """Human units: 12.3 µs, 4.56 ms, 1.23 s."""
    if seconds is None:
        return "–"
    # a value that rounds up to the next unit (999.96 µs) is shown in that unit (1 ms)
    if float(f"{seconds:.3g}") < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if float(f"{seconds:.3g}") < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if float(f"{seconds:.3g}") < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_stages(
    trace: float | None, lower: float | None, compile: float | None, cached: Sequence[str] = ()
) -> str:
    """``trace 1.2 ms, lower 3.4 ms (cached), compile 56 ms``: a call's compile-time stages,
    those JAX served from its caches marked."""
    stages = (("trace", trace), ("lower", lower), ("compile", compile))
    return ", ".join(
        f"{stage} {format_seconds(seconds)}" + (" (cached)" if stage in cached else "")
        for stage, seconds in stages
    )


def format_bytes(n: float | None) -> str:
    """Binary units: 512 B, 1.5 KiB, 3.2 GiB."""
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"


def format_count(n: float | None) -> str:
    """Decimal suffixes: 950, 12.3k, 4.5M, 1.2G."""
    if n is None:
        return "–"
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.3g}"


def format_size(n: float) -> str:
    """A problem size as people write it: 500, 2048, 1e5, 2.5e6 (an interpolated size such
    as a crossover is rounded to three significant digits)."""
    if n >= 1e4:
        exp = math.floor(math.log10(n) + 1e-9)
        mantissa = float(f"{n / 10**exp:.3g}")
        if mantissa >= 10:
            mantissa, exp = 1.0, exp + 1
        return f"{mantissa:g}e{exp}"
    if float(n).is_integer():
        return str(int(n))
    return f"{n:.3g}" if n < 100 else str(round(n))


_SHORT_DTYPES = {"float": "f", "int": "i", "uint": "u", "complex": "c", "bfloat": "bf"}


def short_dtype(dtype: Any) -> str:
    """float32 -> f32, bfloat16 -> bf16, bool -> bool (NumPy, JAX and PyTorch dtypes)."""
    name = str(dtype).removeprefix("torch.")
    for long, short in _SHORT_DTYPES.items():
        if name.startswith(long) and name[len(long) :].isdigit():
            return short + name[len(long) :]
    return name


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to `limit` characters (a failing repr gives the type)."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- where code comes from -----------------------------------------------------------------------

# turns the file name of code run in a notebook cell into its label ("In [19]"); set by the
# IPython extension (nothing below the magics knows about IPython), None outside a notebook
_cell_labeler: Callable[[str], str | None] | None = None


def set_cell_labeler(labeler: Callable[[str], str | None] | None) -> None:
    """Install the function that names notebook cells by their file name (None removes it)."""
    global _cell_labeler
    _cell_labeler = labeler


def cell_label(file: str) -> str | None:
    """ "In [19]" for the file name of a notebook cell's code, None for anything else."""
    labeler = _cell_labeler
    if labeler is None or not file:
        return None
    try:
        return labeler(file)
    except Exception:
        return None


def source_location(file: str, line: int | None = None) -> str:
    """Where code is, as a reader names it: "In [19], line 2" for a notebook cell,
    "model.py:12" for a file (its base name)."""
    label = cell_label(file)
    if label is not None:
        return f"{label}, line {line}" if line else label
    name = os.path.basename(file) or file
    return f"{name}:{line}" if line else name


_QUOTED_FILE = re.compile(r'"([^"\n]+\.py|<ipython-input-[^"\n]+>)"')


def relabel_cells(text: str) -> str:
    """An IR's text with the quoted file names of notebook cells (in HLO's stack-frame table,
    StableHLO's locations) replaced by the cells' labels: ``"In [19]"``."""
    if _cell_labeler is None or '"' not in text:
        return text
    labels: dict[str, str] = {}

    def replace(m: re.Match) -> str:
        name = m.group(1)
        if name not in labels:
            labels[name] = f'"{cell_label(name)}"' if cell_label(name) else m.group(0)
        return labels[name]

    return _QUOTED_FILE.sub(replace, text)


_SRC_INFO = re.compile(r"^(.*) at (.+):(\d+)$")


def function_location(src_info: str) -> str:
    """JAX's "fn at /path/file.py:12" (a traced function's debug info) as a reader names it:
    "fn at In [19], line 12" for a notebook cell, "fn at file.py:12" for a file."""
    m = _SRC_INFO.match(src_info or "")
    if m is None:
        return src_info
    return f"{m.group(1)} at {source_location(m.group(2), int(m.group(3)))}"
