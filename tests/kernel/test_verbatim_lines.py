"""A magic that takes code gets the line as written: IPython's `{name}` and `$name`
substitution is off for them (as for %timeit), so set literals and `$` inside strings reach
jaxlab unchanged."""

from __future__ import annotations

import pytest

from tests.shell.test_magic_consistency import VERBATIM

pytestmark = pytest.mark.kernel

SETUP = "%load_ext jaxlab\nimport jax.numpy as jnp\n" + VERBATIM


def test_braces_reach_jit_as_written(kernel):
    kernel.ok(SETUP)
    # `{x}` is a set, held static as a non-array leaf: h receives the set itself (expanded,
    # it would have run h(2.0) instead)
    failed = kernel.fails_cleanly("%jit h({x})", "'set'")
    assert "%jit" in failed.stderr
    kernel.ok("r = %jit h(len({x}) * x) --quiet")
    assert kernel.value("float(r)") == 6.0


def test_a_dict_literal_reaches_grad_as_written(kernel):
    kernel.ok(SETUP)
    kernel.ok("g = %grad loss({'w': w})")
    assert kernel.value("g['w'].tolist()") == [0.0, 2.0, 4.0]


def test_a_dollar_in_a_string_argument_stays(kernel):
    kernel.ok(SETUP)
    # expanded, "$x" would be "2.0" (three characters): the results would be 3.0 and 6.0
    kernel.ok('d = %grad tag("$x", x) --argnums 1')
    assert kernel.value("float(d)") == 2.0
    kernel.ok('j = %jit tag("$x", x) --static-argnums 0 --quiet')
    assert kernel.value("float(j)") == 4.0
