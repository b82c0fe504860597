"""Pytree summaries: what every signature jaxlab shows is made of."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.base.pytrees import argument_names, call_summary, summarize

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import transformer


def test_48_layer_parameter_list_reads_in_one_line():
    params, x = transformer.shapes(48)
    s = call_summary(transformer.step, (params, x), {})
    assert s.text == (
        "params: list[48] of dict{wq,wk,wv,wo: f32[64,64], w1: f32[64,256], w2: f32[256,64]}, "
        "x: f32[128,64]"
    )
    assert len(s.leaves) == 289 and s.arrays == 289
    assert s.nbytes == 48 * (4 * 64 * 64 + 2 * 64 * 256) * 4 + 128 * 64 * 4
    assert s.totals.startswith("289 arrays, ")
    df = s.to_pandas()
    assert list(df.columns) == ["argument", "path", "type", "bytes"]
    assert len(df) == 289 and df["bytes"].sum() == s.nbytes
    assert "params[47]['wq']" in set(df["path"])


class Adam(NamedTuple):
    count: jax.Array
    mu: dict


class State:
    """A custom node registered as a pytree (like Flax's ``nnx.State``)."""

    def __init__(self, **values):
        self.values = values


jax.tree_util.register_pytree_node(
    State,
    lambda s: (list(s.values.values()), list(s.values)),
    lambda keys, vals: State(**dict(zip(keys, vals, strict=True))),
)


def test_containers():
    assert summarize(jnp.zeros((3, 4))) == "f32[3,4]"
    assert summarize(np.zeros(3)) == "f64[3]"  # as given, not as JAX would convert it
    assert summarize(jax.ShapeDtypeStruct((2,), jnp.int32)) == "i32[2]"
    assert summarize((jnp.zeros(2), 3, None)) == "(f32[2], 3, None)"
    assert summarize([jnp.zeros(2)] * 5) == "list[5] of f32[2]"
    assert summarize({"w": jnp.zeros(2), "b": jnp.zeros(2)}) == "dict{w,b: f32[2]}"
    assert summarize(Adam(jnp.zeros((), jnp.int32), {"w": jnp.zeros(2)})) == (
        "Adam(count=i32[], mu=dict{w: f32[2]})"
    )


def test_custom_nodes_and_long_containers_collapse_to_counts():
    state = State(a=jnp.zeros((32, 32)), b=jnp.zeros(32), c=jnp.zeros(32), d=jnp.zeros(3))
    assert summarize(state) == "State(4 arrays, 4.26 KiB)"
    mixed = [jnp.zeros(i + 1) for i in range(40)]
    assert summarize(mixed) == "list[40](40 arrays, 3.2 KiB)"


@pytest.mark.parametrize(
    ("fn", "n", "names"),
    [
        (lambda a, b, *rest: 0, 4, ["a", "b", "rest[0]", "rest[1]"]),
        (lambda a: 0, 2, ["a", ""]),
        (len, 1, ["obj"]),
        (None, 2, ["", ""]),
    ],
)
def test_argument_names(fn, n, names):
    assert argument_names(fn, n) == names


def test_keyword_arguments_and_unnamed_arguments():
    s = call_summary(None, (jnp.zeros(2),), {"scale": 2.0})
    assert s.text == "f32[2], scale: 2.0"
    assert [leaf.path for leaf in s.leaves] == ["", "scale"]


class BadRepr:
    def __repr__(self):
        raise RuntimeError("no repr")


class FakeShape:
    shape = 3  # not a sequence
    dtype = "float32"


def test_odd_values_never_raise():
    # objects are held static when a call is staged, and say so
    assert summarize(BadRepr()) == "static <BadRepr>"
    assert summarize(FakeShape()).startswith("static <")  # not taken for an array
    assert summarize([]) == "[]" and summarize({}) == "{}" and summarize(()) == "()"
    s = call_summary(lambda *a, **k: 0, (BadRepr(), None), {"k": [1, 2]})
    assert s.text == "a[0]: static <BadRepr>, a[1]: None, k: [1, 2]"
    assert s.arrays == 0 and s.nbytes == 0


def test_static_leaves_read_as_static():
    """Functions, strings and objects in an argument are held static when the call is
    staged (as eqx.filter_jit does); the signature says which."""

    @jax.tree_util.register_dataclass
    @dataclasses.dataclass
    class Dense:
        w: jax.Array
        act: object
        name: str

    layer = Dense(jnp.ones((4, 4), jnp.float32), jnp.tanh, "dense")
    assert summarize(layer) == "Dense(1 array, 64 B; static act, name)"
    assert summarize({"w": jnp.ones(2), "act": jnp.tanh}) == "dict{w: f32[2], act: static tanh}"
    s = call_summary(lambda layer, mode, n: 0, (layer, "fast", 3))
    assert s.text == ("layer: Dense(1 array, 64 B; static act, name), mode: static 'fast', n: 3")
    many = Dense(jnp.ones(1), [jnp.tanh] * 4, "many")
    assert summarize(many) == "Dense(1 array, 4 B; static act[0], act[1], act[2] +2)"
    unnamed = State(w=jnp.ones(1), act=jnp.tanh, name="dense")  # no key paths
    assert summarize(unnamed) == "State(1 array, 4 B; 2 static)"
    leaves = {leaf.path: leaf.text for leaf in s.leaves}
    assert leaves["layer.act"] == "static tanh" and leaves["mode"] == "static 'fast'"
