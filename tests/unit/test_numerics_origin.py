"""The origin of the first NaN/Inf on a corpus of real bugs: each names the primitive, the line,
the phase, the loop iteration, the device and the known trap with its fix; clean programs give
no origin."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxlab
from jaxlab.api.numerics import Numerics


def line_of(fn, marker: str = "# origin") -> int:
    """The line of `fn`'s source holding `marker`."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, hits
    return hits[0]


def origin_of(fn, *args, **options) -> tuple[Numerics, jaxlab.ir.numerics.Origin]:
    n = jaxlab.numerics(fn, *args, **options)
    assert n.origin is not None, n.equation_stats
    return n, n.origin


# -- the known traps --------------------------------------------------------------------------


def where_loss(x):
    return jnp.sum(jnp.where(x > 0, jnp.log(x), 0.0))  # origin


def test_nan_gradient_through_where_names_the_double_where():
    n, o = origin_of(where_loss, jnp.array([0.0, 1.0, 2.0]), grad=True)
    assert (o.primitive, o.phase, o.line) == ("log", "forward", line_of(where_loss))
    assert o.trap == "NaN gradient through jnp.where"
    assert "double-where" in o.fix
    assert o.iteration is None and o.device is None
    # the gradient itself is NaN at 0 and the backward rows say so
    value, grads = n.output
    assert np.isnan(np.asarray(grads)[0]) and not np.isnan(float(value))
    assert any(r.phase == "backward" and r.nan for r in n.equation_stats)


def where_forward(x):
    return jnp.sum(jnp.where(x > 0, jnp.log(x), 0.0))  # origin


def test_where_without_grad_is_named_as_hidden_by_the_where():
    _, o = origin_of(where_forward, jnp.array([0.0, 1.0]))
    assert o.trap == "Inf/NaN hidden by jnp.where" and "double-where" in o.fix
    assert o.kind == "-Inf"


def sqrt_loss(x):
    return jnp.sqrt(jnp.sum(x**2))  # origin


def norm_loss(x):
    return jnp.linalg.norm(x)  # origin


@pytest.mark.parametrize("fn", [sqrt_loss, norm_loss], ids=["sqrt", "norm"])
def test_sqrt_and_norm_at_zero_under_grad(fn):
    _, o = origin_of(fn, jnp.zeros(3), grad=True)
    assert o.phase == "backward" and o.line == line_of(fn)
    assert o.trap == "sqrt/norm at 0 under grad"
    assert "jnp.maximum(x, eps)" in o.fix


def entropy(p):
    return -jnp.sum(p * jnp.log(p))  # origin


def test_log_zero_times_zero():
    _, o = origin_of(entropy, jnp.array([0.0, 0.5, 0.5]))
    assert (o.primitive, o.line, o.kind) == ("log", line_of(entropy), "-Inf")
    assert o.trap == "log(0) * 0" and "xlogy" in o.fix
    # the message can say what the log took: its input reaches 0
    assert o.inputs[0].zero_frac == pytest.approx(1 / 3)


def ratio(n, d):
    r = n / d  # origin
    return jnp.where(d == 0, 0.0, r).sum()


def test_division_by_zero_masked_later():
    _, o = origin_of(ratio, jnp.ones(3), jnp.array([0.0, 1.0, 2.0]))
    assert (o.primitive, o.line) == ("div", line_of(ratio))
    assert o.trap == "division by zero masked later"
    assert "jnp.where(d == 0, 1.0, d)" in o.fix


def growth(x):
    return jnp.exp(x).sum()  # origin


def test_exp_overflow():
    _, o = origin_of(growth, jnp.array([1.0, 100.0]))
    assert (o.primitive, o.kind, o.line) == ("exp", "+Inf", line_of(growth))
    assert o.trap == "exp overflow" and "log space" in o.fix
    assert o.inputs[0].max == 100.0
    assert "88.72" in o.detail  # float32 overflows above log(max)


def naive_softmax(x):
    e = jnp.exp(x)  # origin
    return e / e.sum()


def test_softmax_without_subtracting_the_max():
    _, o = origin_of(naive_softmax, jnp.array([1.0, 100.0, 3.0]))
    assert (o.primitive, o.line) == ("exp", line_of(naive_softmax))
    assert o.trap == "softmax without subtracting the max"
    assert "jax.nn.softmax" in o.fix


def angle(p):
    return jnp.arctan2(p[1], p[0])  # origin


def test_arctan2_at_the_origin_under_grad():
    _, o = origin_of(angle, jnp.zeros(2), grad=True)
    assert (o.phase, o.line) == ("backward", line_of(angle))
    assert o.trap == "arctan2(0, 0) under grad"


# -- where in the program ---------------------------------------------------------------------


def scan_steps(x):
    def step(c, k):
        c = c * 10.0 + jnp.where(k == 4, -c * 10.0, 0.0)
        return jnp.sqrt(c - 1.0), None  # origin

    return jax.lax.scan(step, x, jnp.arange(8))[0]


def test_nan_at_step_k_of_a_scan():
    n, o = origin_of(scan_steps, jnp.float32(2.0))
    assert (o.primitive, o.line, o.iteration) == ("sqrt", line_of(scan_steps), (4,))
    assert o.trap == "sqrt of a negative value"
    row = n.equation_stats[o.row]
    assert row.executions == 8 and row.count == 8 and row.nan == 4  # steps 4..7


def reversed_scan(xs):
    def step(c, x):
        return c, jnp.log(x)  # origin

    return jax.lax.scan(step, 0.0, xs, reverse=True)[1]


def test_a_reverse_scan_reports_the_element_index():
    _, o = origin_of(reversed_scan, jnp.array([1.0, -1.0, 2.0, 3.0]))
    assert o.iteration == (1,)  # xs[1], the third iteration run


def nested(x):
    def inner(c, j):
        return c + jnp.log(j - 2.0 * c), None  # origin

    def outer(c, i):
        return jax.lax.scan(inner, c, jnp.arange(3.0) + i)[0], None

    return jax.lax.scan(outer, x, jnp.arange(4.0))[0]


def test_nested_loops_give_outer_and_inner_iteration():
    _, o = origin_of(nested, jnp.float32(0.0))
    assert o.line == line_of(nested)
    # c stays 0 until j - 2c <= 0: outer 0, inner 0 takes log(0)
    assert o.iteration == (0, 0) and o.kind == "-Inf"


def newton(x):
    def body(c):
        i, v = c
        return i + 1, jnp.log(v - 0.5)  # origin

    return jax.lax.while_loop(lambda c: c[0] < 10, body, (0, x))[1]


def test_nan_inside_a_while_loop():
    _, o = origin_of(newton, jnp.float32(3.0))
    assert (o.primitive, o.line, o.iteration) == ("log", line_of(newton), (2,))
    assert o.trap == "log of a negative value"


def branches(x):
    return jax.lax.cond(
        x.sum() > 0,
        lambda a: jnp.sqrt(a),  # origin
        lambda a: a * 2.0,
        x,
    )


def test_cond_counts_the_branch_taken_and_finds_the_nan_in_it():
    n, o = origin_of(branches, jnp.array([-1.0, 4.0]))
    assert (o.primitive, o.line) == ("sqrt", line_of(branches))
    cond = [r for r in n.equation_stats if r.primitive == "cond"]
    assert cond and cond[0].branches == (0, 1)  # branch 1 (true) taken once
    untaken = [r for r in n.equation_stats if r.primitive == "mul" and r.eqn_path.endswith("/0")]
    assert untaken and untaken[0].executions == 0 and untaken[0].min is None


@jax.custom_vjp
def guarded(x):
    return x


def _fwd(x):
    return x, x


def _bwd(x, g):
    return (g / x,)


guarded.defvjp(_fwd, _bwd)


def custom_loss(x):
    return jnp.sum(guarded(x) ** 2)  # origin


def test_nan_in_a_custom_vjp_backward():
    """JAX gives the equations of a custom rule the line that called the function."""
    _, o = origin_of(custom_loss, jnp.array([0.0, 1.0]), grad=True)
    assert (o.primitive, o.phase, o.line) == ("div", "backward", line_of(custom_loss))
    assert o.trap == "division by zero"


def to_bf16(x):
    return x.astype(jnp.bfloat16) * jnp.bfloat16(1e30) * jnp.bfloat16(1e10)  # origin


def test_bf16_overflow():
    n, o = origin_of(to_bf16, jnp.ones(3))
    assert (o.primitive, o.kind, o.line) == ("mul", "+Inf", line_of(to_bf16))
    assert o.trap == "bfloat16 overflow" and "float32" in o.fix
    first_mul = next(r for r in n.equation_stats if r.primitive == "mul")
    assert first_mul.dtype == "bfloat16" and first_mul.finite


def test_nan_in_an_argument_names_the_leaf():
    def step(params, x):
        return jnp.sum(params["w1"] * x + params["b"])

    n = jaxlab.numerics(step, {"w1": jnp.array([1.0, jnp.nan]), "b": jnp.ones(2)}, jnp.ones(2))
    o = n.origin
    assert o.argument == "params['w1']" and o.primitive is None and o.row is None
    assert o.kind == "NaN" and "argument params['w1']" in o.sentence()
    assert [a.name for a in n.arguments] == ["params['b']", "params['w1']", "x"]


def test_constants_holding_nan_are_blamed_on_the_equation_using_them():
    table = np.array([1.0, np.nan], dtype=np.float32)

    def lookup(x):
        return x * jnp.asarray(table)  # origin

    _, o = origin_of(lookup, jnp.ones(2))
    assert (o.primitive, o.line, o.argument) == ("mul", line_of(lookup), None)


# -- devices ----------------------------------------------------------------------------------


def test_nan_on_one_device_of_eight_under_shard_map():
    mesh = jax.make_mesh((8,), ("d",), axis_types=(AxisType.Explicit,))

    def per_device(x):
        return jax.shard_map(
            lambda a: jnp.log(jnp.abs(a - 5.0)),  # origin
            mesh=mesh,
            in_specs=P("d"),
            out_specs=P("d"),
        )(x)

    x = jax.device_put(jnp.arange(8.0), NamedSharding(mesh, P("d")))
    n, o = origin_of(per_device, x)
    assert (o.primitive, o.line, o.kind) == ("log", line_of(per_device), "-Inf")
    assert o.device == mesh.devices.flat[5].id  # log(|5 - 5|)
    assert o.trap == "log of 0"
    row = n.equation_stats[o.row]
    assert [d.device for d in row.per_device] == [d.id for d in mesh.devices.flat]
    assert [d.neginf for d in row.per_device] == [0, 0, 0, 0, 0, 1, 0, 0]
    assert [d.count for d in row.per_device] == [1] * 8
    assert row.min == pytest.approx(np.log(1.0)) and row.max == pytest.approx(np.log(5.0))


def test_nan_on_one_device_of_eight_under_sharded_jit():
    mesh = jax.make_mesh((8,), ("b",), axis_types=(AxisType.Explicit,))

    @jax.jit
    def sharded(x):
        return jnp.sqrt(x - 10.0) * 2.0  # origin

    host = np.arange(16.0, dtype=np.float32).reshape(8, 2) + 20.0
    host[3, 1] = -5.0  # row 3 lives on the mesh's fourth device
    x = jax.device_put(host, NamedSharding(mesh, P("b")))
    n, o = origin_of(sharded, x)
    assert (o.primitive, o.line, o.kind) == ("sqrt", line_of(sharded), "NaN")
    assert o.device == mesh.devices.flat[3].id
    row = n.equation_stats[o.row]
    assert [d.nan for d in row.per_device] == [0, 0, 0, 1, 0, 0, 0, 0]
    assert n.devices == tuple(sorted(d.id for d in mesh.devices.flat))


def test_sharded_jit_with_automatic_axes_is_measured_per_device():
    """Automatic axes are made explicit for the measured run: JAX's sharding rules then
    place every value while tracing, and each is measured on each device. A note says the
    placement is JAX's rules', which XLA's automatic choice may not follow everywhere."""
    mesh = jax.make_mesh((8,), ("b",), axis_types=(AxisType.Auto,))
    rows = NamedSharding(mesh, P("b"))

    def scaled(x):
        return jnp.sqrt(x - 10.0) * 2.0  # origin

    host = np.arange(16.0, dtype=np.float32).reshape(8, 2) + 20.0
    host[3, 1] = -5.0  # row 3 lives on the mesh's fourth device
    given = jax.jit(scaled, in_shardings=rows, out_shardings=rows)

    def inside(x):
        return given(x) + 1.0

    calls = [
        (given, host),  # in_shardings
        (jax.jit(scaled), jax.device_put(host, rows)),  # arguments placed on the mesh
    ]
    for fn, x in calls:
        n, o = origin_of(fn, x)
        assert (o.primitive, o.line, o.kind) == ("sqrt", line_of(scaled), "NaN")
        assert o.device == mesh.devices.flat[3].id
        row = n.equation_stats[o.row]
        assert [d.nan for d in row.per_device] == [0, 0, 0, 1, 0, 0, 0, 0]
        assert [d.count for d in row.per_device] == [2] * 8
        (note,) = [x for x in n.notes if "automatic sharding" in x]
        assert note.startswith("per-device figures:") and "('b')" in note
        np.testing.assert_array_equal(np.isnan(np.asarray(n.output)), host < 10.0)
    # a sharded jit called inside an unsharded function: whole values, and the note says why
    n, o = origin_of(inside, host)
    assert (o.primitive, o.line, o.device) == ("sqrt", line_of(scaled), None)
    (note,) = [x for x in n.notes if "automatic sharding" in x]
    assert note.startswith("values are sharded over mesh axes with automatic sharding ('b')")
    assert "no per-device figures" in note and "shard_map" in note


def test_a_gradient_on_a_two_axis_automatic_mesh_is_measured_per_device():
    mesh = jax.make_mesh((4, 2), ("data", "model"), axis_types=(AxisType.Auto,) * 2)

    def loss(w, x):
        return jnp.mean(jnp.tanh(x @ w) ** 2)

    w = jax.device_put(
        jnp.linspace(-1.0, 1.0, 24).reshape(4, 6), NamedSharding(mesh, P(None, "model"))
    )
    x = jax.device_put(jnp.arange(32.0).reshape(8, 4) / 32.0, NamedSharding(mesh, P("data")))
    step = jax.jit(jax.value_and_grad(loss))
    n = jaxlab.numerics(step, w, x)
    assert n.origin is None and n.devices == tuple(sorted(d.id for d in mesh.devices.flat))
    value, grads = n.output
    want_value, want_grads = step(w, x)
    np.testing.assert_allclose(float(value), float(want_value), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(grads), np.asarray(want_grads), rtol=1e-5)
    dot = next(r for r in n.equation_stats if r.primitive == "dot_general")
    assert dot.shape == (8, 6) and len(dot.per_device) == 8
    assert [d.count for d in dot.per_device] == [6] * 8  # (8 / 4) x (6 / 2) each
    assert sum(d.count for d in dot.per_device) == dot.count


def test_automatic_axes_that_jax_cannot_type_explicitly_say_why_there_are_no_device_figures():
    """A product over a sharded contracting dimension has no explicit typing without an
    out_sharding: the run measures whole values and the note says so, with the fixes."""
    mesh = jax.make_mesh((8,), ("b",), axis_types=(AxisType.Auto,))
    x = jax.device_put(jnp.ones((4, 8)), NamedSharding(mesh, P(None, "b")))
    w = jax.device_put(jnp.ones((8, 3)), NamedSharding(mesh, P("b", None)))

    def contract(x, w):
        return jnp.log(x @ w - 8.0)  # origin

    n, o = origin_of(jax.jit(contract), x, w)
    assert (o.primitive, o.line, o.kind, o.device) == ("log", line_of(contract), "-Inf", None)
    assert all(r.per_device == () for r in n.equation_stats)
    (note,) = [x for x in n.notes if "automatic sharding" in x]
    assert "could not type it with explicit axes" in note
    assert "shard_map" in note and "AxisType.Explicit" in note
    explicit = jax.make_mesh((8,), ("b",), axis_types=(AxisType.Explicit,))
    placed = jax.device_put(np.ones((8, 2), np.float32), NamedSharding(explicit, P("b")))
    n = jaxlab.numerics(lambda a: a * 2.0, placed)
    assert not [x for x in n.notes if "automatic sharding" in x]


# -- clean programs ---------------------------------------------------------------------------


def test_the_transformer_step_is_clean():
    from benchmarks.transformer import loss, shapes

    specs, xspec = shapes(2)
    keys = iter(jax.random.split(jax.random.key(0), 20))
    params = [
        {k: jax.random.normal(next(keys), s.shape) * 0.1 for k, s in layer.items()}
        for layer in specs
    ]
    x = jax.random.normal(next(keys), xspec.shape)
    n = jaxlab.numerics(loss, params, x, grad=True)
    assert n.origin is None and n.clean
    assert {r.phase for r in n.equation_stats} == {"forward", "backward"}
    assert all(r.finite for r in n.equation_stats)


def test_integer_programs_get_ranges_and_no_nan_checks():
    def count(x):
        return jnp.cumsum(x * 3) - 7

    n = jaxlab.numerics(count, jnp.arange(5, dtype=jnp.int32))
    assert n.origin is None
    last = n.equation_stats[-1]
    assert (last.dtype, last.min, last.max) == ("int32", -7, 23)
    assert last.subnormal_frac is None and last.overflow_bf16 is None


@pytest.fixture(scope="module")
def flax_notebook() -> dict:
    """The namespace of the Flax notebook's own cells up to its train_step, run as they are
    (its magics left out)."""
    import json
    from pathlib import Path

    pytest.importorskip("flax")
    pytest.importorskip("optax")
    path = Path(__file__).resolve().parents[2] / "notebooks" / "flax_training.ipynb"
    cells = json.loads(path.read_text())["cells"]
    space: dict = {}
    for source in ("".join(c["source"]) for c in cells if c["cell_type"] == "code"):
        if "%" in source:
            continue
        exec(compile(source, "flax_training.ipynb", "exec"), space)
        if "def train_step" in source:
            break
    return space


def test_the_flax_training_step_of_the_notebook_is_clean(flax_notebook):
    """The notebook's own cells (data, model, optimizer, train_step), run as they are:
    the step's numerics hold no NaN or Inf, so no origin and no note about one."""
    space = flax_notebook
    x, y = space["x_all"][:64], space["y_all"][:64]
    n = jaxlab.numerics(space["train_step"], space["state"], x, y)
    assert n.origin is None and n.clean
    assert all(r.finite for r in n.equation_stats)
    assert not [note for note in n.notes if "Inf" in note]
    # 3 layers forward, 3 weight gradients, 2 gradients of the layers' inputs
    assert sum(r.primitive == "dot_general" for r in n.equation_stats) == 8
    loss, _ = n.output
    plain, _ = jax.jit(space["train_step"])(space["state"], x, y)
    np.testing.assert_allclose(float(loss), float(plain), rtol=1e-5)


def test_the_sharded_flax_step_of_the_notebook_is_measured_per_device(flax_notebook):
    """The notebook's sharded step: weights split over 'model', the batch over 'data' of an
    automatic (4, 2) mesh; arguments sharded and replicated side by side."""
    space = flax_notebook
    mesh = jax.make_mesh((4, 2), ("data", "model"), axis_types=(AxisType.Auto,) * 2)

    def spec(x):  # as the notebook splits the weights
        return P(None, "model") if x.ndim == 2 and x.shape[1] % 2 == 0 else P()

    state = jax.device_put(
        space["state"], jax.tree.map(lambda x: NamedSharding(mesh, spec(x)), space["state"])
    )
    xb = jax.device_put(space["x_all"][:64], NamedSharding(mesh, P("data")))
    yb = jax.device_put(space["y_all"][:64], NamedSharding(mesh, P("data")))
    step = jax.jit(space["train_step"])
    n = jaxlab.numerics(step, state, xb, yb)
    assert n.origin is None and all(r.finite for r in n.equation_stats)
    assert n.devices == tuple(sorted(d.id for d in mesh.devices.flat))
    split = [r for r in n.equation_stats if r.per_device]
    assert split and all(sum(d.count for d in r.per_device) == r.count for r in split)
    (note,) = [x for x in n.notes if "automatic sharding" in x]
    assert note.startswith("per-device figures:")
    np.testing.assert_allclose(float(n.output[0]), float(step(state, xb, yb)[0]), rtol=1e-6)


def test_arguments_sharded_and_replicated_side_by_side_on_an_explicit_mesh():
    mesh = jax.make_mesh((8,), ("b",), axis_types=(AxisType.Explicit,))
    x = jax.device_put(np.arange(16.0, dtype=np.float32).reshape(8, 2), NamedSharding(mesh, P("b")))
    w = jax.device_put(np.full((2,), -1.0, np.float32), NamedSharding(mesh, P()))
    n = jaxlab.numerics(lambda x, w: jnp.log(x * w[None, :] + 20.0), x, w)
    assert n.origin is None
    assert [(a.name, a.count, a.min, a.max) for a in n.arguments] == [
        ("x", 16, 0.0, 15.0),
        ("w", 2, -1.0, -1.0),
    ]
    log = next(r for r in n.equation_stats if r.primitive == "log")
    assert [d.count for d in log.per_device] == [2] * 8
