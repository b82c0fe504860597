"""``jaxlab.numerics_diff``: one program under two numerical configurations, compared equation by
equation, and the equations that create the error ranked."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.table import Table
from jaxlab.core.calls import takes_call
from jaxlab.ir.precision_fixes import fix_for

ROW_COLUMNS = (
    "equation",
    "primitive",
    "file",
    "line",
    "where",
    "dtype",
    "rel_error",
    "max_rel_error",
    "ulps",
    "local_error",
    "iteration",
    "iterations",
)
CREATOR_COLUMNS = (
    "where",
    "line",
    "primitive",
    "dtype",
    "rel_error",
    "local_error",
    "ulps",
    "iteration",
    "fix",
)
OUTPUT_COLUMNS = ("output", "dtype", "rel_error", "max_rel_error", "ulps")


@dataclass(repr=False)
class NumericsDiff(Displayed):
    """``fn(*args)`` run as given (or as the reference) and under the candidate configuration.

    ``rows`` has one dict per matched floating output of an equation (in the candidate's
    execution order) with ``rel_error``, ``max_rel_error``, ``ulps`` (against the reference)
    and ``local_error`` (the error the equation makes itself, on the reference's inputs; see
    ``jaxlab.core.error_stats``). Inside ``scan``, ``while_loop`` and ``cond`` every body
    equation has its row, its figures over every iteration (those that took its branch):
    ``iterations`` counts them, ``iteration`` is the worst (loop indices, outermost first;
    None outside loops). ``outputs`` compares the function's outputs.
    ``creators()`` ranks the equations by the error they make; ``top`` is the first.
    """

    fn_name: str
    compare: str
    reference: str  # what the reference is, in words
    candidate: str
    rows: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    aligned: int = 0
    equations: tuple[int, int] = (0, 0)
    cast: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    run_s: float | None = None

    def creators(self) -> Table:
        """The equations that create error, largest local error first (ties: earliest
        first), each with its line, primitive, errors and a fix."""
        made = [r for r in self.rows if r["local_error"] is not None and r["local_error"] > 0.0]
        made.sort(key=lambda r: (-r["local_error"], r["equation"]))
        rows = [dict(r, fix=fix_for(r, self.compare)) for r in made]
        return Table(
            rows,
            CREATOR_COLUMNS,
            "NumericsDiff.creators()",
            note=f"{self.candidate} against {self.reference}; local_error: the error the "
            "equation makes on the reference's inputs",
        )

    @property
    def top(self) -> dict[str, Any] | None:
        """The equation that creates the most error (None when none does)."""
        found = self.creators()
        return found[0] if found else None

    @property
    def output_error(self) -> float | None:
        """The largest norm-wise relative error of the function's floating outputs."""
        values = [o["rel_error"] for o in self.outputs]
        return max(values) if values else None

    @property
    def reference_nonfinite(self) -> dict[str, Any] | None:
        """The first matched output where the reference itself holds NaN or Inf."""
        return next((r for r in self.rows if r["reference_nonfinite"]), None)

    def table(self) -> Table:
        """One row per matched output (the columns of ``ROW_COLUMNS``)."""
        return Table(self.rows, ROW_COLUMNS, "NumericsDiff.table()")

    def to_pandas(self) -> Any:
        """One row per matched equation output (needs pandas)."""
        return self.table().to_pandas()

    def to_html(self) -> str:
        """One self-contained HTML page of the view."""
        return renderer(self, "page")(self)


@takes_call()
def numerics_diff(
    fn: Callable,
    *args: Any,
    compare: str,
    grad: bool = False,
    argnums: int | Sequence[int] = 0,
    cast: str | None = None,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: dict[str, Any] | None = None,
) -> NumericsDiff:
    """Run ``fn(*args, **kwargs)`` under two numerical configurations and find the equations
    that lose the precision. `compare` is one of:

    - ``"bf16"``, ``"f16"``: floating inputs cast down (all, or the leaves of the argument
      named `cast`) against the program as given;
    - ``"x64"``: the program as given against the same program in float64 (inputs converted);
    - ``"eager"``: op-by-op execution against the compiled program (fusion, FMA contraction);
    - ``"precision=default"`` (``high``, ``highest``): ``jax.default_matmul_precision``
      against ``"highest"``;
    - ``"numpy"``: the program as given against its NumPy float64 twin (final outputs only).

    ``grad=True`` compares ``jax.value_and_grad(fn, argnums)``.
    """
    from jaxlab.core.numerics_diff import diff, parse_compare, setup

    t0 = time.perf_counter()
    chosen = parse_compare(compare)
    statics = {"static_argnums": static_argnums, "static_argnames": static_argnames}
    twin = _numpy_twin(fn, tuple(args), dict(kwargs or {}), grad) if chosen == "numpy" else None
    found = setup(
        fn,
        tuple(args),
        dict(kwargs or {}),
        chosen,
        grad=grad,
        argnums=argnums,
        cast=cast,
        statics=statics,
        twin=twin,
    )
    got = diff(found)
    notes = list(found.notes)
    floats = any(r for r in got.rows) or got.outputs
    if not floats:
        from jaxlab.core.numerics import BadInput

        raise BadInput(
            "the program has no floating-point values to compare (integer-only).",
            "numerics_diff compares floating-point programs; for integers use "
            "jaxlab.numerics(f, x) to see their ranges.",
        )
    if chosen != "numpy" and got.aligned == 0:
        notes.append(
            "no equation of the two programs aligns (the configuration changed the "
            "program's structure): only the final outputs are compared."
        )
    from jaxlab.base.format import function_name

    return NumericsDiff(
        fn_name=function_name(fn),
        compare=chosen,
        reference=found.reference.label if chosen != "numpy" else "NumPy float64",
        candidate=found.candidate.label,
        rows=got.rows,
        outputs=got.outputs,
        aligned=got.aligned,
        equations=got.equations,
        cast=found.cast,
        notes=notes,
        run_s=time.perf_counter() - t0,
    )


def _numpy_twin(fn: Callable, args: tuple, kwargs: dict, grad: bool) -> tuple[str, Any]:
    """(how the NumPy twin was made, its output on the arguments in float64)."""
    import jax
    import numpy as np

    from jaxlab.benchmarking.convert import CONVERTERS
    from jaxlab.benchmarking.twins import TwinError, make_twin
    from jaxlab.core.numerics import BadInput

    if grad:
        raise BadInput(
            "compare='numpy' has no gradient: the NumPy twin computes values only.",
            "leave out grad=True, or compare='x64' for a float64 reference of the gradient.",
        )
    try:
        twin = make_twin(fn, "numpy")
    except TwinError as e:
        raise BadInput(
            f"no NumPy twin of the function: {e}",
            "use compare='x64' (the same program in float64) as the reference.",
        ) from None
    to_np = CONVERTERS["numpy"]

    def wide(x: Any) -> Any:
        value = np.asarray(to_np(x))
        return value.astype(np.float64) if np.issubdtype(value.dtype, np.floating) else value

    wide_args, wide_kwargs = jax.tree_util.tree_map(wide, (args, kwargs))
    return twin.how, twin.fn(*wide_args, **wide_kwargs)
