"""The compile explorer's magics in a real kernel: `%recompiles f --diff` after a shape change,
`%compile_profile` and `%passes` returning their results, and bad input."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel


def test_recompiles_diff_names_the_argument_and_shows_the_hlo_diff(kernel):
    kernel.ok(
        "@jax.jit\ndef model_rd(x, scale):\n    return jnp.tanh(x * scale).sum(axis=0)\n"
        "model_rd(jnp.ones((4, 3)), 2.0)\nmodel_rd(jnp.ones((8, 3)), 2.0)"
    )
    result = kernel.ok("rd = %recompiles model_rd --diff\nrd")
    assert kernel.value("rd.changed_arguments") == ["x"]
    assert kernel.value("rd.changes[0][1:]") == ["float32[4,3]", "float32[8,3]"]
    assert kernel.value("rd.diff.hlo.changed") is True
    assert kernel.value("rd.diff.empty") is False
    assert kernel.value("bool(rd.diff.lines.changes)") is True
    assert "x" in kernel.value("rd.reason")  # JAX's cache-miss reason names the argument
    html = result.html
    assert "why <code>model_rd</code> compiled again" in html
    assert "f32[8,3]" in html and "f32[4,3]" in html
    assert 'class="jl-changed"' in html or 'class="jl-added"' in html
    assert "argument x: float32[4,3] → float32[8,3]" in result.text


def test_recompiles_diff_bad_input(kernel):
    kernel.ok("@jax.jit\ndef once_rd(x):\n    return x + 1\nonce_rd(jnp.ones(2))")
    kernel.fails_cleanly("%recompiles --diff", "needs a function's name")
    kernel.fails_cleanly("%recompiles once_rd --diff", "fewer than two recorded compilations")
    kernel.fails_cleanly("%recompiles nothing_rd --diff", "no compilations of `nothing_rd`")


def test_compile_profile_and_passes_magics(kernel):
    kernel.ok("def cubic_cp(x):\n    return x + x * x + x * x * x")
    result = kernel.ok("cp = %compile_profile cubic_cp(jnp.ones(1000))\ncp")
    assert "compile profile of <code>cubic_cp</code>" in result.html
    assert kernel.value("len(cp.passes) > 10") is True
    assert kernel.value("cp.by_line()[0]['code']") == "return x + x * x + x * x * x"
    result = kernel.ok("ps = %passes cubic_cp(jnp.ones(1000))\nps")
    assert kernel.value("ps.created('fusion').name") == "fusion"
    assert "fusion" in result.html and "<details>" in result.html
    kernel.ok("ip = %inspect --compile-profile cubic_cp(jnp.ones(1000))")
    assert kernel.value("type(ip).__name__") == "CompileProfile"
    assert kernel.value("ip.by_line()[0]['code']") == "return x + x * x + x * x * x"
    kernel.fails_cleanly(
        "%inspect --compile-profile --platform tpu cubic_cp(jnp.ones(3))", "drop --platform"
    )
    kernel.fails_cleanly("%compile_profile", "needs an expression")
    kernel.fails_cleanly("%passes cubic_cp(undefined_cp)", "undefined_cp")
    kernel.fails_cleanly("%compile_profile 3(4)", "not a function")
    # `{x}` stays as written (no variable expansion): a set literal, not an interpolation
    kernel.fails_cleanly("%passes cubic_cp({x_cp})", "x_cp")
