"""Programs the compile-explorer tests compile (in a file of their own, so that their source
lines are known)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def unrolled(x, w):
    for i in range(100):
        x = jnp.tanh(x @ w) + i
    return x


def rolled(x, w):
    def body(i, x):
        return jnp.tanh(x @ w) + i

    return jax.lax.fori_loop(0, 100, body, x)


def seed(x):
    return x + x * x + x * x * x


def other(y):
    return jnp.sin(y)


BIG = jnp.ones((1024, 512))


def closes_over_big(x):
    return x @ BIG


def fails_to_trace(x):
    if x > 0:  # a traced value in Python control flow
        return x
    return -x


def scaled(x, n):
    return x * n
