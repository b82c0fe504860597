"""The one place that reads JAX internals. Everything here is best-effort and version-guarded."""

from __future__ import annotations

from itertools import compress
from typing import Any

# the logger JAX writes its "TRACING CACHE MISS" explanations to (a module of JAX's internals)
CACHE_MISS_LOGGER = "jax._src.interpreters.partial_eval"


def jit_options(fn: Any) -> dict[str, tuple] | None:
    """Static and donated argument settings of a ``jax.jit``-wrapped function, or None."""
    info = getattr(fn, "_jit_info", None)
    if info is None:
        return None
    try:
        return {
            "static_argnums": tuple(info.static_argnums),
            "static_argnames": tuple(info.static_argnames),
            "donate_argnums": tuple(info.donate_argnums),
            "donate_argnames": tuple(getattr(info, "donate_argnames", ())),
        }
    except AttributeError:
        return None


def is_jitted(fn: Any) -> bool:
    """True for the callables ``jax.jit`` returns."""
    return (
        callable(fn)
        and hasattr(fn, "lower")
        and hasattr(fn, "trace")
        and hasattr(fn, "__wrapped__")
    )


def eqn_source(eqn: Any) -> tuple[str, int, str] | None:
    """(file, line, function) of the user frame that created a jaxpr equation, if JAX kept it."""
    try:
        from jax._src import source_info_util

        frame = source_info_util.user_frame(eqn.source_info.traceback)
    except Exception:
        return None
    if frame is None:
        return None
    return frame.file_name, frame.start_line, frame.function_name


_USER_CODE: dict[Any, bool] = {}
_FRAMES: dict[tuple[Any, int], tuple[str, int, int, str]] = {}


def eqn_frames(eqn: Any, limit: int = 10) -> list[tuple[str, int, int, str]]:
    """The user frames (file, line, column, function) of a jaxpr equation, innermost first.

    JAX records a traceback per equation; frames inside JAX and the standard library are left
    out, as JAX does for the locations it writes into StableHLO and HLO. `limit` matches
    JAX's own default depth for those locations. Frames are cached by code position: the
    equations of a large program share most of their frames.
    """
    try:
        from jax._src import source_info_util

        traceback = eqn.source_info.traceback
        if traceback is None:
            return []
        codes, lastis = traceback.raw_frames()
        if len(_FRAMES) > 200_000:
            _FRAMES.clear()
            _USER_CODE.clear()
        user = list(map(_USER_CODE.get, codes))
        if None in user:
            for i, code in enumerate(codes):
                if user[i] is None:
                    user[i] = _USER_CODE[code] = source_info_util.is_user_filename(code.co_filename)
        out = []
        for code, lasti in compress(zip(codes, lastis, strict=False), user):
            frame = _FRAMES.get((code, lasti))
            if frame is None:
                f = source_info_util.raw_frame_to_frame(code, lasti)
                frame = (f.file_name, f.start_line, f.start_column, f.function_name)
                _FRAMES[(code, lasti)] = frame
            out.append(frame)
            if len(out) >= limit:
                break
        return out
    except Exception:
        return []


def eqn_name_stack(eqn: Any) -> str:
    """The named-scope / transform stack of a jaxpr equation as text ('' when unknown)."""
    try:
        return str(eqn.source_info.name_stack)
    except Exception:
        return ""


def backends_initialized() -> bool:
    """True once JAX has created its backends (after which the CPU device count is fixed)."""
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:
        return False


def jit_cache_size(fn: Any) -> int | None:
    """How many compiled entries a ``jax.jit`` function holds, or None when JAX does not say."""
    size = getattr(fn, "_cache_size", None)
    if size is None:
        return None
    try:
        return int(size())
    except Exception:
        return None


def jit_function_type() -> type | None:
    """The type of the callables ``jax.jit`` returns (a C++ class), or None."""
    import jax

    try:
        return type(jax.jit(_identity))
    except Exception:
        return None


def _identity(x: Any) -> Any:
    return x
