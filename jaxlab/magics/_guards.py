"""The guards in IPython: the ``JaxLab`` configurable (``%config JaxLab``), the cell events that
run :class:`jaxlab.guards.Guards`, JAX pitfalls explained above a cell's traceback, and
``%recompiles``."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from traitlets import Bool, Int
from traitlets.config import Configurable

from jaxlab.core.errors import explain_pitfall
from jaxlab.guards import Guards, GuardSettings, GuardWarning
from jaxlab.magics._base import JaxlabMagics, cell_label, parse_line, traceback_option

CONFIG_HINT = "`%config JaxLab.{name} = True`"
ERROR_WIDTH = 88  # columns of the explanation above an error: wrapped at spaces, never mid-word


class JaxLab(Configurable):
    """jaxlab's notebook guards. `%config JaxLab` lists the options and their values;
    `%config JaxLab.recompile_limit = 10` sets one (in ipython_config.py:
    `c.JaxLab.recompile_limit = 10`)."""

    stale_closures = Bool(
        GuardSettings.stale_closures,
        help="After each cell, warn when a jitted function keeps computing with a global "
        "(array, number, helper function) that changed after JAX traced it.",
    ).tag(config=True)
    side_effects = Bool(
        GuardSettings.side_effects,
        help="When a jitted function is first traced, report print(), writes to globals and "
        "nonlocals, mutation of global containers and time/random calls in it (once per "
        "source line).",
    ).tag(config=True)
    recompiles = Bool(
        GuardSettings.recompiles,
        help="Record compilations per function with JAX's reasons (%recompiles lists them) "
        "and warn when one function compiles more than recompile_limit times in one cell.",
    ).tag(config=True)
    recompile_limit = Int(
        GuardSettings.recompile_limit,
        min=1,
        help="How many compilations of one function in one cell are fine; one more warns.",
    ).tag(config=True)
    friendly_errors = Bool(
        GuardSettings.friendly_errors,
        help="Explain JAX's common errors (traced values in Python control flow or as "
        "concrete values, leaked tracers, in-place updates, grad of non-scalars) above the "
        "original traceback of any cell.",
    ).tag(config=True)


class GuardHooks:
    """Runs the guards around the cells of one IPython shell and shows what they find."""

    def __init__(self, shell: Any):
        self.shell = shell
        self.config = JaxLab(parent=shell)
        self.guards = Guards(self.config, cell_label=self.cell_label, config_hint=CONFIG_HINT)
        self._pending: list[Any] = []
        self._owns_custom_exc = False

    def cell_label(self, filename: str) -> str | None:
        return cell_label(self.shell, filename)

    # -- registration ------------------------------------------------------------------------

    def register(self) -> None:
        shell = self.shell
        shell.events.register("pre_run_cell", self.pre_run_cell)
        shell.events.register("post_run_cell", self.post_run_cell)
        if self.config not in shell.configurables:
            shell.configurables.append(self.config)
        if not shell.custom_exceptions:  # leave another handler in place
            shell.set_custom_exc((TypeError,), self.show_error)
            self._owns_custom_exc = True

    def unregister(self) -> None:
        shell = self.shell
        for event, callback in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            with contextlib.suppress(ValueError):
                shell.events.unregister(event, callback)
        if self.config in shell.configurables:
            shell.configurables.remove(self.config)
        if self._owns_custom_exc:
            shell.set_custom_exc((), None)
            self._owns_custom_exc = False
        self._pending.clear()
        self.guards.close()

    # -- cell events -------------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        try:
            self._pending.append(info)
            self._show(self.guards.before_cell(self.shell.user_ns))
        except Exception as exc:
            _internal(exc)

    def post_run_cell(self, result: Any) -> None:
        try:
            info = getattr(result, "info", None)
            for i, pending in enumerate(self._pending):
                if pending is info:
                    del self._pending[i]
                    break
            else:
                return  # a cell whose start we did not see (e.g. an empty one)
            cell = getattr(result, "execution_count", None)
            self._show(self.guards.after_cell(self.shell.user_ns, cell))
        except Exception as exc:
            _internal(exc)

    def _show(self, warnings: list[GuardWarning]) -> None:
        if not warnings:
            return
        from IPython.display import display

        for warning in warnings:
            if warning.guard == "internal":
                print(warning.text(), file=sys.stderr)
            else:
                display(warning)

    # -- errors in cells ---------------------------------------------------------------------

    def show_error(
        self, shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
    ) -> list[str] | None:
        """IPython's custom exception handler: the explanation of a JAX pitfall, then the
        original traceback; other errors are shown as usual."""
        stb: list[str] | None = None
        if self.config.friendly_errors:
            try:
                explanation = explain_pitfall(value, self.cell_label)
                if explanation is not None:
                    original = shell.InteractiveTB.structured_traceback(
                        etype, value, tb, tb_offset=tb_offset
                    )
                    note = CONFIG_HINT.format(name="friendly_errors").replace("True", "False")
                    stb = [
                        _highlight(explanation.message(prefix="[jaxlab] ", width=ERROR_WIDTH))
                        + f"\n  (the original error follows; {note} turns this off)\n",
                        *original,
                    ]
            except Exception as exc:
                _internal(exc, "explaining the error")
        if stb is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
            return None
        rendered = stb
        try:
            value._render_traceback_ = lambda: rendered  # type: ignore[attr-defined]
        except Exception:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
            return None
        try:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
        finally:
            del value._render_traceback_  # type: ignore[attr-defined]
        return stb


def _highlight(text: str) -> str:
    first, _, rest = text.partition("\n")
    return f"\x1b[1;33m{first}\x1b[0m" + (f"\n{rest}" if rest else "")


def _internal(exc: BaseException, doing: str = "running the guards") -> None:
    print(
        f"[jaxlab] guard failure: {doing} failed ({type(exc).__name__}: {exc}); the cell "
        "itself is not affected.",
        file=sys.stderr,
    )


_hooks: dict[int, GuardHooks] = {}


def hooks_of(shell: Any) -> GuardHooks | None:
    return _hooks.get(id(shell))


def install(shell: Any) -> GuardHooks:
    """Start the guards in `shell` (once; loading the extension again keeps them)."""
    hooks = _hooks.get(id(shell))
    if hooks is None or hooks.shell is not shell:
        hooks = _hooks[id(shell)] = GuardHooks(shell)
        hooks.register()
    return hooks


def uninstall(shell: Any) -> None:
    hooks = _hooks.pop(id(shell), None)
    if hooks is not None:
        hooks.unregister()


@magics_class
class GuardMagics(JaxlabMagics):
    """``%recompiles``: what the recompilation guard recorded."""

    @magic_arguments()
    @traceback_option
    @argument("--clear", action="store_true", help="forget the compilations recorded so far")
    @argument(
        "--diff",
        action="store_true",
        help="with a function's name: what changed between its last two compilations "
        "(JAX's reason, the arguments, jaxpr, StableHLO and HLO)",
    )
    @argument(
        "expr",
        nargs="*",
        metavar="NAME",
        help="a function's name: list each of its compilations with JAX's reason",
    )
    @line_magic
    def recompiles(self, line: str = "") -> Any:
        """Compilations of your functions since jaxlab was loaded: per function, how many, in
        which cells, how long, and why (JAX's explanation of each tracing-cache miss, captured
        instead of logged). ``%recompiles f`` lists every compilation of ``f``;
        ``r = %recompiles`` returns the report (``r.functions``, ``r["f"].count``).
        ``%recompiles f --diff`` compares the last two compilations of ``f``: JAX's reason,
        the arguments that changed, and the jaxpr, StableHLO and HLO diffs.
        """
        args = parse_line(self.recompiles, line)
        hooks = hooks_of(self.shell)
        if hooks is None:
            raise UsageError(
                "%recompiles: jaxlab's guards are not running.\n  fix: run `%load_ext jaxlab`."
            )
        ledger = hooks.guards.ledger
        if args.clear:
            if args.expr:
                raise UsageError(
                    "%recompiles --clear takes no function name.\n"
                    "  fix: run `%recompiles --clear` alone (it forgets every function)."
                )
            n = ledger.clear()
            print(f"[jaxlab] forgot {n} recorded compilation{'s' if n != 1 else ''}")
            return None
        name = args.expr or None
        if name is not None and not ledger.named(name):
            known = ", ".join(sorted(ledger.functions)) or "none yet"
            raise UsageError(
                f"%recompiles: no compilations of `{name}` recorded (functions with "
                f"compilations: {known}).\n  fix: give the name of a function that was jitted "
                "and called since jaxlab was loaded, or run `%recompiles` for all of them."
            )
        if args.diff:
            return self._recompile_diff(name, ledger, args.traceback)
        if not hooks.config.recompiles:
            print(
                "[jaxlab] recording is off; `%config JaxLab.recompiles = True` turns it on "
                "(shown: what was recorded before)"
            )
        with self.friendly_errors("recompiles", name, args.traceback):
            return ledger.report(name, self.cell_label)

    def _recompile_diff(self, name: str | None, ledger: Any, show_traceback: bool) -> Any:
        from jaxlab.api.compile_diff import recompile_diff

        if name is None:
            raise UsageError(
                "%recompiles --diff needs a function's name.\n"
                "  fix: `%recompiles f --diff` (run `%recompiles` to list the functions)."
            )
        entry = ledger.named(name)[-1]  # the latest function of that name
        records = [r for r in entry.records if r.call is not None]
        if len(records) < 2:
            raise UsageError(
                f"%recompiles --diff: `{name}` has fewer than two recorded compilations with "
                "their arguments.\n  fix: call it again with the new arguments, then run "
                f"`%recompiles {name} --diff`."
            )
        fn = self.shell.user_ns.get(entry.name)
        if not callable(fn):
            raise UsageError(
                f"%recompiles --diff: no function `{entry.name}` in the namespace to compile "
                f"again.\n  fix: keep `{entry.name}` defined (the diff stages it with both "
                "calls' arguments)."
            )
        with self.friendly_errors("recompiles", name, show_traceback):
            return recompile_diff(fn, name, records[-2], records[-1])
