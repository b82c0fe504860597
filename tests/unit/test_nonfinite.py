"""Counting NaN and ±Inf in a result on its device, checked against NumPy on the host."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

from jaxlab.core.nonfinite import NonFinite, nonfinite

RNG = np.random.default_rng(0)


def _host(x: np.ndarray) -> tuple[int, int, int]:
    x = np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)
    parts = [x.real, x.imag] if np.iscomplexobj(x) else [x]
    return (
        sum(int(np.isnan(p).sum()) for p in parts),
        sum(int((p == np.inf).sum()) for p in parts),
        sum(int((p == -np.inf).sum()) for p in parts),
    )


def _mixed(n: int) -> np.ndarray:
    x = RNG.standard_normal(n).astype(np.float32)
    x[RNG.choice(n, 7, replace=False)] = np.nan
    x[RNG.choice(n, 3, replace=False)] = np.inf
    x[RNG.choice(n, 2, replace=False)] = -np.inf
    x[:4] = [0.0, -0.0, np.float32(1e-45), np.float32(-1e-40)]  # zeros and subnormals
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float16, ml_dtypes.bfloat16, np.float64])
def test_counts_match_numpy_on_the_host(dtype):
    host = _mixed(1000).astype(dtype)
    found = nonfinite(jnp.asarray(host))
    assert found is not None
    assert (found.nan, found.posinf, found.neginf) == _host(jnp.asarray(host))
    assert found.leaves == ("",)


def test_finite_values_zeros_subnormals_and_integers_are_clean():
    tiny = np.array([0.0, -0.0, 1e-45, -1e-40, 3.4e38], np.float32)
    assert nonfinite(jnp.asarray(tiny)) is None
    assert nonfinite(tiny) is None
    assert nonfinite({"i": jnp.arange(5), "b": jnp.array([True]), "n": 3, "s": "nan"}) is None
    assert nonfinite(jnp.zeros((0,), jnp.float32)) is None


def test_leaves_are_named_by_their_path():
    tree = {"w": jnp.array([1.0, np.nan]), "b": jnp.ones(3), "layers": [jnp.array([-np.inf])]}
    found = nonfinite(tree)
    assert found == NonFinite(nan=1, posinf=0, neginf=1, leaves=("['layers'][0]", "['w']"))
    assert found.counts_text() == "1 NaN and 1 -Inf"
    assert found.where_text() == " in ['layers'][0], ['w']"


def test_numpy_python_and_complex_values():
    assert nonfinite(float("nan")) == NonFinite(1, 0, 0, ("",))
    assert nonfinite(np.array([np.inf, 1.0])) == NonFinite(0, 1, 0, ("",))
    z = jnp.array([1 + 1j, complex(np.nan, np.inf), complex(-np.inf, 0)], jnp.complex64)
    found = nonfinite(z)
    assert (found.nan, found.posinf, found.neginf) == _host(np.asarray(z))


def test_arrays_on_different_devices_are_counted_one_by_one():
    devices = jax.devices()
    a = jax.device_put(jnp.array([np.nan, 1.0]), devices[0])
    b = jax.device_put(jnp.array([np.inf]), devices[-1])
    found = nonfinite((a, b))
    assert (found.nan, found.posinf, found.leaves) == (1, 1, ("[0]", "[1]"))


def test_text_of_all_three_kinds_and_many_leaves():
    found = NonFinite(3, 1, 2, tuple(f"[{i}]" for i in range(5)))
    assert found.counts_text() == "3 NaN, 1 +Inf and 2 -Inf"
    assert found.where_text() == " in [0], [1], [2] and 2 more"
