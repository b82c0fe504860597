"""Outputs that only move or repeat their input's elements (reshape, transpose,
broadcast_in_dim, ...) are not measured on the device: their rows follow from their input's
record. They must equal NumPy on the host and the rows a measured run gives, in loops too."""

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
        monkeypatch.setattr(core, "DERIVED", set())
        monkeypatch.setattr(core, "DERIVED_REPEATING", set())
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
    # measured: the flip (inside its call) and the call's result; derived: the other six
    assert derived_n == 2 and plain_n == len(plain) == len(derived) == 8
    same_rows(derived, plain)


def same_rows(derived: list, plain: list) -> None:
    """Every field, equation, line and phase as a measured run gives; the mean up to the
    rounding of the device's sum (the derived one multiplies the input's sum; a measured
    float32 sum of 4 x 3e38 overflows to Inf where the derived mean stays NumPy's)."""
    assert [dataclasses.replace(r, mean=None) for r in derived] == [
        dataclasses.replace(r, mean=None) for r in plain
    ]
    for d, p in zip(derived, plain, strict=True):
        if p.mean is None or math.isfinite(p.mean):
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
