"""Compile advice points only at the user's code and only on evidence: training steps of real
libraries with no Python loop get no unrolled-loop advice however they are called, and a real
unrolled loop still does."""

from __future__ import annotations

import inspect as pyinspect
import linecache

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.ir.sources import enclosing_loop, inside_call, is_own, is_users
from tests.unit import _compile_programs as progs


def line_of(fn, text: str) -> int:
    lines, start = pyinspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def profiled_in_a_loop(fn, *args):
    """The profile of `fn(*args)` asked for from inside a Python loop (a training loop, or
    IPython's own code around a cell): a loop around the call is not a loop of `fn`'s."""
    for _ in range(1):
        profile = jaxlab.compile_profile(fn, *args)
    return profile


def assert_no_loop_advice_and_only_user_lines(profile):
    loops = [str(a) for a in profile.advice if a.kind == "unrolled-loop"]
    assert not loops, loops
    for advice in profile.advice:
        assert not advice.file or is_users(advice.file), advice


def _many_leaves_step(params, x):
    """Twelve parameter arrays updated by one tree map: twelve copies of each update op made
    at one source position, and no loop anywhere in this function."""
    grads = jax.grad(lambda p: sum(jnp.sum(jnp.tanh(x * w)) for w in p.values()))(params)
    return jax.tree.map(lambda p, g: p - 0.1 * g, params, grads)


def test_tree_map_over_many_leaves_is_no_unrolled_loop():
    params = {f"w{i}": jnp.full((4,), float(i)) for i in range(12)}
    profile = profiled_in_a_loop(_many_leaves_step, params, jnp.ones(4))
    module = profile.inspection.hlo_module
    # the evidence the old rule took for a loop is there: ≥ 8 ops from one position
    positions = {}
    for instr in module:
        if instr.stack_frame_id and instr.opcode == "multiply":
            positions[instr.stack_frame_id] = positions.get(instr.stack_frame_id, 0) + 1
    assert max(positions.values()) >= 8
    assert_no_loop_advice_and_only_user_lines(profile)


def test_flax_nnx_training_step_gets_no_loop_advice():
    pytest.importorskip("flax", reason="Flax is in the `examples` extra")
    pytest.importorskip("optax", reason="Optax is in the `examples` extra")
    import optax
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs):
            self.hidden = nnx.Linear(4, 32, rngs=rngs)
            self.middle = nnx.Linear(32, 32, rngs=rngs)
            self.out = nnx.Linear(32, 1, rngs=rngs)

        def __call__(self, x):
            x = nnx.gelu(self.hidden(x))
            x = nnx.gelu(self.middle(x))
            return self.out(x)

    model = MLP(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(3e-3), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))

    def loss_fn(model, x, y):
        return jnp.mean((model(x) - y) ** 2)

    def train_step(state, x, y):
        model, optimizer = nnx.merge(graphdef, state, copy=True)
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        optimizer.update(model, grads)
        return loss, nnx.state((model, optimizer))

    profile = profiled_in_a_loop(train_step, state, jnp.ones((16, 4)), jnp.ones((16, 1)))
    assert_no_loop_advice_and_only_user_lines(profile)


def test_optax_training_step_gets_no_loop_advice():
    optax = pytest.importorskip("optax", reason="Optax is in the `examples` extra")
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3))
    keys = jax.random.split(jax.random.key(0), 10)
    params = {f"layer{i}": jax.random.normal(k, (8, 8)) for i, k in enumerate(keys)}
    opt_state = tx.init(params)

    def loss_fn(params, x):
        h = x
        h = jnp.tanh(h @ params["layer0"])
        h = jnp.tanh(h @ params["layer1"])
        return jnp.mean(h**2) + sum(jnp.sum(p**2) for p in jax.tree.leaves(params)) * 1e-4

    def train_step(params, opt_state, x):
        loss, grads = jax.value_and_grad(loss_fn)(params, x)
        updates, opt_state = tx.update(grads, opt_state, params)
        return loss, optax.apply_updates(params, updates), opt_state

    profile = profiled_in_a_loop(train_step, params, opt_state, jnp.ones((4, 8)))
    assert_no_loop_advice_and_only_user_lines(profile)


def test_equinox_training_step_gets_no_loop_advice():
    eqx = pytest.importorskip("equinox", reason="Equinox is in the `libraries` extra")
    optax = pytest.importorskip("optax", reason="Optax is in the `examples` extra")
    model = eqx.nn.MLP(4, 1, width_size=32, depth=3, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_array)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    def loss_fn(params, x, y):
        model = eqx.combine(params, static)
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    def train_step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = tx.update(grads, opt_state, params)
        return loss, eqx.apply_updates(params, updates), opt_state

    profile = profiled_in_a_loop(
        train_step, params, opt_state, jnp.ones((16, 4)), jnp.ones((16, 1))
    )
    assert_no_loop_advice_and_only_user_lines(profile)


def test_a_real_unrolled_loop_still_gets_advice_when_called_from_a_loop():
    x = jnp.ones((4, 4))
    profile = profiled_in_a_loop(progs.unrolled, x, x)
    advice = [a for a in profile.advice if a.kind == "unrolled-loop"]
    assert [(a.file, a.line) for a in advice] == [
        (progs.__file__, line_of(progs.unrolled, "for i in range(100)"))
    ]
    assert "≈100 copies" in advice[0].message


def test_frames_inside_the_call_stop_at_the_staged_function(tmp_path):
    path = tmp_path / "cell.py"
    path.write_text(
        "for lr in (0.1, 0.2):\n"  # 1: a loop around a definition
        "    def f(x):\n"  # 2
        "        y = x * lr\n"  # 3
        "        for i in range(3):\n"  # 4
        "            y = y + i\n"  # 5
        "        return y\n"  # 6
    )
    file = str(path)
    linecache.checkcache(file)
    namespace: dict = {}
    exec(compile(path.read_text(), file, "exec"), namespace)
    f = namespace["f"]
    # a line in f's loop is in that loop; a line of f outside it is in no loop of f's
    assert enclosing_loop(file, 5) == (4, "for")
    assert enclosing_loop(file, 3) is None
    own = jaxlab.__file__
    chain = ((file, 5, 0, "f"), (file, 3, 0, "f"), (own, 10, 0, "stage"), (file, 1, 0, ""))
    assert inside_call(chain, f) == chain[:2]
    # without the function's source: everything from jaxlab's first frame out is dropped
    assert inside_call(chain, None) == chain[:2]
    assert is_own(own) and not is_users(own) and is_users(file)
    assert not is_users(pyinspect.getsourcefile(pytest.approx))
