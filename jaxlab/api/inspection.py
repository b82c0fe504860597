"""`jaxlab.inspect`: one call staged through JAX's AOT pipeline, with everything it produced."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.pytrees import CallSummary, call_summary, summarize
from jaxlab.base.renamed import renamed
from jaxlab.core import analysis as _analysis
from jaxlab.core import stages as _stages
from jaxlab.ir._bulk import gc_paused
from jaxlab.ir.hlo import HloModule

if TYPE_CHECKING:
    from jaxlab.ir.fusions import Fusion
    from jaxlab.ir.jaxpr import JaxprModel
    from jaxlab.ir.links import LineLinks, Links
    from jaxlab.ir.sources import SourceBlock
    from jaxlab.ir.stablehlo import StableHloModule

# The IR models load on first use (function-local imports below): `%load_ext jaxlab` imports
# this module and stays cheap.


class Inspection(Displayed):
    """What JAX and XLA made of one call: jaxpr, StableHLO, optimized HLO, costs, timings.

    Build it with :func:`jaxlab.inspect`. Texts and analyses are computed on first access.
    """

    profile: Any = None  # a measured `Profile` when inspected with profile=True
    numerics: Any = None  # the `Numerics` of one instrumented run when inspected with numerics=True
    numerics_diff: Any = None  # the `NumericsDiff` when inspected with compare=...

    def __init__(self, staged: _stages.Staged):
        self._staged = staged

    # -- the stages' products -------------------------------------------------------------
    @property
    def fn_name(self) -> str:
        return self._staged.fn_name

    @property
    def traced(self) -> Any:
        return self._staged.traced

    @property
    def lowered(self) -> Any:
        return self._staged.lowered

    @property
    def compiled(self) -> Any:
        return self._staged.compiled

    @property
    def jaxpr(self) -> Any:
        """The ``ClosedJaxpr`` of the call."""
        return self._staged.traced.jaxpr

    @cached_property
    def jaxpr_text(self) -> str:
        from jaxlab.ir.jaxpr import jaxpr_text

        return jaxpr_text(self.jaxpr)

    @cached_property
    def stablehlo(self) -> str:
        """StableHLO text of the lowered program."""
        return self.lowered.as_text()

    @cached_property
    def stablehlo_debug(self) -> str:
        """StableHLO text with source locations (``loc(...)``)."""
        return self.lowered.as_text(debug_info=True)

    @cached_property
    def hlo(self) -> str:
        """Optimized HLO text of the compiled program (after XLA's fusion passes)."""
        try:
            text = self.compiled.as_text()
        except Exception:
            text = None
        return text or ""

    @cached_property
    def hlo_module(self) -> HloModule:
        with gc_paused():
            return HloModule.parse(self.hlo)

    @cached_property
    def jaxpr_model(self) -> JaxprModel:
        """The jaxpr as plain data: equations, sub-jaxprs, source frames, text lines."""
        from jaxlab.ir.jaxpr import JaxprModel

        with gc_paused():
            return JaxprModel.build(self.jaxpr, self.jaxpr_text)

    @cached_property
    def stablehlo_module(self) -> StableHloModule:
        """StableHLO ops with their resolved source locations."""
        from jaxlab.ir.stablehlo import StableHloModule

        with gc_paused():
            return StableHloModule.parse(self.stablehlo_debug)

    @cached_property
    def links(self) -> Links:
        """Indexes linking source lines, equations, StableHLO ops and HLO instructions."""
        from jaxlab.ir.fusions import fusions_of
        from jaxlab.ir.links import Links

        module, jaxpr, stablehlo = self.hlo_module, self.jaxpr_model, self.stablehlo_module
        with gc_paused():
            fusions = fusions_of(module, unfused=True)
            return Links(jaxpr, stablehlo, module, fusions)

    @property
    def fusions(self) -> list[Fusion]:
        """Every kernel of the optimized program: each fusion, and each op XLA runs unfused
        (kind ``unfused``), with its ops, source lines, jaxpr equations and estimated FLOPs and
        bytes."""
        return self.links.fusions

    @cached_property
    def sources(self) -> list[SourceBlock]:
        """The Python source shown beside the IRs: the function, then the helpers it called."""
        from jaxlab.ir.sources import source_blocks

        links = self.links
        innermost = {eq.source for eq in links.jaxpr.equations if eq.source}
        for instr in self.hlo_module:
            frames = self.hlo_module.frames_of(instr)
            if frames:
                innermost.add((frames[0][0], frames[0][1]))
        return source_blocks(self._staged.fn, innermost)

    def links_for_line(self, lineno: int, file: str | None = None) -> LineLinks:
        """The jaxpr equations, StableHLO ops, HLO instructions and fusions made by one source
        line. `lineno` counts lines of the file (as tracebacks do); `file` defaults to the file
        of the inspected function."""
        if file is None:
            file = self.sources[0].file if self.sources else ""
            if not file:
                files = sorted({f for f, n in self.links.source_lines() if n == lineno})
                file = files[0] if files else ""
        return self.links.for_line(lineno, file)

    @cached_property
    def cost(self) -> dict[str, float] | None:
        """XLA's cost analysis (estimates), or None when the backend gives none."""
        return _analysis.cost_analysis(self.compiled)

    @cached_property
    def memory(self) -> dict[str, int] | None:
        """XLA's memory analysis in bytes, or None when the backend gives none."""
        return _analysis.memory_analysis(self.compiled)

    @cached_property
    def devices(self) -> list[Any]:
        return _analysis.devices_of(self.compiled)

    @property
    def timings(self) -> _stages.StageTimings:
        return self._staged.timings

    @property
    def output(self) -> Any:
        """The result of running the compiled program, or None when it was not run."""
        return self._staged.output

    @property
    def in_avals(self) -> str:
        """The abstract input types, e.g. ``(f32[100,100],)``."""
        try:
            avals = self.jaxpr.in_avals
            return (
                "("
                + ", ".join(a.str_short(short_dtypes=True) for a in avals)
                + ("," if len(avals) == 1 else "")
                + ")"
            )
        except Exception:
            return "(?)"

    @cached_property
    def arguments(self) -> CallSummary:
        """The call's arguments, named from the function's signature and summarised
        (``params: list[48] of dict{…}``); ``.leaves`` and ``.to_pandas()`` list every leaf."""
        staged = self._staged
        return call_summary(staged.fn, staged.args, staged.kwargs)

    @property
    def call_text(self) -> str:
        """``step(params: list[48] of dict{…}, x: f32[128,64])``: the call as titles show it."""
        return f"{self.fn_name}({self.arguments.text})"

    @property
    def signature(self) -> str:
        """``step(params: list[48] of dict{…}, x: f32[128,64]) → (f32[], list[48] of …)``."""
        return f"{self.fn_name}({self.arguments.text}) → {self.results}"

    @cached_property
    def results(self) -> str:
        """The outputs' types, summarised like the arguments (more tightly: a title names
        them after the arguments)."""
        try:
            return summarize(self.traced.out_info, width=60)
        except Exception:
            return self.out_avals

    @property
    def out_avals(self) -> str:
        try:
            avals = self.jaxpr.out_avals
            return ", ".join(a.str_short() for a in avals)
        except Exception:
            return "?"

    # -- rendering: by the views registered for Inspection ----------------------------------
    def view_model(self) -> dict[str, Any]:
        """The inspector's JSON-able view model (both renderers draw it)."""
        with gc_paused():
            return renderer(self, "view model")(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The static rendering (self-contained HTML) and the text summary."""
        bundle = {"text/plain": repr(self)}
        html = self._repr_html_()
        if html is not None:
            bundle["text/html"] = html
        return bundle

    def _ipython_display_(self) -> None:
        """In a kernel: the static rendering, then the live widget."""
        renderer(self, "display")(self)

    def graph_svg(self, which: str = "jaxpr", expanded: list[int] | None = None) -> str | None:
        """SVG of a graph view laid out by Graphviz (None without `dot`): 'jaxpr' or 'hlo';
        `expanded` lists group ids to open (default: the first view, at most ~300 boxes)."""
        return renderer(self, "graph")(self, which, expanded)["svg"]

    def to_html(self) -> str:
        """One self-contained HTML page with every view (no kernel or widget needed)."""
        return renderer(self, "page")(self)

    # -- saved inspections ----------------------------------------------------------------
    def save(self, path: Any) -> Any:
        """Write what this inspection shows (IR texts, costs, memory, timings, versions) to a
        JSON file; ``jaxlab.Inspection.load(path)`` reads it back for ``jaxlab.diff``."""
        from jaxlab.api.saved import write

        return write(self, path)

    @staticmethod
    def load(path: Any) -> SavedInspection:
        """A saved inspection (``Inspection.save``), to compare with ``jaxlab.diff``. A file
        that is not one, or one from a newer jaxlab, raises a one-line
        ``InspectionFileError``."""
        from jaxlab.api.saved import read

        return SavedInspection(read(path), str(path))

    # -- distribution: shardings, collectives, memory -------------------------------------
    @cached_property
    def shardings(self) -> Any:
        """Input and output shardings XLA chose (``ProgramShardings``), or None."""
        from jaxlab.ir.shardings import program_shardings

        return program_shardings(self.compiled)

    @property
    def input_shardings(self) -> list[Any]:
        return self.shardings.inputs if self.shardings is not None else []

    @property
    def output_shardings(self) -> list[Any]:
        return self.shardings.outputs if self.shardings is not None else []

    @cached_property
    def collectives(self) -> list[Any]:
        """Collectives of the partitioned HLO, with replica groups and bytes moved."""
        from jaxlab.ir.collectives import collectives_of

        return collectives_of(self.hlo_module)

    @cached_property
    def pallas_kernels(self) -> list[Any]:
        """The program's Pallas kernels (``PallasKernel``: grid, BlockSpecs evaluated for each
        program, on-chip footprint, cost), empty when it calls none."""
        from jaxlab.ir.pallas_grid import pallas_kernels

        return pallas_kernels(self.jaxpr)

    kernels = renamed("pallas_kernels")  # `kernels` names measured kernels (Profile.kernels)

    @cached_property
    def memory_timeline(self) -> Any:
        """Live bytes over the scheduled HLO (``MemoryTimeline``: peak, where it peaks)."""
        from jaxlab.ir.memory_timeline import memory_timeline

        if not self.hlo:
            return None
        timeline = memory_timeline(self.hlo_module)
        timeline.xla_memory = self.memory
        return timeline


class SavedInspection(Inspection):
    """An inspection read back from a file: its texts, analyses and timings, without the live
    JAX objects (``traced``, ``lowered``, ``compiled`` and ``jaxpr`` are None)."""

    def __init__(self, data: dict[str, Any], path: str = ""):
        self._data = data
        self.path = path
        self.__dict__.update(
            jaxpr_text=str(data.get("jaxpr") or ""),
            stablehlo_debug=str(data.get("stablehlo_debug") or ""),
            hlo=str(data.get("hlo") or ""),
            cost=data.get("cost"),
            memory=data.get("memory"),
            devices=[],
        )

    traced = lowered = compiled = jaxpr = output = property(lambda self: None)

    @property
    def fn_name(self) -> str:
        return str(self._data.get("fn_name", "?"))

    @property
    def jax_version(self) -> str:
        return str(self._data.get("jax", "?"))

    @property
    def jaxlab_version(self) -> str:
        return str(self._data.get("jaxlab", "?"))

    @property
    def stablehlo(self) -> str:  # type: ignore[override]
        return self.stablehlo_module.text

    @property
    def timings(self) -> _stages.StageTimings:
        t = dict(self._data.get("timings") or {})
        t.pop("first_run_s", None), t.pop("first_run", None)  # this session ran nothing
        t.pop("steady_run_s", None), t.pop("steady_run", None), t.pop("steady_runs", None)
        return _stages.StageTimings.from_dict(t)

    @property
    def in_avals(self) -> str:
        return str(self._data.get("in_avals", "(?)"))

    @property
    def call_text(self) -> str:
        arguments = self._data.get("arguments")
        return (
            f"{self.fn_name}({arguments})"
            if arguments is not None
            else (f"{self.fn_name}{self.in_avals}")
        )

    @property
    def out_avals(self) -> str:
        return str(self._data.get("out_avals", "?"))


def inspect(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    run: bool | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> Inspection:
    """Trace, lower and compile ``fn(*args, **kwargs)`` for this machine's backend and return
    an :class:`Inspection` (``jaxlab.inspect`` adds other platforms on top of this)."""
    staged = _stages.stage(
        fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    return from_staged(staged, run)


def from_staged(staged: _stages.Staged, run: bool | None = None) -> Inspection:
    """The inspection of a staged call, run first when `run` (default: when its arguments
    are real arrays, not ``jax.ShapeDtypeStruct`` placeholders)."""
    if run is None:
        run = staged.runnable
    elif run and not staged.runnable:
        raise ValueError(
            "`jaxlab.inspect(..., run=True)` needs real arrays, but an argument is a "
            "jax.ShapeDtypeStruct placeholder; pass arrays or drop run=True."
        )
    if run:
        staged.run()
    return Inspection(staged)
