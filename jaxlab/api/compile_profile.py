"""`jaxlab.compile_profile`: where the compile time of one call goes — trace, lower, XLA's pass
pipelines and passes, code generation per kernel, and per source line — with advice."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jaxlab.api.compile_advice import Advice, advise
from jaxlab.api.inspection import Inspection
from jaxlab.base.display import Displayed
from jaxlab.base.files import envelope, opened, write_json
from jaxlab.base.format import source_location
from jaxlab.base.renamed import renamed, warn_renamed
from jaxlab.base.table import Table
from jaxlab.core import compile_profile as _watch
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.ir.compile_trace import CompileTrace
from jaxlab.ir.sources import source_pair


@dataclass(repr=False)
class CompileProfile(Displayed):
    """Wall times of trace, lower and compile of one call; the compile split into XLA's pass
    pipelines and passes (``.passes``), code generation per kernel (``.codegen``) and per
    source line (``.by_line()``); ``.advice`` lists what could compile faster.

    Pass and backend seconds are XLA's own profiler spans (measured). The backend's wall time
    is shared out to kernels by their emission spans (measured) plus their part of the
    module-wide LLVM step by op count (estimated: XLA compiles the kernels together)."""

    inspection: Inspection
    trace_s: float
    lower_s: float
    compile_s: float
    trace: CompileTrace
    processing_s: float  # jaxlab's own work: reading the profiler trace, attributing kernels
    notes: list[str] = field(default_factory=list)
    recompiles: Any = None  # the function's FunctionCompiles from the session, if given

    @property
    def fn_name(self) -> str:
        return self.inspection.fn_name

    @property
    def total_s(self) -> float:
        return self.trace_s + self.lower_s + self.compile_s

    @property
    def passes_s(self) -> float:
        """Seconds in XLA's HLO pass pipelines (measured)."""
        return self.trace.passes_s

    @property
    def codegen_s(self) -> float:
        """Seconds in the backend after the passes: kernel emission and LLVM (measured)."""
        return self.trace.backend_s

    @property
    def explained_percent(self) -> float:
        """Percent (0–100) of the compile wall time the passes and code generation account
        for."""
        return 100 * (self.passes_s + self.codegen_s) / self.compile_s if self.compile_s else 0.0

    @property
    def explained_share(self) -> float:
        warn_renamed("`CompileProfile.explained_share` (0–1)", "`.explained_percent` (0–100)")
        return self.explained_percent / 100

    @cached_property
    def passes(self) -> Table:
        """XLA's HLO passes, longest first: pipeline, pass, ``time_s`` (XLA's spans, measured)
        and calls."""
        rows = [
            {"pipeline": p.pipeline, "pass": p.name, "time_s": p.time_s, "calls": p.calls}
            for p in self.trace.passes
        ]
        rows.sort(key=lambda r: -r["time_s"])
        columns = ("pipeline", "pass", "time_s", "calls")
        return Table(rows, columns, "CompileProfile.passes", renamed=_RENAMED)

    def kernel_ops(self, name: str) -> list[Any]:
        """The HLO instruction of kernel `name` and the ops it fused ([] when not found)."""
        module = self.inspection.hlo_module
        instr = module.instructions.get(name)
        if instr is None:
            return []
        comp = module.called_computation(instr) if instr.opcode == "fusion" else None
        return [instr, *(comp.instructions if comp else ())]

    def kernel_lines(self, name: str) -> list[tuple[str, int]]:
        """(file, line) of the source lines kernel `name` was made from, sorted."""
        return sorted({inner for _, inner in self.kernel_sources(name)})

    def kernel_sources(self, name: str) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        """(the user's calling line, the innermost line) of each source line kernel `name` was
        made from, sorted (``ir.sources.source_pair``: library lines belong to the line of the
        user's code that called them)."""
        module = self.inspection.hlo_module
        pairs = {source_pair(module.frames_of(op)) for op in self.kernel_ops(name)}
        return sorted(p for p in pairs if p is not None)

    @cached_property
    def codegen(self) -> Table:
        """Code generation per kernel: the fusion and its source lines; ``emit_s``, XLA's span
        emitting it (measured; kernels are emitted on several threads at once);
        ``llvm_share_s``, its share of the module's LLVM step by op count (estimated); and
        ``time_s``, its part of the backend's wall time in proportion to those two."""
        total_ops = sum(k.op_count for k in self.trace.kernels) or 1
        llvm = self.trace.codegen_s
        weights = [k.emit_s + llvm * k.op_count / total_ops for k in self.trace.kernels]
        scale = self.trace.backend_s / sum(weights) if sum(weights) else 0.0
        rows = []
        for k, weight in zip(self.trace.kernels, weights, strict=True):
            sources = self.kernel_sources(k.fusion)
            lines = sorted({inner for _, inner in sources})
            rows.append(
                {
                    "fusion": k.fusion,
                    "lines": [source_location(f, n) for f, n in lines],
                    "time_s": weight * scale,
                    "emit_s": k.emit_s,
                    "llvm_share_s": llvm * k.op_count / total_ops,
                    "op_count": k.op_count,
                    "_places": sources,
                }
            )
        rows.sort(key=lambda r: -r["time_s"])
        return _codegen_table(rows)

    kernels = renamed("codegen")  # `kernels` names measured kernels (Profile.kernels)

    def by_line(self, *, library: bool = False) -> Table:
        """Code-generation time per source line, longest first: ``time_s`` (each kernel's
        ``time_s`` split evenly over the lines it fused), the line's text, and ``percent``, its
        part (0–100) of the compile wall time. Library code (Flax, Optax, JAX…: the rule of
        ``jaxlab.ir.sources.is_library``) counts in the line of the user's code that called it,
        each such row listing the library lines in ``library``; with ``library=True`` every
        line is its own row."""
        per: dict[tuple[str, int], dict[str, Any]] = {}
        inside: dict[tuple[str, int], dict[tuple[str, int], float]] = {}
        for k in self.codegen:
            places = k["_places"] or [(("", 0), ("", 0))]
            share = k["time_s"] / len(places)
            seen: set[tuple[str, int]] = set()
            for user, inner in places:
                place = inner if library else user
                row = per.setdefault(
                    place, {"file": place[0], "line": place[1], "kernels": 0, "time_s": 0.0}
                )
                row["kernels"] += place not in seen
                seen.add(place)
                row["time_s"] += share
                if not library and inner != user:
                    inside.setdefault(user, {}).setdefault(inner, 0.0)
                    inside[user][inner] += share
        rows = sorted(per.values(), key=lambda r: -r["time_s"])
        for row in rows:
            row["code"] = _line_text(row["file"], row["line"])
            row["percent"] = 100 * row["time_s"] / self.compile_s if self.compile_s else 0.0
            if not library:
                found = inside.get((row["file"], row["line"]), {})
                row["library"] = [
                    {
                        "file": f,
                        "line": n,
                        "code": _line_text(f, n),
                        "time_s": t,
                        "percent": 100 * t / self.compile_s if self.compile_s else 0.0,
                    }
                    for (f, n), t in sorted(found.items(), key=lambda kv: -kv[1])
                ]
        columns = ("file", "line", "code", "kernels", "time_s", "percent")
        columns += () if library else ("library",)
        title = "CompileProfile.by_line(library=True)" if library else "CompileProfile.by_line()"
        return Table(rows, columns, title, renamed=_RENAMED)

    @cached_property
    def advice(self) -> list[Advice]:
        return advise(self)

    def save(self, path: Any) -> Path:
        """Write the compile profile (stage times, XLA's spans, kernels, advice, and what its
        inspection shows) as JSON; ``jaxlab.CompileProfile.load(path)`` reads it back.
        Returns the path."""
        from jaxlab.api.saved import data_of

        data = {
            **envelope(FORMAT, 1),
            "trace_s": self.trace_s,
            "lower_s": self.lower_s,
            "compile_s": self.compile_s,
            "processing_s": self.processing_s,
            "notes": list(self.notes),
            "trace": asdict(self.trace),
            "kernels": [dict(row) for row in self.codegen],
            "advice": [asdict(a) for a in self.advice],
            "inspection": data_of(self.inspection),
        }
        return write_json(data, path)

    @classmethod
    def load(cls, path: Any) -> CompileProfile:
        """A compile profile written by :meth:`save` (its inspection without the live JAX
        objects); a one-line ``ResultFileError`` for any other file."""
        from jaxlab.api.inspection import SavedInspection
        from jaxlab.ir.compile_trace import KernelTime, PassTime

        how = "`jaxlab.compile_profile(f, x).save(path)`"
        data = opened(path, FORMAT, 1, "jaxlab compile profile", how)
        t = data["trace"]
        if "pipelines" in t:  # files written before the field was named with _s
            t["pipelines_s"] = t.pop("pipelines")
        trace = CompileTrace(
            **{
                **t,
                "passes": [PassTime(**_renamed_keys(p, "time_s")) for p in t["passes"]],
                "kernels": [KernelTime(**_renamed_keys(k, "emit_s")) for k in t["kernels"]],
            }
        )
        profile = cls(
            inspection=SavedInspection(data["inspection"], str(path)),
            trace_s=data["trace_s"],
            lower_s=data["lower_s"],
            compile_s=data["compile_s"],
            trace=trace,
            processing_s=data["processing_s"],
            notes=list(data["notes"]),
        )
        for row in data["kernels"]:
            row["_places"] = [_place(place) for place in row["_places"]]
        profile.__dict__["codegen"] = _codegen_table(data["kernels"])
        profile.__dict__["advice"] = [Advice(**a) for a in data["advice"]]
        return profile

    def rows(self) -> list[dict[str, Any]]:
        """The rows of ``.passes``."""
        return self.passes.rows()

    def to_pandas(self):
        """``.passes`` as a DataFrame."""
        return self.passes.to_pandas()


_RENAMED = {"seconds": "time_s"}
FORMAT = "jaxlab.compile_profile"


def _renamed_keys(saved: dict[str, Any], new: str) -> dict[str, Any]:
    """A saved pass or kernel time with its seconds under `new` (files written before the
    field was named with ``_s`` call it ``seconds``)."""
    out = dict(saved)
    if "seconds" in out:
        out[new] = out.pop("seconds")
    return out


def _codegen_table(rows: list[dict[str, Any]]) -> Table:
    columns = ("fusion", "lines", "time_s", "emit_s", "llvm_share_s", "op_count")
    return Table(rows, columns, "CompileProfile.codegen", renamed=_RENAMED)


def _line_text(file: str, line: int) -> str:
    import linecache

    return linecache.getline(file, line).strip() if file and line else ""


@takes_call()
def compile_profile(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    recompiles: Any = None,
    kwargs: Mapping[str, Any] | None = None,
) -> CompileProfile:
    """Trace, lower and compile ``fn(*args, **kwargs)`` under XLA's profiler and return a
    :class:`CompileProfile`. Nothing is run. The compile is done afresh even when JAX had
    compiled the same call before. `recompiles` (a function's entry of ``%recompiles``) adds
    advice about static arguments that recompile per value, and about arguments that hold a
    new object (a closure) at each call. `fn`'s own keyword arguments go
    in ``kwargs={...}``.
    """
    kwargs = dict(kwargs or {})
    watched: list[_watch.TracedCompile] = []

    def compile_watched(lowered: Any) -> Any:
        watched.append(_watch.compile_traced(lowered, _watch.module_name(lowered)))
        return watched[0].compiled

    staged = _stages.stage(
        fn,
        args,
        kwargs,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        compile=compile_watched,
    )
    watch = watched[0]
    staged.compile_s = watch.wall_s  # the compile alone, not the trace's start and parsing
    t3 = time.perf_counter()
    notes = [watch.note] if watch.note else []
    if watch.trace.found and not watch.trace.kernels:
        notes.append(
            "code generation per kernel unavailable on this backend (XLA compiles the "
            "module's kernels together); `.by_line()` is empty"
        )
    profile = CompileProfile(
        inspection=Inspection(staged),
        trace_s=staged.trace_s,
        lower_s=staged.lower_s,
        compile_s=watch.wall_s,
        trace=watch.trace,
        processing_s=0.0,
        notes=notes,
        recompiles=recompiles,
    )
    _ = profile.codegen, profile.advice  # attribute now: part of the processing time
    profile.processing_s = watch.processing_s + time.perf_counter() - t3
    return profile


def _place(saved: Any) -> tuple[tuple[str, int], tuple[str, int]]:
    """(user's line, innermost line) of a saved kernel source; a file saved before library
    lines were folded holds the line alone."""
    if isinstance(saved[0], str):
        return (saved[0], saved[1]), (saved[0], saved[1])
    return tuple(saved[0]), tuple(saved[1])  # type: ignore[return-value]
