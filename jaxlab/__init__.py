"""jaxlab: a Jupyter-integrated environment for JAX.

``%load_ext jaxlab`` registers the magics; the functions below work without IPython.
Attributes are imported lazily so that loading the extension stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from jaxlab.base.display import set_views_loader

__version__ = "0.1.0"

__all__ = [
    "Advice",
    "BackendError",
    "BenchError",
    "BenchResult",
    "Comparison",
    "CompileDiff",
    "CompileProfile",
    "DeviceReport",
    "IRText",
    "Inspection",
    "InspectionFileError",
    "JitRun",
    "Judgement",
    "KernelCheck",
    "MemoryDiff",
    "MemorySnapshot",
    "Numerics",
    "NumericsDiff",
    "PassPipeline",
    "Placement",
    "PlacementError",
    "PlatformInspection",
    "Profile",
    "ProfileDiff",
    "ProfilerBusy",
    "RecompileReport",
    "ReportingJit",
    "ResultFileError",
    "SavedInspection",
    "StageTimings",
    "Table",
    "Timing",
    "Verdict",
    "__version__",
    "bench",
    "check_kernel",
    "compare",
    "compile_profile",
    "devices",
    "diff",
    "hlo",
    "inspect",
    "jaxpr",
    "jit_run",
    "judge",
    "memory",
    "memory_diff",
    "numerics",
    "numerics_diff",
    "passes",
    "placement",
    "profile",
    "profile_diff",
    "recompiles",
    "reporting_jit",
    "set_cpu_devices",
    "transformed",
]

# public name -> module that defines it
_LAZY = {
    "Inspection": "jaxlab.api.inspection",
    "inspect": "jaxlab.api.platforms",
    "IRText": "jaxlab.api.irtext",
    "jaxpr": "jaxlab.api.irtext",
    "hlo": "jaxlab.api.irtext",
    "PlatformInspection": "jaxlab.api.platforms",
    "KernelCheck": "jaxlab.api.kernels",
    "check_kernel": "jaxlab.api.kernels",
    "StageTimings": "jaxlab.core.stages",
    "CompileProfile": "jaxlab.api.compile_profile",
    "compile_profile": "jaxlab.api.compile_profile",
    "PassPipeline": "jaxlab.api.passes",
    "passes": "jaxlab.api.passes",
    "CompileDiff": "jaxlab.api.compile_diff",
    "diff": "jaxlab.api.compile_diff",
    "transformed": "jaxlab.api.transforms",
    "DeviceReport": "jaxlab.api.devices",
    "devices": "jaxlab.api.devices",
    "Placement": "jaxlab.api.placement",
    "placement": "jaxlab.api.placement",
    "set_cpu_devices": "jaxlab.core.cpu_devices",
    "Profile": "jaxlab.api.profile",
    "ProfileDiff": "jaxlab.api.profile",
    "profile": "jaxlab.api.profile",
    "profile_diff": "jaxlab.api.profile",
    "MemorySnapshot": "jaxlab.api.memory",
    "MemoryDiff": "jaxlab.api.memory",
    "memory": "jaxlab.api.memory",
    "memory_diff": "jaxlab.api.memory",
    "BenchResult": "jaxlab.benchmarking.result",
    "bench": "jaxlab.benchmarking.runner",
    "compare": "jaxlab.benchmarking.compare",
    "judge": "jaxlab.benchmarking.judge",
    "Judgement": "jaxlab.benchmarking.judge",
    "Table": "jaxlab.base.table",
    "ResultFileError": "jaxlab.base.files",
    "SavedInspection": "jaxlab.api.inspection",
    "InspectionFileError": "jaxlab.api.saved",
    "Advice": "jaxlab.api.compile_advice",
    "JitRun": "jaxlab.api.transforms",
    "ReportingJit": "jaxlab.api.transforms",
    "jit_run": "jaxlab.api.transforms",
    "reporting_jit": "jaxlab.api.transforms",
    "BackendError": "jaxlab.api.devices",
    "PlacementError": "jaxlab.api.placement",
    "ProfilerBusy": "jaxlab.core.profiler",
    "Timing": "jaxlab.benchmarking.result",
    "BenchError": "jaxlab.benchmarking.result",
    "Comparison": "jaxlab.benchmarking.compare",
    "Verdict": "jaxlab.benchmarking.judge",
    "RecompileReport": "jaxlab.guards._recompiles",
    "recompiles": "jaxlab.magics",
    "Numerics": "jaxlab.api.numerics",
    "numerics": "jaxlab.api.numerics",
    "NumericsDiff": "jaxlab.api.numerics_diff",
    "numerics_diff": "jaxlab.api.numerics_diff",
}

if TYPE_CHECKING:
    from jaxlab.api.compile_advice import Advice
    from jaxlab.api.compile_diff import CompileDiff, diff
    from jaxlab.api.compile_profile import CompileProfile, compile_profile
    from jaxlab.api.devices import BackendError, DeviceReport, devices
    from jaxlab.api.inspection import Inspection, SavedInspection
    from jaxlab.api.irtext import IRText, hlo, jaxpr
    from jaxlab.api.kernels import KernelCheck, check_kernel
    from jaxlab.api.memory import MemoryDiff, MemorySnapshot, memory, memory_diff
    from jaxlab.api.numerics import Numerics, numerics
    from jaxlab.api.numerics_diff import NumericsDiff, numerics_diff
    from jaxlab.api.passes import PassPipeline, passes
    from jaxlab.api.placement import Placement, PlacementError, placement
    from jaxlab.api.platforms import PlatformInspection, inspect
    from jaxlab.api.profile import Profile, ProfileDiff, profile, profile_diff
    from jaxlab.api.saved import InspectionFileError
    from jaxlab.api.transforms import JitRun, ReportingJit, jit_run, reporting_jit, transformed
    from jaxlab.base.files import ResultFileError
    from jaxlab.base.table import Table
    from jaxlab.benchmarking.compare import Comparison, compare
    from jaxlab.benchmarking.judge import Judgement, Verdict, judge
    from jaxlab.benchmarking.result import BenchError, BenchResult, Timing
    from jaxlab.benchmarking.runner import bench
    from jaxlab.core.cpu_devices import set_cpu_devices
    from jaxlab.core.profiler import ProfilerBusy
    from jaxlab.core.stages import StageTimings
    from jaxlab.guards._recompiles import RecompileReport
    from jaxlab.magics import recompiles


def _load_views() -> None:
    """Import the view modules, which register the renderers of the result types; results
    live below the views and never import them."""
    import jaxlab.views  # noqa: F401


set_views_loader(_load_views)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jaxlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API only (not the module's own machinery)."""
    return sorted({*__all__, "load_ipython_extension", "unload_ipython_extension"})


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext jaxlab``: registers the magics and the guards. Loading it again
    into the same shell (the jaxlab kernel preloads it) changes nothing."""
    from jaxlab.magics import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from jaxlab.magics import unload

    unload(ipython)
