"""`explain`: each common JAX error becomes a short summary with the fix."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from jaxlab.core.errors import explain


def raised(f, *args):
    try:
        f(*args)
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def branchy(x):
    if x > 0:
        return x
    return -x


def test_tracer_bool_names_the_line_and_fix():
    e = explain(raised(jax.jit(branchy), 1.0), fn_name="branchy")
    assert "control flow" in e.summary and "`x`" in e.summary
    assert "if x > 0:" in e.where
    assert "jax.lax.cond" in e.fix


@pytest.mark.parametrize(
    ("call", "summary", "fix"),
    [
        (lambda: jax.grad(lambda x: x * 2)(jnp.ones(3)), "needs a scalar output", "jacrev"),
        (lambda: jax.grad(lambda x: x * 2)(2), "floating-point inputs", "2.0"),
        (lambda: jax.jacfwd(lambda x: x * 2)(2), "floating-point inputs", "2.0"),
        (lambda: jax.jit(lambda x, n: jnp.ones(n) * x)(1.0, 3), "concrete Python value", "static"),
        (lambda: jax.jit(lambda x: range(x))(3), "Python integer", "static"),
        (lambda: jnp.ones(3).__setitem__(0, 1.0), "immutable", ".at[i].set(v)"),
        (
            lambda: jax.jit(lambda a, b: a @ b)(jnp.ones((2, 3)), jnp.ones((4, 5))),
            "shape mismatch",
            "shapes",
        ),
        (
            lambda: jax.vmap(lambda a, b: a + b)(jnp.ones(3), jnp.ones(4)),
            "different sizes",
            "--in-axes",
        ),
        (
            lambda: jax.jit(lambda x: __import__("numpy").asarray(x))(jnp.ones(2)),
            "NumPy array",
            "jnp",
        ),
    ],
)
def test_known_errors(call, summary, fix):
    e = explain(raised(call))
    assert summary in e.summary
    assert fix in e.fix
    assert len(e.message().splitlines()) <= 3


def test_unknown_error_keeps_type_and_first_line():
    e = explain(RuntimeError("something odd\nsecond line"))
    assert e.summary == "RuntimeError: something odd"
    assert e.fix is None


def test_explicit_sharding_error_says_how_to_choose_the_output_sharding():
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    mesh = jax.make_mesh((4, 2), ("data", "model"))  # explicit axes by default
    x = jax.device_put(jnp.ones((8, 8)), NamedSharding(mesh, P("data", "model")))
    e = explain(raised(lambda: x @ x.T))
    assert e.summary.startswith("explicit sharding: Contracting dimensions are sharded")
    assert "out_sharding=" in e.fix


def test_one_rule_says_what_is_the_users_code():
    """Error messages, guards, memory creators and views ask one rule; code the user exec'd
    (``<string>``) is theirs, code tools generate (``<decorator-gen-3>``) is not."""
    import os
    import sysconfig

    import jaxlab
    from jaxlab.core.errors import user_frame
    from jaxlab.guards._functions import is_user_function
    from jaxlab.ir.sources import is_users

    site = os.path.join(sysconfig.get_paths()["purelib"], "somelib", "mod.py")
    for name, users in [
        ("<string>", True),
        ("<ipython-input-3-0a1b2c>", True),
        ("<stdin>", True),
        ("/home/me/project/model.py", True),
        ("<decorator-gen-3>", False),
        ("<frozen importlib._bootstrap>", False),
        ("<__array_function__ internals>", False),
        ("", False),
        (site, False),
        (jax.numpy.__file__, False),
        (jaxlab.__file__, False),
    ]:
        assert is_users(name) is users, name

    namespace: dict = {}
    exec(compile("def made(x):\n    return x.undefined_attr\n", "<string>", "exec"), namespace)
    assert is_user_function(namespace["made"])  # the guards watch it
    try:
        namespace["made"](1)
    except AttributeError as exc:
        frame = user_frame(exc.__traceback__)
    assert frame is not None and frame[:3] == ("<string>", 2, "made")  # errors name its line
    generated: dict = {}
    exec(compile("def gen(x):\n    return x\n", "<decorator-gen-9>", "exec"), generated)
    assert not is_user_function(generated["gen"])
