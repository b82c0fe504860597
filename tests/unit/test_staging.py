"""The one staging path: arrays traced, every other leaf held static (as ``eqx.filter_jit``),
callables with their own staging staged their own way. No third-party library here: the
library corpus is tests/unit/test_library_corpus.py."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.base.pytrees import is_traced
from jaxlab.core import stages


class Layer(NamedTuple):
    w: jax.Array
    act: object  # a function: a leaf jax.jit cannot take
    name: str


def apply(layer: Layer, x: jax.Array, scale: float = 1.0) -> jax.Array:
    return scale * layer.act(x @ layer.w)


def _inputs(staged: stages.Staged) -> list[str]:
    """The types of the staged program's inputs."""
    return [v.aval.str_short(short_dtypes=True) for v in staged.traced.jaxpr.jaxpr.invars]


def _layer(act=jnp.tanh) -> Layer:
    return Layer(jnp.eye(3, dtype=jnp.float32), act, "first")


def test_is_traced_is_the_jit_rule():
    for leaf in (jnp.ones(2), np.ones(2), np.float32(1), jax.ShapeDtypeStruct((2,), jnp.float32)):
        assert is_traced(leaf)
    for leaf in (1, 2.5, True, 1j):
        assert is_traced(leaf)
        assert not is_traced(leaf, scalars=False)
    for leaf in (jnp.tanh, "relu", object(), [1].__class__, None.__class__):
        assert not is_traced(leaf)


def test_function_and_string_leaves_are_static_and_arrays_traced():
    x = jnp.arange(3.0)
    staged = stages.stage(apply, (_layer(), x), {})
    assert [leaf.path for leaf in staged.static_leaves] == ["layer.act", "layer.name"]
    # the traced program takes the two arrays and the Python scalar default is not an input
    assert _inputs(staged) == ["f32[3,3]", "f32[3]"]
    out = staged.run(steady_repeats=1)
    np.testing.assert_allclose(np.asarray(out), np.tanh(np.arange(3.0)), rtol=1e-6)


def test_python_scalars_are_traced_as_jax_jit_traces_them():
    staged = stages.stage(apply, (_layer(), jnp.ones(3)), {"scale": 2.0})
    assert _inputs(staged) == ["f32[3,3]", "f32[3]", "f32[]"]
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), 2 * np.tanh(1.0))


def test_user_arguments_are_left_alone():
    layer = _layer()
    staged = stages.stage(apply, (layer, jnp.ones(3)), {})
    assert staged.args[0] is layer and staged.args[0].act is jnp.tanh
    assert staged.dynamic_args()[0][0].act is None  # what the executable takes


def test_equal_static_leaves_share_a_compilation_and_fresh_unhashable_ones_do_not():
    x = jnp.ones(3)
    first = stages.prepare(apply, (_layer(), x))
    again = stages.prepare(apply, (_layer(), x))  # same function object, equal name
    assert again.jitted is first.jitted
    other = stages.prepare(apply, (_layer(jnp.sin), x))
    assert other.jitted is not first.jitted

    class Config:  # unhashable: held by identity
        __hash__ = None

        def __call__(self, v):
            return v + 1

    config = Config()
    one = stages.prepare(apply, (_layer(config), x))
    same = stages.prepare(apply, (_layer(config), x))
    fresh = stages.prepare(apply, (_layer(Config()), x))
    assert same.jitted is one.jitted and fresh.jitted is not one.jitted
    one.call()
    one.call()
    assert one.jitted._cache_size() == 1


def test_whole_static_arguments_and_leaves_together():
    def f(layer, x, n):
        for _ in range(n):
            x = layer.act(x)
        return x

    staged = stages.stage(f, (_layer(), jnp.ones(3), 3), {}, static_argnums=2)
    assert staged.static_argnums == (2,)
    assert [leaf.path for leaf in staged.static_leaves] == ["layer.act", "layer.name"]
    want = np.tanh(np.tanh(np.tanh(1.0)))
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), want, rtol=1e-6)


def test_a_jitted_function_keeps_its_options_with_static_leaves():
    jitted = jax.jit(lambda layer, x, n: layer.act(x) * n, static_argnums=2)
    staged = stages.stage(jitted, (_layer(), jnp.ones(3), 4), {})
    assert staged.static_argnums == (2,)
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), 4 * np.tanh(1.0))


def test_keyword_arguments_hold_static_leaves():
    staged = stages.stage(apply, (), {"layer": _layer(), "x": jnp.ones(3)})
    assert [leaf.path for leaf in staged.static_leaves] == ["layer.act", "layer.name"]
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), np.tanh(1.0))


def test_outputs_that_are_not_arrays_come_back_whole():
    def f(layer, x):
        return layer.act(x), layer.act, layer.name

    staged = stages.stage(f, (_layer(), jnp.ones(2)), {})
    value, act, name = staged.run(steady_repeats=0)
    assert act is jnp.tanh and name == "first"
    np.testing.assert_allclose(np.asarray(value), np.tanh(np.ones(2)))


class OwnJit:
    """A callable staging its calls itself (as eqx.filter_jit and nnx.jit do): Python scalars
    are compile-time constants here, unlike jax.jit's."""

    def __init__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)
        self.calls = 0

    def _jitted(self, scalars):
        return jax.jit(lambda *a: self.fn(*a, *scalars))

    def __call__(self, x, *scalars):
        self.calls += 1
        return self._jitted(scalars)(x)

    def lower(self, x, *scalars):
        return self._jitted(scalars).lower(x)


def test_a_callable_with_its_own_staging_is_staged_its_own_way():
    own = OwnJit(lambda x, n: x * n)
    assert stages.has_own_staging(own) and not stages.has_own_staging(jax.jit(abs))
    staged = stages.stage(own, (jnp.ones(3), 2.0), {})
    assert own.calls == 1  # its own call path ran, inside the staged program
    # the scalar reached it as a Python float, so it is a constant, not an input
    assert _inputs(staged) == ["f32[3]"]
    assert [leaf.path for leaf in staged.static_leaves] == ["n"]
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), [2.0, 2.0, 2.0])


def test_python_scalars_a_function_needs_as_values_are_held_static():
    """A flag or a count in an argument that the function branches or loops on: jax.jit's
    tracing fails (a concretization error), so the scalars are held static, as
    eqx.filter_jit holds them."""

    def f(x, options):
        for _ in range(options["repeat"]):
            x = jnp.sin(x) if options["sine"] else jnp.cos(x)
        return x * options["scale"]

    options = {"repeat": 2, "sine": True, "scale": 3.0}
    prepared = stages.prepare(f, (jnp.ones(2), options))
    staged = stages.stage_prepared(prepared)
    assert prepared.scalars_static
    assert _inputs(staged) == ["f32[2]"]
    assert [leaf.path for leaf in staged.static_leaves] == [
        "options['repeat']",
        "options['scale']",
        "options['sine']",
    ]
    np.testing.assert_allclose(
        np.asarray(staged.run(steady_repeats=0)), 3 * np.sin(np.sin(np.ones(2))), rtol=1e-6
    )
    # a function that can trace them keeps them traced
    plain = stages.prepare(lambda x, o: x * o["scale"], (jnp.ones(2), options))
    plain.trace()
    assert not plain.scalars_static


def test_a_number_passed_as_an_argument_stays_traced_when_the_function_branches_on_it():
    """jax.jit's lesson stays visible: a Python number passed as an argument itself is traced,
    so branching on it fails as under jax.jit (the fix is static_argnums), never silently
    compiled for that one value."""

    def f(x):
        return jnp.sin(x) if x > 0 else jnp.cos(x)

    prepared = stages.prepare(f, (1.0,))
    with pytest.raises(jax.errors.TracerBoolConversionError):
        prepared.trace()
    assert not prepared.scalars_static
    staged = stages.stage(f, (1.0,), {}, static_argnums=0)
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), np.sin(1.0), rtol=1e-6)


def test_unhashable_callables_are_staged():
    class Unhashable:
        __hash__ = None

        def __call__(self, x):
            return x + 1

    staged = stages.stage(Unhashable(), (jnp.ones(2),), {})
    np.testing.assert_allclose(np.asarray(staged.run(steady_repeats=0)), [2.0, 2.0])


def test_jaxlab_never_imports_the_libraries_users_stage_with():
    """Staging and summarising Equinox- or Flax-like objects is duck typing: jaxlab imports
    none of the libraries of the corpus unless the user's code did."""
    import subprocess
    import sys

    libraries = ["equinox", "flax", "haiku", "diffrax", "optimistix", "lineax", "jraph", "optax"]
    code = (
        "import sys, jax.numpy as jnp, jaxlab\n"
        "from jaxlab.core import stages\n"
        "import jaxlab.magics, jaxlab.api.platforms, jaxlab.api.profile, jaxlab.api.passes\n"
        "import jaxlab.api.compile_profile, jaxlab.benchmarking.runner, jaxlab.views\n"
        "stages.stage(lambda x, f: f(x), (jnp.ones(2), jnp.tanh), {}).run()\n"
        f"print(sorted(m for m in {libraries!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_flat_args_feed_the_traced_jaxpr():
    """What an interpreter of the call's jaxpr (the numerics explorer) gives it: the traced
    leaves in the jaxpr's input order, static leaves and static arguments left out."""

    def f(layer, x, n, *, shift):
        return layer.act(x @ layer.w) * n + shift

    prepared = stages.prepare(f, (_layer(), jnp.arange(3.0), 2), {"shift": 1.5}, static_argnums=2)
    closed = prepared.trace().jaxpr
    flat = prepared.flat_args()
    assert [np.shape(v) for v in flat] == [(3, 3), (3,), ()]
    (out,) = jax.core.eval_jaxpr(closed.jaxpr, closed.consts, *flat)
    np.testing.assert_allclose(np.asarray(out), 2 * np.tanh(np.arange(3.0)) + 1.5, rtol=1e-6)
