"""What a profiler trace recorded while XLA compiled one program: its pass pipelines and passes,
the backend's code generation, and the kernel-by-kernel emission of fused computations.

The input is the Chrome-trace JSON that ``jax.profiler.trace`` writes (``*.trace.json.gz``).
XLA marks each pass pipeline with a span ``"<pipeline> (<module>)"`` whose ``args.module`` names
the HLO module, each pass with a span nested in it, the backend with ``*Compiler::RunBackend``,
LLVM code generation with ``Codegen`` and each kernel with ``FusionCompiler::Compile``
(``args.module``: ``<fusion>_kernel_module``). Everything here is measured, except where a name
says ``share`` (an apportioned estimate).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxlab.base.renamed import renamed

_PIPELINE_SRC = "hlo_pass_pipeline.cc"
_KERNEL = "FusionCompiler::Compile"
_KERNEL_SUFFIX = "_kernel_module"
_KERNEL_PREFIX = "__compute_module_"
# the client's whole compile (CPU; GPU through the C API), the backend after the HLO passes
_COMPILE = ("PjRtCpuClient::Compile", "PjRtStreamExecutorClient::CompileInternal")
_BACKEND = ("Compiler::RunBackend", "CompileToBackendResult")
_INVARIANTS = "RunInvariantCheckers"
# one flat event object naming a thread-pool marker (its "args" hold no nested object but one)
_MARKERS = re.compile(
    r'\{(?:[^{}"]|"[^"\\]*")*?"name":"ThreadpoolListener::\w+"(?:[^{}"]|"[^"\\]*"|\{[^{}]*\})*\},?'
)


@dataclass(frozen=True, slots=True)
class Span:
    """One complete event (``ph == "X"``): times in seconds from the trace's start."""

    name: str
    start: float
    seconds: float
    thread: int
    args: dict[str, str]

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def contains(self, other: Span) -> bool:
        return (
            self.thread == other.thread
            and self.start <= other.start
            and other.end <= self.end + 1e-9
            and other is not self
        )


@dataclass(frozen=True, slots=True)
class PassTime:
    """One HLO pass: its seconds summed over its `calls` in `pipeline`."""

    pipeline: str
    name: str
    time_s: float
    calls: int

    seconds = renamed("time_s")


@dataclass(frozen=True, slots=True)
class KernelTime:
    """Code generation of one kernel (the fused computation XLA emitted)."""

    fusion: str
    emit_s: float
    op_count: int

    seconds = renamed("emit_s")


@dataclass
class CompileTrace:
    """Compile time as XLA's own spans measured it."""

    module: str = ""
    compile_s: float = 0.0  # the backend client's compile span (0 when not seen)
    pipelines_s: dict[str, float] = field(default_factory=dict)  # outermost pipelines
    passes: list[PassTime] = field(default_factory=list)
    # the backend after the HLO passes (CPU: ``*Compiler::RunBackend``; GPU:
    # ``CompileToBackendResult``, scheduling included) minus the pass pipelines inside it
    backend_s: float = 0.0
    codegen_s: float = 0.0  # LLVM's compile of the module's kernels (``Codegen``, CPU)
    kernels: list[KernelTime] = field(default_factory=list)

    pipelines = renamed("pipelines_s")

    @property
    def passes_s(self) -> float:
        return sum(self.pipelines_s.values())

    @property
    def kernels_s(self) -> float:
        return sum(k.emit_s for k in self.kernels)

    @property
    def found(self) -> bool:
        """False when the trace holds no compilation (XLA answered from a cache)."""
        return bool(self.pipelines_s or self.backend_s or self.compile_s)


def read_spans(path: str | Path) -> list[Span]:
    """The complete events of a Chrome-trace file (gzip-compressed or not), native ones only
    (the Python tracer's ``$file:line name`` events are left out)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    data = None
    if '"name":"ThreadpoolListener::' in text:
        # XLA:GPU's thread pools log ~100k marker events in a large compile: drop them unread
        try:
            data = json.loads(_MARKERS.sub("", text))
        except json.JSONDecodeError:
            data = None
    if data is None:
        data = json.loads(text)
    events = data.get("traceEvents", []) if isinstance(data, dict) else data
    return spans_of(events)


def spans_of(events: list[dict[str, Any]]) -> list[Span]:
    out = []
    for e in events:
        name = str(e.get("name", ""))
        if e.get("ph") != "X" or name.startswith(("$", "ThreadpoolListener::")):
            continue
        args = e.get("args") or {}
        out.append(
            Span(
                name=str(e.get("name", "")),
                start=float(e.get("ts", 0.0)) / 1e6,
                seconds=float(e.get("dur", 0.0)) / 1e6,
                thread=int(e.get("tid", 0) or 0),
                args={str(k): str(v) for k, v in args.items()},
            )
        )
    out.sort(key=lambda s: (s.thread, s.start, -s.seconds))
    return out


def _is_pipeline(span: Span) -> bool:
    return span.args.get("_src", "").endswith(_PIPELINE_SRC) and "module" in span.args


def _pipeline_name(span: Span) -> str:
    suffix = f" ({span.args.get('module', '')})"
    return span.name[: -len(suffix)] if span.name.endswith(suffix) else span.name


def parse_compile_trace(spans: list[Span], module: str | None = None) -> CompileTrace:
    """The compilation of `module` (an HLO module name such as ``jit_f``; default: the first
    pipeline's) in the spans of one trace."""
    pipelines = [s for s in spans if _is_pipeline(s)]
    if module is None and pipelines:  # the module XLA spent most pipeline time on
        totals: dict[str, float] = {}
        for p in pipelines:
            totals[p.args["module"]] = totals.get(p.args["module"], 0.0) + p.seconds
        module = max(totals, key=lambda m: totals[m])
    pipelines = [p for p in pipelines if p.args["module"] == module]
    trace = CompileTrace(module=module or "")
    compiles = [s for s in spans if s.name in _COMPILE]
    trace.compile_s = max((s.seconds for s in compiles), default=0.0)

    parents = _parents(spans)
    outer = [p for p in pipelines if not any(q.contains(p) for q in pipelines)]
    for p in outer:
        name = _pipeline_name(p)
        trace.pipelines_s[name] = trace.pipelines_s.get(name, 0.0) + p.seconds

    # a pass is a span directly inside a pipeline; a span that only wraps a nested pipeline
    # (a fixed-point loop such as "simplification") is counted through that pipeline's passes
    ids = {id(p) for p in pipelines}
    wrappers = {id(parents[id(p)]) for p in pipelines if parents.get(id(p)) is not None}
    totals: dict[tuple[str, str], list[float]] = {}
    for s in spans:
        parent = parents.get(id(s))
        if parent is None or id(parent) not in ids or id(s) in ids or id(s) in wrappers:
            continue
        totals.setdefault((_pipeline_name(parent), s.name), []).append(s.seconds)
    trace.passes = [PassTime(p, n, sum(t), len(t)) for (p, n), t in totals.items()]

    backends = [s for s in spans if s.name.endswith(_BACKEND)]
    if module is not None:
        named = [s for s in backends if s.args.get("name") == module]
        backends = named or backends
    # the module's own backend: on the thread of its pipelines (a GPU autotuner compiles
    # candidate kernels through the same steps on other threads)
    threads = {p.thread for p in outer}
    if threads:
        backends = [b for b in backends if b.thread in threads]
    backends = [b for b in backends if not any(o.contains(b) for o in backends)]
    for b in backends:
        inner = sum(p.seconds for p in outer if b.contains(p))
        trace.backend_s += b.seconds - inner
    trace.codegen_s = sum(s.seconds for s in spans if s.name == "Codegen")
    for s in spans:
        if s.name == _KERNEL:
            name = s.args.get("module", "")
            name = name.removeprefix(_KERNEL_PREFIX).removesuffix(_KERNEL_SUFFIX)
            try:
                ops = int(s.args.get("op_count", "0"))
            except ValueError:
                ops = 0
            trace.kernels.append(KernelTime(name, s.seconds, ops))
    return trace


def _parents(spans: list[Span]) -> dict[int, Span | None]:
    """The innermost span enclosing each span (by ``id``), thread by thread."""
    parents: dict[int, Span | None] = {}
    stack: list[Span] = []
    thread = None
    for s in spans:  # sorted by thread, start, longest first
        if s.thread != thread:
            stack, thread = [], s.thread
        while stack and stack[-1].end < s.end - 1e-9:
            stack.pop()
        parents[id(s)] = stack[-1] if stack else None
        stack.append(s)
    return parents
