"""The guards of one notebook session: what runs before and after each cell.

Before a cell, compilations start being recorded (with JAX's reasons, and the function JAX
traced for each: the guards follow what JAX traced, not names). After it, the guards look at
that cell's traces and compilations and at the jitted functions bound to names (which name them
in messages), and return what they found; nothing is printed here. A guard that fails is
turned off and reported in one line: the guards never raise into the user's cell.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from jaxlab.core import compile_events as _compile_events
from jaxlab.guards._functions import traced_function
from jaxlab.guards._jitted import Jitted, jitted_callables
from jaxlab.guards._recompiles import RecompileLedger, defined_at
from jaxlab.guards._side_effects import effect_warning, side_effects
from jaxlab.guards._stale import StaleClosureGuard
from jaxlab.guards._warning import GuardWarning


@dataclass
class GuardSettings:
    """Which guards run, and the recompilation limit (per function, per cell)."""

    stale_closures: bool = True
    side_effects: bool = True
    recompiles: bool = True
    recompile_limit: int = 5
    friendly_errors: bool = True


class Guards:
    """Stale-closure, side-effect and recompilation checks around the cells of one session.

    `settings` is any object with :class:`GuardSettings`' attributes (in IPython, the ``JaxLab``
    configurable); `cell_label` turns a code object's file name into "In [5]"; `config_hint`
    says how to turn a setting back on (``{name}`` is replaced).
    """

    def __init__(
        self,
        settings: Any = None,
        *,
        cell_label: Callable[[str], str | None] | None = None,
        config_hint: str = "set {name} = True",
    ):
        self.settings = settings if settings is not None else GuardSettings()
        self.cell_label = cell_label
        self.config_hint = config_hint
        self.ledger = RecompileLedger(cell_label)
        self.stale = StaleClosureGuard()
        self._analyzed: weakref.WeakSet = weakref.WeakSet()
        self._sites: set[tuple[str, str, str]] = set()
        self._lines: set[tuple[str, int, str]] = set()  # (file, line, kind) warned about
        self._recording: ExitStack | None = None
        self._log: _compile_events.CompileLog | None = None
        self._explained = False
        self._namespace: Mapping[str, Any] | None = None
        self._depth = 0

    # -- around a cell -------------------------------------------------------------------------

    def before_cell(self, namespace: Mapping[str, Any] | None = None) -> list[GuardWarning]:
        """Start recording the cell's compilations (the outermost cell only), with JAX's
        reasons when the recompiles guard is on. Jitted functions of `namespace` traced during
        the cell have their globals read as the trace saw them."""
        self._depth += 1
        if self._depth > 1 or not self._any_on():
            return []
        found: list[GuardWarning] = []
        self._namespace = namespace
        self._guarded(("recompiles",), self._start_recording, found)
        return found

    def after_cell(self, namespace: Mapping[str, Any], cell: int | None) -> list[GuardWarning]:
        """Run the guards on what the cell did; returns the warnings, in the order found."""
        self._depth = max(self._depth - 1, 0)
        if self._depth > 0:
            return []
        found: list[GuardWarning] = []
        log = self._stop_recording()
        if log is not None and self._explained and self.settings.recompiles:
            self._check(("recompiles",), lambda: self._recompiles(log, cell), found)
        compiled = Counter(
            defined_at(c.reasons) or c.name for c in (log.compilations if log else ())
        )
        traced = _traced_functions(log)
        wanted = tuple(n for n in ("side_effects", "stale_closures") if getattr(self.settings, n))
        if not wanted:
            return found
        jitted = self._guarded(wanted, lambda: jitted_callables(namespace), found)
        if jitted is None:
            return found
        if self.settings.side_effects:
            self._check(("side_effects",), lambda: self._side_effects(jitted, traced, cell), found)
        if self.settings.stale_closures:
            self._check(
                ("stale_closures",), lambda: self.stale.check(jitted, cell, compiled), found
            )
        return found

    def close(self) -> None:
        """Stop recording (the extension is unloaded, possibly in the middle of a cell)."""
        self._stop_recording()
        self._depth = 0

    # -- the guards ---------------------------------------------------------------------------

    def _any_on(self) -> bool:
        s = self.settings
        return bool(s.recompiles or s.stale_closures or s.side_effects)

    def _start_recording(self) -> None:
        stack = ExitStack()
        # JAX's explanations also say which function it traces under grad, vmap, ...
        self._explained = True
        self._log = stack.enter_context(_compile_events.recording(explain=True))
        self._log.on_trace = self._traced
        self._recording = stack

    def _traced(self, name: str, so_far: _compile_events.Compilation) -> None:
        """Called by the compile events right after JAX traced `name` (which drop its errors:
        the check after the cell still runs and reports its own)."""
        if self.settings.stale_closures and so_far.function is not None:
            self.stale.traced(so_far.function, so_far.reasons)

    def _stop_recording(self) -> _compile_events.CompileLog | None:
        stack, log = self._recording, self._log
        self._recording = self._log = self._namespace = None
        if stack is not None:
            stack.close()
        return log

    def _recompiles(self, log: _compile_events.CompileLog, cell: int | None) -> list:
        by_name = self.ledger.add(log, cell)
        return self.ledger.over_limit(by_name, int(self.settings.recompile_limit), cell)

    def _side_effects(
        self, jitted: list[Jitted], traced: list[tuple[Any, Any]], cell: int | None
    ) -> list[GuardWarning]:
        """Side effects of each function traced for the first time: those JAX traced in this
        cell, and jitted functions bound to names seen traced (named as they are bound)."""
        names = {id(j.function): j.name for j in jitted}
        todo = [(fn, owner) for fn, owner in traced]
        todo += [(j.function, None) for j in jitted if j.traced]
        found = []
        for fn, owner in todo:
            if fn in self._analyzed:
                continue
            self._analyzed.add(fn)
            label = names.get(id(fn)) or (
                f"{type(owner).__name__}.{fn.__name__}" if owner is not None else fn.__name__
            )
            for effect in side_effects(fn):
                # a nested function (a scan body) is analysed inside its outer function and
                # again when JAX traces it: one warning per source line
                line = (effect.filename, effect.line, effect.kind)
                if effect.site in self._sites or line in self._lines:
                    continue
                self._sites.add(effect.site)
                self._lines.add(line)
                found.append(effect_warning(effect, label, cell, self.cell_label))
        return found

    # -- failures ----------------------------------------------------------------------------

    def _check(
        self,
        settings: tuple[str, ...],
        check: Callable[[], list[GuardWarning]],
        found: list[GuardWarning],
    ) -> None:
        found.extend(self._guarded(settings, check, found) or [])

    def _guarded(
        self, settings: tuple[str, ...], check: Callable[[], Any], found: list[GuardWarning]
    ) -> Any:
        """`check()`, or None after adding one warning and turning `settings` off if it
        raised."""
        try:
            return check()
        except Exception as exc:
            for name in settings:
                setattr(self.settings, name, False)
            names = " and ".join(settings)
            hint = "; ".join(self.config_hint.format(name=name) for name in settings)
            guard = "guards" if len(settings) > 1 else "guard"
            found.append(
                GuardWarning(
                    guard="internal",
                    summary=(
                        f"the {names} {guard} failed ({type(exc).__name__}: {exc}) and "
                        f"{'are' if len(settings) > 1 else 'is'} off for this session ({hint} "
                        "turns it back on)."
                    ),
                )
            )
            return None


def _traced_functions(log: _compile_events.CompileLog | None) -> list[tuple[Any, Any]]:
    """(user function, its object or None) of each trace in `log`, once each, in order."""
    out: dict[int, tuple[Any, Any]] = {}
    for comp in log.traced() if log is not None else ():
        found = traced_function(comp.function) if comp.function is not None else None
        if found is not None:
            out.setdefault(id(found[0]), found)
    return list(out.values())
