"""Pallas kernels the tests inspect, lower for TPU/GPU and check (importable by kernels and
subprocesses: ``from tests.pallas_kernels import ...``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

BLOCK = 128
GRID = (4, 4)


def add_kernel(x_ref, y_ref, o_ref):
    o_ref[...] = x_ref[...] + y_ref[...]


def add(x, y):
    return pl.pallas_call(add_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype))(x, y)


def add_interpreted(x, y):
    return pl.pallas_call(
        add_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype), interpret=True
    )(x, y)


def matmul_kernel(x_ref, y_ref, o_ref):
    o_ref[...] = jnp.dot(x_ref[...], y_ref[...], preferred_element_type=jnp.float32).astype(
        o_ref.dtype
    )


def wrong_matmul_kernel(x_ref, y_ref, o_ref):
    # deliberately wrong in one block: program (2, 1) adds one
    i, j = pl.program_id(0), pl.program_id(1)
    r = jnp.dot(x_ref[...], y_ref[...], preferred_element_type=jnp.float32)
    o_ref[...] = jnp.where((i == 2) & (j == 1), r + 1, r).astype(o_ref.dtype)


def tiled_matmul(x, y, kernel=matmul_kernel, name=None, out_map=None, block=BLOCK):
    """x[M, K] @ y[K, N] with grid (M/block, N/block): program (i, j) reads row block i of x
    and column block j of y, and writes block (i, j)."""
    return pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct((x.shape[0], y.shape[1]), x.dtype),
        grid=(x.shape[0] // block, y.shape[1] // block),
        in_specs=[
            pl.BlockSpec((block, x.shape[1]), lambda i, j: (i, 0)),
            pl.BlockSpec((y.shape[0], block), lambda i, j: (0, j)),
        ],
        out_specs=pl.BlockSpec((block, block), out_map or (lambda i, j: (i, j))),
        name=name,
    )(x, y)


def square_tiled_matmul(x, y):
    """Grid (4, 4) of 128×128 blocks, the K loop inside: x block (i, k), y block (k, j)."""

    def kernel(x_ref, y_ref, o_ref):
        @pl.when(pl.program_id(2) == 0)
        def _():
            o_ref[...] = jnp.zeros_like(o_ref)

        o_ref[...] += jnp.dot(x_ref[...], y_ref[...], preferred_element_type=jnp.float32)

    n = x.shape[0] // BLOCK
    return pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct((x.shape[0], y.shape[1]), jnp.float32),
        grid=(n, n, x.shape[1] // BLOCK),
        in_specs=[
            pl.BlockSpec((BLOCK, BLOCK), lambda i, j, k: (i, k)),
            pl.BlockSpec((BLOCK, BLOCK), lambda i, j, k: (k, j)),
        ],
        out_specs=pl.BlockSpec((BLOCK, BLOCK), lambda i, j, k: (i, j)),
    )(x, y)


def out_of_bounds(x, y):
    """The output's index map points one block past the end for the last column."""
    return tiled_matmul(x, y, out_map=lambda i, j: (i, j + 1))


def exp_kernel(x_ref, o_ref):
    o_ref[...] = jnp.exp(x_ref[...]) * 2.0


def scaled_exp(x):
    return pl.pallas_call(
        exp_kernel,
        out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype),
        grid=(x.shape[0] // 8,),
        in_specs=[pl.BlockSpec((8, x.shape[1]), lambda i: (i, 0))],
        out_specs=pl.BlockSpec((8, x.shape[1]), lambda i: (i, 0)),
    )(x)


def roll_kernel(x_ref, o_ref):
    from jax.experimental.pallas import tpu as pltpu

    o_ref[...] = pltpu.roll(x_ref[...], 1, 0)


def tpu_only(x):
    """A kernel using a TPU-only primitive: lowers for TPU, fails for CUDA and ROCm."""
    return pl.pallas_call(roll_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype))(x)
