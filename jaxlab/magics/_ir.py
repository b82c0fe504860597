"""``%jaxpr`` and ``%hlo``: the IRs JAX and XLA make of a call."""

from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.api.inspection import inspect
from jaxlab.api.irtext import IRText
from jaxlab.api.platforms import PlatformInspection
from jaxlab.core import jit as _jit
from jaxlab.core import stages as _stages
from jaxlab.magics._base import (
    JaxlabMagics,
    platform_option,
    platform_values,
    static_options,
    traceback_option,
)

STAGES = ("jaxpr", "stablehlo", "hlo")


@magics_class
class IRMagics(JaxlabMagics):
    """Show the jaxpr, StableHLO and optimized HLO of a call."""

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("expr", nargs="*", help="the call, e.g. f(x, y)")
    @needs_local_scope
    @line_magic
    def jaxpr(self, line: str = "", local_ns: dict | None = None) -> IRText:
        """The jaxpr of a call: ``%jaxpr f(x, y)``. Returns the text; ``.source`` is the
        ``ClosedJaxpr``."""
        args, call, statics = self.parse_call(self.jaxpr, "jaxpr", line, local_ns)
        with self.friendly_errors("jaxpr", call.name, args.traceback):
            jitted, _, _ = _stages.make_jitted(call.fn, **statics)
            closed = jitted.trace(*call.args, **call.kwargs).jaxpr
        from jaxlab.ir.jaxpr import jaxpr_text

        title = f"jaxpr of {call.name}({_jit.describe_args(call.args, call.kwargs)})"
        return IRText(jaxpr_text(closed), "jaxpr", title, source=closed)

    @magic_arguments()
    @traceback_option
    @static_options
    @argument(
        "--stage",
        default="hlo",
        choices=STAGES,
        help="hlo: optimized, fused HLO (default); stablehlo: before XLA's passes; jaxpr",
    )
    @platform_option
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def hlo(self, line: str = "", local_ns: dict | None = None) -> IRText | PlatformInspection:
        """The optimized HLO of a call, with its fusions: ``%hlo f(x)``.

        ``--stage stablehlo`` shows the program before XLA's optimizations. Returns the
        text; ``.inspection`` has everything else (costs, timings, fusions).

        ``--platform tpu`` (or cuda, rocm) shows the StableHLO JAX lowers for that platform,
        which this machine need not have, with each Pallas kernel's module linked to its
        source; it returns the :class:`PlatformInspection`.
        """
        args, call, statics = self.parse_call(self.hlo, "hlo", line, local_ns)
        platforms = platform_values(args, "hlo")
        if platforms:
            with self.friendly_errors("hlo", call.name, args.traceback):
                return inspect(call.fn, *call.args, platforms=platforms, **statics, **call.kwargs)
        with self.friendly_errors("hlo", call.name, args.traceback):
            insp = inspect(call.fn, *call.args, run=False, **statics, **call.kwargs)
            signature = _jit.describe_args(call.args, call.kwargs)
            if args.stage == "hlo":
                text, source = insp.hlo, insp.compiled
                title = f"optimized HLO of {call.name}({signature})"
            elif args.stage == "stablehlo":
                text, source = insp.stablehlo, insp.lowered
                title = f"StableHLO of {call.name}({signature})"
            else:
                text, source = insp.jaxpr_text, insp.jaxpr
                title = f"jaxpr of {call.name}({signature})"
        if not text:
            raise UsageError(
                f"%hlo: the backend gave no {args.stage} text for this program.\n"
                "  fix: try `--stage stablehlo`, or `jaxlab.inspect(f, x)` for what it has."
            )
        return IRText(text, args.stage, title, source=source, inspection=insp)
