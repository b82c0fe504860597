"""Every magic behaves alike: its manual comes from `@magic_arguments` and has --traceback,
it evaluates in the caller's scope, and a failure is one short UsageError that starts with the
magic's name, says the fix and leaves the user's variables alone."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.magic import MAGIC_NO_VAR_EXPAND_ATTR

LINE = ["grad", "jacfwd", "jacrev", "hessian", "vmap", "jit", "jaxpr", "hlo", "inspect"]
LINE += [
    "bench",
    "devices",
    "where",
    "recompiles",
    "compile_profile",
    "passes",
    "profile",
    "memory",
    "numerics",
]
CELL = ["jit", "bench"]
NO_EXPRESSION = {"devices", "recompiles"}  # they take names or options, nothing to evaluate

VERBATIM = """
x = 2.0
w = jnp.arange(3.0)
def h(v):
    return v * 3.0
def loss(p):
    return (p["w"] ** 2).sum()
def tag(s, v):
    return len(s) * v
"""

SETUP = """
def vec(x):
    return x * jnp.ones(3)
def branchy(x):
    if x > 0:
        return x
    return -x
"""

FAILURES = [
    ("grad", "vec(1.0)"),
    ("jacfwd", "vec(2)"),
    ("jacrev", "vec(2)"),
    ("hessian", "vec(2)"),
    ("vmap", "branchy(jnp.ones(3))"),
    ("jit", "branchy(1.0)"),
    ("jaxpr", "branchy(1.0)"),
    ("hlo", "branchy(1.0)"),
    ("inspect", "branchy(1.0)"),
    ("bench", "branchy(undefined_here)"),
    ("devices", "--backend nowhere"),
    ("where", "undefined_here"),
    ("recompiles", "never_compiled"),
    ("compile_profile", "branchy(1.0)"),
    ("passes", "branchy(1.0)"),
    ("profile", "branchy(1.0)"),
    ("memory", "--diff --since undefined_here"),
    ("numerics", "vec(jnp.ones(2))"),
]


def test_every_magic_has_its_manual_and_the_shared_options(ip):
    magics = [ip.find_line_magic(n) for n in LINE] + [ip.find_cell_magic(n) for n in CELL]
    for name, magic in zip(LINE + CELL, magics, strict=True):
        assert magic is not None, name
        assert magic.__doc__.lstrip().startswith("::"), name  # the parser's usage first
        assert "--traceback" in magic.__doc__, name
        scoped = getattr(magic.__func__, "needs_local_scope", False)
        assert scoped == (name not in NO_EXPRESSION), name


def test_magics_that_take_code_get_the_line_as_written(ip):
    """IPython expands `{x}` and `$x` in a magic's line unless it opts out, as %timeit does."""
    magics = [ip.find_line_magic(n) for n in LINE] + [ip.find_cell_magic(n) for n in CELL]
    for name, magic in zip(LINE + CELL, magics, strict=True):
        verbatim = getattr(magic.__func__, MAGIC_NO_VAR_EXPAND_ATTR, False)
        assert verbatim == (name not in NO_EXPRESSION), name


def test_braces_and_dollars_reach_the_magic(ip):
    ip.run_cell(VERBATIM)
    # expanded, `{x}` would become `2.0` and `"$x"` would become `"2.0"`
    assert float(ip.run_line_magic("jit", "h(len({x}) * x) --quiet")) == 6.0
    assert float(ip.run_line_magic("grad", 'tag("$x", x) --argnums 1')) == 2.0
    grad = ip.run_line_magic("grad", "loss({'w': w})")
    assert grad["w"].tolist() == [0.0, 2.0, 4.0]


@pytest.mark.parametrize(("name", "line"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failure_is_one_short_message_with_the_fix(ip, name, line):
    ip.run_cell(SETUP)
    before = dict(ip.user_ns)
    with pytest.raises(UsageError) as info:
        ip.run_line_magic(name, line)
    message = str(info.value)
    assert message.startswith(f"%{name}"), message
    assert "\n  fix: " in message, message
    assert len(message.splitlines()) <= 5, message
    assert "Traceback" not in message
    assert {k: id(v) for k, v in ip.user_ns.items()} == {k: id(v) for k, v in before.items()}


@pytest.mark.parametrize(("name", "line"), FAILURES[:10], ids=[f[0] for f in FAILURES[:10]])
def test_traceback_option_raises_the_original_error(ip, name, line):
    """(the first ten; `%profile` and `%memory` below)"""
    ip.run_cell(SETUP)
    # the error JAX (or Python) raised, not jaxlab's one-line UsageError
    with pytest.raises((TypeError, NameError)):
        ip.run_line_magic(name, f"{line} --traceback")


def test_traceback_option_of_profile_and_memory(ip):
    ip.run_cell(SETUP)
    with pytest.raises(TypeError):
        ip.run_line_magic("profile", "branchy(1.0) --traceback")
    with pytest.raises(NameError):
        ip.run_line_magic("memory", "--diff --since undefined_here --traceback")
