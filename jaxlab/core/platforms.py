"""Lowering one call for platforms this machine may lack (``lower(lowering_platforms=...)``).

JAX lowers for TPU, CUDA and ROCm without such a device: the StableHLO is what that backend
would compile. Optimized HLO, costs and timings need the backend itself. Pallas kernels lower
to custom calls whose payload is the kernel module (Mosaic TPU, Triton or Mosaic GPU).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.base.format import short_repr
from jaxlab.base.renamed import renamed

PLATFORMS = ("cpu", "tpu", "cuda", "rocm")
NEEDS_BACKEND = (
    "Optimized HLO, XLA's cost and memory analyses and timings need a {platform} backend; "
    "this shows the StableHLO JAX lowered for it."
)
_PALLAS_GPU_MISSING = "Cannot lower pallas_call on platform: gpu"
_MOSAIC_GPU_DEPRECATION = r"Using ``pl.pallas_call`` for Mosaic GPU kernels is deprecated"


def check_platforms(platforms: str | Sequence[str] | None) -> tuple[str, ...]:
    """`platforms` as a tuple of JAX platform names, or a ValueError that lists the valid
    ones."""
    if platforms is None:
        return ()
    if isinstance(platforms, str):
        platforms = [p for p in platforms.replace(",", " ").split() if p]
    try:
        names = tuple(str(p).strip().lower() for p in platforms)
    except TypeError:
        raise ValueError(
            f"platforms must be names such as ('tpu', 'cuda'), got {short_repr(platforms)}"
        ) from None
    if not names:
        raise ValueError(f"no platform given; valid platforms: {', '.join(PLATFORMS)}")
    for name in names:
        if name not in PLATFORMS:
            raise ValueError(f"unknown platform {name!r}; valid platforms: {', '.join(PLATFORMS)}")
    return tuple(dict.fromkeys(names))


@dataclass
class PlatformLowering:
    """The StableHLO of one call lowered for `platform`, or the error lowering raised."""

    platform: str
    lowered: Any | None
    error: str | None
    lower_s: float
    note: str = ""  # how it was lowered, when that differs from JAX's default

    seconds = renamed("lower_s")

    @property
    def ok(self) -> bool:
        return self.lowered is not None

    @cached_property
    def stablehlo(self) -> str:
        return self.lowered.as_text() if self.lowered is not None else ""

    @cached_property
    def stablehlo_debug(self) -> str:
        """StableHLO with ``loc(...)`` source locations."""
        return self.lowered.as_text(debug_info=True) if self.lowered is not None else ""

    @cached_property
    def mlir_module(self) -> Any:
        """The lowered program as an MLIR module of jaxlib's bindings (kernel payloads are read
        from its custom calls)."""
        return self.lowered.compiler_ir("stablehlo") if self.lowered is not None else None

    @property
    def needs_backend(self) -> str:
        return NEEDS_BACKEND.format(platform=self.platform.upper())


def lower_for(traced: Any, platform: str) -> PlatformLowering:
    """Lower a ``jax.stages.Traced`` for `platform`; never raises for a lowering failure.

    GPU Pallas kernels lower with JAX's default backend (Mosaic GPU on CUDA); when that is not
    importable on this install or fails on the kernel, and always on ROCm (which Mosaic GPU
    does not support), they lower with Triton instead, and `note` says so.
    """
    if platform == "rocm":
        return _timed(
            traced, platform, triton=True, note="Pallas kernels lowered with Triton (ROCm)"
        )
    first = _timed(traced, platform, triton=None)
    if first.ok or platform != "cuda":
        return first
    if _PALLAS_GPU_MISSING in (first.error or ""):
        why = "Mosaic GPU is not importable here"
    elif "Mosaic GPU" in (first.error or ""):
        why = f"Mosaic GPU, JAX's default, failed ({first.error})"
    else:
        return first
    retry = _timed(
        traced,
        platform,
        triton=True,
        note=f"Pallas kernels lowered with Triton (pltriton.CompilerParams()): {why}",
    )
    return retry if retry.ok else first


# what JAX says when a host callback is lowered for a platform whose backend is not here
_HOST_CALLBACK = "the platform for the specified backend"


def _host_callback_message(platform: str) -> str:
    return (
        f"the program calls back into Python on the host (jax.pure_callback, jax.debug.print, "
        f"or a library's runtime checks such as Equinox's error_if, which Diffrax, Optimistix "
        f"and Lineax use), and JAX lowers a host callback only for a platform whose devices "
        f"are present: lower it on a {platform} machine, or without the callback (for "
        f"Equinox's checks: throw=False in the library call, or EQX_ON_ERROR=nan set before "
        f"equinox is imported)"
    )


def _timed(traced: Any, platform: str, *, triton: bool | None, note: str = "") -> PlatformLowering:
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # JAX asks users of Mosaic GPU through pallas_call to move to plgpu.kernel; here
            # it is jaxlab that chose that backend, to show what CUDA gets
            warnings.filterwarnings("ignore", message=_MOSAIC_GPU_DEPRECATION)
            if triton is None:
                lowered = traced.lower(lowering_platforms=(platform,))
            else:
                with _compat.pallas_gpu_backend(triton=triton):
                    lowered = traced.lower(lowering_platforms=(platform,))
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}".strip()
        if _HOST_CALLBACK in message:
            message = _host_callback_message(platform)
        return PlatformLowering(platform, None, message, time.perf_counter() - t0, note)
    return PlatformLowering(platform, lowered, None, time.perf_counter() - t0, note)
