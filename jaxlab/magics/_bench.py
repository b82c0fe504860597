"""``%bench`` and ``%%bench``: time a call as ``jax.jit``, eager and its NumPy twin (or named
variants), the way JAX needs. A thin adapter over :func:`jaxlab.bench`."""

from __future__ import annotations

import ast
import keyword
import re
import time
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import line_cell_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.benchmarking.progress import TextProgress, bar_text
from jaxlab.magics._base import (
    JaxlabMagics,
    evaluate,
    evaluate_arguments,
    evaluate_call,
    name_list,
    parse_expression,
    parse_line,
    static_options,
    static_values,
    traceback_option,
)

if TYPE_CHECKING:  # imported when the magic runs, not when the extension loads
    from jaxlab.benchmarking.result import BenchResult

# "label: expression" in the cell form
_LABELLED = re.compile(r"^([A-Za-z_][\w.\-]*)\s*:(?!=)\s*(.+)$")


class NotebookProgress:
    """A progress bar drawn in the cell's output and updated in place (HTML with a text
    fallback); the last state stays in the saved notebook."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.total = 0
        self.title = ""
        self._last = 0.0

    def _bundle(self, done: int, text: str) -> dict[str, str]:
        from jaxlab.views.bench import progress_html

        return {
            "text/plain": bar_text(done, self.total, self.title, text),
            "text/html": progress_html(done, self.total, self.title, text),
        }

    def start(self, total: int, title: str) -> None:
        from IPython.display import display

        self.total, self.title = total, title
        self.handle = display(self._bundle(0, ""), raw=True, display_id=True)

    def update(self, done: int, text: str) -> None:
        now = time.perf_counter()
        if self.handle is None or (done < self.total and now - self._last < 0.1):
            return
        self._last = now
        self.handle.update(self._bundle(done, text), raw=True)

    def finish(self, text: str) -> None:
        from jaxlab.views.bench import progress_html

        if self.handle is not None:
            self.handle.update(
                {
                    "text/plain": f"{self.title}: {text}",
                    "text/html": progress_html(self.total, self.total, self.title, text),
                },
                raw=True,
            )


def _vs_spec(values: list[str] | None, ns: tuple[dict, dict | None]) -> Any:
    """``--vs numpy``, ``--vs numpy,torch``, ``--vs numpy:g``, ``--vs none`` → bench's vs."""
    if not values:
        return None
    entries: dict[str, Any] = {}
    for value in values:
        value = value.strip().strip("'\"")
        if ":" in value:
            name, expr = value.split(":", 1)
            name = name.strip()
            if name.lower() not in ("numpy", "np", "torch", "pytorch"):
                raise UsageError(
                    f"%bench: unknown --vs {name!r}: use numpy, torch, numpy:g or torch:h"
                )
            fn = evaluate(expr.strip(), ns, "bench")
            if not callable(fn):
                raise UsageError(f"%bench: --vs {name}:{expr.strip()} is not a function")
            key = name if name not in entries else f"{name}:{expr.strip()}"
            entries[key] = fn
        else:
            for part in value.split(","):
                part = part.strip()
                if part:
                    entries.setdefault(part, None)
    if set(map(str.lower, entries)) == {"none"}:
        return ()
    return {k: v for k, v in entries.items() if k.lower() != "none"}


def _number_or_function(text: str | None, option: str, ns: tuple[dict, dict | None]) -> Any:
    if text is None:
        return None
    value = evaluate(text.strip().strip("'\""), ns, "bench")
    if callable(value):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"%bench: {option} takes a number or a function of the size n, got `{text}`"
        ) from None


def _cell_variants(cell: str, ns: tuple[dict, dict | None]) -> dict[str, Any]:
    """``label: f(x)`` (a fixed call) or ``label: f`` (a function of the line's arguments)."""
    spec: dict[str, Any] = {}
    for lineno, raw in enumerate(cell.splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        m = _LABELLED.match(text)
        if m and not keyword.iskeyword(m.group(1)):
            label, expr = m.group(1), m.group(2).strip()
        else:
            label, expr = text, text
        if label in spec:
            raise UsageError(
                f"%%bench: two variants are named {label!r} (line {lineno}); "
                "give each line its own label, e.g. `jit: f(x)`"
            )
        node = parse_expression(expr, "bench")
        if isinstance(node, ast.Call):
            call = evaluate_call(expr, ns, "bench")
            spec[label] = (call.fn, call.args, call.kwargs)
        else:
            value = evaluate(expr, ns, "bench")
            if not callable(value):
                raise UsageError(
                    f"%%bench: line {lineno}: `{expr}` is not a function or a call; write "
                    "`label: f(x)` or `label: f`"
                )
            spec[label] = value
    if not spec:
        raise UsageError(
            "%%bench needs one variant per line, e.g.\n"
            "  %%bench\n  jit: f_jit(x)\n  numpy: f_np(x_np)"
        )
    return spec


@magics_class
class BenchMagics(JaxlabMagics):
    """Benchmarks that get JAX timing right."""

    @magic_arguments()
    @traceback_option
    @argument(
        "-o",
        "--output",
        default=None,
        metavar="NAME",
        help="also store the BenchResult in this variable (it is returned in any case; "
        "`r = %%bench …` works for the line form)",
    )
    @static_options
    @argument(
        "--no-peak",
        "--no-roofline",
        dest="no_peak",
        action="store_true",
        help="skip the peak-bandwidth measurement (GB/s are still shown)",
    )
    @argument(
        "--bytes-accessed",
        "--bytes",
        dest="bytes",
        default=None,
        metavar="EXPR",
        help="bytes moved per call: a number or a function of the size n "
        "(default: XLA's cost analysis)",
    )
    @argument(
        "--flops",
        default=None,
        metavar="EXPR",
        help="FLOPs per call: a number or a function of n (default: XLA's cost analysis)",
    )
    @argument(
        "--processes",
        default=None,
        metavar="N",
        help="repeat the measurement in N fresh worker processes and report each "
        "process's median beside the pooled figures",
    )
    @argument("--no-check", action="store_true", help="do not compare the variants' outputs")
    @argument("--atol", type=float, default=None, help="absolute tolerance of the output check")
    @argument(
        "--rtol",
        type=float,
        default=None,
        help="relative tolerance of the output check (default set by the dtype)",
    )
    @argument("--loops", type=int, default=None, help="calls per sample (default: calibrated)")
    @argument("--runs", type=int, default=None, help="samples per variant (default: adaptive)")
    @argument(
        "--precision",
        type=float,
        default=0.02,
        help="stop once the median's 95 %% interval is within ± this fraction (default 0.02)",
    )
    @argument(
        "--time-budget",
        "--time",
        dest="time",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="most seconds of timed runs per variant and size (default 1)",
    )
    @argument(
        "--dtype",
        default=None,
        help="cast every floating input to this dtype (e.g. float32) for all variants",
    )
    @argument("--x64", action="store_true", help="run JAX in 64-bit (float64) mode")
    @argument(
        "--make",
        default=None,
        metavar="EXPR",
        help="argument factory for --sizes, e.g. 'lambda n: (jnp.ones(n),)' "
        "(default: rescale the first array argument to n elements)",
    )
    @argument(
        "--sizes",
        default=None,
        metavar="N,N,…",
        help="sweep over these sizes, e.g. 1e3,1e4,1e5: log-log plot, speedup, crossover",
    )
    @argument("--baseline", default=None, help="variant the ratios are against (default numpy)")
    @argument(
        "--variants",
        default=None,
        metavar="NAME,…",
        help="run only these of jit, eager and the twins, e.g. jit,numpy",
    )
    @argument(
        "--vs",
        action="append",
        default=None,
        metavar="SPEC",
        help="compare with numpy (default), torch, numpy,torch, numpy:g / torch:h "
        "(your own twin g, h) or none; repeatable",
    )
    @argument(
        "expr",
        nargs="*",
        help="the call, e.g. f(x); for %%%%bench, the arguments given to variants named by "
        "their function",
    )
    @no_var_expand
    @needs_local_scope
    @line_cell_magic
    def bench(
        self, line: str = "", cell: str | None = None, local_ns: dict | None = None
    ) -> BenchResult:
        """Time a call the way JAX needs: ``%bench f(x)``.

        Compares ``jax.jit(f)``, eager ``f`` and a NumPy twin (``f`` called with NumPy arrays,
        or a copy with ``jnp`` rebound to NumPy): every output leaf is waited on; trace,
        lower, compile, first call and host→device transfer are reported apart; the loop
        count is calibrated against the timer; variants run interleaved; outputs are checked
        for agreement; a compilation inside the timed loop flags the result invalid.

        ``%bench f(x) --sizes 1e3,1e4,1e5`` sweeps sizes (log-log plot, crossover).
        ``%bench f(x) --processes 5`` repeats it in 5 fresh processes (per-process medians).

        Cell form, one named variant per line (``label: call`` or ``label: function``)::

            %%bench
            jit: f_jit(x)
            numpy: f_np(x_np)

        Returns a ``BenchResult`` (``.to_pandas()``, ``.save(path)``); compare results from
        different cells with ``jaxlab.compare(r1, r2)``.
        """
        args = parse_line(self.bench, line)
        self._timeit_style_output(args)
        ns = self.namespace(local_ns)
        options = self._options(args, ns)
        if cell is not None:
            target: Any = _cell_variants(cell, ns)
            call_args, call_kwargs = evaluate_arguments(args.expr, ns, "%bench", args.traceback)
            name = ", ".join(target)
            if args.vs:
                raise UsageError(
                    "%%bench: the cell's lines are the variants; leave out --vs "
                    "(add a line like `numpy: f_np(x)` instead)"
                )
        else:
            call = evaluate_call(args.expr, ns, "bench", args.traceback)
            target, call_args, call_kwargs, name = call.fn, call.args, call.kwargs, call.name
            options["vs"] = _vs_spec(args.vs, ns)
        from jaxlab.benchmarking.result import BenchError
        from jaxlab.benchmarking.runner import bench

        with self.friendly_errors("bench", name, args.traceback, plain=(BenchError,)):
            result = bench(target, *call_args, **options, kwargs=call_kwargs)
        if cell is None:
            _name_numerics_call(result, args.expr, options)
            _explain_mismatches(result, target, call_args, call_kwargs)
        if args.output:
            self.shell.user_ns[args.output] = result
        return result

    @staticmethod
    def _timeit_style_output(args: Any) -> None:
        """``%bench -o f(x)`` (as with %timeit) means: return the result; ``-o r`` also
        stores it in ``r``."""
        out = args.output
        if out is None:
            return
        if out.isidentifier() and not keyword.iskeyword(out):
            return
        if args.expr:
            raise UsageError(
                f"%bench: -o takes a variable name, got `{out}`; write `%bench -o r f(x)`"
            )
        args.expr, args.output = out, None

    def _options(self, args: Any, ns: tuple[dict, dict | None]) -> dict[str, Any]:
        sizes = None
        if args.sizes is not None:
            sizes = args.sizes.strip().strip("'\"")
            if not sizes.replace(",", "").strip():
                raise UsageError(
                    "%bench: --sizes needs at least one size, e.g. --sizes 1e3,1e4,1e5"
                )
        make = None
        if args.make is not None:
            if args.sizes is None:
                raise UsageError(
                    "%bench: --make builds the arguments of a --sizes sweep; add --sizes"
                )
            make = evaluate(args.make.strip().strip("'\""), ns, "bench")
            if not callable(make):
                raise UsageError(
                    f"%bench: --make must be a function of the size, like "
                    f"'lambda n: (jnp.ones(n),)'; got `{args.make}`"
                )
        processes = None
        if args.processes is not None:
            text = args.processes.strip().strip("'\"")
            if not text.isdigit() or int(text) < 1:
                raise UsageError(
                    f"%bench: --processes takes a whole number ≥ 1 of fresh processes, "
                    f"e.g. --processes 5; got `{args.processes}`"
                )
            processes = int(text)
        in_kernel = getattr(self.shell, "kernel", None) is not None
        return {
            "processes": processes,
            "variants": name_list(args.variants),
            "baseline": args.baseline,
            "sizes": sizes,
            "make": make,
            **static_values(args, "bench"),
            "x64": args.x64,
            "dtype": args.dtype,
            "time_budget": args.time,
            "precision": args.precision,
            "runs": args.runs,
            "loops": args.loops,
            "check": not args.no_check,
            "rtol": args.rtol,
            "atol": args.atol,
            "peak": not args.no_peak,
            "flops": _number_or_function(args.flops, "--flops", ns),
            "bytes_accessed": _number_or_function(args.bytes, "--bytes", ns),
            "progress": NotebookProgress() if in_kernel else TextProgress(),
        }


def _name_numerics_call(result: BenchResult, expr: str, options: dict) -> None:
    """The note that the output holds NaN or Inf names the ``%numerics`` call that finds where
    the first one is made."""
    from jaxlab.benchmarking.point import NONFINITE
    from jaxlab.magics._transforms import numerics_line

    for note in result.notes:
        if note.topic == NONFINITE:
            line = numerics_line("jit", expr, options)
            note.text += f"; find where the first one is made: {line}"


def _explain_mismatches(result: BenchResult, fn: Any, args: tuple, kwargs: dict) -> None:
    """A jit-against-NumPy (or jit-against-eager) mismatch names the equation that creates
    the difference, found by ``numerics_diff`` (the program against itself in float64, or
    compiled against op by op)."""
    from jaxlab.api.numerics_diff import numerics_diff

    for m in result.mismatches:
        pair = {m.variant, m.reference}
        if result.sweep or "jit" not in pair or not pair & {"numpy", "eager"}:
            continue
        compare = "x64" if "numpy" in pair else "eager"
        try:
            d = numerics_diff(fn, *args, kwargs=kwargs, compare=compare)
        except Exception:  # the mismatch stays reported as it is
            continue
        top = d.top
        if top is None:
            continue
        where = top["where"] or f"equation {top['equation']}"
        made = (
            f"{top['primitive']} at {where} makes most of it (local error "
            f"{top['local_error']:.2g}): {top['fix']}"
        )
        if compare == "x64":
            m.message += (
                f". Against the same program in float64 the jit output is off by "
                f"{d.output_error:.2g}; {made}"
            )
        else:
            m.message += f". Compiled against op by op: {made}"
