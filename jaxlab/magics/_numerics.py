"""``%numerics f(x)``: the values of every equation of one compiled run and the origin of the
first NaN or Inf."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.magics._base import JaxlabMagics, int_list, static_options, traceback_option

if TYPE_CHECKING:  # imported when the magic runs, not when the extension loads
    from jaxlab.api.numerics import Numerics
    from jaxlab.api.numerics_diff import NumericsDiff


@magics_class
class NumericsMagics(JaxlabMagics):
    """Where values go wrong: NaN/Inf origins and value ranges, forward and backward."""

    @magic_arguments()
    @traceback_option
    @static_options
    @argument(
        "--cast",
        default=None,
        metavar="NAME",
        help="with --compare bf16/f16: cast only the leaves of this argument (default: all "
        "floating inputs)",
    )
    @argument(
        "--compare",
        default=None,
        metavar="C",
        help="run the call under two numerical configurations and rank the equations that "
        "create the error: bf16, f16, x64, eager, precision=default|high|highest, numpy",
    )
    @argument(
        "--only",
        default=None,
        metavar="SCOPE|LINES",
        help="measure only a named scope (e.g. block3) or a line range of the function's "
        "file or cell (e.g. 12-30); the rest runs unmeasured",
    )
    @argument(
        "--argnums",
        default=None,
        metavar="N[,M…]",
        help="with --grad: the argument(s) to differentiate (default 0)",
    )
    @argument(
        "--grad",
        action="store_true",
        help="also the backward pass: instrument value_and_grad of the (scalar) function",
    )
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def numerics(self, line: str = "", local_ns: dict | None = None) -> Numerics | NumericsDiff:
        """Run a call once, compiled as jax.jit compiles it, with statistics of every
        equation's outputs (NaN/Inf counts, range, mean, zeros, subnormals, what a cast to
        bf16/f16/fp8 would do, exponent histograms) reduced on the device, and name the
        equation where the first NaN or Inf appeared, with its line, loop iteration, device
        and, for known traps, the fix: ``%numerics f(x)``.

        ``--grad`` covers the backward pass of a scalar function (``value_and_grad``); each
        backward equation is on the forward line it came from. ``n = %numerics f(x)`` keeps
        the :class:`jaxlab.Numerics` (``n.origin``, ``n.to_pandas()``,
        ``n.cast_report('bf16')``). Arguments are never changed or donated.

        ``--compare C`` runs the call under two numerical configurations instead and ranks the
        equations by the error they make (``d = %numerics f(x) --compare bf16`` keeps the
        :class:`jaxlab.NumericsDiff`; ``d.top``, ``d.creators()``, ``d.to_pandas()``).
        """
        args, call, statics = self.parse_call(self.numerics, "numerics", line, local_ns)
        options: dict[str, Any] = {"grad": args.grad, "only": args.only, **statics}
        argnums = int_list(args.argnums, "--argnums", "numerics")
        if argnums is not None:
            options["argnums"] = argnums[0] if len(argnums) == 1 else argnums
        from jaxlab.api.numerics import numerics
        from jaxlab.core.numerics import BadInput

        with self.friendly_errors("numerics", call.name, args.traceback, plain=(BadInput,)):
            if args.compare is not None:
                from jaxlab.api.numerics_diff import numerics_diff

                if args.only is not None:
                    raise BadInput(
                        "--only measures part of one run; --compare compares whole programs.",
                        "leave out --only with --compare.",
                    )
                options.pop("only")
                return numerics_diff(
                    call.fn,
                    *call.args,
                    kwargs=call.kwargs,
                    compare=args.compare,
                    cast=args.cast,
                    **options,
                )
            if args.cast is not None:
                raise BadInput(
                    "--cast chooses what --compare bf16/f16 casts down.",
                    "add --compare bf16 (or f16), e.g. %numerics f(params, x) --compare bf16 "
                    "--cast params.",
                )
            return numerics(
                call.fn,
                *call.args,
                kwargs=call.kwargs,
                _compare_template=compare_template(args),
                **options,
            )


def compare_template(args: Any) -> str:
    """The ``%numerics`` line that runs this one's program cast down, ``{compare}`` for the
    type: the call and its options as given (not ``--only``: a comparison runs the whole
    program), with ``--compare``."""
    expr = args.expr if isinstance(args.expr, str) else " ".join(args.expr)
    words = ["%numerics", expr]
    if args.grad:
        words.append("--grad")
    for flag, value in (
        ("--argnums", args.argnums),
        ("--static-argnums", args.static_argnums),
        ("--static-argnames", args.static_argnames),
    ):
        if value:
            words += [flag, str(value)]
    return " ".join([*words, "--compare", "{compare}"])
