"""`jaxlab.check_kernel`: run a Pallas kernel in interpret mode on CPU and compare it with a
plain-JAX reference, dtype-aware, naming the first wrong block by grid index."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jaxlab.base import compat as _compat
from jaxlab.base.display import Displayed
from jaxlab.base.format import short_repr
from jaxlab.core.calls import takes_call

# (rtol, atol) by dtype name; the looser of the kernel's and the reference's dtypes is used
TOLERANCES = {
    "float64": (1e-7, 1e-10),
    "float32": (1e-5, 1e-5),
    "float16": (1e-3, 1e-3),
    "bfloat16": (1.6e-2, 1e-2),
    "float8_e4m3fn": (1.25e-1, 1e-1),
    "float8_e5m2": (2.5e-1, 1e-1),
    "complex64": (1e-5, 1e-6),
    "complex128": (1e-7, 1e-10),
}


@dataclass
class OutputCheck:
    """The comparison of one output leaf."""

    index: int
    shape: tuple[int, ...]
    dtype: str
    ref_dtype: str
    rtol: float
    atol: float
    mismatches: int
    total: int
    max_abs_error: float
    max_rel_error: float
    first_index: tuple[int, ...] | None = None  # first wrong element (row-major)
    kernel_value: Any = None
    ref_value: Any = None
    kernel: str = ""  # the pallas_call whose output this is ('' when not found)
    first_program: tuple[int, ...] | None = None  # first program (grid order) writing a wrong value
    first_block: tuple[int, ...] | None = None
    block_elements: tuple[tuple[int, int], ...] | None = None
    block_mismatches: int = 0
    problem: str = ""  # shape or structure mismatch

    @property
    def ok(self) -> bool:
        return not self.problem and self.mismatches == 0


@dataclass(repr=False)
class KernelCheck(Displayed):
    """Result of :func:`jaxlab.check_kernel`: `.ok`, and per output `.outputs`."""

    kernel_name: str
    ref_name: str
    outputs: list[OutputCheck]
    interpret: str = "interpret mode on CPU"
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outputs)

    @property
    def first_failure(self) -> OutputCheck | None:
        return next((o for o in self.outputs if not o.ok), None)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "output": o.index,
                "shape": o.shape,
                "dtype": o.dtype,
                "mismatches": o.mismatches,
                "max_abs_error": o.max_abs_error,
                "max_rel_error": o.max_rel_error,
                "first_index": o.first_index,
                "first_program": o.first_program,
                "first_block": o.first_block,
            }
            for o in self.outputs
        ]

    def to_pandas(self):
        from jaxlab.base.table import data_frame

        return data_frame(self.rows(), "KernelCheck")


def tolerance(*dtypes: Any) -> tuple[float, float]:
    """(rtol, atol) for comparing values of these dtypes: 0 for integers and booleans."""
    rtol = atol = 0.0
    for dtype in dtypes:
        r, a = TOLERANCES.get(np.dtype(dtype).name, (0.0, 0.0))
        rtol, atol = max(rtol, r), max(atol, a)
    return rtol, atol


@takes_call(functions=2)
def check_kernel(
    kernel_fn: Callable,
    ref_fn: Callable,
    *args: Any,
    rtol: float | None = None,
    atol: float | None = None,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> KernelCheck:
    """Run ``kernel_fn(*args, **kwargs)`` with every Pallas kernel in interpret mode on CPU,
    and ``ref_fn(*args, **kwargs)``; compare each output leaf within a tolerance chosen from
    the dtypes (`rtol`/`atol` override it; integers compare exactly). A wrong output names the
    first program (in grid order) whose output block holds a wrong value, and that block.

    The kernel is staged as ``jax.jit`` would, with `static_argnums`/`static_argnames` held
    static (non-array arguments are held static anyway); `ref_fn` is called as it is.
    `kernel_fn`'s and `ref_fn`'s keyword arguments go in ``kwargs={...}``."""
    kwargs = dict(kwargs or {})
    import jax

    for what, fn in (("kernel_fn", kernel_fn), ("ref_fn", ref_fn)):
        if not callable(fn):
            raise TypeError(
                f"`jaxlab.check_kernel`: {what} must be a function, got "
                f"{type(fn).__name__}: {short_repr(fn)}. Call it as "
                "`check_kernel(kernel_fn, ref_fn, *args)`."
            )
    from jaxlab.core import stages as _stages
    from jaxlab.core.stages import function_name
    from jaxlab.ir.pallas_grid import pallas_kernels

    cpu = jax.devices("cpu")[0]
    # arrays on an accelerator come to the CPU, where the kernel is interpreted
    args, kwargs = jax.tree_util.tree_map(
        lambda v: jax.device_put(v, cpu) if isinstance(v, jax.Array) else v, (args, kwargs)
    )
    with jax.default_device(cpu), _compat.pallas_interpret_mode():
        prepared = _stages.prepare(
            kernel_fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
        )
        closed = prepared.trace().jaxpr
        got = jax.block_until_ready(prepared.call())
    with jax.default_device(cpu):
        want = jax.block_until_ready(ref_fn(*args, **kwargs))
    got_leaves, got_tree = jax.tree_util.tree_flatten(got)
    want_leaves, want_tree = jax.tree_util.tree_flatten(want)
    check = KernelCheck(function_name(kernel_fn), function_name(ref_fn), [])
    if got_tree != want_tree:
        check.outputs.append(
            OutputCheck(
                0,
                (),
                "",
                "",
                0,
                0,
                0,
                0,
                0.0,
                0.0,
                problem=f"the kernel returns {got_tree} but the reference returns {want_tree}",
            )
        )
        return check
    kernels = pallas_kernels(closed)
    for i, (g, w) in enumerate(zip(got_leaves, want_leaves, strict=True)):
        check.outputs.append(_compare(i, np.asarray(g), np.asarray(w), rtol, atol, kernels))
    return check


def _compare(
    index: int, got: np.ndarray, want: np.ndarray, rtol: Any, atol: Any, kernels: list[Any]
) -> OutputCheck:
    r, a = tolerance(got.dtype, want.dtype)
    r = r if rtol is None else float(rtol)
    a = a if atol is None else float(atol)
    out = OutputCheck(
        index, tuple(got.shape), str(got.dtype), str(want.dtype), r, a, 0, int(got.size), 0.0, 0.0
    )
    if got.shape != want.shape:
        out.problem = f"shape {got.shape} differs from the reference's {want.shape}"
        return out
    exact = r == 0 and a == 0
    g = got.astype(np.complex128 if np.iscomplexobj(got) else np.float64) if not exact else got
    w = want.astype(g.dtype) if not exact else want
    if exact:
        bad = got != want
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64)) if got.size else got
    else:
        bad = ~np.isclose(g, w, rtol=r, atol=a, equal_nan=True)
        diff = np.abs(g - w)
    out.mismatches = int(np.count_nonzero(bad))
    if got.size:
        finite = np.where(np.isfinite(diff), diff, 0.0)
        out.max_abs_error = float(finite.max())
        scale = np.abs(w if not exact else want.astype(np.float64))
        rel = np.where(scale > 0, finite / np.where(scale > 0, scale, 1), 0.0)
        out.max_rel_error = float(rel.max())
    if not out.mismatches:
        return out
    first = tuple(int(v) for v in np.argwhere(bad)[0])
    out.first_index = first
    out.kernel_value = got[first].item()
    out.ref_value = want[first].item()
    _locate(out, bad, kernels)
    return out


def _locate(out: OutputCheck, bad: np.ndarray, kernels: list[Any]) -> None:
    """The first program (grid order) whose output block holds a wrong value."""
    for kernel in reversed(kernels):
        for block in kernel.outputs:
            if block.array_shape != bad.shape or block.indices is None:
                continue
            out.kernel = kernel.name
            for k in range(len(block.indices)):
                bidx = block.block_of(k)
                if bidx is None or block.out_of_bounds(bidx):
                    continue
                ranges = block.element_ranges(bidx)
                region = bad[tuple(slice(s, e) for s, e in ranges)]
                if region.any():
                    out.first_program = kernel.program_id(k)
                    out.first_block = bidx
                    out.block_elements = ranges
                    out.block_mismatches = int(np.count_nonzero(region))
                    return
            return
