"""`jaxlab.check_kernel`: kernels run in interpret mode on CPU against a plain-JAX reference,
dtype-aware, the first wrong block named by grid index."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.api.kernels import tolerance
from tests import pallas_kernels as pk


def data(dtype=jnp.float32):
    key = jax.random.key(0)
    x = jax.random.normal(key, (512, 256), jnp.float32).astype(dtype)
    y = jax.random.normal(jax.random.key(1), (256, 512), jnp.float32).astype(dtype)
    return x, y


def reference(x, y):
    return jnp.dot(x, y, preferred_element_type=jnp.float32).astype(x.dtype)


def test_a_right_kernel_passes():
    check = jaxlab.check_kernel(pk.tiled_matmul, reference, *data())
    assert check.ok, repr(check)
    assert check.outputs[0].mismatches == 0 and check.outputs[0].total == 512 * 512


def test_a_wrong_kernel_names_the_first_wrong_block():
    def wrong(x, y):
        return pk.tiled_matmul(x, y, kernel=pk.wrong_matmul_kernel)

    check = jaxlab.check_kernel(wrong, reference, *data())
    assert not check.ok
    out = check.first_failure
    assert out.first_program == (2, 1) and out.first_block == (2, 1)
    assert out.block_elements == ((256, 384), (128, 256))
    assert out.mismatches == out.block_mismatches == 128 * 128
    assert out.first_index == (256, 128)
    assert "program (2, 1) writes block (2, 1)" in repr(check)
    assert "outputs differ" in check._repr_html_()
    assert check.to_pandas().loc[0, "first_program"] == (2, 1)


def test_tolerance_follows_the_dtypes():
    assert tolerance(jnp.float32) == (1e-5, 1e-5)
    assert tolerance(jnp.bfloat16, jnp.float32)[0] == pytest.approx(1.6e-2)
    assert tolerance(np.int32) == (0.0, 0.0)
    # bf16 kernel vs f32 reference: rounding to bf16 is within the bf16 tolerance
    x, y = data(jnp.bfloat16)
    check = jaxlab.check_kernel(
        pk.tiled_matmul, lambda a, b: jnp.dot(a, b, preferred_element_type=jnp.float32), x, y
    )
    assert check.outputs[0].rtol == pytest.approx(1.6e-2)
    # and an explicit tolerance overrides it
    strict = jaxlab.check_kernel(
        pk.tiled_matmul,
        lambda a, b: jnp.dot(a, b, preferred_element_type=jnp.float32),
        x, y, rtol=0.0, atol=0.0,
    )  # fmt: skip
    assert strict.outputs[0].rtol == 0.0
    assert strict.outputs[0].mismatches >= check.outputs[0].mismatches


def test_integers_compare_exactly():
    x = jnp.arange(8 * 128, dtype=jnp.int32).reshape(8, 128)
    check = jaxlab.check_kernel(pk.add, lambda a, b: a + b + (a == 5), x, x)
    assert not check.ok and check.outputs[0].mismatches == 1
    assert check.outputs[0].first_index == (0, 5) and check.outputs[0].first_program == ()


def test_bad_input():
    x, y = data()
    with pytest.raises(TypeError, match="kernel_fn must be a function"):
        jaxlab.check_kernel(3, reference, x, y)
    with pytest.raises(TypeError, match="ref_fn must be a function"):
        jaxlab.check_kernel(pk.tiled_matmul, "dot", x, y)
    shape = jaxlab.check_kernel(pk.tiled_matmul, lambda a, b: (a @ b)[:8], x, y)
    assert not shape.ok and "shape" in shape.outputs[0].problem
    tree = jaxlab.check_kernel(pk.tiled_matmul, lambda a, b: (a @ b, a), x, y)
    assert not tree.ok and "the reference returns" in tree.outputs[0].problem


def test_static_arguments_of_the_kernel_call_are_held_static():
    def repeated(x, y, n):  # `n` sizes the output: it must be a Python int when traced
        return jnp.concatenate([pk.add(x, y)] * n)

    def ref(x, y, n):
        return jnp.concatenate([x + y] * n)

    x = jnp.arange(16.0).reshape(4, 4)
    check = jaxlab.check_kernel(repeated, ref, x, x, 3, static_argnums=2)
    assert check.ok and check.outputs[0].total == 3 * 16
    check = jaxlab.check_kernel(repeated, ref, x, x, static_argnames="n", kwargs={"n": 2})
    assert check.ok and check.outputs[0].total == 2 * 16
