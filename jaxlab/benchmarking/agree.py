"""Do two variants compute the same thing? Integers and booleans must match exactly; floats
within a tolerance set by the less precise of the two dtypes, scaled by the output's size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from jaxlab.base import format as _format
from jaxlab.benchmarking.convert import is_array, to_host

# relative tolerance per floating dtype (the less precise of the pair decides)
RTOL = {
    "float16": 1e-2,
    "bfloat16": 3e-2,
    "float32": 1e-4,
    "complex64": 1e-4,
    "float64": 1e-9,
    "complex128": 1e-9,
}
PRECISION_ORDER = ["bfloat16", "float16", "float32", "complex64", "float64", "complex128"]


@dataclass(frozen=True)
class Disagreement:
    """Why an output differs from the reference output."""

    message: str


@dataclass(frozen=True)
class DtypeGap:
    """The two outputs were computed at different precisions (e.g. float32 vs float64)."""

    ours: str
    theirs: str


def tolerance(dtype_a: str, dtype_b: str) -> float | None:
    """rtol for comparing these dtypes; None means exact."""
    known = [d for d in (dtype_a, dtype_b) if d in RTOL]
    if not known:
        return None
    least = min(known, key=PRECISION_ORDER.index)
    return RTOL[least]


def compare_outputs(
    reference: Any,
    other: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
) -> tuple[Disagreement | None, DtypeGap | None]:
    """Compare two outputs leaf by leaf. Returns (disagreement or None, dtype gap or None)."""
    ref_leaves, other_leaves = (
        jax.tree_util.tree_leaves(reference),
        jax.tree_util.tree_leaves(other),
    )
    if len(ref_leaves) != len(other_leaves):
        return Disagreement(
            f"returns {len(other_leaves)} value(s) where the reference returns {len(ref_leaves)}"
        ), None
    gap = None
    many = len(ref_leaves) > 1
    for i, (a, b) in enumerate(zip(ref_leaves, other_leaves, strict=True)):
        where = f"output {i}: " if many else ""
        if not _numeric(a) or not _numeric(b):
            # a function, string or other object held static: the same object, or equal
            if a is not b and not _equal(a, b):
                return Disagreement(
                    f"{where}{_format.short_repr(b, 40)} where the reference has "
                    f"{_format.short_repr(a, 40)}"
                ), gap
            continue
        a_host = np.asarray(to_host(a)) if is_array(a) else np.asarray(a)
        b_host = np.asarray(to_host(b)) if is_array(b) else np.asarray(b)
        if a_host.shape != b_host.shape:
            return Disagreement(
                f"{where}shape {b_host.shape} where the reference has {a_host.shape}"
            ), gap
        da, db = str(a_host.dtype), str(b_host.dtype)
        if da != db and gap is None and (da in RTOL or db in RTOL):
            gap = DtypeGap(ours=db, theirs=da)
        problem = _compare_arrays(a_host, b_host, rtol, atol)
        if problem:
            return Disagreement(where + problem), gap
    return None, gap


def _numeric(value: Any) -> bool:
    return is_array(value) or isinstance(value, (bool, int, float, complex, np.generic))


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _compare_arrays(
    a: np.ndarray, b: np.ndarray, rtol: float | None, atol: float | None
) -> str | None:
    if a.size == 0:
        return None
    da, db = str(a.dtype), str(b.dtype)
    tol = rtol if rtol is not None else tolerance(da, db)
    if tol is None and atol is None:
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            equal = a == b
            if bool(np.all(equal)):
                return None
            return _describe(a, b, ~equal, "exact comparison (integers)")
        tol = 1e-4
    a64 = a.astype(np.complex128 if "complex" in da + db else np.float64)
    b64 = b.astype(a64.dtype)
    finite = np.isfinite(a64)
    scale = float(np.max(np.abs(a64[finite]))) if finite.any() else 0.0
    rel = tol or 0.0
    abs_tol = atol if atol is not None else rel * scale
    close = np.isclose(b64, a64, rtol=rel, atol=abs_tol, equal_nan=True)
    if bool(np.all(close)):
        return None
    rule = f"rtol {rel:g}, atol {abs_tol:.3g}"
    return _describe(a64, b64, ~close, rule)


def _describe(a: np.ndarray, b: np.ndarray, bad: np.ndarray, rule: str) -> str:
    count = int(np.count_nonzero(bad))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(bad, np.abs(b.astype(np.complex128) - a.astype(np.complex128)), 0)
    diff = np.nan_to_num(np.abs(diff), nan=np.inf)
    index = np.unravel_index(int(np.argmax(diff)), a.shape) if a.ndim else ()
    at = f" at {tuple(int(i) for i in index)}" if a.ndim else ""
    return (
        f"{count:,} of {a.size:,} element(s) differ beyond {rule}; "
        f"largest difference{at}: {_fmt(b[index])} vs {_fmt(a[index])} (reference)"
    )


def _fmt(value: Any) -> str:
    v = np.asarray(value).item()
    return f"{v:.6g}" if isinstance(v, (int, float, complex)) else str(v)
