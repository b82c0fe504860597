"""``%profile f(x)``: measured time per kernel and source line; ``%memory``: device memory by
array, variable and creating line."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class, needs_local_scope, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from jaxlab.base.renamed import warn_renamed_option
from jaxlab.core.errors import describe_value
from jaxlab.magics._base import (
    JaxlabMagics,
    evaluate,
    parse_line,
    runs_value,
    static_options,
    traceback_option,
)
from jaxlab.magics._inspect import _show_error_card

if TYPE_CHECKING:  # imported when a magic runs, not when the extension loads
    from jaxlab.api.memory import MemoryDiff, MemorySnapshot
    from jaxlab.api.profile import Profile


@magics_class
class ProfileMagics(JaxlabMagics):
    """Where the time and the memory go."""

    _last_memory: MemorySnapshot | None = None

    @magic_arguments()
    @traceback_option
    @static_options
    @argument("--runs", default="10", metavar="N", help="profiled calls (default 10)")
    @argument("expr", nargs="*", help="the call, e.g. f(x)")
    @no_var_expand
    @needs_local_scope
    @line_magic
    def profile(self, line: str = "", local_ns: dict | None = None) -> Profile:
        """Profile a call: ``%profile f(x)``. Compiles it (not measured), warms it up, then
        runs it N times under JAX's profiler and shows the measured time of each kernel,
        rolled up to source lines and named scopes, with a timeline of one call. Returns the
        :class:`jaxlab.Profile` (``.to_pandas()``, ``.by_line()``, ``.coverage_frac``).
        """
        from jaxlab.api.profile import profile
        from jaxlab.core.profiler import ProfilerBusy

        args = parse_line(self.profile, line)
        runs = runs_value(args.runs, "profile")
        _, call, statics = self.parse_call(self.profile, "profile", line, local_ns)
        if isinstance(call.fn, type):
            raise UsageError(
                f"%profile: `{call.fn_text}` is {describe_value(call.fn)}, not a function.\n"
                "  fix: profile a call of a function, e.g. `%profile f(x)`."
            )
        with self.friendly_errors(
            "profile",
            call.name,
            args.traceback,
            plain=(ProfilerBusy,),
            on_failure=_show_error_card,
        ):
            result = profile(call.fn, *call.args, runs=runs, **statics, kwargs=call.kwargs)
        result.file_labels = self.file_labels(result)
        return result

    @magic_arguments()
    @traceback_option
    @argument(
        "--diff",
        action="store_true",
        help="what changed since the last %%memory (or since --since SNAPSHOT)",
    )
    @argument(
        "--since",
        metavar="SNAPSHOT",
        help="with --diff: compare with SNAPSHOT, a variable holding an earlier %%memory",
    )
    @argument("expr", nargs="*", help=argparse.SUPPRESS)
    @no_var_expand
    @needs_local_scope
    @line_magic
    def memory(self, line: str = "", local_ns: dict | None = None) -> Any:
        """Device memory held now: ``%memory``. Every live array with its bytes, the notebook
        variables that hold it (IPython's output history ``Out[n]``, ``_``, ``__`` included:
        arrays kept alive only by it are marked) and the cell and line that created it.
        ``%memory --diff`` shows what changed since the last ``%memory``, ``%memory --diff
        --since snap`` since the snapshot ``snap = %memory``. Returns a
        :class:`jaxlab.MemorySnapshot` (or a :class:`jaxlab.MemoryDiff`)."""
        from jaxlab.api.memory import MemorySnapshot, memory, memory_diff

        args = parse_line(self.memory, line)
        since = args.since
        if args.diff and args.expr and since is None and args.expr.isidentifier():
            # the old spelling `--diff SNAPSHOT`: --diff took the snapshot as its value
            warn_renamed_option("memory", "--diff SNAPSHOT", "--diff --since SNAPSHOT")
            since, args.expr = args.expr, ""
        if getattr(args, "expr", None):
            raise UsageError(
                f"%memory takes no expression (got `{args.expr}`).\n"
                "  fix: `%memory`, `%memory --diff`, or `%memory --diff --since snapshot`."
            )
        before: MemorySnapshot | None = None
        if since is not None or args.diff:
            if since is not None:
                before = evaluate(since, self.namespace(local_ns), "memory", args.traceback)
                if not isinstance(before, MemorySnapshot):
                    raise UsageError(
                        f"%memory --since: `{since}` is {describe_value(before)}, not a "
                        "memory snapshot.\n  fix: take one with `snap = %memory`."
                    )
            else:
                before = self._last_memory
                if before is None:
                    raise UsageError(
                        "%memory --diff: no earlier snapshot to compare with.\n"
                        "  fix: run `%memory` first, then `%memory --diff` after the change."
                    )
        namespace = dict(self.shell.user_ns)
        if local_ns:
            namespace.update(local_ns)
        with self.friendly_errors("memory", None, args.traceback):
            now = memory(namespace, cell_label=self.cell_label)
        del namespace
        type(self)._last_memory = now
        if before is not None:
            result: MemoryDiff = memory_diff(before, now)
            return result
        return now
