"""Compile one lowered program under watch: inside ``jax.profiler.trace`` (XLA's passes and
code generation as spans), or with XLA dumping the module after every pass that changed it.

Both compile afresh: JAX keeps compiled executables in memory keyed by the program and the
compiler options, so each compilation here adds a dump-selection option no module matches
(``xla_dump_hlo_module_re``), unique per call, which changes the key and nothing else.
Temporary folders are always removed. An ``--xla_dump_to`` the user set in ``XLA_FLAGS`` is
respected: pass snapshots are then written there, and kept.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxlab.ir.compile_trace import CompileTrace, parse_compile_trace, read_spans

_counter = itertools.count()
_DUMP_FLAG = re.compile(r"--xla_dump_to=(\S+)")
# module_0004.jit_f.0014.HLO_passes_after_layout_assignment.after_fusion.before_fusion-wrapper.txt
_SNAPSHOT = re.compile(r"^module_(\d+)\.(.+?)\.(\d{4})\.(.+?)\.after_(.+?)(?:\.before_(.+))?\.txt$")


def fresh_options(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compiler options that make JAX compile again instead of reusing an executable."""
    options = {"xla_dump_hlo_module_re": f"^jaxlab-fresh-{os.getpid()}-{next(_counter)}$"}
    options.update(extra or {})
    return options


def module_name(lowered: Any) -> str | None:
    """The HLO module name XLA uses (``jit_f``): the lowered module's symbol name."""
    try:
        return str(lowered.compiler_ir("stablehlo").operation.attributes["sym_name"]).strip('"')
    except Exception:
        return None


def user_dump_dir() -> str | None:
    """The folder of ``--xla_dump_to`` in ``XLA_FLAGS``, if the user set one."""
    m = _DUMP_FLAG.search(os.environ.get("XLA_FLAGS", ""))
    return m.group(1) if m else None


@contextmanager
def _temp_dir(prefix: str) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _options() -> Any:
    """XLA's spans only: no Python tracer (its events would be most of the trace), no
    device tracer, no HLO protos."""
    import jax

    try:
        options = jax.profiler.ProfileOptions()
        options.python_tracer_level = 0
        options.enable_hlo_proto = False
        return options
    except Exception:
        return None


@dataclass
class TracedCompile:
    compiled: Any
    wall_s: float  # ``lowered.compile()`` measured around the call
    trace: CompileTrace
    processing_s: float  # reading and parsing the trace
    note: str = ""


def compile_traced(lowered: Any, module: str | None = None) -> TracedCompile:
    """``lowered.compile()`` inside ``jax.profiler.trace``, with XLA's spans parsed."""
    import jax

    with _temp_dir("jaxlab-compile-trace-") as folder:
        try:
            session = jax.profiler.trace(folder, profiler_options=_options())
            session.__enter__()
        except Exception as exc:  # another trace is running
            t0 = time.perf_counter()
            compiled = lowered.compile(compiler_options=fresh_options())
            wall = time.perf_counter() - t0
            note = (
                f"pass and code-generation times unavailable: the profiler could not start "
                f"({type(exc).__name__}: {exc}); stop a running `jax.profiler` trace first"
            )
            return TracedCompile(compiled, wall, CompileTrace(), 0.0, note)
        try:
            t0 = time.perf_counter()
            compiled = lowered.compile(compiler_options=fresh_options())
            wall = time.perf_counter() - t0
        finally:
            session.__exit__(None, None, None)
        t1 = time.perf_counter()
        files = sorted(Path(folder).rglob("*.trace.json.gz")) or sorted(
            Path(folder).rglob("*.trace.json")
        )
        trace = parse_compile_trace(read_spans(files[-1]), module) if files else CompileTrace()
        processing = time.perf_counter() - t1
    note = ""
    if not trace.found:
        note = (
            "the profiler recorded no XLA compilation (a persistent compilation cache may "
            "have answered); pass and code-generation times unavailable"
        )
    return TracedCompile(compiled, wall, trace, processing, note)


@dataclass(frozen=True)
class Snapshot:
    """The module as XLA dumped it after one pass (or at a pipeline's start)."""

    index: int
    pipeline: str
    after: str  # the pass ('pipeline-start' for the module a pipeline began with)
    before: str  # the pass that runs next ('' when none)
    text: str


@dataclass
class PassDump:
    compiled: Any
    before_optimizations: str
    snapshots: list[Snapshot] = field(default_factory=list)
    folder: str | None = None  # the user's dump folder, when XLA_FLAGS named one
    note: str = ""


def compile_dumped(lowered: Any, module: str) -> PassDump:
    """``lowered.compile()`` with XLA dumping `module` after every pass that changed it."""
    folder = user_dump_dir()
    if folder is not None:
        os.makedirs(folder, exist_ok=True)
        existing = set(os.listdir(folder))
        compiled = lowered.compile(compiler_options=_dump_options(folder, module))
        new = sorted(set(os.listdir(folder)) - existing)
        dump = _read_dump(compiled, folder, new, module)
        dump.folder = folder
        dump.note = (
            f"XLA_FLAGS sets --xla_dump_to={folder}: the pass snapshots were written there and kept"
        )
        return dump
    with _temp_dir("jaxlab-passes-") as tmp:
        compiled = lowered.compile(compiler_options=_dump_options(tmp, module))
        return _read_dump(compiled, tmp, sorted(os.listdir(tmp)), module)


def _dump_options(folder: str, module: str) -> dict[str, Any]:
    return {
        "xla_dump_to": folder,
        "xla_dump_hlo_pass_re": ".*",
        "xla_dump_hlo_module_re": f"^{re.escape(module)}$",
        # makes the key unique without changing what is dumped
        "xla_dump_max_hlo_modules": 1_000_000 + next(_counter),
    }


def _read_dump(compiled: Any, folder: str, names: list[str], module: str) -> PassDump:
    ids = [m.group(1) for n in names if (m := _SNAPSHOT.match(n)) and m.group(2) == module]
    last = max(ids) if ids else None  # the newest module id: this compilation's
    dump = PassDump(compiled, "")
    for name in names:
        m = _SNAPSHOT.match(name)
        if m is None or m.group(1) != last or m.group(2) != module:
            continue
        text = Path(folder, name).read_text(encoding="utf-8", errors="replace")
        pipeline = m.group(4).replace("_", " ")
        dump.snapshots.append(
            Snapshot(int(m.group(3)), pipeline, m.group(5), m.group(6) or "", text)
        )
    before = Path(folder, f"module_{last}.{module}.before_optimizations.txt") if last else None
    if before is not None and before.exists():
        dump.before_optimizations = before.read_text(encoding="utf-8", errors="replace")
    dump.snapshots.sort(key=lambda s: s.index)
    if not dump.snapshots:
        dump.note = "XLA wrote no pass snapshots (a compilation cache may have answered)"
    return dump
