"""Compilations are recorded from jax.monitoring with per-stage durations."""

from __future__ import annotations

import copy

import jax
import jax.numpy as jnp

from jaxlab.core.compile_events import recording
from jaxlab.core.jit import ReportingJit


def test_recording_sees_each_compilation_once():
    @jax.jit
    def recorded_fn(x):
        return x * 3

    with recording() as log:
        recorded_fn(jnp.ones(3))
        recorded_fn(jnp.ones(3))
        recorded_fn(jnp.ones(5))
    mine = log.of("recorded_fn")
    assert len(mine) == 2
    assert all(c.trace_s > 0 and c.lower_s > 0 and c.compile_s > 0 for c in mine)


def test_reporting_jit_reports_and_delegates():
    lines: list[str] = []

    def double(x):
        return 2 * x

    f = ReportingJit(double, report=lines.append)
    assert f.__wrapped__ is double and f.__name__ == "double"
    f(jnp.ones(2))
    f(jnp.ones(2))
    assert len(lines) == 1 and "compiled double(x: f32[2])" in lines[0]
    assert "stablehlo" in f.lower(jnp.ones(2)).as_text()
    assert len(f.compilations) == 1
    # inside another jitted function it is traced into the caller, not compiled on its own
    jax.jit(lambda x: f(x).sum())(jnp.ones(2))
    assert len(lines) == 1


def test_reporting_jit_can_be_copied():
    # copy rebuilds the object before its attributes are back: forwarding them then recursed
    def plus_one(x):
        return x + 1

    f = ReportingJit(plus_one, report=None)
    g = copy.copy(f)
    assert g(jnp.ones(2)).tolist() == [2.0, 2.0]
    assert g.jitted is f.jitted


def test_explain_captures_why_it_compiled_again(capfd):
    def explained_fn(x):
        return x + 1

    jitted = jax.jit(explained_fn)
    jitted(jnp.ones(3))
    with recording(explain=True) as log:
        jitted(jnp.ones(3))
        jitted(jnp.ones((2, 2)))
    (comp,) = log.of("explained_fn")
    assert len(comp.reasons) == 1
    assert "f32[2,2]" in comp.reasons[0] and "f32[3]" in comp.reasons[0]
    assert "TRACING CACHE MISS" not in capfd.readouterr().err
    assert not jax.config.jax_explain_cache_misses


def test_explanations_the_user_asked_for_are_still_logged(caplog):
    def asked_fn(x):
        return x - 1

    jitted = jax.jit(asked_fn)
    with jax.explain_cache_misses(True), recording(explain=True) as log:
        jitted(jnp.ones(2))
    (comp,) = log.of("asked_fn")
    assert comp.reasons and "never seen function" in comp.reasons[0]
    assert any(r.getMessage().startswith("TRACING CACHE MISS") for r in caplog.records)
    caplog.clear()
    with recording(explain=True):
        jitted(jnp.ones(3))
    assert not any(r.getMessage().startswith("TRACING CACHE MISS") for r in caplog.records)


def test_nested_recordings_each_keep_their_own_log():
    def nested_fn(x):
        return x - 1

    jitted = jax.jit(nested_fn)
    with recording() as outer:
        with recording() as inner:
            pass  # equal contents: an inner exit must still remove only its own log
        jitted(jnp.ones(7))
    assert len(outer.of("nested_fn")) == 1
    assert len(inner) == 0


def test_nested_explaining_recordings_keep_explanations_out_of_the_log(caplog):
    def twice_fn(x):
        return x * 5

    jitted = jax.jit(twice_fn)
    with recording(explain=True) as outer, recording(explain=True) as inner:
        jitted(jnp.ones(4))
    assert outer.of("twice_fn") and inner.of("twice_fn")
    assert not any(r.getMessage().startswith("TRACING CACHE MISS") for r in caplog.records)


def test_each_trace_keeps_the_function_jax_traced():
    """Same-named functions stay apart, and the function is found where no name is bound:
    inline, under grad (no trace event there: JAX's explanation carries it), pmap."""

    def make(k):
        def twin(x):
            return x * k

        return twin

    first, second = make(2.0), make(3.0)

    def squared(x):
        return (x**2).sum()

    def plus_one(x):
        return x + 1

    with recording(explain=True) as log:
        jax.jit(first)(1.0)
        jax.jit(second)(1.0)
        jax.grad(jax.jit(squared))(jnp.ones(3))
        jax.pmap(plus_one)(jnp.ones((1, 2)))
    traced = [c.function for c in log.traced() if c.function is not None]
    assert first in traced and second in traced and squared in traced
    twins = [c for c in log.compilations if c.name == "twin"]
    assert [c.function for c in twins] == [first, second]
    # pmap traces a wrapper of JAX's own, holding the user's function
    from jaxlab.guards._functions import traced_function

    assert any(traced_function(f) == (plus_one, None) for f in traced)
