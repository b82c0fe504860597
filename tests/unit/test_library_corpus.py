"""Real programs of the libraries JAX users use, each through every analysis jaxlab offers.

Each program is what a user of the library writes (tiny shapes, so the whole corpus stays
fast); each analysis is called as a user calls it. A library that is not installed skips its
programs and says so (``pip install -e ".[libraries]"`` installs them all).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.api.transforms import jit_run
from jaxlab.benchmarking.variants import default_variants
from jaxlab.core.stages import has_own_staging


@dataclass
class Program:
    fn: Callable
    args: tuple
    kwargs: dict
    static: tuple[str, ...] = ()  # paths of the leaves held static, as the title names them
    check: Callable | None = None  # checks the output of one run against NumPy
    # Equinox's runtime checks (error_if) call back to the host, which JAX lowers only for
    # a platform whose devices are present
    host_callbacks: bool = False


def _equinox_mlp_step() -> Program:
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


def _equinox_value_and_grad() -> Program:
    """eqx.filter_value_and_grad called directly (no jit of the user's): jaxlab jits it."""
    import equinox as eqx

    model = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    x = jnp.arange(3.0)
    fn = eqx.filter_value_and_grad(lambda m, x: jnp.sum(m(x) ** 2))

    def check(out):
        w, b = np.asarray(model.weight, np.float64), np.asarray(model.bias, np.float64)
        np.testing.assert_allclose(float(out[0]), np.sum((w @ np.arange(3.0) + b) ** 2), rtol=1e-5)

    return Program(fn, (model, x), {}, (), check)


def _equinox_static_fields() -> Program:
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


def _diffrax_adaptive_solve() -> Program:
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


def _diffrax_gradient() -> Program:
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


def _optimistix_root_find() -> Program:
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


def _lineax_linear_solve() -> Program:
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


def _haiku_transform() -> Program:
    """hk.transform of an MLP; its apply function with parameters, no rng, inputs."""
    import haiku as hk

    model = hk.transform(lambda x: hk.nets.MLP([8, 2])(x))
    x = jnp.ones((4, 3))
    params = model.init(jax.random.key(0), x)

    def check(out):
        np.testing.assert_allclose(np.asarray(out), np.asarray(model.apply(params, None, x)))

    return Program(model.apply, (params, None, x), {}, (), check)


def _jraph_network() -> Program:
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


def _flax_linen() -> Program:
    """A linen Module's apply, its variables a dict of arrays."""
    import flax.linen as nn

    model = nn.Dense(2)
    x = jnp.ones((4, 3))
    variables = model.init(jax.random.key(0), x)

    def check(out):
        kernel = np.asarray(variables["params"]["kernel"], np.float64)
        np.testing.assert_allclose(np.asarray(out), np.ones((4, 3)) @ kernel, rtol=1e-5)

    return Program(model.apply, (variables, x), {}, (), check)


def _flax_nnx_step() -> Program:
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


def _optax_step() -> Program:
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
    "equinox-mlp-step": (("equinox", "optax"), _equinox_mlp_step),
    "equinox-value-and-grad": (("equinox",), _equinox_value_and_grad),
    "equinox-static-fields": (("equinox",), _equinox_static_fields),
    "diffrax-adaptive-solve": (("diffrax",), _diffrax_adaptive_solve),
    "diffrax-gradient": (("diffrax",), _diffrax_gradient),
    "optimistix-root-find": (("optimistix",), _optimistix_root_find),
    "lineax-linear-solve": (("lineax",), _lineax_linear_solve),
    "haiku-transform": (("haiku",), _haiku_transform),
    "jraph-graph-network": (("jraph",), _jraph_network),
    "flax-linen-apply": (("flax",), _flax_linen),
    "flax-nnx-step": (("flax", "optax"), _flax_nnx_step),
    "optax-adam-step": (("optax",), _optax_step),
}

_built: dict[str, Program] = {}


def program(name: str) -> Program:
    modules, build = PROGRAMS[name]
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            pytest.skip(f"{module} is not installed ({exc}); pip install -e '.[libraries]'")
    if name not in _built:
        _built[name] = build()
    return _built[name]


def _title(p: Program, text: str) -> None:
    for path in p.static:
        argument, _, leaf = path.partition(".")
        assert f"{argument}: " in text, text
        assert leaf in text.split("static", 1)[-1], f"{path} not shown static in: {text}"


@pytest.fixture(params=list(PROGRAMS))
def prog(request: pytest.FixtureRequest) -> Program:
    return program(request.param)


def test_inspect(prog: Program):
    insp = jaxlab.inspect(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert insp.hlo and insp.jaxpr.eqns
    _title(prog, str(insp).splitlines()[0])
    assert insp.timings.first_run_s is not None
    assert "<html" in insp.to_html().lower()  # the inspector's views draw it
    if prog.check is not None:
        prog.check(insp.output)


def test_other_platforms(prog: Program):
    lowered = jaxlab.inspect(prog.fn, *prog.args, platforms=("tpu",), kwargs=prog.kwargs)
    (tpu,) = lowered.lowerings
    _title(prog, str(lowered).splitlines()[0])
    if prog.host_callbacks:  # said in one sentence, with the fix
        assert not tpu.ok and tpu.error.startswith("the program calls back into Python"), tpu
        assert "throw=False" in tpu.error
        assert lowered.cpu is not None  # the CPU inspection is still there
        return
    assert tpu.ok, tpu.error
    assert "func.func public @main" in tpu.lowered.as_text()


def test_profile(prog: Program):
    profile = jaxlab.profile(prog.fn, *prog.args, runs=1, peak=False, kwargs=prog.kwargs)
    assert len(profile.calls) == 1
    title = [line for line in str(profile).splitlines() if line.startswith("Profile of ")]
    _title(prog, title[0])


def test_compile_profile(prog: Program):
    cp = jaxlab.compile_profile(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert cp.compile_s > 0


def test_passes(prog: Program):
    pipeline = jaxlab.passes(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert pipeline.before_optimizations.strip()
    assert pipeline.steps


def test_jaxpr_and_jit_run(prog: Program):
    text = jaxlab.jaxpr(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert str(text).startswith("let ") or "lambda" in str(text)
    run = jit_run(prog.fn, *prog.args, kwargs=prog.kwargs)
    if prog.check is not None:
        prog.check(run.output)


def test_bench(prog: Program):
    result = jaxlab.bench(
        prog.fn, *prog.args, vs="none", runs=3, time_budget=0.2, peak=False, kwargs=prog.kwargs
    )
    assert {"jit", "eager"} <= set(result.variant_names)
    assert not result.failures and not result.mismatches, (result.failures, result.mismatches)
    assert result.median_s("jit") > 0
    _title(prog, result.label)


def test_bench_of_a_library_jit_times_it_and_its_function_op_by_op():
    """bench(step) of an eqx.filter_jit step: the jit variant is Equinox's compilation, the
    eager one the user's function run op by op (not Equinox's jit again)."""
    p = program("equinox-mlp-step")
    result = jaxlab.bench(p.fn, *p.args, vs="none", runs=2, time_budget=0.2, peak=False)
    how = {v.name: v.how for v in result.variants}
    assert how["jit"] == "step, compiled by its own jit (equinox)"
    assert how["eager"] == "step op by op, without jit"
    variants, _ = default_variants(p.fn, "none")
    eager = next(v for v in variants if v.kind == "eager")
    assert not has_own_staging(eager.fn) and eager.fn is not p.fn


# the files where each library writes +Inf on purpose (an initial bound, the unfilled slots
# of a saved trajectory): the first equations that take the constant are there
SENTINELS = {
    "diffrax-adaptive-solve": {"_integrate.py"},
    "diffrax-gradient": {"_integrate.py"},
    "optimistix-root-find": {"_misc.py"},
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_numerics(name: str):
    """The numerics explorer on every library program, including values JAX folds to Python
    scalars while tracing (equinox's and lineax's loops) and the +Inf that Diffrax and
    Optimistix write on purpose: every output measured, no origin (the +Inf never reaches
    an output, and a note says where it is), and the call's own output unchanged."""
    p = program(name)
    n = jaxlab.numerics(p.fn, *p.args, kwargs=p.kwargs)
    assert n.origin is None, n.origin
    assert n.equation_stats and all(r.nan == 0 and r.neginf == 0 for r in n.equation_stats)
    held = [r for r in n.equation_stats if r.posinf]
    files = SENTINELS.get(name, set())
    if not files:
        assert not held and str(n).startswith("No NaN or Inf in ")
    else:
        (note,) = [x for x in n.notes if "on purpose" in x]
        assert all(f in note for f in files), note
        assert "no output holds NaN or Inf" in note
        assert str(n).startswith("No NaN or Inf reaches the outputs: ")
        outputs = [n.equation_stats[i] for i in n.output_rows if isinstance(i, int)]
        assert outputs and all(r.finite for r in outputs)
    if p.check is not None:
        p.check(n.output)
