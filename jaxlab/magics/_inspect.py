"""``%inspect f(x)``: the linked IR inspector of a call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.core.errors import Explanation
from jaxlab.magics._base import (
    JaxlabMagics,
    platform_option,
    platform_values,
    runs_value,
    static_options,
    traceback_option,
)

if TYPE_CHECKING:  # imported when a magic runs, not when the extension loads
    from jaxlab.api.compile_profile import CompileProfile
    from jaxlab.api.inspection import Inspection
    from jaxlab.api.platforms import PlatformInspection


@magics_class
class InspectMagics(JaxlabMagics):
    """The linked inspector: source ↔ jaxpr ↔ StableHLO ↔ optimized HLO, graph, fusions."""

    @magic_arguments()
    @traceback_option
    @static_options
    @platform_option
    @argument(
        "--compile-profile",
        action="store_true",
        help="where the compile time goes instead (the same as %%compile_profile)",
    )
    @argument("--runs", default=None, metavar="N", help="calls measured by --profile (default 10)")
    @argument(
        "--profile",
        action="store_true",
        help="also run the call under JAX's profiler: kernel times in the fusion explorer, "
        "heat on lines and HLO instructions, a timeline of one call",
    )
    @argument(
        "--numerics",
        action="store_true",
        help="also run the call once instrumented: a values column beside every jaxpr "
        "equation, the source lines that made NaN or Inf marked, the view opened on the first "
        "one's origin",
    )
    @argument(
        "--compare",
        default=None,
        metavar="C",
        help="also run the call under a second numerical configuration (bf16, f16, x64, "
        "eager, precision=default|high|highest): an error column beside every jaxpr "
        "equation, heat on the source lines by the error they make, the view opened on the "
        "equation that makes the most",
    )
    @argument(
        "--no-run",
        action="store_true",
        help="stage the call without running it (as run=False); by default a call with real "
        "arrays runs once, for its first-run and steady-state times",
    )
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def inspect(
        self, line: str = "", local_ns: dict | None = None
    ) -> Inspection | PlatformInspection | CompileProfile:
        """Inspect a call: ``%inspect f(x)``. Shows the function's source beside its jaxpr,
        StableHLO and optimized HLO, colour-linked line by line, with a graph and a fusion
        explorer. Returns the :class:`jaxlab.Inspection` (``.fusions``,
        ``.links_for_line(n)``). If the call fails to trace or compile, the error and the
        line it came from are shown instead.

        ``--platforms tpu,cuda`` lowers the call for those platforms (no such device needed):
        StableHLO per platform, Pallas kernels' modules, grids and BlockSpecs, and what
        differs from the CPU lowering (a :class:`PlatformInspection`).

        ``--numerics`` adds the values of every equation (as ``%numerics``): range, NaN and
        Inf beside each jaxpr line, and the view opens on the origin of the first NaN or Inf.

        ``--compare bf16`` adds the error under that configuration (as ``%numerics f(x)
        --compare bf16``): how far each jaxpr equation's output is off and how much error it
        makes itself, heat on the source lines, and the view opens on the worst creator.

        ``--compile-profile`` shows where the compile time goes instead (a
        :class:`jaxlab.CompileProfile`, as ``%compile_profile f(x)``).

        Like ``jaxlab.inspect(f, x)``, a call with real arrays is run (``--no-run`` stages it
        only, as ``run=False``); ``--profile --runs N`` is ``profile=N``.
        """
        args, call, statics = self.parse_call(self.inspect, "inspect", line, local_ns)
        if args.runs is not None and not args.profile:
            raise UsageError(
                "%inspect: --runs counts the calls --profile measures.\n"
                "  fix: add --profile (`%inspect --profile --runs 5 f(x)`), or drop --runs."
            )
        platforms = platform_values(args, "inspect")
        if args.compile_profile:
            if args.profile or args.numerics or args.compare:
                raise UsageError(
                    "%inspect: --compile-profile measures the compiler; --profile, "
                    "--numerics and --compare run the call.\n"
                    "  fix: run `%compile_profile f(x)` and `%inspect --profile f(x)` (or "
                    "--numerics) apart."
                )
            if platforms:
                raise UsageError(
                    "%inspect: --compile-profile compiles for this machine's backend only.\n"
                    "  fix: drop --platforms, or drop --compile-profile."
                )
            from jaxlab.magics._compile import profile_call

            with self.friendly_errors("inspect", call.name, args.traceback):
                return profile_call(self.shell, call, statics)
        profile: int | bool = False
        if args.profile:
            profile = runs_value(args.runs or "10", "inspect")
        from jaxlab.api.platforms import inspect
        from jaxlab.core.numerics import BadInput
        from jaxlab.core.profiler import ProfilerBusy

        with self.friendly_errors(
            "inspect",
            call.name,
            args.traceback,
            plain=(ProfilerBusy, BadInput),
            on_failure=_show_error_card,
        ):
            if platforms:
                if profile or args.numerics or args.compare:
                    which = (
                        "--profile" if profile else "--numerics" if args.numerics else "--compare"
                    )
                    raise UsageError(
                        f"%inspect: {which} runs the call on this machine; it cannot be "
                        "combined with --platforms.\n  fix: drop one of them."
                    )
                return inspect(
                    call.fn, *call.args, platforms=platforms, **statics, kwargs=call.kwargs
                )
            run = False if args.no_run else None
            insp = inspect(
                call.fn,
                *call.args,
                run=run,
                profile=profile,
                numerics=args.numerics,
                compare=args.compare,
                **statics,
                kwargs=call.kwargs,
            )
        if getattr(insp, "profile", None) is not None:
            insp.profile.file_labels = self.file_labels(insp.profile)
        return insp


def _show_error_card(exc: BaseException, explanation: Explanation) -> None:
    """The error card where the inspector would be; the one-line UsageError says the same in
    text."""
    from IPython.display import display

    from jaxlab.views.error import InspectionError

    display(InspectionError(exc, explanation))
