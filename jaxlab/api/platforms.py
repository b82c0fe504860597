"""`jaxlab.inspect(fn, *args, platforms=("tpu",))`: the program lowered for platforms this
machine may lack, its Pallas kernels (grid, BlockSpecs, kernel modules), and what differs
from the CPU lowering."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jaxlab.api.inspection import Inspection, from_staged
from jaxlab.api.profile import with_profile
from jaxlab.base.display import Displayed, renderer
from jaxlab.base.format import function_name
from jaxlab.base.pytrees import CallSummary, call_summary
from jaxlab.base.renamed import renamed
from jaxlab.core import platforms as _platforms
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.core.platforms import check_platforms

if TYPE_CHECKING:
    from jaxlab.ir.lowering_diff import Difference
    from jaxlab.ir.pallas import KernelModule
    from jaxlab.ir.pallas_grid import PallasKernel
    from jaxlab.ir.sources import SourceBlock
    from jaxlab.ir.stablehlo import StableHloModule


class PlatformInspection(Displayed):
    """One call lowered for each of `platforms` (StableHLO, kernel modules), beside the CPU
    :class:`jaxlab.Inspection` when the CPU can compile it (`.cpu`, else `.cpu_error`)."""

    def __init__(
        self,
        fn: Callable,
        traced: Any,
        lowerings: list[_platforms.PlatformLowering],
        cpu: Inspection | None,
        cpu_error: str | None,
        args: tuple = (),
        kwargs: dict | None = None,
    ):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs or {}
        self.traced = traced
        self.lowerings = lowerings
        self.cpu = cpu
        self.cpu_error = cpu_error

    @property
    def fn_name(self) -> str:
        return function_name(self.fn)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(lw.platform for lw in self.lowerings)

    @property
    def jaxpr(self) -> Any:
        return self.traced.jaxpr

    # the abstract input types, e.g. ``(f32[100,100],)``, written as the CPU inspector does
    in_avals = property(Inspection.in_avals.fget)

    @cached_property
    def arguments(self) -> CallSummary:
        """The call's arguments, named and summarised as the CPU inspector's title has them
        (``.leaves`` lists every leaf)."""
        return call_summary(self.fn, self.args, self.kwargs)

    def lowering(self, platform: str) -> _platforms.PlatformLowering:
        for lw in self.lowerings:
            if lw.platform == platform:
                return lw
        raise KeyError(
            f"{platform!r} was not lowered here; lowered: {', '.join(self.platforms) or 'none'}"
        )

    def stablehlo(self, platform: str) -> str:
        """StableHLO text for `platform` ('' when lowering failed: see `.errors`)."""
        return self.lowering(platform).stablehlo

    @property
    def errors(self) -> dict[str, str]:
        """Platform -> the error its lowering raised (the other platforms still show)."""
        return {lw.platform: lw.error for lw in self.lowerings if lw.error}

    @cached_property
    def _modules(self) -> dict[str, StableHloModule]:
        from jaxlab.ir.stablehlo import StableHloModule

        return {
            lw.platform: StableHloModule.parse(lw.stablehlo_debug) for lw in self.lowerings if lw.ok
        }

    def stablehlo_module(self, platform: str) -> StableHloModule | None:
        return self._modules.get(platform)

    @cached_property
    def _kernel_modules(self) -> dict[str, list[KernelModule]]:
        from jaxlab.ir.pallas import kernel_modules

        return {lw.platform: kernel_modules(lw.mlir_module, lw.platform) for lw in self.lowerings}

    def kernel_modules(self, platform: str | None = None) -> list[KernelModule]:
        """The Pallas kernel modules (Mosaic TPU, Triton, Mosaic GPU) of one platform's
        lowering, or of all."""
        if platform is not None:
            self.lowering(platform)
            return self._kernel_modules.get(platform, [])
        return [k for p in self.platforms for k in self._kernel_modules.get(p, [])]

    @cached_property
    def pallas_kernels(self) -> list[PallasKernel]:
        """Every ``pallas_call`` with its grid and BlockSpecs evaluated for each program."""
        from jaxlab.ir.pallas_grid import pallas_kernels

        return pallas_kernels(self.jaxpr)

    kernels = renamed("pallas_kernels")  # `kernels` names measured kernels (Profile.kernels)

    @cached_property
    def cpu_stablehlo(self) -> str:
        """The CPU lowering's StableHLO, the base of `.differences` ('' when none)."""
        if self.cpu is not None:
            return self.cpu.stablehlo
        cpu = _platforms.lower_for(self.traced, "cpu")
        return cpu.stablehlo

    def differences(self, platform: str) -> list[Difference]:
        """What `platform`'s StableHLO has that the CPU lowering has not, and the reverse."""
        from jaxlab.ir.lowering_diff import differences

        text = self.stablehlo(platform)
        if not text or not self.cpu_stablehlo:
            return []
        return differences(self.cpu_stablehlo, text)

    @cached_property
    def sources(self) -> list[SourceBlock]:
        from jaxlab.ir.sources import StagedCall, source_blocks

        call = StagedCall(self.fn)  # the function's source found once, not once per op
        lines = set()
        for module in self._modules.values():
            for op in module.ops:
                # ops JAX made while lowering (a function's return) carry only the stack of
                # the lowering call, jaxlab's and the caller's: no line of the user's program
                inner = call.inside(op.frames)
                if inner:
                    lines.add((inner[0][0], inner[0][1]))
        for kernel in self.kernel_modules():
            lines.update(kernel.source_lines)
        return source_blocks(self.fn, lines)

    def view_model(self) -> dict[str, Any]:
        """The JSON-able model of the linked panes (source, StableHLO per platform, kernel
        modules)."""
        return renderer(self, "view model")(self)

    def to_html(self) -> str:
        """One self-contained HTML page of everything shown."""
        return renderer(self, "page")(self)


def inspect_platforms(
    fn: Callable,
    args: tuple,
    kwargs: dict,
    platforms: Sequence[str],
    *,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    cpu_error: str | None = None,
) -> PlatformInspection:
    """Lower `fn(*args, **kwargs)` for each platform, and inspect it on CPU when possible
    (`cpu_error`: why the CPU cannot, when the caller already knows)."""

    prepared = _stages.prepare(
        fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    traced = prepared.trace()
    lowerings = [_platforms.lower_for(traced, p) for p in platforms]
    cpu: Inspection | None = None
    if cpu_error is not None:
        return PlatformInspection(fn, traced, lowerings, None, cpu_error, args, kwargs)
    try:
        cpu = Inspection(_stages.stage_prepared(prepared))
    except Exception as exc:
        cpu_error = f"{type(exc).__name__}: {exc}".strip()
    return PlatformInspection(fn, traced, lowerings, cpu, cpu_error, args, kwargs)


@takes_call()
def inspect(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    run: bool | None = None,
    platforms: str | Sequence[str] | None = None,
    profile: bool | int = False,
    numerics: bool = False,
    compare: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> Inspection | PlatformInspection:
    """Trace, lower and compile ``fn(*args, **kwargs)`` and return an :class:`Inspection`.

    `fn` may be a plain function or one already wrapped by ``jax.jit`` (its static arguments
    are kept). Arguments may be arrays, pytrees, Python values or ``jax.ShapeDtypeStruct``
    placeholders (inspect without data). With real arrays the compiled program is also run
    (`run=False` skips that) so `.timings` has first-run and steady-state times.

    `platforms` (e.g. ``("tpu", "cuda")``; names: cpu, tpu, cuda, rocm) lowers the call for
    those platforms instead, without needing their devices, and returns a
    :class:`PlatformInspection`: StableHLO per platform, the Pallas kernels' modules and
    grids, and what differs from the CPU lowering. A function whose Pallas kernels cannot run
    on CPU (no ``interpret=True``) is inspected that way for TPU and CUDA.

    With `profile` (True, or the number of calls to measure), the compiled program is also run
    under JAX's profiler: ``.profile`` holds the measured :class:`jaxlab.Profile`, and the
    views add kernel times, heat on lines and a timeline of one call.

    With `numerics=True`, the call also runs once instrumented (:func:`jaxlab.numerics`):
    ``.numerics`` holds the :class:`jaxlab.Numerics`, and the views add a values column beside
    every jaxpr equation (range, NaN and Inf, headroom), mark the source lines that made NaN
    or Inf, and open on the first one's origin.

    With `compare` (a configuration :func:`jaxlab.numerics_diff` takes: ``"bf16"``, ``"f16"``,
    ``"x64"``, ``"eager"``, ``"precision=default"``, ...), the call also runs under that
    configuration and the reference: ``.numerics_diff`` holds the :class:`jaxlab.NumericsDiff`,
    and the views add an error column beside every jaxpr equation (how far its output is off,
    how much error it makes itself, warm as that error grows), heat on the source lines by
    the error they make, and open on the equation that makes the most.

    jaxlab's options are keyword-only; `fn`'s own keyword arguments go in ``kwargs={...}``.
    """
    kwargs = dict(kwargs or {})
    statics = {"static_argnums": static_argnums, "static_argnames": static_argnames}
    for option, given in (("profile", profile), ("numerics", numerics), ("compare", compare)):
        if platforms is not None and given:
            raise ValueError(
                f"`jaxlab.inspect(..., platforms=..., {option}=...)`: {option} runs the call "
                "on this machine; drop one of them."
            )
    if platforms is not None:
        if run:
            raise ValueError(
                "`jaxlab.inspect(..., platforms=...)` lowers for those platforms without "
                "running anything; drop run=True (the CPU inspection is `.cpu`)."
            )
        return inspect_platforms(fn, args, kwargs, check_platforms(platforms), **statics)
    try:
        staged = _stages.stage(fn, args, kwargs, **statics)
    except Exception as exc:
        if "Only interpret mode is supported on CPU" not in str(exc):
            raise
        # Pallas kernels written for TPU/GPU: show what those platforms get
        why = f"{type(exc).__name__}: {exc}".strip()
        insp = inspect_platforms(fn, args, kwargs, ("tpu", "cuda"), **statics, cpu_error=why)
        if run:
            raise ValueError(
                "`jaxlab.inspect(..., run=True)`: the CPU runs Pallas kernels only in interpret "
                "mode; pass `interpret=True` to `pallas_call`, or use `jaxlab.check_kernel`."
            ) from None
        return insp
    insp = with_profile(from_staged(staged, run), profile)
    if numerics:
        if not staged.runnable:
            raise ValueError(
                "`jaxlab.inspect(..., numerics=True)` runs the call, but an argument is a "
                "jax.ShapeDtypeStruct placeholder; pass arrays or drop numerics=True."
            )
        from jaxlab.api.numerics import numerics as run_numerics

        insp.numerics = run_numerics(fn, *args, **statics, kwargs=kwargs)
    if compare is not None:
        if not staged.runnable:
            raise ValueError(
                "`jaxlab.inspect(..., compare=...)` runs the call, but an argument is a "
                "jax.ShapeDtypeStruct placeholder; pass arrays or drop compare=."
            )
        from jaxlab.api.numerics_diff import numerics_diff

        insp.numerics_diff = numerics_diff(fn, *args, compare=compare, **statics, kwargs=kwargs)
    return insp
