"""``%compile_profile f(x)`` and ``%passes f(x)``: where compile time goes, and what each XLA
pass did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.magics._base import Call, JaxlabMagics, static_options, traceback_option

if TYPE_CHECKING:  # imported when a magic runs, not when the extension loads
    from jaxlab.api.compile_profile import CompileProfile
    from jaxlab.api.passes import PassPipeline


@magics_class
class CompileMagics(JaxlabMagics):
    """The compile explorer: compile profile and pass pipeline of a call."""

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def compile_profile(self, line: str = "", local_ns: dict | None = None) -> CompileProfile:
        """Where the compile time of a call goes: ``%compile_profile f(x)``. Trace, lower and
        compile (XLA's pass pipelines and passes, code generation per kernel and per source
        line), measured with XLA's profiler; advice names slow patterns (unrolled loops,
        baked constants, tiny kernels, static arguments that recompile). Nothing is run.
        Returns the :class:`jaxlab.CompileProfile` (``.passes.to_pandas()``, ``.by_line()``).
        """
        args, call, statics = self.parse_call(
            self.compile_profile, "compile_profile", line, local_ns
        )
        with self.friendly_errors("compile_profile", call.name, args.traceback):
            return profile_call(self.shell, call, statics)

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def passes(self, line: str = "", local_ns: dict | None = None) -> PassPipeline:
        """The XLA passes that changed a call's HLO module: ``%passes f(x)``. Each pass opens
        to a before/after diff (renumbered names ignored, instructions coloured by source
        line), so you see which pass created a fusion or inserted a copy. Returns the
        :class:`jaxlab.PassPipeline` (``.created("fusion")``, ``.to_pandas()``).
        """
        from jaxlab.api.passes import passes

        args, call, statics = self.parse_call(self.passes, "passes", line, local_ns)
        with self.friendly_errors("passes", call.name, args.traceback):
            return passes(call.fn, *call.args, **statics, kwargs=call.kwargs)


def profile_call(shell: Any, call: Call, statics: dict[str, Any]) -> CompileProfile:
    """`jaxlab.compile_profile` of an evaluated call, with the function's recompile history
    from the guards when they run (advice on static arguments)."""
    from jaxlab.api.compile_profile import compile_profile
    from jaxlab.magics._guards import hooks_of

    hooks = hooks_of(shell)
    named = hooks.guards.ledger.named(call.name) if hooks is not None else []
    recorded = named[-1] if named else None
    return compile_profile(call.fn, *call.args, recompiles=recorded, **statics, kwargs=call.kwargs)
