"""The origin of the first NaN or Inf of a run, and the known traps that produce one.

Where a NaN or Inf comes from
-----------------------------
Rows holding NaN/Inf are followed in execution order (loop iterations included). A row is
*born* non-finite when nothing it takes already held a NaN or Inf at that moment: its operands
(rows computed before it, arguments, literals and constants by their values) and, in a loop,
the values carried from earlier iterations (``Row.flows_from``). A row holding NaN whose
inputs held only ±Inf is born too (Inf − Inf and 0 × Inf make the NaN there). A row that takes
a literal or constant that is itself NaN or ±Inf (``jnp.full(n, jnp.inf)``, ``jnp.inf * dt``)
is not born: the program wrote that value. Libraries keep such values on purpose, as an
initial "best so far", a step-size bound or the unused slots of a saved trajectory.

The origin is, in this order:

1. an argument that already holds NaN/Inf (``Origin.argument``; no equation is blamed);
2. else the first born row whose values reach an output of the program: through any path of
   the data flow, a ``jnp.where`` that masks them included (the masked value still makes the
   gradient NaN) and comparisons that steer a select;
3. else, when an output holds NaN/Inf that comes from a non-finite constant, the first row
   that took that constant (``Origin.constant`` names it);
4. else None. Non-finite values that came from constants while the outputs stayed finite, and
   born ones that reach no output, are ``Reading.sentinels`` and ``Reading.unused``; the notes
   say where they are (``notes``).

Without the program's outputs (rows built by hand, older saved results) every row counts as
reaching them.

Traps are recognised from the rows alone: the origin's primitive and inputs, what consumes it,
and for backward equations the forward equations on the same source line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from jaxlab.ir.numerics import ArgumentStats, Origin, Row, Stats

FIX_WHERE = (
    "use the double-where: make the unsafe branch's input safe before the call, "
    "`safe = jnp.where(mask, x, 1.0)`, then `jnp.where(mask, f(safe), 0.0)`"
)
FIX_SQRT = (
    "keep the argument away from 0 where the gradient is taken: "
    "`jnp.sqrt(jnp.maximum(x, eps))`, or the double-where "
    "`safe = jnp.where(x > 0, x, 1.0); jnp.where(x > 0, jnp.sqrt(safe), 0.0)` "
    "(for a norm: `jnp.sqrt(jnp.sum(v**2) + eps)`)"
)
FIX_LOG_ZERO = (
    "use `jax.scipy.special.xlogy(x, y)` (0 where x == 0), or take the log of a safe value: "
    "`jnp.log(jnp.where(y > 0, y, 1.0))`"
)
FIX_MASKED_DIV = (
    "divide by a safe denominator and mask after: `safe = jnp.where(d == 0, 1.0, d)`, "
    "`jnp.where(d == 0, 0.0, n / safe)`; a where after the division alone keeps the Inf "
    "in the gradient"
)
FIX_DIV = "guard the denominator: `n / jnp.where(d == 0, 1.0, d)`, or add a small epsilon"
FIX_EXP = (
    "compute in log space (`jax.nn.logsumexp`, `jax.nn.log_softmax`), or subtract the "
    "input's maximum before `exp`"
)
FIX_SOFTMAX = (
    "use `jax.nn.softmax` (it subtracts the maximum), or write "
    "`e = jnp.exp(x - x.max(axis, keepdims=True))` before normalising"
)
FIX_ATAN2 = (
    "arctan2's gradient is 0/0 at (0, 0): guard the point with a double-where, "
    "`at0 = (y == 0) & (x == 0); jnp.where(at0, 0.0, jnp.arctan2(jnp.where(at0, 1.0, y), x))`"
)
FIX_LOW_PRECISION = (
    "compute this step in float32 (`x.astype(jnp.float32)`) or rescale the values "
    "(loss scaling, normalisation) so they stay in range"
)
FIX_OVERFLOW = "rescale the values (normalise, clip) or compute this step in a wider dtype"
FIX_LOG_NEGATIVE = "clip the argument: `jnp.log(jnp.maximum(x, tiny))`"
FIX_SQRT_NEGATIVE = "clip the argument: `jnp.sqrt(jnp.maximum(x, 0.0))`"

SELECT = ("select_n",)
EXP = ("exp", "exp2", "expm1")
SQRT = ("sqrt", "rsqrt", "cbrt", "pow")
LOW_PRECISION = ("bfloat16", "float16", "float8_e4m3fn", "float8_e5m2")


@dataclass(frozen=True)
class Reading:
    """What the NaN/Inf of a run amount to: the `origin` (None when nothing is one), the rows
    holding non-finite values that came from constants while the outputs stayed finite
    (``sentinels``: the first row taking each such constant), and the rows where NaN/Inf was
    born that reach no output (``unused``)."""

    origin: Origin | None
    sentinels: tuple[int, ...] = ()
    unused: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())


def find_origin(
    rows: Sequence[Row],
    arguments: Sequence[ArgumentStats],
    outputs: Sequence[int | str] | None = None,
) -> Origin | None:
    """The origin of the first NaN/Inf (None when no value is one; see the module's
    docstring). `outputs` names where each output of the program comes from, as
    ``Row.inputs`` does; None counts every row as reaching them."""
    return read_nonfinite(rows, arguments, outputs).origin


def read_nonfinite(
    rows: Sequence[Row],
    arguments: Sequence[ArgumentStats],
    outputs: Sequence[int | str] | None = None,
) -> Reading:
    """The origin of a run and the non-finite values that are none (see `Reading`)."""
    for arg in arguments:
        if not arg.finite:
            origin = Origin(
                primitive=None,
                phase=None,
                file=None,
                line=None,
                where="",
                iteration=None,
                device=None,
                inputs=(),
                trap=None,
                fix=(
                    f"check where {arg.name} is made (a NaN from an earlier step, a bad "
                    "initialisation or a data loader)"
                ),
                argument=arg.name,
                kind=_kind(arg),
            )
            return Reading(origin)
    causes = _causes(rows, arguments)
    if not causes:
        return Reading(None)
    reach = _reaching(rows, outputs)
    born = [i for i, c in causes.items() if c == ("born", i)]
    reached = [i for i in born if reach is None or i in reach]
    if reached:
        return Reading(_equation_origin(rows, arguments, reached[0]))
    bad_outputs = _bad_outputs(rows, arguments, outputs)
    for i in bad_outputs:
        cause = causes.get(i)
        if cause is not None and cause[0] == "constant":
            _, entry, text = cause
            return Reading(_equation_origin(rows, arguments, entry, constant=text))
    sentinels = tuple(dict.fromkeys(c[1] for c in causes.values() if c[0] == "constant"))
    unused = tuple(born)
    return Reading(None, sentinels, unused, tuple(_calm_notes(rows, sentinels, unused)))


def _equation_origin(
    rows: Sequence[Row],
    arguments: Sequence[ArgumentStats],
    first: int,
    constant: str | None = None,
) -> Origin:
    row = rows[first]
    program = _Program(rows, arguments)
    found = None if constant else program.trap(first)
    inputs = tuple(program.inputs(first))
    fix = found.fix if found else None
    if constant is not None:
        fix = (
            f"check the constant ({constant}) the function closes over or writes at "
            f"{row.where or 'this line'}; if the value is meant as a bound or a mask, keep it "
            "out of the result (`jnp.where(jnp.isfinite(v), v, 0.0)`)"
        )
    return Origin(
        primitive=row.primitive,
        phase=row.phase,
        file=row.file,
        line=row.line,
        where=row.where,
        iteration=row.first_nonfinite if row.loops else None,
        device=row.device,
        inputs=inputs,
        trap=found.name if found else None,
        fix=fix,
        row=first,
        kind=row.first_kind or _kind(row),
        detail=found.detail if found else "",
        constant=constant,
    )


def _causes(rows: Sequence[Row], arguments: Sequence[ArgumentStats]) -> dict[int, tuple]:
    """For each row holding NaN/Inf, in execution order, what made it: ('born', i) where it
    was born, ('constant', entry, text) when it comes from a non-finite constant (`entry`:
    the first row that took it), ('argument', name) from an argument."""
    args = {a.name: a for a in arguments}
    bad = [i for i, r in enumerate(rows) if not r.finite and r.count]
    causes: dict[int, tuple] = {}
    for i in sorted(bad, key=lambda i: (rows[i].time_key, i)):
        row = rows[i]
        parents: list[tuple[tuple, bool]] = []  # (cause, holds NaN)
        for ref in (*row.inputs, *row.flows_from):
            if isinstance(ref, int):
                if ref != i and ref in causes:  # non-finite, and earlier
                    parents.append((causes[ref], rows[ref].nan > 0))
            elif ref in args:
                if not args[ref].finite:
                    parents.append((("argument", ref), args[ref].nan > 0))
            elif kinds := nonfinite_kinds(ref):
                parents.append((("constant", i, ref), "NaN" in kinds))
        if not parents or (row.nan and not any(nan for _, nan in parents)):
            causes[i] = ("born", i)
            continue
        rank = {"born": 0, "argument": 1, "constant": 2}
        causes[i] = min((c for c, _ in parents), key=lambda c: rank[c[0]])
    return causes


def _reaching(rows: Sequence[Row], outputs: Sequence[int | str] | None) -> set[int] | None:
    """The rows whose values flow into an output of the program (None: unknown, all)."""
    if not outputs or any(ref == "?" for ref in outputs):
        return None
    todo = [ref for ref in outputs if isinstance(ref, int)]
    seen = set(todo)
    while todo:
        r = rows[todo.pop()]
        for ref in (*r.inputs, *r.flows_from):
            if isinstance(ref, int) and ref not in seen and 0 <= ref < len(rows):
                seen.add(ref)
                todo.append(ref)
    return seen


def _bad_outputs(
    rows: Sequence[Row], arguments: Sequence[ArgumentStats], outputs: Sequence[int | str] | None
) -> list[int]:
    """The rows of the program's outputs holding NaN/Inf (every such row when the outputs are
    not known)."""
    if not outputs:
        return [i for i, r in enumerate(rows) if not r.finite and r.count]
    return [ref for ref in outputs if isinstance(ref, int) and not rows[ref].finite]


def _calm_notes(rows: Sequence[Row], sentinels: Sequence[int], unused: Sequence[int]) -> list[str]:
    notes = []
    if sentinels:
        kinds = sorted({_kind(rows[i]) for i in sentinels})
        notes.append(
            f"{' and '.join(kinds)} written on purpose (from constants such as jnp.inf, "
            f"kept as a bound or a sentinel): {_places(rows, sentinels)}; no output holds "
            "NaN or Inf, so none of them is an origin."
        )
    if unused:
        kinds = sorted({_kind(rows[i]) for i in unused})
        notes.append(
            f"{' and '.join(kinds)} made at {_places(rows, unused)} never reaches an output "
            "of the function (the value is not used), so it is not an origin."
        )
    return notes


def _places(rows: Sequence[Row], indices: Sequence[int], shown: int = 3) -> str:
    seen = list(dict.fromkeys(f"{rows[i].primitive} at {rows[i].where or '?'}" for i in indices))
    more = len(seen) - shown
    return ", ".join(seen[:shown]) + (f" and {more} more" if more > 0 else "")


def nonfinite_kinds(text: str) -> tuple[str, ...]:
    """The non-finite values a literal or constant named as ``Row.inputs`` names it holds:
    'inf' -> ('+Inf',), 'constant float32[3] holding NaN, -Inf' -> ('NaN', '-Inf')."""
    lowered = text.strip().lower()
    single = {"nan": ("NaN",), "inf": ("+Inf",), "-inf": ("-Inf",), "+inf": ("+Inf",)}
    if lowered in single:
        return single[lowered]
    _, held, kinds = text.partition(" holding ")
    if not held:
        return ()
    return tuple(k.strip() for k in kinds.split(",") if k.strip() in ("NaN", "+Inf", "-Inf"))


def _kind(stats: Stats) -> str:
    if stats.nan:
        return "NaN"
    return "+Inf" if stats.posinf else "-Inf"


@dataclass(frozen=True)
class Trap:
    name: str
    fix: str
    detail: str


class _Program:
    """The rows with the links the trap rules follow: consumers and forward lines."""

    def __init__(self, rows: Sequence[Row], arguments: Sequence[ArgumentStats] = ()) -> None:
        self.rows = rows
        self.arguments = {a.name: a for a in arguments}
        self.consumers: dict[int, list[int]] = {}
        for i, r in enumerate(rows):
            for j in r.inputs:
                if isinstance(j, int):
                    self.consumers.setdefault(j, []).append(i)

    def inputs(self, i: int) -> list[Stats | None]:
        """The statistics of each operand: the row or argument that made it (None for a
        literal or a constant)."""
        return [
            self.rows[j] if isinstance(j, int) else self.arguments.get(j)
            for j in self.rows[i].inputs
        ]

    def literals(self, i: int) -> list[str]:
        return [j for j in self.rows[i].inputs if isinstance(j, str) and j not in self.arguments]

    def descendants(self, i: int, limit: int = 400) -> list[int]:
        seen: list[int] = []
        todo = list(self.consumers.get(i, ()))
        marked = set(todo)
        while todo and len(seen) < limit:
            j = todo.pop(0)
            seen.append(j)
            for k in self.consumers.get(j, ()):
                if k not in marked:
                    marked.add(k)
                    todo.append(k)
        return seen

    def masked_selects(self, among: Sequence[int] | None = None) -> list[int]:
        """Forward selects (jnp.where) whose output is finite while a branch held NaN/Inf."""
        indices = range(len(self.rows)) if among is None else among
        found = []
        for i in indices:
            r = self.rows[i]
            if r.primitive not in SELECT or r.phase != "forward" or not r.finite:
                continue
            branches = self.inputs(i)[1:]
            if any(b is not None and not b.finite for b in branches) or any(
                _nonfinite_literal(t) for t in self.literals(i)
            ):
                found.append(i)
        return found

    def forward_on_line(self, row: Row) -> list[int]:
        return [
            i
            for i, r in enumerate(self.rows)
            if r.phase == "forward" and r.file == row.file and r.line == row.line and r.line
        ]

    def trap(self, i: int) -> Trap | None:
        row = self.rows[i]
        if row.phase == "backward":
            return self._backward(i, row)
        return self._forward(i, row)

    def _backward(self, i: int, row: Row) -> Trap | None:
        same_line = self.forward_on_line(row)
        for j in same_line:
            r = self.rows[j]
            ins = self.inputs(j)
            if r.primitive == "atan2" and all(x is not None and x.zero_frac for x in ins[:2]):
                return Trap(
                    "arctan2(0, 0) under grad",
                    FIX_ATAN2,
                    f"arctan2 at {r.where} sees y = x = 0; its gradient there is 0/0.",
                )
        masked = self.masked_selects()
        if masked:
            s = self.rows[masked[0]]
            return Trap(
                "NaN gradient through jnp.where",
                FIX_WHERE,
                f"the where at {s.where} hides a NaN/Inf of its unsafe branch in the forward "
                "pass, but the gradient still flows through that branch (0 × Inf = NaN).",
            )
        for j in same_line:
            r = self.rows[j]
            ins = self.inputs(j)
            if r.primitive in SQRT and ins and ins[0] is not None and ins[0].zero_frac:
                return Trap(
                    "sqrt/norm at 0 under grad",
                    FIX_SQRT,
                    f"{r.primitive} at {r.where} takes 0 ({_frac(ins[0].zero_frac)} of its "
                    "input); its derivative there is infinite.",
                )
        for j in same_line:
            r = self.rows[j]
            ins = self.inputs(j)
            if r.primitive == "log" and ins and ins[0] is not None and ins[0].zero_frac:
                return Trap(
                    "log at 0 under grad",
                    FIX_LOG_ZERO,
                    f"log at {r.where} takes 0; its derivative 1/x is infinite there.",
                )
            if r.primitive == "div" and len(ins) > 1 and ins[1] is not None and ins[1].zero_frac:
                return Trap(
                    "division by zero",
                    FIX_DIV,
                    f"the division at {r.where} has a zero denominator; its gradient "
                    "divides by it again.",
                )
        return self._local(i, row)

    def _forward(self, i: int, row: Row) -> Trap | None:
        ins = self.inputs(i)
        first = ins[0] if ins else None
        down = self.descendants(i)
        if row.primitive in EXP and row.posinf:
            sums = [j for j in down if self.rows[j].primitive == "reduce_sum"]
            divs = [j for j in down if self.rows[j].primitive == "div"]
            if sums and divs:
                return Trap(
                    "softmax without subtracting the max",
                    FIX_SOFTMAX,
                    f"exp at {row.where} overflows for inputs up to "
                    f"{_num(first.max if first else None)}; the normalising division then "
                    "gives Inf/Inf = NaN.",
                )
            limit = _exp_limit(row.dtype)
            return Trap(
                "exp overflow",
                FIX_EXP,
                f"exp at {row.where} takes inputs up to {_num(first.max if first else None)}; "
                f"{row.dtype} overflows above {_num(limit)}.",
            )
        masked = self.masked_selects(down)
        if masked and row.primitive != "div":
            s = self.rows[masked[0]]
            gradient = any(r.phase == "backward" and not r.finite for r in self.rows)
            return Trap(
                "NaN gradient through jnp.where" if gradient else "Inf/NaN hidden by jnp.where",
                FIX_WHERE,
                f"{row.primitive} at {row.where} gives {_kind(row)}; the where at {s.where} "
                "hides it in the forward pass, but the gradient still flows through that "
                "branch (0 × Inf = NaN)"
                + ("." if gradient else ", so a gradient of this function is NaN."),
            )
        if row.primitive == "log" and row.neginf and not row.nan and first is not None:
            zeroed = [j for j in down if self.rows[j].primitive == "mul" and self.rows[j].nan]
            if first.zero_frac and zeroed:
                return Trap(
                    "log(0) * 0",
                    FIX_LOG_ZERO,
                    f"log at {row.where} gives -Inf for 0; multiplying it by 0 at "
                    f"{self.rows[zeroed[0]].where} gives NaN.",
                )
        if row.primitive == "div" and len(ins) > 1 and ins[1] is not None and ins[1].zero_frac:
            masked = self.masked_selects(down)
            if masked:
                s = self.rows[masked[0]]
                return Trap(
                    "division by zero masked later",
                    FIX_MASKED_DIV,
                    f"the division at {row.where} divides by 0; the where at {s.where} "
                    "hides the result in the forward pass, not in the gradient.",
                )
        return self._local(i, row)

    def _local(self, i: int, row: Row) -> Trap | None:
        """Rules that need only the equation and its inputs (either phase)."""
        ins = self.inputs(i)
        first = ins[0] if ins else None
        negative = first is not None and first.min is not None and first.min < 0
        if row.primitive == "log" and row.nan and negative:
            return Trap(
                "log of a negative value",
                FIX_LOG_NEGATIVE,
                f"log at {row.where} takes values down to {_num(first.min)}.",
            )
        if row.primitive == "log" and row.neginf and first is not None and first.zero_frac:
            return Trap("log of 0", FIX_LOG_ZERO, f"log at {row.where} takes 0: -Inf.")
        if row.primitive in ("sqrt", "rsqrt") and row.nan and negative:
            return Trap(
                "sqrt of a negative value",
                FIX_SQRT_NEGATIVE,
                f"{row.primitive} at {row.where} takes values down to {_num(first.min)}.",
            )
        if row.primitive == "div" and len(ins) > 1 and ins[1] is not None and ins[1].zero_frac:
            return Trap("division by zero", FIX_DIV, f"the division at {row.where} divides by 0.")
        if row.primitive == "atan2":
            return None
        return self._arithmetic(row, ins)

    def _arithmetic(self, row: Row, ins: list[Stats | None]) -> Trap | None:
        overflow = (row.posinf or row.neginf) and not row.nan
        if not overflow:
            return None
        if row.primitive == "convert_element_type" and ins and ins[0] is not None:
            return Trap(
                f"overflow in a cast to {row.dtype}",
                FIX_LOW_PRECISION,
                f"the cast at {row.where} gets values up to {_num(ins[0].absmax)}, beyond "
                f"{row.dtype}'s range.",
            )
        if row.dtype in LOW_PRECISION:
            return Trap(
                f"{row.dtype} overflow",
                FIX_LOW_PRECISION,
                f"{row.primitive} at {row.where} exceeds {row.dtype}'s largest value.",
            )
        return Trap(
            f"{row.dtype} overflow",
            FIX_OVERFLOW,
            f"{row.primitive} at {row.where} exceeds {row.dtype}'s largest value.",
        )


def _nonfinite_literal(text: str) -> bool:
    return bool(nonfinite_kinds(text))


def _exp_limit(dtype: str) -> float | None:
    largest = {
        "float64": 1.7976931348623157e308,
        "float32": 3.4028234663852886e38,
        "bfloat16": 3.3895313892515355e38,
        "float16": 65504.0,
    }.get(dtype)
    return math.log(largest) if largest else None


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _frac(x: float | None) -> str:
    if not x:
        return "none"
    pct = 100 * x
    return f"{pct:.3g} %" if pct >= 0.1 else "some"
