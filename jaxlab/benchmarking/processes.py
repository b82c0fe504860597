"""Repeat a benchmark in fresh worker processes: a process's memory layout (which allocator
arena a buffer lands in, whether freed pages go back to the OS) can pick a time for the whole
process, so one process's median can be far from another's. Each worker runs the same
:func:`jaxlab.bench` call in a new interpreter of the same Python, with the same environment
and import path; the function and its inputs are shipped with cloudpickle. The results are
pooled, with each process's median kept beside the pooled figures."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from jaxlab.base.format import format_seconds
from jaxlab.benchmarking.result import BenchError, BenchResult, Note, Timing
from jaxlab.benchmarking.verdict import disagree, spread

# jax.config options a worker takes over from this process (set at run time, not inherited)
JAX_OPTIONS = ("jax_enable_x64", "jax_default_matmul_precision", "jax_num_cpu_devices")


class NotShippable(Exception):
    """The benchmark's function or inputs cannot be sent to another process."""


def check_processes(processes: Any) -> int:
    ok = isinstance(processes, int) and not isinstance(processes, bool) and processes >= 1
    if not ok:
        raise BenchError(
            f"processes must be a whole number ≥ 1 (fresh worker processes to repeat the "
            f"measurement in), e.g. processes=5; got {processes!r}"
        )
    return processes


def payload(call: dict[str, Any]) -> bytes:
    """The pickled call, or :class:`NotShippable` saying which part cannot be sent and why."""
    import cloudpickle

    for part in ("fn", "args", "kwargs", "options"):
        try:
            cloudpickle.dumps(call[part])
        except Exception as exc:
            what = {
                "fn": "the function",
                "args": "the arguments",
                "kwargs": "the keyword arguments",
                "options": "an option (a twin, make, flops or bytes function)",
            }[part]
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise NotShippable(f"{what} cannot be sent to a worker process: {reason}") from None
    return cloudpickle.dumps(call)


def jax_options() -> dict[str, Any]:
    import jax

    out = {}
    for name in JAX_OPTIONS:
        try:
            out[name] = getattr(jax.config, name)
        except AttributeError:
            continue
    return out


def worker_environment() -> dict[str, str]:
    """This process's environment, with its import path (sys.path) as PYTHONPATH, so a
    worker finds every module this process can import."""
    env = dict(os.environ)
    paths = [os.getcwd() if p == "" else p for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if os.path.exists(p)))
    return env


def run_workers(
    data: bytes,
    processes: int,
    on_done: Callable[[int, BenchResult | None, str | None], None] | None = None,
) -> tuple[list[BenchResult], list[str], bool]:
    """Run the pickled call in `processes` fresh workers, one after another (side by side
    they would compete for the cores). Returns the results, one line per failed worker, and
    whether Ctrl-C stopped the run: the worker then running is stopped and the finished ones
    are kept (with none finished, the KeyboardInterrupt is raised)."""
    results: list[BenchResult] = []
    errors: list[str] = []
    env = worker_environment()
    with tempfile.TemporaryDirectory(prefix="jaxlab-bench-") as tmp:
        source = os.path.join(tmp, "call.pkl")
        with open(source, "wb") as f:
            f.write(data)
        for k in range(processes):
            try:
                result, error = _one_worker(source, os.path.join(tmp, f"result-{k}.json"), env)
                if result is not None:
                    results.append(result)
                else:
                    errors.append(f"worker process {k + 1} failed: {error}")
                if on_done is not None:
                    on_done(k, result, None if result is not None else errors[-1])
            except KeyboardInterrupt:
                if not results:
                    raise
                return results, errors, True
    return results, errors, False


def _one_worker(
    source: str, target: str, env: dict[str, str]
) -> tuple[BenchResult | None, str | None]:
    """One worker process: its result, or the last line it wrote to stderr."""
    error = run_worker(source, target, env)
    return (BenchResult.load(target), None) if error is None else (None, error)


def run_worker(source: str, target: str, env: dict[str, str]) -> str | None:
    """``python -m jaxlab.benchmarking.worker SOURCE TARGET`` run to its end: None when it
    wrote TARGET, else the last line it wrote to stderr. Whatever stops the wait (Ctrl-C
    included) stops the worker too."""
    command = [sys.executable, "-m", "jaxlab.benchmarking.worker", source, target]
    with subprocess.Popen(
        command,
        env=env,
        cwd=os.getcwd(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            _, err = proc.communicate()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    if proc.returncode == 0 and os.path.exists(target):
        return None
    lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {proc.returncode}"


def merge(results: list[BenchResult]) -> BenchResult:
    """One result from the workers': each (variant, size) pools every process's samples and
    keeps each process's median and IQR; one-off costs come from the first process."""
    if not results:
        raise BenchError("no worker process finished")
    merged = copy.deepcopy(results[0])
    merged.notes = [n for n in merged.notes if n.topic is None]
    timings: list[Timing] = []
    for t in merged.timings:
        same = [_find(r, t.variant, t.size) for r in results]
        found = [s for s in same if s is not None and s.samples]
        pooled = copy.deepcopy(t)
        pooled.__dict__.pop("summary", None)
        pooled.__dict__.pop("modes", None)
        pooled.__dict__.pop("pace", None)
        pooled.samples = [x for s in found for x in s.samples]
        pooled.faults = (
            [x for s in found for x in s.faults]
            if all(len(s.faults) == len(s.samples) for s in found)
            else []
        )
        # turns are compared within one process; across processes the per-process medians
        # say how far apart they are
        pooled.cpu_s, pooled.blocks = [], []
        pooled.process_medians_s = [s.median_s for s in found]
        pooled.process_iqrs_s = [s.iqr_s for s in found]
        pooled.recompilations = [x for s in found for x in s.recompilations]
        timings.append(pooled)
    merged.timings = timings
    for r in results[1:]:
        for name, message in r.failures.items():
            merged.failures.setdefault(name, message)
        known = {m.message for m in merged.mismatches}
        merged.mismatches += [m for m in r.mismatches if m.message not in known]
        texts = {n.text for n in merged.notes}
        merged.notes += [n for n in r.notes if n.topic is None and n.text not in texts]
    merged.interrupted = any(r.interrupted for r in results)
    merged.settings = dict(merged.settings, processes=len(results))
    return merged


def _find(result: BenchResult, variant: str, size: int | None) -> Timing | None:
    for t in result.timings:
        if t.variant == variant and t.size == size:
            return t
    return None


def process_line(t: Timing, sweep: bool = False) -> str:
    """'jit: 5 processes, medians 0.41 ms … 0.43 ms (spread 4.9 %; within-process IQR 3.1 %)'"""
    where = f" at n={t.size}" if sweep and t.size is not None else ""
    s = spread(t)
    meds = ", ".join(format_seconds(m) for m in t.process_medians_s)
    text = f"{t.variant}{where}: {len(t.process_medians_s)} processes, medians {meds}"
    if s is not None:
        text += f" (spread {100 * s[0]:.1f} %; within-process IQR {100 * s[1]:.1f} %)"
    return text


def process_notes(result: BenchResult) -> list[Note]:
    """One line per timing with each process's median; a warning where they disagree."""
    notes = []
    for t in result.timings:
        if len(t.process_medians_s) < 2:
            continue
        line = process_line(t, result.sweep)
        if disagree(t):
            notes.append(
                Note(
                    "warn",
                    line + ": the processes disagree. Each process's memory layout can pick "
                    "its time; quote the per-process medians (or their spread), not one number",
                    variant=t.variant,
                    topic="processes",
                )
            )
        else:
            notes.append(Note("info", line, variant=t.variant, topic="processes"))
    return notes
