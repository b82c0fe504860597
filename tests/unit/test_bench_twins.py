"""NumPy and PyTorch twins of JAX functions: when they can be made, and the message when not."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.benchmarking.twins import TwinError, make_twin

SCALE = jnp.arange(3.0)


def cubic(x):
    return x + x * x + x * x * x


def uses_jnp(x):
    return jnp.sum(jax.numpy.exp(x)) + jnp.linalg.norm(x)


def helper(x):
    return jnp.tanh(x) * SCALE


def calls_helper(x):
    return helper(x) + 1


def uses_lax(x):
    return jax.lax.fori_loop(0, 3, lambda i, v: v + 1, x)


def uses_at(x):
    y = x * 2
    return y.at[0].set(1.0)


def test_operator_only_function_is_its_own_twin():
    twin = make_twin(cubic, "numpy")
    assert twin.fn is cubic
    assert "only operators" in twin.how
    assert isinstance(twin.fn(np.ones(3)), np.ndarray)


def test_jitted_function_twins_its_python_function():
    assert make_twin(jax.jit(cubic), "numpy").fn is cubic


def test_jnp_calls_are_rebound_to_numpy():
    twin = make_twin(uses_jnp, "numpy")
    assert twin.fn is not uses_jnp
    assert "jnp.sum" in twin.how and "jax.numpy.exp" in twin.how
    out = twin.fn(np.arange(3.0))
    assert isinstance(out, np.floating)
    np.testing.assert_allclose(out, float(uses_jnp(jnp.arange(3.0))), rtol=1e-5)
    # the original is untouched
    assert isinstance(uses_jnp(jnp.ones(3)), jax.Array)


def test_helpers_and_array_constants_are_twinned_too():
    twin = make_twin(calls_helper, "numpy")
    out = twin.fn(np.ones(3))
    assert type(out) is np.ndarray
    assert isinstance(calls_helper(jnp.ones(3)), jax.Array)


def test_closures_over_jnp_are_rebound():
    def make():
        import jax.numpy as jn

        def inner(x):
            return jn.cos(x)

        return inner

    assert type(make_twin(make(), "numpy").fn(np.ones(2))) is np.ndarray


def test_recursive_function_calls_its_twin():
    def rec(x, n):
        return x if n == 0 else rec(jnp.sin(x), n - 1)

    globals()["rec"] = rec
    try:
        assert type(make_twin(rec, "numpy").fn(np.ones(2), 3)) is np.ndarray
    finally:
        del globals()["rec"]


def test_jnp_function_maps_to_its_namesake():
    twin = make_twin(jnp.sin, "numpy")
    assert twin.fn is np.sin and twin.how == "numpy.sin"


def test_partial_keeps_its_arguments():
    twin = make_twin(functools.partial(uses_jnp), "numpy")
    assert isinstance(twin.fn(np.ones(3)), np.floating)


@pytest.mark.parametrize(
    ("fn", "named"),
    [(uses_lax, "jax.lax.fori_loop"), (uses_at, ".at[...]")],
    ids=["lax", "at"],
)
def test_unsupported_call_is_named_with_its_line(fn, named):
    with pytest.raises(TwinError) as info:
        make_twin(fn, "numpy")
    message = str(info.value)
    assert f"`{named}`" in message
    assert "(line " in message
    assert "--vs numpy:g" in message


def test_missing_namesake_is_named():
    with pytest.raises(TwinError, match=r"PyTorch has no `torch\.fill_diagonal`"):
        make_twin(lambda x: jnp.fill_diagonal(x, 0, inplace=False), "torch")


def test_callable_objects_need_an_explicit_twin():
    class Model:
        def __call__(self, x):
            return x

    with pytest.raises(TwinError, match="only Python functions"):
        make_twin(Model(), "numpy")


def test_torch_twin_runs_on_tensors():
    torch = pytest.importorskip("torch")
    twin = make_twin(uses_jnp, "torch")
    assert isinstance(twin.fn(torch.ones(3)), torch.Tensor)
