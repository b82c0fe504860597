"""Record JAX compilations as they happen, from ``jax.monitoring`` duration events.

JAX reports, per compilation, the jaxpr trace, the lowering to MLIR and the backend compile,
each tagged with the function's name. :func:`recording` collects them while a block runs and,
with ``explain=True``, also JAX's own explanation of each tracing-cache miss (why it compiled
again), captured from JAX's log instead of being printed, a new object in a static argument or
pytree metadata named in the user's terms (:mod:`jaxlab.core.cache_misses`).

Names are not identities (two cells may both define ``f``), so each compilation also keeps the
callable JAX traced, read from JAX's own tracing frames when the event arrives
(:func:`jaxlab.base.compat.tracing_function`): the function given to ``jax.jit`` wherever the
jitted callable lives (inline, in a dict, under ``grad``/``vmap``, a bound method, ``pmap``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field

from jaxlab.base import compat as _compat
from jaxlab.core.cache_misses import in_user_terms, users_function

_TRACE = "/jax/core/compile/jaxpr_trace_duration"
_LOWER = "/jax/core/compile/jaxpr_to_mlir_module_duration"
_COMPILE = "/jax/core/compile/backend_compile_duration"


def _bare_name(fun_name: str) -> str:
    """'jit(f)' -> 'f'; 'pmap(f)' -> 'f'."""
    while "(" in fun_name and fun_name.endswith(")"):
        fun_name = fun_name[fun_name.index("(") + 1 : -1]
    return fun_name


@dataclass
class Compilation:
    """One compilation: the function's name and the seconds spent in each stage."""

    name: str
    trace_s: float = 0.0
    lower_s: float = 0.0
    compile_s: float = 0.0
    # JAX's explanation of the tracing-cache miss that caused it (with explain=True)
    reasons: list[str] = field(default_factory=list)
    # the callable JAX traced (None when its tracing frames were not found)
    function: object = None
    # on_trace was called for it
    announced: bool = False
    # the call's arguments as shapes and dtypes (static and Python values as they were), when
    # recorded with explain=True: enough to stage the same compilation again
    call: tuple[tuple, dict] | None = None

    @property
    def total_s(self) -> float:
        return self.trace_s + self.lower_s + self.compile_s


@dataclass(eq=False)  # compared by identity: nested recordings must remove their own log
class CompileLog:
    """Compilations seen while a :func:`recording` block ran."""

    compilations: list[Compilation] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    explanations: list[tuple[str, str]] = field(default_factory=list)  # (function, reason)
    traced_only: list[Compilation] = field(default_factory=list)
    _pending: dict[str, Compilation] = field(default_factory=dict)
    # the user had asked JAX to explain misses already: keep showing them
    _shown: bool = False
    # called as on_trace(name, compilation so far) right after JAX traced a function; it must
    # not raise (its errors are dropped: they would land in the user's code)
    on_trace: Callable[[str, Compilation], None] | None = None

    def _on_explanation(self, name: str, reason: str, function: object = None) -> None:
        self.explanations.append((name, reason))
        pending = self._pending.get(name)
        if (
            pending is not None
            and function is not None
            and pending.function not in (None, function)  # another function of that name
        ):
            self.traced_only.append(self._pending.pop(name))
            pending = None
        if pending is None:
            pending = self._pending[name] = Compilation(name)
        pending.reasons.append(reason)
        if pending.function is None:
            pending.function = function

    def _announce(self, name: str, pending: Compilation) -> None:
        pending.announced = True
        if self.on_trace is not None:
            with suppress(Exception):
                self.on_trace(name, pending)

    def _on_duration(self, event: str, seconds: float, fun_name: str) -> None:
        name = _bare_name(fun_name)
        if event not in (_TRACE, _LOWER, _COMPILE):
            return
        self.events.append(event)
        pending = self._pending.setdefault(name, Compilation(name))
        if event == _TRACE:
            pending.trace_s += seconds
            if pending.function is None:
                pending.function = _compat.tracing_function()
            if self in _explaining and pending.call is None:
                pending.call = abstract_call()
            self._announce(name, pending)
        elif event == _LOWER:
            pending.lower_s += seconds
            if not pending.announced:  # traced under a transformation: no trace event
                self._announce(name, pending)
        else:
            pending.compile_s += seconds
            self.compilations.append(self._pending.pop(name))

    def traced(self) -> list[Compilation]:
        """Every trace seen, compiled or not (a trace that failed, or one that was only traced,
        as by ``jax.eval_shape``), in order."""
        return [*self.compilations, *self.traced_only, *self._pending.values()]

    def cached_stages(self) -> tuple[str, ...]:
        """Stages that sent no event: JAX served them from its caches."""
        return tuple(
            stage
            for stage, event in (("trace", _TRACE), ("lower", _LOWER), ("compile", _COMPILE))
            if event not in self.events
        )

    def of(self, name: str) -> list[Compilation]:
        return [c for c in self.compilations if c.name == name]

    def __len__(self) -> int:
        return len(self.compilations)


def abstract_call() -> tuple[tuple, dict] | None:
    """The arguments of the call being traced, arrays replaced by ``jax.ShapeDtypeStruct``."""
    import jax

    call = _compat.tracing_call()
    if call is None:
        return None

    def spec(leaf: object) -> object:
        shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
        if shape is None or dtype is None:
            return leaf
        return jax.ShapeDtypeStruct(shape, dtype, weak_type=bool(getattr(leaf, "weak_type", False)))

    try:
        return jax.tree_util.tree_map(spec, call)
    except Exception:
        return None


_lock = threading.Lock()
_active: list[CompileLog] = []
_explaining: list[CompileLog] = []
_installed = False

_MISS_NAME = re.compile(r"^\s+for (\S+) defined at|never seen function:\n\s+(\S+) id=", re.M)


class _MissCapture(logging.Filter):
    """Routes tracing-cache-miss explanations to the explaining recorders (and keeps them out
    of the notebook's stderr)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _explaining:
            return True
        message = record.getMessage()
        if not message.startswith("TRACING CACHE MISS"):
            return True
        m = _MISS_NAME.search(message)
        name = _bare_name((m.group(1) or m.group(2)) if m else "")
        reason = "\n".join(line.strip() for line in message.splitlines()[1:] if line.strip())
        function = _compat.tracing_function()
        with suppress(Exception):  # JAX's words stay when the objects cannot be read
            reason = in_user_terms(reason, _compat.tracing_call(), function)
            function = users_function(function)
        with _lock:
            logs = list(_explaining)
        for log in logs:
            log._on_explanation(name, reason, function)
        return any(log._shown for log in logs)


_miss_capture = _MissCapture()


# called as watcher(stage, seconds) for every trace / lower / compile event, whether or not a
# recording runs (``%jit``'s functions report their compilations this way); must not raise
_watchers: list[Callable[[str, float], None]] = []
_STAGES = {_TRACE: "trace", _LOWER: "lower", _COMPILE: "compile"}


def watch(watcher: Callable[[str, float], None]) -> None:
    """Call `watcher(stage, seconds)` on every compilation step JAX reports from now on
    (stage: 'trace', 'lower' or 'compile'), on the thread that compiles."""
    _install()
    with _lock:
        if watcher not in _watchers:
            _watchers.append(watcher)


def _listener(event: str, seconds: float, **kwargs: object) -> None:
    if _watchers and event in _STAGES:
        for watcher in list(_watchers):
            with suppress(Exception):
                watcher(_STAGES[event], seconds)
    if not _active:
        return
    fun_name = str(kwargs.get("fun_name", ""))
    with _lock:
        logs = list(_active)
    for log in logs:
        log._on_duration(event, seconds, fun_name)


def _install() -> None:
    """Register the listener with JAX once (two threads starting a recording at the same time
    must not register it twice: every event would count double)."""
    global _installed
    with _lock:
        if _installed:
            return
        import jax.monitoring

        jax.monitoring.register_event_duration_secs_listener(_listener)
        _installed = True


@contextmanager
def recording(explain: bool = False) -> Iterator[CompileLog]:
    """Collect the compilations that happen inside the block.

    With `explain`, JAX explains each tracing-cache miss (``jax_explain_cache_misses``) and the
    explanations land in ``Compilation.reasons`` instead of the log (and in the log as well when
    the user had turned ``jax_explain_cache_misses`` on).
    """
    import jax

    _install()
    log = CompileLog()
    with ExitStack() as stack:
        with _lock:
            _active.append(log)
            if explain:
                _explaining.append(log)
        stack.callback(_stop, log)
        if explain:
            # shown only when the user turned explanations on, not an enclosing recording
            with _lock:
                outer = [other for other in _explaining if other is not log]
            log._shown = outer[0]._shown if outer else bool(jax.config.jax_explain_cache_misses)
            logger = logging.getLogger(_compat.CACHE_MISS_LOGGER)
            if _miss_capture not in logger.filters:
                logger.addFilter(_miss_capture)
            stack.enter_context(jax.explain_cache_misses(True))
        yield log


def _stop(log: CompileLog) -> None:
    with _lock:
        _active.remove(log)
        if log in _explaining:
            _explaining.remove(log)
