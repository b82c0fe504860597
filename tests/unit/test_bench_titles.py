"""A bench title names what was timed: the transformed function, a sweep's size range, the
named variants and what each calls."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxlab

QUICK = {"time_budget": 0.02, "min_runs": 3, "peak": False, "progress": False}


def cubic(x):
    return jnp.sum(x**3)


def test_a_hessian_is_titled_by_what_was_differentiated():
    r = jaxlab.bench(jax.hessian(cubic), jnp.ones(8), vs=(), **QUICK)
    assert r.label == "hessian(cubic)(x: f32[8])"
    assert r.variants[0].how == "jax.jit(hessian(cubic))"


def test_a_sweep_is_titled_by_its_size_range_not_one_shape():
    r = jaxlab.bench(cubic, jnp.ones((50, 50)), sizes=[100, 10_000], vs=(), **QUICK)
    assert r.label == "cubic over n = 100–1e4"
    assert "50,50" not in r.label
    assert r.settings["sizes_made_by"] == "argument 0 (50×50) rescaled to n elements"


def test_named_variants_are_titled_by_what_each_calls():
    x = jnp.ones(8)
    r = jaxlab.bench(
        {"jit": (jax.jit(cubic), (x,)), "numpy": (lambda a: (a**3).sum(), (np.ones(8),))},
        **QUICK,
    )
    assert r.label == "jit: cubic(f32[8]), numpy: <lambda>(f64[8])"
