"""Variants that run JAX op by op (eager, a function of the user's own given JAX arrays) timed
in a fresh worker process when the compiled call's output is large.

Under glibc, a compiled call's large output is allocated by whichever thread runs it: in the
main thread's arena it reuses the block the previous output freed (no page faults); in an
arena of one of XLA's threads it may not fit the arena's heap, which then maps a new heap for
every call and unmaps it when the output is freed (a fault for every page: about 3,900 for
16 MB). JAX run op by op allocates several large temporaries per call in the arenas of XLA's
threads and can change which of the two the compiled call gets, for the rest of the process:
the compiled time measured after it, and the user's own loops after the benchmark, would
then be the state the benchmark left behind. Timed in a worker, they leave this process as
the user's code left it.

NumPy and PyTorch twins stay in this process, timed after the compiled variants: they
allocate on the calling thread, in an arena XLA's threads do not use, and a fresh process
would charge them the page faults of first touching their memory, which the user's own
long-lived process does not pay."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Sequence
from typing import Any

from jaxlab.base.format import format_bytes
from jaxlab.benchmarking.result import BenchError, Note, Timing

# a compiled call that allocates this much per call gets the allocating variants timed apart
# (glibc's malloc serves blocks from 128 KiB on by mmap until a free raises its threshold)
APART_BYTES = 1 << 20

# a call whose function and inputs pickle to more than this is timed here (a worker would
# hold a second copy of them)
MAX_PAYLOAD_BYTES = 256 << 20

# False in a worker process: it is fresh and thrown away, so timing the compiled variants
# first is enough there
ENABLED = True


def large(compiled: Sequence[Timing]) -> float | None:
    """The largest allocation per call of the compiled variants, when it is large enough to
    time the allocating variants apart; else None."""
    sizes = [t.alloc_bytes for t in compiled if t.alloc_bytes and t.samples]
    if not sizes or max(sizes) < APART_BYTES:
        return None
    return max(sizes)


class Apart:
    """Times a group of variants running JAX op by op in a worker process (see the module's text).
    Calling it returns the group's outcome, or None (with the reason kept in `notes`) to
    time them in this process."""

    def __init__(
        self, args: tuple, kwargs: dict, opts: Any, x64: bool, *, sweep: bool = False
    ) -> None:
        self.args, self.kwargs, self.opts, self.x64 = args, kwargs, opts, x64
        self.sweep = sweep
        self.notes: list[Note] = []

    def __call__(self, group: list[Any], reference: Any, compiled: Sequence[Timing]) -> Any:
        allocation = large(compiled)
        if allocation is None or not ENABLED or not host_memory():
            return None
        names = ", ".join(v.name for v in group)
        size = compiled[0].size if compiled else None
        variants = list(group) + ([reference] if reference is not None else [])
        call = {
            "point": {
                "variants": variants,
                "untimed": [reference.name] if reference is not None else [],
                "reference": reference.name if reference is not None else None,
                "args": self.args,
                "kwargs": self.kwargs,
                "size": size,
                "opts": self.opts,
                "x64": self.x64,
                "sweep": self.sweep,
            },
            "jax_options": _jax_options(),
        }
        try:
            outcome = run_in_worker(call)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            self._note(
                f"{names} timed in this process after the compiled variants: a worker "
                f"process could not time them ({' '.join(str(exc).split())})"
            )
            return None
        self._note(
            f"{names} timed in a fresh worker process: the compiled call allocates "
            f"{format_bytes(allocation)} per call, and JAX run op by op allocates in the "
            "same memory pools (those of XLA's threads): in this process it would change whether "
            "that output reuses freed memory or gets fresh pages, for the compiled times and for "
            "your own loops after this benchmark"
        )
        return outcome

    def _note(self, text: str) -> None:
        if all(n.text != text for n in self.notes):
            self.notes.append(Note("info", text, topic="apart"))


def host_memory() -> bool:
    """Whether JAX computes on the CPU, in this process's host memory, where the allocator
    the allocating variants share with it lives (an accelerator's memory has an allocator of
    its own, which a worker process would compete with for the device)."""
    import jax

    return jax.default_backend() == "cpu"


def _jax_options() -> dict[str, Any]:
    from jaxlab.benchmarking.processes import jax_options

    return jax_options()


def run_in_worker(call: dict[str, Any]) -> Any:
    """The outcome of ``run_point`` on the pickled call in a fresh worker process; raises
    with the worker's last line of stderr when it fails."""
    import cloudpickle

    from jaxlab.benchmarking.processes import run_worker, worker_environment

    data = cloudpickle.dumps(call)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise BenchError(
            f"the function and its inputs take {format_bytes(len(data))} to send, more than "
            f"{format_bytes(MAX_PAYLOAD_BYTES)}"
        )
    with tempfile.TemporaryDirectory(prefix="jaxlab-bench-") as tmp:
        source, target = os.path.join(tmp, "point.pkl"), os.path.join(tmp, "outcome.pkl")
        with open(source, "wb") as f:
            f.write(data)
        error = run_worker(source, target, worker_environment())
        if error is not None:
            raise BenchError(error)
        with open(target, "rb") as f:
            return pickle.load(f)


def time_point(call: dict[str, Any]) -> Any:
    """In the worker: the group timed with ``run_point``, its errors made sendable."""
    from contextlib import ExitStack

    from jaxlab.benchmarking.point import run_point
    from jaxlab.core import compile_events

    point = call["point"]
    with ExitStack() as stack:
        if point["x64"]:
            import jax

            stack.enter_context(jax.enable_x64(True))
        log = stack.enter_context(compile_events.recording(explain=True))
        outcome = run_point(
            point["variants"],
            point["args"],
            point["kwargs"],
            point["size"],
            point["opts"],
            log,
            point["reference"],
            sweep=point["sweep"],
            untimed=point["untimed"],
        )
    outcome.errors = {
        name: BenchError(outcome.failures.get(name) or str(exc))
        for name, exc in outcome.errors.items()
    }
    return outcome
