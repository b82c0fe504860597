"""Outputs that only move, repeat or negate their input's elements (reshape, transpose,
broadcast_in_dim, neg, ...), pass them through (stop_gradient, optimization_barrier, a
rounding to the dtype's own format) or are an inlined call's result measured inside it are not
measured on the device: their rows follow from another record of the same execution. They must
equal NumPy on the host and the rows a measured run gives, in loops too, and never change the
origin."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.core import numerics as core
from tests.unit.test_numerics_stats import F32_VALUES, matches_reference

VALUES = F32_VALUES[:18]  # NaN, ±Inf, zeros, subnormals (3 x 6)


def moved(x):
    y = jnp.flip(x)  # measured: an argument has no record of the program's own
    a = y.reshape(3, 6)
    b = a.T
    c = jnp.broadcast_to(b[None], (4, 6, 3))
    return c, jnp.expand_dims(b, 0).squeeze(0)


def measured_records(monkeypatch, fn, x, derive: bool) -> tuple[int, list]:
    if not derive:
        monkeypatch.setattr(core, "_derive", lambda *args: False)
    closed = jax.make_jaxpr(fn)(x)
    inst = core.instrument(closed, [x])
    rows, _ = core.decode_rows(inst)
    monkeypatch.undo()
    return sum(len(keys) for keys in inst.layout.values()), rows


def test_moved_values_match_numpy_without_being_measured(monkeypatch):
    x = jnp.asarray(VALUES)
    n = jaxlab.numerics(moved, x)
    rows = {r.primitive: r for r in n.equation_stats}  # the last of each primitive
    flipped = np.flip(VALUES)
    matches_reference(rows["rev"], flipped)
    matches_reference(rows["reshape"], flipped.reshape(3, 6))
    matches_reference(rows["transpose"], flipped.reshape(3, 6).T)
    broadcast = np.broadcast_to(flipped.reshape(3, 6).T[None], (4, 6, 3))
    (b,) = [r for r in n.equation_stats if r.shape == (4, 6, 3)]
    matches_reference(b, broadcast)
    assert (b.count, b.shape, b.nan, b.posinf) == (72, (4, 6, 3), 8, 4)
    assert rows["squeeze"].shape == (6, 3) and rows["squeeze"].count == 18
    # the NaN is born in the argument, not in the equations that move it
    assert n.origin.argument == "x" and n.origin.row is None

    derived_n, derived = measured_records(monkeypatch, moved, x, derive=True)
    plain_n, plain = measured_records(monkeypatch, moved, x, derive=False)
    # measured: the flip (inside its call); derived: the call's result and the other six
    assert derived_n == 1 and plain_n == len(plain) == len(derived) == 8
    same_rows(derived, plain)


def same_rows(derived: list, plain: list) -> None:
    """Every field, equation, line and phase as a measured run gives; the mean up to the
    rounding of the device's sum (the derived one multiplies the input's sum; a measured
    float32 sum of 4 x 3e38 overflows to Inf where the derived mean stays NumPy's)."""
    assert [dataclasses.replace(r, mean=None) for r in derived] == [
        dataclasses.replace(r, mean=None) for r in plain
    ]
    for d, p in zip(derived, plain, strict=True):
        if p.mean is None:
            assert d.mean is None
        elif math.isfinite(p.mean):
            assert d.mean == pytest.approx(p.mean, rel=1e-6)


def test_moved_values_inside_a_loop_follow_each_iteration(monkeypatch):
    def f(x):
        def body(i, a):
            b = (a * 2.0).reshape(2, 3).T.reshape(6)
            return jnp.where(i == 2, b.at[0].set(jnp.nan), b)

        return jax.lax.fori_loop(0, 4, body, x)

    x = jnp.arange(6.0) - 2.0
    derived_n, derived = measured_records(monkeypatch, f, x, derive=True)
    plain_n, plain = measured_records(monkeypatch, f, x, derive=False)
    assert derived_n < plain_n
    same_rows(derived, plain)
    transpose = next(r for r in derived if r.primitive == "transpose")
    assert (transpose.executions, transpose.count, transpose.loops) == (4, 24, 1)


@pytest.mark.parametrize("primitive", ["reshape", "transpose"])
def test_a_moved_nan_is_not_born_where_it_is_moved(primitive):
    def f(x):
        y = jnp.log(x)  # NaN born here
        return y.reshape(2, 2) if primitive == "reshape" else y.reshape(2, 2).T

    n = jaxlab.numerics(f, jnp.array([1.0, -1.0, 2.0, 3.0]))
    row = next(r for r in n.equation_stats if r.primitive == primitive)
    assert row.nan == 1
    assert n.origin.primitive == "log"


def negated_and_passed(x):
    y = jnp.flip(x)  # measured (inside its call)
    a = -y
    b = jax.lax.stop_gradient(a)
    c = jax.lax.reduce_precision(b, *precision_of(x.dtype))  # the dtype's own format
    d, e = jax.lax.optimization_barrier((c, y))

    @jax.jit
    def inner(u, v):
        once = -u
        return -u.reshape(3, 6), v, -once

    return inner(d, x), e


def of(rows: list, primitive: str) -> list:
    return [r for r in rows if r.primitive == primitive]


def precision_of(dtype) -> tuple[int, int]:
    info = jnp.finfo(dtype)
    return int(info.nexp), int(info.nmant)


def bits(value: float, dtype) -> int:
    width = np.dtype(dtype).itemsize * 8
    return int(np.asarray(value, np.float64).astype(dtype).view(f"uint{width}"))


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_negated_and_passed_values_match_numpy_without_being_measured(monkeypatch, dtype):
    values = F32_VALUES
    if dtype != "float32":  # the dtype's own extremes, subnormals, ±Inf and NaN
        info = jnp.finfo(dtype)
        big, sub = min(float(info.max), 65504.0), float(info.smallest_subnormal)  # sums exact
        values = [0.0, -0.0, 1.5, -2.25, big, -big, 0.25, 500.0, 7.0, -0.0, 5.0, 2.5]
        values = np.array([*values, sub, -3 * sub, np.nan, np.inf, -np.inf, 1.0])
    values = values.astype(jnp.dtype(dtype))
    with jax.enable_x64(dtype == "float64"):
        x = jnp.asarray(values)
        n = jaxlab.numerics(negated_and_passed, x)
        derived_n, derived = measured_records(monkeypatch, negated_and_passed, x, derive=True)
        plain_n, plain = measured_records(monkeypatch, negated_and_passed, x, derive=False)
    flipped = np.flip(values)
    negated = -flipped  # exact in every float dtype
    rows = n.equation_stats
    neg_outer, neg_reshaped, neg_once, neg_twice = of(rows, "neg")
    for row in (neg_outer, *of(rows, "stop_gradient"), *of(rows, "reduce_precision"), neg_twice):
        matches_reference(row, negated)
    matches_reference(of(rows, "optimization_barrier")[0], negated)
    matches_reference(of(rows, "optimization_barrier")[1], flipped)
    matches_reference(neg_reshaped, flipped.reshape(3, 6))  # -(-y) reshaped
    matches_reference(neg_once, flipped)
    # the extremes bit for bit (-0.0 against 0.0, subnormals XLA:CPU would flush in arithmetic)
    finite = negated[np.isfinite(negated.astype(np.float64))]
    assert bits(neg_outer.min, dtype) == bits(finite.min(), dtype)
    assert bits(neg_outer.max, dtype) == bits(finite.max(), dtype)
    assert bits(neg_outer.absmin_nonzero, dtype) == bits(np.abs(finite[finite != 0]).min(), dtype)
    assert (neg_outer.posinf, neg_outer.neginf) == (1, 1) and neg_outer.subnormal_frac > 0
    # measured: the flip only; the call's results follow from their records too, except the
    # argument it passes through (no record of the program's own)
    assert (derived_n, plain_n, len(derived)) == (2, len(plain), 14)
    same_rows(derived, plain)
    assert n.origin.argument == "x" and n.origin.row is None


def test_call_results_and_negations_inside_a_loop_follow_each_iteration(monkeypatch):
    @jax.jit
    def scaled(a):
        return a * 2.0

    def f(x):
        def body(i, a):
            b = -scaled(a)
            b = jnp.where(i == 2, b.at[0].set(-jnp.inf), b)
            return jax.lax.stop_gradient(-b)

        return jax.lax.fori_loop(0, 4, body, x)

    x = jnp.arange(6.0) - 2.0
    derived_n, derived = measured_records(monkeypatch, f, x, derive=True)
    plain_n, plain = measured_records(monkeypatch, f, x, derive=False)
    # derived: both calls' results (scaled, where), both negations, the stop_gradient
    assert derived_n == plain_n - 5
    same_rows(derived, plain)
    first = next(r for r in derived if r.primitive == "neg")
    assert (first.executions, first.count, first.loops) == (4, 24, 1)
    last = next(r for r in derived if r.primitive == "stop_gradient")
    # +Inf from iteration 2 on (the -Inf set there, negated; carried into iteration 3)
    assert (last.posinf, last.neginf, last.first_nonfinite, last.first_kind) == (
        2,
        0,
        (2,),
        "+Inf",
    )


def test_a_nan_born_in_a_call_stays_born_there():
    @jax.jit
    def inner(x):
        return jnp.log(x)  # NaN and -Inf born here

    def f(x):
        return jax.lax.stop_gradient(-inner(x)) * 2.0

    n = jaxlab.numerics(f, jnp.array([1.0, -1.0, 0.0, 3.0]))
    call, neg, stop = (
        next(r for r in n.equation_stats if r.primitive == p)
        for p in ("jit", "neg", "stop_gradient")
    )
    assert (call.nan, call.neginf, call.posinf) == (1, 1, 0)
    assert (neg.nan, neg.neginf, neg.posinf, stop.posinf) == (1, 0, 1, 1)
    assert neg.first_kind == "NaN"
    assert n.origin.primitive == "log"


def test_a_repeated_constant_is_measured_once_per_execution(monkeypatch):
    def f(x):
        a = jnp.full((3, 6), 2.5, jnp.float32)
        b = jnp.full((18,), 2.5, jnp.float32)  # the same constant: derived
        c = jnp.full((2, 18), 2.5, jnp.float32)  # twice its elements: derived
        d = jnp.full((18,), -jnp.inf, jnp.float32)  # another constant: measured
        e = jnp.full((18,), -jnp.inf, jnp.float32)
        tiny = jnp.full((18,), 2.0**-140, jnp.float32)  # a subnormal: measured
        again = jnp.full((18,), 2.0**-140, jnp.float32)

        def body(i, y):  # measured once per iteration, derived once per iteration
            return y * jnp.full((18,), 2.5, jnp.float32) + jnp.full((18,), 2.5, jnp.float32)

        g = jax.lax.fori_loop(0, 3, body, x)
        return x.reshape(3, 6) * a, x * b, c, jnp.maximum(x, d) + e, tiny, again, g

    x = jnp.arange(18.0, dtype=jnp.float32)
    derived_n, derived = measured_records(monkeypatch, f, x, derive=True)
    plain_n, plain = measured_records(monkeypatch, f, x, derive=False)
    assert plain_n - derived_n == 5
    same_rows(derived, plain)
    constants = [r for r in derived if r.primitive == "broadcast_in_dim"]
    assert [(r.shape, r.count, r.executions) for r in constants] == [
        ((3, 6), 18, 1),
        ((18,), 18, 1),
        ((2, 18), 36, 1),
        ((18,), 18, 1),
        ((18,), 18, 1),
        ((18,), 18, 1),
        ((18,), 18, 1),
        ((18,), 54, 3),
        ((18,), 54, 3),
    ]
    matches_reference(constants[2], np.full((2, 18), 2.5, np.float32))
    assert (constants[4].neginf, constants[4].count, constants[4].first_kind) == (18, 18, "-Inf")
    assert constants[6].subnormal_frac == 1.0
    assert bits(constants[6].absmin_nonzero, "float32") == bits(2.0**-140, "float32")
