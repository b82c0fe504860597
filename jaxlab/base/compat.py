"""The one place that reads JAX internals. Everything here is best-effort and version-guarded."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
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
    """True for the callables ``jax.jit`` returns and jaxlab's wrappers of them (not other
    libraries' look-alikes such as ``flax.nnx.jit``, whose ``trace`` gives no jaxpr: those are
    staged like plain functions)."""
    return (
        callable(fn)
        and hasattr(fn, "lower")
        and hasattr(fn, "trace")
        and hasattr(fn, "__wrapped__")
        and type(fn).__module__.split(".")[0] in ("jax", "jaxlib", "jaxlab")
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


# caches keyed by the code object's id (hashing a code object hashes its constants, each
# time): code id -> (the code, kept alive so that its id stays its own; user code?)
_USER_CODE: dict[int, tuple[Any, bool]] = {}
_FRAMES: dict[tuple[int, int], tuple[str, int, int, str]] = {}  # (code id, lasti) -> frame


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
        out = []
        for code, lasti in zip(codes, lastis, strict=False):
            known = _USER_CODE.get(id(code))
            if known is None:
                user = source_info_util.is_user_filename(code.co_filename)
                known = _USER_CODE[id(code)] = (code, user)
            if not known[1]:
                continue
            frame = _FRAMES.get((id(code), lasti))
            if frame is None:
                f = source_info_util.raw_frame_to_frame(code, lasti)
                frame = (f.file_name, f.start_line, f.start_column, f.function_name)
                _FRAMES[(id(code), lasti)] = frame
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


def traced_shardings(traced: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The shardings a traced ``jax.jit`` call was given: (``in_shardings``, one per flat
    argument, ``out_shardings``); empty when unknown."""
    try:
        params = traced._params
        return tuple(params.get("in_shardings", ())), tuple(params.get("out_shardings", ()))
    except Exception:
        return (), ()


def eqn_scopes(eqn: Any) -> tuple[str, ...]:
    """The named scopes (``jax.named_scope``) around a jaxpr equation, outermost first, as
    the user wrote them: transforms left out, nothing of their text rewritten."""
    try:
        stack = eqn.source_info.name_stack.stack
    except Exception:
        return ()
    return tuple(str(e.name) for e in stack if type(e).__name__ == "Scope")


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


# -- Pallas and kernel modules ------------------------------------------------------------


def kernel_mlir_context() -> Any:
    """A fresh MLIR context (jaxlib's bindings) that can read the kernel modules Pallas embeds
    in custom calls: the upstream dialects JAX registers, plus Mosaic TPU, Triton and Mosaic
    GPU where this jaxlib has them. Unknown dialects are allowed (payloads may name ops of a
    newer version)."""
    from jaxlib.mlir import ir
    from jaxlib.mlir._mlir_libs import _jax_mlir_ext

    ctx = ir.Context()
    registry = ir.DialectRegistry()
    _jax_mlir_ext.register_dialects(registry)
    ctx.append_dialect_registry(registry)
    ctx.load_all_available_dialects()
    for ext in ("_tpu_ext", "_triton_ext", "_mosaic_gpu_ext"):
        try:
            module = __import__(f"jaxlib.mlir._mlir_libs.{ext}", fromlist=["register_dialect"])
            module.register_dialect(ctx)
        except Exception:
            pass
    ctx.allow_unregistered_dialects = True
    return ctx


@contextmanager
def pallas_interpret_mode() -> Iterator[None]:
    """Every ``pallas_call`` traced inside runs in interpret mode (as with ``interpret=True``),
    so kernels written for TPU or GPU run on CPU."""
    from jax._src import config

    state = config.pallas_tpu_interpret_mode_context_manager
    prev = state.swap_local(True)
    try:
        yield
    finally:
        state.set_local(prev)


@contextmanager
def pallas_gpu_backend(triton: bool) -> Iterator[None]:
    """Lower GPU ``pallas_call``s without explicit compiler params with Triton (`triton`) or
    Mosaic GPU (JAX's ``jax_pallas_use_mosaic_gpu`` option, set only inside)."""
    from jax._src import config

    with config.jax_pallas_use_mosaic_gpu(not triton):
        yield


def pallas_call_info(eqn: Any) -> dict[str, Any] | None:
    """The parts of a ``pallas_call`` equation jaxlab draws, as plain values, or None when this
    JAX keeps them differently. Index maps are returned as ``ClosedJaxpr``s of the program ids
    (and scalar-prefetch operands)."""
    try:
        params = eqn.params
        gm = params["grid_mapping"]
        kernel = params["jaxpr"]
        debug = getattr(kernel, "debug_info", None)
        src = getattr(debug, "func_src_info", "") or ""
        name = params.get("name") or (src.split(" at ")[0] if src else "kernel")
        blocks = []
        for i, bm in enumerate(gm.block_mappings):
            dims = []
            for d in bm.block_shape:
                kind = type(d).__name__.lower()  # blocked, squeezed, element, boundedslice
                size = getattr(d, "block_size", None)
                dims.append((kind, 1 if size is None else int(size)))
            space = getattr(bm.transformed_block_aval, "memory_space", None)
            blocks.append(
                {
                    "role": "input" if i < gm.num_inputs else "output",
                    "origin": str(bm.origin),
                    "dims": dims,
                    "array_shape": tuple(int(s) for s in bm.array_aval.shape),
                    "dtype": str(bm.array_aval.dtype),
                    "itemsize": int(bm.array_aval.dtype.itemsize),
                    "index_map": bm.index_map_jaxpr,
                    "memory_space": "" if space is None else str(space),
                    "buffers": getattr(bm.pipeline_mode, "buffer_count", None),
                }
            )
        scratch = [
            (tuple(int(s) for s in a.shape), str(a.dtype), int(a.dtype.itemsize))
            for a in gm.scratch_avals
            if hasattr(a, "shape") and hasattr(a, "dtype")
        ]
        grid = tuple(int(g) if isinstance(g, int) else -1 for g in gm.grid)
        cost = params.get("cost_estimate")
        return {
            "name": str(name),
            "source": src,
            "grid": grid,
            "blocks": blocks,
            "scratch": scratch,
            "num_index_operands": int(gm.num_index_operands),
            "kernel_jaxpr": kernel,
            "interpret": bool(params.get("interpret")),
            "cost_estimate": None
            if cost is None
            else {
                k: int(getattr(cost, k))
                for k in ("flops", "transcendentals", "bytes_accessed")
                if getattr(cost, k, None) is not None
            },
            "compiler_params": repr(params.get("compiler_params")),
        }
    except Exception:
        return None


# -- the function JAX is tracing ---------------------------------------------------------------

_TRACING_CODES: dict[Any, str] | None = None


def _tracing_codes() -> dict[Any, str]:
    """Code objects of JAX's tracing entry points, with the local that holds the callable being
    traced (found once; an entry point a JAX version lacks is left out)."""
    global _TRACING_CODES
    if _TRACING_CODES is None:
        codes: dict[Any, str] = {}
        try:
            from jax._src.interpreters import partial_eval as pe

            codes[pe.explain.__code__] = "fun"
        except Exception:
            pass
        try:
            from jax._src import pjit

            codes[pjit._trace_for_jit.__code__] = "fun"
        except Exception:
            pass
        _TRACING_CODES = codes
    return _TRACING_CODES


def tracing_function(max_frames: int = 80) -> Any:
    """The callable JAX is tracing (or has just traced) in this thread, read from the frames
    of JAX's tracing entry points on the current stack: what ``jax.jit`` (also under grad,
    vmap, checkpoint or shard_map) was given, a bound method with its object, or the wrapper
    ``pmap`` traces. None when no such frame is on the stack or JAX's internals moved."""
    import sys

    codes = _tracing_codes()
    if not codes:
        return None
    try:
        frame = sys._getframe(1)
    except Exception:
        return None
    for _ in range(max_frames):
        if frame is None:
            return None
        local = codes.get(frame.f_code)
        if local is not None:
            return frame.f_locals.get(local)
        frame = frame.f_back
    return None


def wrapped_callable(obj: Any) -> Any:
    """The Python callable inside one of JAX's wrapped functions (``linear_util.WrappedFun``),
    or None for anything else."""
    try:
        from jax._src import linear_util as lu
    except Exception:
        return None
    if isinstance(obj, lu.WrappedFun):
        return obj.f
    return None


def tracing_call(limit: int = 40) -> tuple[tuple, dict] | None:
    """The (args, kwargs) of the jitted call JAX is tracing right now, found on the stack (a
    duration listener of JAX's trace event runs inside it); None when not found."""
    import sys

    try:
        frame = sys._getframe(1)
    except ValueError:
        return None
    for _ in range(limit):
        if frame is None:
            return None
        if frame.f_code.co_name == "_trace_for_jit" and "jax" in frame.f_code.co_filename:
            args, kwargs = frame.f_locals.get("args"), frame.f_locals.get("kwargs")
            if isinstance(args, tuple) and isinstance(kwargs, dict):
                return args, kwargs
            return None
        frame = frame.f_back
    return None


def jit_call_in_progress() -> tuple[Any, tuple, dict] | None:
    """(jit info, args, kwargs) of the innermost ``jax.jit`` call that missed its cache and is
    being traced or compiled on this thread, or None. Read from the interpreter's frames (the
    Python fallback of JAX's C++ dispatch); called only when JAX reports a compilation step,
    never on the fast path."""
    frame = sys._getframe(1)
    depth = 0
    while frame is not None and depth < 200:
        code = frame.f_code
        if code.co_name == "cache_miss" and code.co_filename.endswith("pjit.py"):
            local = frame.f_locals
            info = local.get("jit_info")
            if info is not None:
                return info, tuple(local.get("args", ())), dict(local.get("kwargs", {}))
        frame = frame.f_back
        depth += 1
    return None


def jit_info(fn: Any) -> Any:
    """The object ``jax.jit`` keeps its options in (identifies one jitted function), or None."""
    return getattr(fn, "_jit_info", None)


# JAX's function transformations, by the function that makes the wrapper: `jax.grad(f)` is a
# closure `grad.<locals>.grad_f` (behind JAX's traceback filter), `jax.jacfwd(f)` is
# `jacfwd.<locals>.jacfun`; each keeps `f` as its ``__wrapped__``
_TRANSFORMS = frozenset(
    ("grad", "value_and_grad", "vmap", "jacfwd", "jacrev", "checkpoint", "pmap", "linearize")
)


def _jax_code(code: Any) -> str | None:
    """The JAX transformation a code object belongs to (``grad`` for ``grad.<locals>.grad_f``
    in JAX's own files), or None."""
    module = sys.modules.get("jax")
    root = getattr(module, "__file__", None)
    if root is None or not code.co_filename.startswith(root.rsplit("/", 1)[0]):
        return None
    outer = getattr(code, "co_qualname", "").split(".<locals>.", 1)
    return outer[0] if len(outer) == 2 and outer[0] in _TRANSFORMS else None


def transformation(fn: Any) -> tuple[str, Any] | None:
    """(name, the function transformed) when `fn` is a JAX transformation of a function:
    ``jax.grad(loss)`` gives ``("grad", loss)``; None for anything else."""
    inner = getattr(fn, "__wrapped__", None)
    code = getattr(fn, "__code__", None)
    if inner is None or code is None:
        return None
    codes = [code]
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            codes.append(cell.cell_contents.__code__)
        except (AttributeError, ValueError):  # not a function; an empty cell
            continue
    for c in codes:
        name = _jax_code(c)
        if name is not None:
            return name, inner
    return None


def equation_context(eqn: Any) -> AbstractContextManager[Any]:
    """Operations created inside carry a jaxpr equation's source location and named scopes,
    as JAX's own interpreter gives them: a program rebuilt equation by equation keeps the
    user's lines in its StableHLO and HLO."""
    try:
        from jax._src import source_info_util

        return source_info_util.user_context(
            eqn.source_info.traceback, name_stack=eqn.source_info.name_stack
        )
    except Exception:
        return nullcontext()
