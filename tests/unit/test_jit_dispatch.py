"""``%jit``'s functions dispatch straight to ``jax.jit`` and report compilations from JAX's
compile events, attributed to the function whose cache missed."""

from __future__ import annotations

import threading

import cloudpickle
import jax
import jax.numpy as jnp

from jaxlab.core.jit import ReportingJit


def halve(x):
    return x / 2


def test_a_call_goes_straight_to_the_jitted_function():
    rj = ReportingJit(halve, report=None)
    assert isinstance(rj, ReportingJit)
    assert type(rj).__call__ is rj.jitted  # no Python frame of jaxlab's in between
    assert rj(jnp.ones(2)).tolist() == [0.5, 0.5]


def test_only_its_own_compilations_are_reported():
    lines: list[str] = []
    rj = ReportingJit(halve, report=lines.append)
    other = jax.jit(halve)
    other(jnp.ones(11))  # the same function under another jax.jit
    jax.jit(lambda x: x * 3)(jnp.ones(11))
    assert lines == [] and rj.compilations == []
    rj(jnp.ones(12))
    rj(jnp.ones(12))
    rj(jnp.ones((3, 4)))
    assert len(lines) == 2 and len(rj.compilations) == 2
    assert "compiled halve(x: f32[12])" in lines[0] and "compilation #2" in lines[1]
    assert "f32[3,4]" in lines[1]
    assert all(c.compile_s > 0 and c.trace_s > 0 for c in rj.compilations)


def test_compilations_on_another_thread_are_reported():
    lines: list[str] = []
    rj = ReportingJit(halve, report=lines.append)
    thread = threading.Thread(target=lambda: rj(jnp.ones(13)))
    thread.start()
    thread.join()
    assert len(lines) == 1 and "f32[13]" in lines[0]


def test_it_can_be_sent_to_another_process():
    rj = ReportingJit(halve, static_argnums=None, report=print)
    back = cloudpickle.loads(cloudpickle.dumps(rj))
    assert isinstance(back, ReportingJit) and back.__wrapped__.__name__ == "halve"
    assert back(jnp.ones(2)).tolist() == [0.5, 0.5]


def test_a_function_whose_compilation_jax_serves_from_its_caches_is_not_kept_alive():
    """A reporting jit of a function that %jit f(x) already compiled traces, and JAX serves
    its lowering and compilation from its caches (no compile event): nothing of jaxlab's
    keeps it alive, so the guards do not go on watching a function the user dropped."""
    import gc
    import weakref

    import jaxlab

    def f(x):
        return x * 3

    x = jnp.arange(4.0)
    jaxlab.jit_run(f, x)
    again = jaxlab.reporting_jit(f, report=None)
    again(x)
    dropped = weakref.ref(again)
    del again
    gc.collect()
    assert dropped() is None
