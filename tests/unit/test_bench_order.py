"""The order %bench times its variants in, and where: compiled variants first, in turns of
their own; NumPy and PyTorch after them, in this process (they allocate on the calling
thread, where a user's own loop of them runs); JAX op by op last, in a fresh worker process
when the compiled call's output is large, so that the bench does not put the allocator of
XLA's threads in a state the user's own loop would not see."""

from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.benchmarking import apart, point, timer
from jaxlab.benchmarking.result import Timing
from jaxlab.benchmarking.variants import Variant

QUICK = {"time_budget": 0.05, "min_runs": 3, "peak": False, "progress": False}


def cubic(x):
    return x + x * x + x * x * x


def _variant(name: str, kind: str) -> Variant:
    return Variant(name, cubic, "jax", kind)


def test_compiled_variants_come_first_then_numpy_and_torch_then_jax_op_by_op():
    numpy_twin = Variant("numpy", cubic, "numpy", "twin")
    given = [_variant("eager", "eager"), numpy_twin, _variant("jit", "jit")]
    given.insert(1, _variant("mine", "custom"))
    given += [
        Variant("torch", cubic, "torch", "twin"),
        Variant("np:mine", cubic, "numpy", "custom"),
    ]
    groups = point.phases(given)
    assert [[v.name for v in g] for g in groups] == [
        ["jit"],
        ["numpy", "torch", "np:mine"],
        ["eager", "mine"],
    ]
    assert [[v.name for v in g] for g in point.phases(given[:2])] == [["eager", "mine"]]
    assert [point.on_xla_threads(v) for v in given] == [True, True, False, False, False, False]


def _allocating_variants(calls: list[str]):
    """An eager and a NumPy twin of `cubic` that note in `calls` each time they run here."""

    def eager(x):
        calls.append("eager")
        return cubic(x)

    def numpy_twin(x):
        calls.append("numpy")
        return cubic(np.asarray(x))

    return eager, numpy_twin


def _record_samples(monkeypatch, names: dict) -> list[str]:
    """The variant of every timed sample, in the order they were taken."""
    taken: list[str] = []
    original = timer.counted_sample

    def counted(call, sync, number):
        taken.append(names.get(getattr(call, "func", call), "jit"))
        return original(call, sync, number)

    monkeypatch.setattr(timer, "counted_sample", counted)
    return taken


def test_every_compiled_sample_is_taken_before_any_other_variant_runs(monkeypatch):
    calls: list[str] = []
    eager, numpy_twin = _allocating_variants(calls)
    taken = _record_samples(monkeypatch, {eager: "eager", numpy_twin: "numpy"})
    x = jnp.linspace(0.0, 1.0, 64, dtype=jnp.float32)
    r = jaxlab.bench({"jit": jax.jit(cubic), "eager": eager, "numpy": numpy_twin}, x, **QUICK)
    assert [t.variant for t in r.timings] == ["jit", "eager", "numpy"]
    last_jit = max(i for i, name in enumerate(taken) if name == "jit")
    first_other = min(i for i, name in enumerate(taken) if name != "jit")
    assert last_jit < first_other
    assert calls and set(taken[first_other:]) == {"eager", "numpy"}
    # a small output: no worker process, no note about one
    assert not any("worker process" in n.text for n in r.notes)


def test_outputs_are_still_checked_after_the_timing():
    def wrong(x):
        return cubic(x) + 1.0

    x = jnp.linspace(0.0, 1.0, 64, dtype=jnp.float32)
    r = jaxlab.bench({"jit": jax.jit(cubic), "wrong": wrong}, x, **QUICK)
    assert [m.variant for m in r.mismatches] == ["wrong"]
    assert r.mismatches[0].reference == "jit"


def test_large_outputs_get_jax_op_by_op_timed_in_a_worker_process_and_numpy_here(monkeypatch):
    calls: list[str] = []
    eager, numpy_twin = _allocating_variants(calls)
    taken = _record_samples(monkeypatch, {numpy_twin: "numpy"})
    x = jnp.ones((512, 1024), dtype=jnp.float32)  # 2 MiB out
    r = jaxlab.bench({"jit": jax.jit(cubic), "eager": eager, "numpy": numpy_twin}, x, **QUICK)
    # eager: timed, checked and described, yet never called in this process
    assert "eager" not in calls
    # NumPy: timed here, every sample after the compiled variant's last
    assert set(calls) == {"numpy"} and set(taken) == {"jit", "numpy"}
    assert max(i for i, n in enumerate(taken) if n == "jit") < taken.index("numpy")
    assert [t.variant for t in r.timings] == ["jit", "eager", "numpy"]
    assert all(t.samples for t in r.timings)
    assert len(r.timing("numpy").samples) == taken.count("numpy")
    assert r.timing("jit").alloc_bytes == 2 << 20
    assert r.mismatches == [] and r.failures == {}
    [note] = [n for n in r.notes if "worker process" in n.text]
    assert note.text.startswith("eager timed in a fresh worker process: the compiled call")
    assert "2 MiB per call" in note.text


def test_a_worker_finds_disagreeing_outputs_too():
    def wrong(x):
        return cubic(x) * 2.0

    x = jnp.ones((512, 1024), dtype=jnp.float32)
    r = jaxlab.bench({"jit": jax.jit(cubic), "wrong": wrong}, x, **QUICK)
    assert any("worker process" in n.text for n in r.notes)
    assert [m.variant for m in r.mismatches] == ["wrong"]


def test_a_variant_that_cannot_be_sent_is_timed_here_after_the_compiled_one(monkeypatch):
    lock = threading.Lock()
    calls: list[str] = []

    def eager(x):
        with lock:  # a lock cannot be pickled
            calls.append("eager")
        return cubic(x)

    taken = _record_samples(monkeypatch, {eager: "eager"})
    x = jnp.ones((512, 1024), dtype=jnp.float32)
    r = jaxlab.bench({"jit": jax.jit(cubic), "eager": eager}, x, **QUICK)
    assert calls and [t.variant for t in r.timings] == ["jit", "eager"]
    assert max(i for i, n in enumerate(taken) if n == "jit") < taken.index("eager")
    [note] = [n for n in r.notes if "worker process" in n.text]
    assert note.text.startswith("eager timed in this process after the compiled variants: a")


@pytest.mark.parametrize(
    ("allocs", "expected"),
    [([None], None), ([512 << 10], None), ([1 << 20], 1 << 20), ([1 << 10, 4 << 20], 4 << 20)],
)
def test_which_allocation_is_large(allocs, expected):
    timings = [
        Timing(variant=f"v{i}", size=None, alloc_bytes=a, samples=[1e-3])
        for i, a in enumerate(allocs)
    ]
    assert apart.large(timings) == expected
    assert apart.large([Timing(variant="untimed", size=None, alloc_bytes=8 << 20)]) is None


def _allocating_pair():
    calls: list[str] = []
    eager, _ = _allocating_variants(calls)
    return {"jit": jax.jit(cubic), "eager": eager}, calls


def test_on_an_accelerator_the_allocating_variants_stay_here(monkeypatch):
    # device memory has its own allocator; a worker would compete with this process for it
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    variants, calls = _allocating_pair()
    r = jaxlab.bench(variants, jnp.ones((512, 1024), dtype=jnp.float32), **QUICK)
    assert calls and [t.variant for t in r.timings] == ["jit", "eager"]
    assert not any("worker process" in n.text for n in r.notes)


def test_inputs_too_large_to_send_are_timed_here_and_said_so(monkeypatch):
    monkeypatch.setattr(apart, "MAX_PAYLOAD_BYTES", 1 << 20)
    variants, calls = _allocating_pair()
    r = jaxlab.bench(variants, jnp.ones((512, 1024), dtype=jnp.float32), **QUICK)
    assert calls
    [note] = [n for n in r.notes if "worker process" in n.text]
    assert note.text.startswith("eager timed in this process after the compiled variants")
    assert note.text.endswith(
        "(the function and its inputs take 2.01 MiB to send, more than 1 MiB)"
    )
