"""``jaxlab.numerics``: the values of every equation of one compiled run, and where the first
NaN or Inf came from."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.files import envelope, opened, write_json
from jaxlab.base.renamed import warn_renamed
from jaxlab.base.table import Table
from jaxlab.core.calls import takes_call
from jaxlab.ir.numerics import (
    CAST_DTYPES,
    LARGEST_FINITE,
    OVERFLOW_THRESHOLD,
    ROW_COLUMNS,
    UNDERFLOW_THRESHOLD,
    ArgumentStats,
    DeviceStats,
    Origin,
    Row,
    Stats,
)


@dataclass(repr=False)
class Numerics(Displayed):
    """The numerics of one instrumented run of ``fn(*args)``.

    ``equation_stats`` has one `Row` per output of every jaxpr equation, in execution order
    (see ``jaxlab.ir.numerics`` for what each figure means; ``table()`` has them as a
    ``Table``, ``rows()`` as dicts); ``arguments`` the statistics of each
    argument leaf; ``origin`` is None for a run without NaN or Inf, else the `Origin` of the
    first one. ``notes`` say what the run left out or did differently (a callback that ran
    once, equations left out by ``only``). ``output`` is the function's result from the
    instrumented run (for ``grad=True``: ``(value, grads)``).
    """

    fn_name: str
    equation_stats: list[Row]
    arguments: list[ArgumentStats]
    origin: Origin | None
    grad: bool = False
    argnums: int | tuple[int, ...] = 0
    devices: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)
    output: Any = None
    compile_s: float | None = None
    run_s: float | None = None
    process_s: float | None = None  # jaxlab's own work: interpreting, decoding, the search
    jaxpr: Any = None  # the ClosedJaxpr that was instrumented (value_and_grad's for grad=True)
    # the call that compares this program with its inputs cast down, `{compare}` for the type
    # (``%numerics f(x) --compare {compare}`` when the magic made it)
    compare_template: str = ""
    # where each output of the instrumented program comes from: a row's index in
    # equation_stats, an argument's name or a literal (as Row.inputs names them)
    output_rows: tuple[int | str, ...] = ()

    @property
    def rows(self) -> _Rows:
        """``rows()``: one dict per equation output with the columns of ``ROW_COLUMNS``. Read
        as a list, the `Row` objects of ``equation_stats`` (its old name)."""
        return _Rows(self.equation_stats)

    def table(self) -> Table:
        """One row per equation output with the columns of ``ROW_COLUMNS``."""
        return Table([r.as_dict() for r in self.equation_stats], ROW_COLUMNS, "Numerics.table()")

    @property
    def clean(self) -> bool:
        """True when no output and no argument held NaN or Inf."""
        return self.origin is None

    def row(self, eqn_path: str, output: int = 0) -> Row | None:
        """The row of one equation output, by the equation's stable id."""
        for r in self.equation_stats:
            if r.eqn_path == eqn_path and r.output == output:
                return r
        return None

    def nonfinite_rows(self) -> Table:
        """Rows that held NaN or Inf, in execution order."""
        bad = [r.as_dict() for r in self.equation_stats if not r.finite]
        return Table(bad, ROW_COLUMNS, "Numerics.nonfinite_rows()")

    def to_pandas(self) -> Any:
        """``table()`` as a DataFrame (needs pandas)."""
        return self.table().to_pandas()

    def save(self, path: Any) -> Path:
        """Write the statistics, the origin and the notes as JSON (not the output or the
        jaxpr); ``jaxlab.Numerics.load(path)`` reads them back. Returns the path."""
        data = {
            **envelope(FORMAT, 1),
            **{f.name: getattr(self, f.name) for f in fields(self) if f.name not in _UNSAVED},
            "equation_stats": [asdict(r) for r in self.equation_stats],
            "arguments": [asdict(a) for a in self.arguments],
            "origin": _origin_data(self.origin),
        }
        return write_json(data, path)

    @classmethod
    def load(cls, path: Any) -> Numerics:
        """Numerics written by :meth:`save`; a one-line ``ResultFileError`` for any other
        file."""
        how = "`jaxlab.numerics(f, x).save(path)`"
        data = opened(path, FORMAT, 1, "jaxlab numerics", how)
        origin = data["origin"]
        if origin is not None:
            inputs = tuple(
                _stats(_STATS[d.pop("type")], d) if d else None for d in origin["inputs"]
            )
            origin = Origin(**{**_tuples(origin), "inputs": inputs})
        argnums = data["argnums"]
        return cls(
            **{f.name: data[f.name] for f in fields(cls) if f.name in _KEPT},
            equation_stats=[_stats(Row, r) for r in data["equation_stats"]],
            arguments=[_stats(ArgumentStats, a) for a in data["arguments"]],
            origin=origin,
            argnums=argnums if isinstance(argnums, int) else tuple(argnums),
            devices=tuple(data["devices"]),
            **{k: _tuples(data).get(k, default) for k, default in _OPTIONAL.items()},
        )

    def _ipython_display_(self) -> None:
        """In a notebook: the static view, then the live one (a sortable table)."""
        renderer(self, "display")(self)

    def to_html(self) -> str:
        """One self-contained HTML page of the view."""
        return renderer(self, "page")(self)

    def compare_call(self, dtype: str) -> str | None:
        """The call that runs this program with its floating inputs cast to `dtype` ('bf16' or
        'f16') and ranks the equations that lose the precision (``numerics_diff``), as the
        user would type it: ``%numerics f(x) --compare bf16`` when the magic made this result,
        else ``jaxlab.numerics_diff(f, x, compare='bf16')`` with the function's parameter names.
        None for a type ``numerics_diff`` does not compare (fp8) or when the call is
        unknown."""
        key = _cast_key(dtype)
        if key not in ("bf16", "f16") or not self.compare_template:
            return None
        return self.compare_template.replace("{compare}", key)

    def cast_report(self, dtype: str) -> Table:
        """The float outputs that a cast to `dtype` ('bf16', 'f16' or 'fp8_e4m3'; 'bfloat16',
        'float16', 'float8_e4m3fn' also work) would damage, worst first: a row each with the
        fractions (0–1) of its elements that would overflow (``overflow_frac``) and flush to
        zero (``underflow_frac``), and by how much the largest value exceeds the type's range
        (``absmax_ratio`` = absmax / largest finite value of `dtype`)."""
        key = _cast_key(dtype)
        largest = LARGEST_FINITE[key]
        report = []
        for i, r in enumerate(self.equation_stats):
            if not r.is_float or r.count == 0:
                continue
            over = getattr(r, f"overflow_{key}") or 0.0
            under = getattr(r, f"underflow_{key}", None)
            if under is None:
                under = _underflow_from_histogram(r, UNDERFLOW_THRESHOLD[key])
            if over == 0.0 and under == 0.0:
                continue
            report.append(
                {
                    "row": i,
                    "equation": r.equation,
                    "primitive": r.primitive,
                    "phase": r.phase,
                    "where": r.where,
                    "dtype": r.dtype,
                    "shape": r.shape,
                    "overflow_frac": over,
                    "underflow_frac": under,
                    "absmax": r.absmax,
                    "absmax_ratio": (r.absmax / largest) if r.absmax is not None else None,
                    "overflow_threshold": OVERFLOW_THRESHOLD[key],
                }
            )
        report.sort(key=lambda d: (-d["overflow_frac"], -d["underflow_frac"], d["row"]))
        return Table(
            report,
            CAST_COLUMNS,
            f"Numerics.cast_report({dtype!r})",
            f"outputs a cast to {key} would damage, worst first"
            if report
            else f"a cast to {key} damages no float output: none overflows or flushes to zero",
            renamed={"overflow": "overflow_frac", "underflow": "underflow_frac"},
            footer=self._confirm_line(key) if report else "",
        )

    def _confirm_line(self, key: str) -> str:
        """The last line of a cast report: the call that runs the cast program."""
        call = self.compare_call(key)
        return f"run the cast program to see the error it makes: {call}" if call else ""


CAST_COLUMNS = (
    "row", "equation", "primitive", "phase", "where", "dtype", "shape", "overflow_frac",
    "underflow_frac", "absmax", "absmax_ratio", "overflow_threshold",
)  # fmt: skip


class _Rows(list):
    """``Numerics.rows``: called, the rows as dicts; read as a list (its old use), the `Row`
    objects of ``equation_stats``, with a warning once."""

    def __call__(self) -> list[dict[str, Any]]:
        rows = list.__getitem__(self, slice(None))
        return Table([r.as_dict() for r in rows], ROW_COLUMNS, "Numerics.rows()").rows()

    def _old(self) -> None:
        warn_renamed(
            "`Numerics.rows` as a list of Row",
            "`.equation_stats` (`.rows()` is a Table)",
            stacklevel=4,
        )

    def __getitem__(self, index: Any) -> Any:
        self._old()
        return list.__getitem__(self, index)

    def __iter__(self) -> Any:
        self._old()
        return list.__iter__(self)

    def __len__(self) -> int:
        self._old()
        return list.__len__(self)


FORMAT = "jaxlab.numerics"
_UNSAVED = {"equation_stats", "arguments", "origin", "output", "jaxpr"}
_KEPT = {"fn_name", "grad", "notes", "compile_s", "run_s", "process_s"}
_OPTIONAL = {"compare_template": "", "output_rows": ()}  # fields older files lack


_STATS = {c.__name__: c for c in (Stats, Row, ArgumentStats, DeviceStats)}


def _origin_data(origin: Origin | None) -> dict[str, Any] | None:
    """The origin as JSON data, its operands' statistics with their type."""
    if origin is None:
        return None
    inputs = [s and {"type": type(s).__name__, **asdict(s)} for s in origin.inputs]
    return {**asdict(origin), "inputs": inputs}


def _tuples(d: dict[str, Any]) -> dict[str, Any]:
    """JSON's lists back to the tuples of the statistics' fields."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def _stats(cls: type, d: dict[str, Any] | None) -> Any:
    if d is None:
        return None
    d = _tuples(d)
    if "per_device" in d:
        d["per_device"] = tuple(_stats(DeviceStats, p) for p in d["per_device"])
    return cls(**d)


def _cast_key(dtype: str) -> str:
    names = {v: k for k, v in CAST_DTYPES.items()}
    key = names.get(str(dtype), str(dtype))
    if key not in CAST_DTYPES:
        raise ValueError(
            f"cast_report knows bf16, f16 and fp8_e4m3, not {dtype!r}; "
            "e.g. `n.cast_report('bf16')`."
        )
    return key


def _underflow_from_histogram(row: Row, threshold: float) -> float:
    """Fraction of elements in binades entirely at or below `threshold` (a lower bound)."""
    import math

    from jaxlab.ir.numerics import HISTOGRAM_LOW

    if not row.histogram or row.count == 0:
        return 0.0
    top = math.floor(math.log2(threshold))  # binade [2**top, 2**(top+1)) straddles it
    below = sum(n for i, n in enumerate(row.histogram) if HISTOGRAM_LOW + i < top)
    return below / row.count


@takes_call()
def numerics(
    fn: Callable,
    *args: Any,
    grad: bool = False,
    argnums: int | Sequence[int] = 0,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: dict[str, Any] | None = None,
    only: str | None = None,
    _compare_template: str | None = None,
) -> Numerics:
    """Run ``fn(*args, **kwargs)`` once, compiled with ``jax.jit`` as the user's program is,
    with statistics of every equation output reduced on the device, and find where the first
    NaN or Inf came from.

    ``grad=True`` instruments ``jax.value_and_grad(fn, argnums)`` (`fn` must return a scalar):
    its backward equations are rows with ``phase == "backward"``, on the forward line they came
    from. ``only`` measures part of the program: a named scope ('block3') or a line range of
    the function's file ('12-30'); the rest still runs. Arguments holding NaN or Inf are named
    by ``origin.argument``. Nothing is donated: the caller's arrays stay valid.
    (``_compare_template``, for ``%numerics``: the line that runs the program cast down, shown
    by ``Numerics.compare_call``, ``{compare}`` for the type; by default the
    ``jaxlab.numerics_diff`` call of this one.)
    """
    from jaxlab.core.numerics import analyze
    from jaxlab.ir.numerics_origin import read_nonfinite

    found = analyze(
        fn,
        tuple(args),
        dict(kwargs or {}),
        grad=grad,
        argnums=argnums,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        only=only,
    )
    t0 = time.perf_counter()
    reading = read_nonfinite(found.rows, found.arguments, found.outputs)
    return Numerics(
        fn_name=found.fn_name,
        equation_stats=found.rows,
        arguments=found.arguments,
        origin=reading.origin,
        grad=grad,
        argnums=argnums if isinstance(argnums, int) else tuple(argnums),
        devices=found.devices,
        notes=[*found.notes, *reading.notes],
        output=found.output,
        compile_s=found.compile_s,
        run_s=found.run_s,
        process_s=found.process_s + time.perf_counter() - t0,
        jaxpr=found.jaxpr,
        output_rows=found.outputs,
        compare_template=_compare_template
        if _compare_template is not None
        else python_compare_template(
            fn,
            len(args),
            list(dict(kwargs or {})),
            grad=grad,
            argnums=argnums,
            statics={"static_argnums": static_argnums, "static_argnames": static_argnames},
        ),
    )


def python_compare_template(
    fn: Callable,
    nargs: int,
    keywords: list[str],
    *,
    grad: bool,
    argnums: int | Sequence[int],
    statics: dict[str, Any],
) -> str:
    """``jaxlab.numerics_diff(f, x, compare='{compare}')``: the call with the function's
    parameter names for its arguments (the values are the user's; only their names are
    known here)."""
    from jaxlab.base.format import function_name
    from jaxlab.base.pytrees import argument_names

    names = [n or f"arg{i}" for i, n in enumerate(argument_names(fn, nargs))]
    parts = [function_name(fn, "f"), *names]
    if keywords:
        parts.append("kwargs={" + ", ".join(f"{k!r}: {k}" for k in keywords) + "}")
    if grad:
        parts.append("grad=True")
        if argnums != 0:
            parts.append(f"argnums={argnums!r}")
    parts += [f"{k}={v!r}" for k, v in statics.items() if v is not None]
    return f"jaxlab.numerics_diff({', '.join(parts)}, compare='{{compare}}')"
