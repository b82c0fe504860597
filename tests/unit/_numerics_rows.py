"""Numerics results built from host arrays (NumPy, float64 where it matters), for testing
the views without the instrumented run."""

from __future__ import annotations

import math
from typing import Any

import ml_dtypes  # noqa: F401  (bfloat16 for NumPy)
import numpy as np

from jaxlab.api.numerics import Numerics
from jaxlab.ir.numerics import (
    HISTOGRAM_BINS,
    HISTOGRAM_LOW,
    OVERFLOW_THRESHOLD,
    UNDERFLOW_THRESHOLD,
    ArgumentStats,
    Origin,
    Row,
)


def stats_of(x: Any) -> dict[str, Any]:
    """The statistics fields of one array, computed on the host."""
    x = np.asarray(x)
    wide = x.astype(np.float64)
    finite = wide[np.isfinite(wide)]
    nonzero = np.abs(finite[finite != 0])
    count = x.size
    hist = [0] * HISTOGRAM_BINS
    for v in nonzero:
        b = min(max(math.floor(math.log2(v)) - HISTOGRAM_LOW, 0), HISTOGRAM_BINS - 1)
        hist[b] += 1
    is_float = x.dtype.kind == "f"
    tiny = float(np.finfo(x.dtype).tiny) if is_float else 0.0
    out = {
        "dtype": str(x.dtype),
        "shape": tuple(x.shape),
        "size": count,
        "count": count,
        "nan": int(np.isnan(wide).sum()),
        "posinf": int((wide == np.inf).sum()),
        "neginf": int((wide == -np.inf).sum()),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "mean": float(finite.mean()) if finite.size else None,
        "absmax": float(np.abs(finite).max()) if finite.size else None,
        "absmin_nonzero": float(nonzero.min()) if nonzero.size else None,
        "zero_frac": float((finite == 0).sum() / count),
        "subnormal_frac": float(((nonzero > 0) & (nonzero < tiny)).sum() / count),
        "histogram": tuple(hist),
    }
    for key in ("bf16", "f16", "fp8_e4m3"):
        out[f"overflow_{key}"] = float((np.abs(finite) >= OVERFLOW_THRESHOLD[key]).sum() / count)
    for key in ("f16", "fp8_e4m3"):
        out[f"underflow_{key}"] = float((nonzero <= UNDERFLOW_THRESHOLD[key]).sum() / count)
    if not is_float:  # integers: ranges and zeros only
        for key in ("subnormal_frac", *(k for k in out if k.startswith(("over", "under")))):
            out[key] = None
        out["histogram"] = ()
    return out


def row(x: Any, equation: int, primitive: str, **fields: Any) -> Row:
    fields.setdefault("eqn_path", str(equation))
    fields.setdefault("executions", 1)
    return Row(**stats_of(x), equation=equation, primitive=primitive, **fields)


def argument(x: Any, name: str) -> ArgumentStats:
    return ArgumentStats(**stats_of(x), name=name)


def origin_of(result_rows: list[Row], index: int, inputs: tuple, **fields: Any) -> Origin:
    r = result_rows[index]
    defaults = {
        "primitive": r.primitive,
        "phase": r.phase,
        "file": r.file,
        "line": r.line,
        "where": r.where,
        "iteration": None,
        "device": None,
        "inputs": inputs,
        "trap": None,
        "fix": None,
        "row": index,
        "kind": "NaN" if r.nan else "+Inf" if r.posinf else "-Inf",
    }
    defaults.update(fields)
    return Origin(**defaults)


def numerics(rows: list[Row], origin: Origin | None = None, **fields: Any) -> Numerics:
    fields.setdefault("fn_name", "loss")
    fields.setdefault("arguments", [])
    return Numerics(equation_stats=rows, origin=origin, **fields)
