"""The user frames of a jaxpr equation (`base.compat.eqn_frames`): innermost first, JAX's and
the standard library's frames left out, the same with any `limit` (the numerics explorer reads
only the innermost one of each equation), and the same again from the cache."""

from __future__ import annotations

import inspect
import os

import jax
import jax.numpy as jnp

from jaxlab.base import compat


def _inner(x):
    return jnp.sin(x) * 2.0  # one line, two equations


def _outer(x):
    return _inner(x) + jnp.cos(x)


def _equations(jaxpr):
    for eqn in jaxpr.eqns:
        yield eqn
        for value in eqn.params.values():
            inner = getattr(value, "jaxpr", None)
            if inner is not None and hasattr(inner, "eqns"):
                yield from _equations(inner)


def _line(fn, text: str) -> int:
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, line in enumerate(lines) if text in line)


def test_frames_name_the_user_lines_innermost_first():
    eqns = {e.primitive.name: e for e in _equations(jax.make_jaxpr(_outer)(jnp.ones(3)).jaxpr)}
    sin, cos = compat.eqn_frames(eqns["sin"]), compat.eqn_frames(eqns["cos"])
    assert [(f[0], f[1], f[3]) for f in sin[:2]] == [
        (__file__, _line(_inner, "jnp.sin(x)"), "_inner"),
        (__file__, _line(_outer, "_inner(x)"), "_outer"),
    ]
    assert (cos[0][1], cos[0][3]) == (_line(_outer, "jnp.cos(x)"), "_outer")
    jax_dir = os.path.dirname(jax.__file__)
    assert not [f for f in sin + cos if f[0].startswith(jax_dir)]


def test_a_limit_keeps_the_innermost_frames_and_the_cache_changes_nothing():
    jaxpr = jax.make_jaxpr(jax.grad(lambda x: _outer(x).sum()))(jnp.ones(3)).jaxpr
    eqns = list(_equations(jaxpr))
    full = [compat.eqn_frames(e) for e in eqns]
    assert all(full), "every equation of this file's functions has a user frame"
    for eqn, frames in zip(eqns, full, strict=True):
        assert compat.eqn_frames(eqn, 1) == frames[:1]
        assert compat.eqn_frames(eqn, 2) == frames[:2]
        assert compat.eqn_frames(eqn) == frames  # read from the cache
    assert {f[0][3] for f in full} >= {"_inner", "_outer"}
