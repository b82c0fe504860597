"""Real programs of the libraries JAX users use (Equinox, Diffrax, Optimistix, Lineax, Haiku,
Jraph, Flax, Optax), each as a user of the library writes it, with tiny shapes and a check of
its output against NumPy. The library corpus runs every analysis on them; the kernel tests
import them inside the kernel (``from tests.library_programs import ...``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest


@dataclass
class Program:
    """One call of a library program, what its title holds static, and its check."""

    fn: Callable
    args: tuple
    kwargs: dict
    static: tuple[str, ...] = ()  # paths of the leaves held static, as the title names them
    check: Callable | None = None  # checks the output of one run against NumPy
    # Equinox's runtime checks (error_if) call back to the host, which JAX lowers only for
    # a platform whose devices are present
    host_callbacks: bool = False


def equinox_mlp_step() -> Program:
    """The training step of the Equinox docs: an eqx.nn.MLP (its leaves include the
    activation functions) through eqx.filter_value_and_grad, inside eqx.filter_jit."""
    import equinox as eqx
    import optax

    model = eqx.nn.MLP(3, 2, 8, 2, key=jax.random.key(0))
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    x = jax.random.normal(jax.random.key(1), (4, 3))
    y = jnp.zeros((4, 2))

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        def loss(model):
            return jnp.mean((jax.vmap(model)(x) - y) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(model)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, value

    def check(out):
        want = np.mean(np.asarray(jax.vmap(model)(x), np.float64) ** 2)
        np.testing.assert_allclose(float(out[2]), want, rtol=1e-5)
        assert out[0].activation is model.activation  # static leaves come back whole

    return Program(
        step,
        (model, opt_state, x, y),
        {},
        ("model.activation", "model.final_activation"),
        check,
    )


def equinox_value_and_grad() -> Program:
    """eqx.filter_value_and_grad called directly (no jit of the user's): jaxlab jits it."""
    import equinox as eqx

    model = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    x = jnp.arange(3.0)
    fn = eqx.filter_value_and_grad(lambda m, x: jnp.sum(m(x) ** 2))

    def check(out):
        w, b = np.asarray(model.weight, np.float64), np.asarray(model.bias, np.float64)
        np.testing.assert_allclose(float(out[0]), np.sum((w @ np.arange(3.0) + b) ** 2), rtol=1e-5)

    return Program(fn, (model, x), {}, (), check)


def equinox_static_fields() -> Program:
    """A Module with a static field, a function field and a string field."""
    import equinox as eqx

    class Scaled(eqx.Module):
        weight: jax.Array
        act: Callable
        label: str
        depth: int = eqx.field(static=True)

        def __call__(self, x):
            for _ in range(self.depth):
                x = self.act(self.weight @ x)
            return x

    model = Scaled(jnp.eye(3) * 0.5, jnp.tanh, "scaled", 2)
    x = jnp.ones(3)

    def check(out):
        np.testing.assert_allclose(np.asarray(out), np.tanh(0.5 * np.tanh(0.5)), rtol=1e-6)

    return Program(lambda model, x: model(x), (model, x), {}, ("model.act", "model.label"), check)


def _diffrax_term():
    import diffrax

    def decay(t, y, args):
        return -args * y

    return diffrax.ODETerm(decay)


def _diffrax_solve(term, y0, rate):
    import diffrax

    solution = diffrax.diffeqsolve(
        term,
        diffrax.Tsit5(),
        t0=0.0,
        t1=1.0,
        dt0=0.1,
        y0=y0,
        args=rate,
        stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-7),
        max_steps=64,
    )
    return solution.ys[-1]


def diffrax_adaptive_solve() -> Program:
    """An adaptive ODE solve; the term (holding the vector field) is an argument."""
    y0 = jnp.array([1.0, 2.0])

    def check(out):
        np.testing.assert_allclose(np.asarray(out), np.array([1.0, 2.0]) * np.exp(-0.5), rtol=1e-4)

    return Program(
        _diffrax_solve,
        (_diffrax_term(), y0, 0.5),
        {},
        ("term.vector_field",),
        check,
        host_callbacks=True,
    )


def diffrax_gradient() -> Program:
    """The gradient of the solution with respect to the rate (back through the solver)."""
    term = _diffrax_term()

    def loss(rate, y0):
        return jnp.sum(_diffrax_solve(term, y0, rate))

    def check(out):  # d/dr sum(y0 exp(-r)) = -sum(y0) exp(-r)
        np.testing.assert_allclose(float(out), -3.0 * np.exp(-0.5), rtol=1e-3)

    return Program(
        jax.grad(loss),
        (jnp.float32(0.5), jnp.array([1.0, 2.0])),
        {},
        (),
        check,
    )


def optimistix_root_find() -> Program:
    """Newton's method on x**3 - a (the cube root), the solver an argument."""
    import optimistix as optx

    def cube_root(a, solver):
        return optx.root_find(lambda x, a: x**3 - a, solver, jnp.ones_like(a), args=a).value

    def check(out):
        np.testing.assert_allclose(np.asarray(out), np.cbrt([8.0, 27.0]), rtol=1e-5)

    solver = optx.Newton(rtol=1e-6, atol=1e-6)
    return Program(
        cube_root,
        (jnp.array([8.0, 27.0]), solver),
        {},
        ("solver.norm",),
        check,
        host_callbacks=True,
    )


def lineax_linear_solve() -> Program:
    """A linear solve through a MatrixLinearOperator (tags held static) with LU."""
    import lineax as lx

    a = jnp.array([[4.0, 1.0], [2.0, 3.0]])
    b = jnp.array([1.0, 2.0])

    def solve(operator, b):
        return lx.linear_solve(operator, b, solver=lx.LU()).value

    def check(out):
        np.testing.assert_allclose(
            np.asarray(out), np.linalg.solve(np.asarray(a, np.float64), [1.0, 2.0]), rtol=1e-5
        )

    return Program(solve, (lx.MatrixLinearOperator(a), b), {}, (), check, host_callbacks=True)


def haiku_transform() -> Program:
    """hk.transform of an MLP; its apply function with parameters, no rng, inputs."""
    import haiku as hk

    model = hk.transform(lambda x: hk.nets.MLP([8, 2])(x))
    x = jnp.ones((4, 3))
    params = model.init(jax.random.key(0), x)

    def check(out):
        np.testing.assert_allclose(np.asarray(out), np.asarray(model.apply(params, None, x)))

    return Program(model.apply, (params, None, x), {}, (), check)


def jraph_network() -> Program:
    """A graph convolution over a GraphsTuple (globals None, counts as arrays)."""
    import jraph

    graph = jraph.GraphsTuple(
        nodes=jnp.arange(8.0).reshape(4, 2),
        edges=None,
        senders=jnp.array([0, 1, 2, 3]),
        receivers=jnp.array([1, 2, 3, 0]),
        n_node=jnp.array([4]),
        n_edge=jnp.array([4]),
        globals=None,
    )
    w = jnp.array([[1.0, 0.0], [0.0, 2.0]])

    def network(w, graph):
        conv = jraph.GraphConvolution(update_node_fn=lambda n: n @ w, add_self_edges=False)
        return conv(graph).nodes

    def check(out):  # each node receives its sender's features, times w, unnormalised
        nodes = np.arange(8.0).reshape(4, 2) @ np.diag([1.0, 2.0])
        want = np.zeros((4, 2))
        for s, r in zip([0, 1, 2, 3], [1, 2, 3, 0], strict=True):
            want[r] += nodes[s]
        np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)

    return Program(network, (w, graph), {}, (), check)


def flax_linen() -> Program:
    """A linen Module's apply, its variables a dict of arrays."""
    import flax.linen as nn

    model = nn.Dense(2)
    x = jnp.ones((4, 3))
    variables = model.init(jax.random.key(0), x)

    def check(out):
        kernel = np.asarray(variables["params"]["kernel"], np.float64)
        np.testing.assert_allclose(np.asarray(out), np.ones((4, 3)) @ kernel, rtol=1e-5)

    return Program(model.apply, (variables, x), {}, (), check)


def flax_nnx_step() -> Program:
    """An nnx.jit training step (staged its own way) with nnx.Optimizer."""
    import optax
    from flax import nnx

    model = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    x, y = jnp.ones((4, 3)), jnp.zeros((4, 2))

    @nnx.jit
    def step(model, optimizer, x, y):
        def loss(model):
            return jnp.mean((model(x) - y) ** 2)

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    kernel = np.asarray(model.kernel[...], np.float64)

    def check(out):
        np.testing.assert_allclose(float(out), np.mean((np.ones((4, 3)) @ kernel) ** 2), rtol=1e-5)
        # the analyses never train the user's model
        np.testing.assert_array_equal(np.asarray(model.kernel[...]), kernel)

    return Program(step, (model, optimizer, x, y), {}, (), check)


def optax_step() -> Program:
    """A plain training step with optax.adam; the optimizer (a pair of functions) is an
    argument, held static."""
    import optax

    params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
    optimizer = optax.adam(1e-2)
    opt_state = optimizer.init(params)
    x = jnp.ones((4, 3))

    def step(params, opt_state, optimizer, x):
        def loss(p):
            return jnp.mean((x @ p["w"] + p["b"][None, :]) ** 2)

        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, value

    def check(out):
        np.testing.assert_allclose(float(out[2]), 9.0, rtol=1e-6)

    return Program(
        step, (params, opt_state, optimizer, x), {}, ("optimizer.init", "optimizer.update"), check
    )


# name -> (the modules it needs, the program)
PROGRAMS: dict[str, tuple[tuple[str, ...], Callable[[], Program]]] = {
    "equinox-mlp-step": (("equinox", "optax"), equinox_mlp_step),
    "equinox-value-and-grad": (("equinox",), equinox_value_and_grad),
    "equinox-static-fields": (("equinox",), equinox_static_fields),
    "diffrax-adaptive-solve": (("diffrax",), diffrax_adaptive_solve),
    "diffrax-gradient": (("diffrax",), diffrax_gradient),
    "optimistix-root-find": (("optimistix",), optimistix_root_find),
    "lineax-linear-solve": (("lineax",), lineax_linear_solve),
    "haiku-transform": (("haiku",), haiku_transform),
    "jraph-graph-network": (("jraph",), jraph_network),
    "flax-linen-apply": (("flax",), flax_linen),
    "flax-nnx-step": (("flax", "optax"), flax_nnx_step),
    "optax-adam-step": (("optax",), optax_step),
}

_built: dict[str, Program] = {}


def program(name: str) -> Program:
    """The program `name`, built once; the test skips, saying what to install, where a library
    it needs is missing."""
    modules, build = PROGRAMS[name]
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            pytest.skip(f"{module} is not installed ({exc}); pip install -e '.[libraries]'")
    if name not in _built:
        _built[name] = build()
    return _built[name]
