"""The numerics of one run as plain data: statistics of every output of every jaxpr equation,
the exponent histograms the views draw, and the origin of the first NaN or Inf.

Everything here is computed on the device by the instrumented program (``core/numerics``) and
decoded on the host into these records; nothing holds a tensor, only reductions of one.

Reading a row
-------------
A `Row` describes one output of one jaxpr equation, over every time that equation ran: all
iterations of the loops around it (``scan``, ``fori_loop``, ``while_loop``) and, under
``shard_map``, every device (``per_device`` keeps each device's own figures). Fractions are of
the elements observed (`count`): an equation in a loop of 10 iterations producing ``f32[4]``
has ``size == 4`` and ``count == 40``. An equation in a ``cond``/``switch`` branch that was
never taken has ``executions == 0`` and no statistics (every figure None, counts 0).

Floating-point figures (``min``, ``max``, ``mean``, ``absmax``, ``absmin_nonzero``) are over
the *finite* elements only, exact in the source dtype (taken from the bit patterns, so
subnormals that XLA:CPU flushes in arithmetic are kept); ``mean`` is summed in float32 (float64
for float64 data). They are None when no element was finite (or none was non-zero, for
``absmin_nonzero``). Integer and boolean outputs have ranges and ``zero_frac``; their NaN/Inf
counts are 0 and their float-only figures (``subnormal_frac``, the cast figures) None.

Casts: ``overflow_X`` is the fraction of elements that are finite in the source dtype but
would become ±Inf (NaN for ``float8_e4m3fn``, which has no Inf) when cast to X with
round-to-nearest-even: ``|x| >= OVERFLOW_THRESHOLD[X]``. ``underflow_X`` is the fraction of
non-zero finite elements that would become zero: ``|x| <= UNDERFLOW_THRESHOLD[X]`` (half the
smallest subnormal of X; ties round to the even value, zero). bfloat16 has float32's exponent
range, so only its overflow is reported.

Exponent histogram
------------------
``histogram[i]`` counts the finite, non-zero elements whose binade ``floor(log2(|x|))`` is
``HISTOGRAM_LOW + i``; the first bin also holds everything below ``HISTOGRAM_LOW`` and the last
everything above ``HISTOGRAM_HIGH`` (float64 extremes). The range, −150 … 128, covers every
float32/bfloat16 value including subnormals (2⁻¹⁴⁹) and float32's overflow edge (2¹²⁷·1.99…).
`binade_range(dtype)` gives the binades a dtype can hold, for marking bf16/f16/fp8 ranges.
Zeros and non-finite elements are not in the histogram (see ``zero_frac``, ``nan``, …).

Linking rows to the program
---------------------------
``equation`` numbers rows' equations in execution order (a loop's or branch's body comes
before the loop's own outputs). ``eqn_path`` is a stable id of the jaxpr equation, the same
`JaxprModel` (``ir/jaxpr.py``) gives as ``Equation.path``: the equation's position in its jaxpr,
prefixed by its parents' positions and the parameter holding the sub-jaxpr, e.g. ``"4"`` or
``"4/jaxpr/2"`` or ``"7/branches[1]/0"``. With ``grad=True`` the program is the
``value_and_grad`` of the function, so paths refer to that program's jaxpr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

# -- constants -------------------------------------------------------------------------------

HISTOGRAM_LOW = -150  # binade of the first histogram bin (float32's smallest subnormal is 2**-149)
HISTOGRAM_HIGH = 128  # binade of the last bin (float32's largest finite value is below 2**128)
HISTOGRAM_BINS = HISTOGRAM_HIGH - HISTOGRAM_LOW + 1

# the cast targets reported per row, by the names used in field names
CAST_TARGETS = ("bf16", "f16", "fp8_e4m3")
CAST_DTYPES = {"bf16": "bfloat16", "f16": "float16", "fp8_e4m3": "float8_e4m3fn"}

# largest finite value of each cast target
LARGEST_FINITE = {"bf16": (2.0 - 2.0**-7) * 2.0**127, "f16": 65504.0, "fp8_e4m3": 448.0}
# |x| at and above which a cast overflows (largest finite value plus half an ulp: ties go up,
# to the even, infinite side)
OVERFLOW_THRESHOLD = {
    "bf16": (2.0 - 2.0**-8) * 2.0**127,
    "f16": 65520.0,
    "fp8_e4m3": 464.0,
}
# |x| at and below which a non-zero value becomes zero (half the smallest subnormal)
UNDERFLOW_THRESHOLD = {
    "bf16": 2.0**-134,
    "f16": 2.0**-25,
    "fp8_e4m3": 2.0**-10,
}
# (smallest subnormal binade, smallest normal binade, largest binade) of each dtype
DTYPE_BINADES = {
    "float64": (-1074, -1022, 1023),
    "float32": (-149, -126, 127),
    "bfloat16": (-133, -126, 127),
    "float16": (-24, -14, 15),
    "float8_e4m3fn": (-9, -6, 8),
    "float8_e5m2": (-16, -14, 15),
}

PHASES = ("forward", "backward")


def binade_range(dtype: str) -> tuple[int, int, int] | None:
    """(smallest subnormal, smallest normal, largest) binade of a float dtype ('bf16' and
    'bfloat16' both work), None for others."""
    name = CAST_DTYPES.get(dtype, dtype)
    return DTYPE_BINADES.get(name)


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Statistics of the values of one array over every time it was computed.

    Counts are element counts; ``*_frac`` and cast figures are fractions (0–1) of ``count``.
    Float figures are None when nothing was observed; see the module docstring for what each
    covers.
    """

    dtype: str  # numpy name: 'float32', 'bfloat16', 'int32', 'bool'
    shape: tuple[int, ...]
    size: int  # elements of one execution
    count: int  # elements observed in total (size × executions × devices)
    nan: int
    posinf: int
    neginf: int
    min: float | None
    max: float | None
    mean: float | None
    absmax: float | None
    absmin_nonzero: float | None
    zero_frac: float | None
    subnormal_frac: float | None
    overflow_bf16: float | None
    overflow_f16: float | None
    underflow_f16: float | None
    overflow_fp8_e4m3: float | None
    underflow_fp8_e4m3: float | None
    histogram: tuple[int, ...] = ()  # see HISTOGRAM_LOW; () for non-float data

    @property
    def is_float(self) -> bool:
        """Floating-point data (bfloat16 and the float8 types included)."""
        return self.dtype.startswith(("float", "bfloat"))

    @property
    def nonfinite(self) -> int:
        return self.nan + self.posinf + self.neginf

    @property
    def finite(self) -> bool:
        """No NaN and no ±Inf in any element observed."""
        return self.nonfinite == 0

    def describe(self) -> str:
        """The values in a few words: 'NaN in 3 of 8 elements', 'reaches 0.0', '[-2, 7.5]'."""
        if self.count == 0:
            return "never computed"
        parts = []
        for n, word in ((self.nan, "NaN"), (self.posinf, "+Inf"), (self.neginf, "-Inf")):
            if n:
                parts.append(f"{word} in {n:,} of {self.count:,} elements")
        if self.min is not None and self.max is not None:
            if self.min == self.max:
                parts.append(f"all {_num(self.min)}")
            else:
                parts.append(f"range [{_num(self.min)}, {_num(self.max)}]")
            if self.zero_frac and self.min != self.max:
                parts.append("reaches 0.0")
        return ", ".join(parts) or "no finite values"


@dataclass(frozen=True)
class DeviceStats(Stats):
    """A row's statistics on one device (under ``shard_map``): ``device`` is the device id,
    ``position`` its index in the mesh's flattened device order."""

    device: int = 0
    position: int = 0
    first_nonfinite: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Row(Stats):
    """One output of one jaxpr equation (``Numerics.equation_stats``, one ``to_pandas()`` row).

    ``equation`` is the equation's index in execution order; ``output`` the output's index
    among the equation's outputs. ``file``/``line`` are the innermost user frame (for a
    backward equation: the forward line JAX kept on it); ``where`` is how a reader names the
    place ("In [4], line 2" or "model.py:12"); ``scope`` the named scopes (transform names
    removed). ``first_nonfinite`` is the loop indices, outermost first, of the first iteration
    in which this output held a NaN or Inf (``()`` outside loops; None when it never did), and
    ``first_kind`` what it held then ('NaN' when several kinds).
    ``loops`` is the number of loops around the equation. ``per_device`` is one `DeviceStats`
    per device under ``shard_map`` (empty elsewhere). ``inputs`` names where each operand came
    from: the index in ``Numerics.equation_stats`` of the row that produced it, or an
    argument's leaf name ('params["w1"]'), or a literal or constant as text ('inf',
    'constant float32[3] holding NaN'). ``flows_from`` names, the same way, the values that
    reach this output other than its operands: for an equation in a loop body reading a
    carried value, the body results it comes back as on later iterations; for the output of
    a call, loop or branch, the sub-program's result it is. ``branches`` (``cond``
    equations only) counts how often each branch was taken.
    """

    equation: int = 0
    output: int = 0
    primitive: str = ""
    phase: str = "forward"
    file: str | None = None
    line: int | None = None
    where: str = ""
    scope: str = ""
    eqn_path: str = ""
    executions: int = 0
    loops: int = 0
    first_nonfinite: tuple[int, ...] | None = None
    first_kind: str | None = None  # 'NaN', '+Inf' or '-Inf': what that first execution held
    per_device: tuple[DeviceStats, ...] = ()
    inputs: tuple[int | str, ...] = ()
    flows_from: tuple[int | str, ...] = ()
    branches: tuple[int, ...] = ()
    # position in time of the first NaN/Inf: execution-order positions interleaved with loop
    # indices (used to find the origin across loop iterations)
    time_key: tuple[int, ...] = field(default=(), repr=False)

    @property
    def device(self) -> int | None:
        """The first device (mesh order) whose values held a NaN or Inf, else None."""
        for d in self.per_device:
            if not d.finite:
                return d.device
        return None

    def as_dict(self) -> dict[str, Any]:
        """The row's fields as a dict: the issue's columns first, histogram and devices as
        tuples."""
        return {name: getattr(self, name) for name in ROW_COLUMNS}


# the columns of `Numerics.to_pandas()`, in order
ROW_COLUMNS = (
    "equation",
    "output",
    "primitive",
    "phase",
    "file",
    "line",
    "where",
    "scope",
    "dtype",
    "shape",
    "nan",
    "posinf",
    "neginf",
    "min",
    "max",
    "mean",
    "absmax",
    "absmin_nonzero",
    "zero_frac",
    "subnormal_frac",
    "overflow_bf16",
    "overflow_f16",
    "underflow_f16",
    "overflow_fp8_e4m3",
    "underflow_fp8_e4m3",
    "count",
    "executions",
    "first_nonfinite",
    "device",
    "eqn_path",
)


@dataclass(frozen=True)
class ArgumentStats(Stats):
    """An argument leaf of the call: ``name`` as written in the call ('params["w1"]', 'x')."""

    name: str = ""
    argnum: int | None = None


@dataclass(frozen=True)
class Origin:
    """Where the first NaN or Inf came from.

    Either an equation — the first, in execution order (loop iterations included), whose
    output held a NaN or Inf while all of its inputs were finite — with ``primitive``,
    ``phase``, ``file``, ``line``, ``where``, ``iteration`` (loop indices, outermost first, or
    None outside loops), ``device`` (or None), ``inputs`` (the operands' statistics, None for
    a literal) and, when the pattern is a known one, ``trap`` (its name) and ``fix`` (what to
    write instead). Or an argument already holding NaN/Inf: ``argument`` names the leaf
    ('params["w1"]'), ``row`` is None and no equation is blamed. When the NaN/Inf of an output
    comes from a constant or literal that is itself non-finite, the equation is the first one
    that took it and ``constant`` names the constant ('inf', 'constant float32[2] holding
    NaN').
    """

    primitive: str | None
    phase: str | None
    file: str | None
    line: int | None
    where: str
    iteration: tuple[int, ...] | None
    device: int | None
    inputs: tuple[Stats | None, ...]
    trap: str | None
    fix: str | None
    argument: str | None = None
    row: int | None = None  # index in Numerics.equation_stats of the blamed output
    kind: str = ""  # 'NaN', '+Inf', '-Inf' (the first kind of non-finite value seen)
    detail: str = ""  # the trap's explanation in this program's terms
    constant: str | None = None  # the non-finite constant the blamed equation takes

    def sentence(self) -> str:
        """The origin in one sentence, as the views' first line says it."""
        if self.argument is not None:
            return (
                f"{self.kind} comes in through the argument {self.argument}: "
                "it already holds it before any equation runs."
            )  # the fix (where the argument is made) is in `fix`
        place = self.where or "an unknown line"
        if self.constant is not None:
            return (
                f"{self.kind} comes in through a constant ({self.constant}) that "
                f"{self.primitive} takes at {place}. Fix: {self.fix}."
            )
        parts = [f"{self.kind} first appears in {self.primitive} at {place}"]
        if self.phase == "backward":
            parts.append(" (backward pass)")
        if self.iteration:
            parts.append(f", iteration {', '.join(map(str, self.iteration))}")
        if self.device is not None:
            parts.append(f", on device {self.device}")
        text = "".join(parts) + "."
        if self.trap:
            text += f" {self.trap}: {self.detail}" if self.detail else f" {self.trap}."
        if self.fix:
            text += f" Fix: {self.fix}."
        return text


# -- decoding helpers used by the engine -----------------------------------------------------


def _num(x: float) -> str:
    if x == 0:
        return "0.0"
    if math.isfinite(x) and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:.4g}"


def stats_fields() -> tuple[str, ...]:
    """Names of `Stats`' fields, in order."""
    return tuple(f.name for f in fields(Stats))


def with_fields(stats: Stats, **changes: Any) -> Stats:
    return replace(stats, **changes)
