"""`explain`: each common JAX error becomes a short summary with the fix."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from jaxlab.core.errors import explain


def raised(f, *args):
    try:
        f(*args)
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def branchy(x):
    if x > 0:
        return x
    return -x


def test_tracer_bool_names_the_line_and_fix():
    e = explain(raised(jax.jit(branchy), 1.0), fn_name="branchy")
    assert "control flow" in e.summary and "`x`" in e.summary
    assert "if x > 0:" in e.where
    assert "jax.lax.cond" in e.fix


@pytest.mark.parametrize(
    ("call", "summary", "fix"),
    [
        (lambda: jax.grad(lambda x: x * 2)(jnp.ones(3)), "needs a scalar output", "jacrev"),
        (lambda: jax.grad(lambda x: x * 2)(2), "floating-point inputs", "2.0"),
        (lambda: jax.jacfwd(lambda x: x * 2)(2), "floating-point inputs", "2.0"),
        (lambda: jax.jit(lambda x, n: jnp.ones(n) * x)(1.0, 3), "concrete Python value", "static"),
        (lambda: jax.jit(lambda x: range(x))(3), "Python integer", "static"),
        (lambda: jnp.ones(3).__setitem__(0, 1.0), "immutable", ".at[i].set(v)"),
        (
            lambda: jax.jit(lambda a, b: a @ b)(jnp.ones((2, 3)), jnp.ones((4, 5))),
            "shape mismatch",
            "shapes",
        ),
        (
            lambda: jax.vmap(lambda a, b: a + b)(jnp.ones(3), jnp.ones(4)),
            "different sizes",
            "--in-axes",
        ),
        (
            lambda: jax.jit(lambda x: __import__("numpy").asarray(x))(jnp.ones(2)),
            "NumPy array",
            "jnp",
        ),
    ],
)
def test_known_errors(call, summary, fix):
    e = explain(raised(call))
    assert summary in e.summary
    assert fix in e.fix
    assert len(e.message().splitlines()) <= 3


def test_unknown_error_keeps_type_and_first_line():
    e = explain(RuntimeError("something odd\nsecond line"))
    assert e.summary == "RuntimeError: something odd"
    assert e.fix is None


def test_explicit_sharding_error_says_how_to_choose_the_output_sharding():
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = jax.make_mesh((4, 2), ("data", "model"))  # explicit axes by default
    x = jax.device_put(jnp.ones((8, 8)), NamedSharding(mesh, P("data", "model")))
    e = explain(raised(lambda: x @ x.T))
    assert e.summary.startswith("explicit sharding: Contracting dimensions are sharded")
    assert "out_sharding=" in e.fix
