"""``%jaxpr`` and ``%hlo``: the IRs JAX and XLA make of a call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.api.irtext import STAGES, hlo, jaxpr
from jaxlab.magics._base import (
    JaxlabMagics,
    platform_option,
    platform_values,
    static_options,
    traceback_option,
)

if TYPE_CHECKING:  # imported when a magic runs, not when the extension loads
    from jaxlab.api.irtext import IRText
    from jaxlab.api.platforms import PlatformInspection


@magics_class
class IRMagics(JaxlabMagics):
    """Show the jaxpr, StableHLO and optimized HLO of a call."""

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("expr", nargs="*", help="the call, e.g. f(x, y)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def jaxpr(self, line: str = "", local_ns: dict | None = None) -> IRText:
        """The jaxpr of a call: ``%jaxpr f(x, y)``. Returns the text; ``.source`` is the
        ``ClosedJaxpr``."""
        args, call, statics = self.parse_call(self.jaxpr, "jaxpr", line, local_ns)
        with self.friendly_errors("jaxpr", call.name, args.traceback):
            return jaxpr(call.fn, *call.args, **statics, kwargs=call.kwargs)

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

        ``--platforms tpu`` (or cuda, rocm) shows the StableHLO JAX lowers for that platform,
        which this machine need not have, with each Pallas kernel's module linked to its
        source; it returns the :class:`PlatformInspection`.
        """
        args, call, statics = self.parse_call(self.hlo, "hlo", line, local_ns)
        platforms = platform_values(args, "hlo")
        if platforms:
            from jaxlab.api.platforms import inspect

            with self.friendly_errors("hlo", call.name, args.traceback):
                return inspect(
                    call.fn, *call.args, platforms=platforms, **statics, kwargs=call.kwargs
                )
        with self.friendly_errors("hlo", call.name, args.traceback):
            text = hlo(call.fn, *call.args, stage=args.stage, **statics, kwargs=call.kwargs)
        if not text:
            raise UsageError(
                f"%hlo: the backend gave no {args.stage} text for this program.\n"
                "  fix: try `--stage stablehlo`, or `jaxlab.inspect(f, x)` for what it has."
            )
        return text
