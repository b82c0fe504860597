"""The compile explorer's magics in a real kernel: `%recompiles f --diff` after a shape change,
`%compile_profile` and `%passes` returning their results, and bad input."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel


def test_recompiles_diff_names_the_argument_and_shows_the_hlo_diff(kernel):
    defined = kernel.ok(
        "@jax.jit\ndef model_rd(x, scale):\n    return jnp.tanh(x * scale).sum(axis=0)\n"
        "model_rd(jnp.ones((4, 3)), 2.0)\nmodel_rd(jnp.ones((8, 3)), 2.0)"
    )
    result = kernel.ok("rd = %recompiles model_rd --diff\nrd")
    assert kernel.value("rd.changed_arguments") == ["x"]
    assert kernel.value("rd.changes[0][1:]") == ["f32[4,3]", "f32[8,3]"]
    assert kernel.value("rd.diff.hlo.changed") is True
    assert kernel.value("rd.diff.empty") is False
    assert kernel.value("bool(rd.diff.lines.changes)") is True
    assert (
        kernel.value("rd.reason") == "x changed: f32[4,3] → f32[8,3] since the previous compilation"
    )
    html = result.html
    assert "why <code>model_rd</code> compiled again" in html
    assert "f32[8,3]" in html and "f32[4,3]" in html
    assert 'class="jl-changed"' in html or 'class="jl-added"' in html
    assert "argument x: f32[4,3] → f32[8,3]" in result.text
    # one spelling of the types in the whole view: JAX's short one, title and rows alike
    assert kernel.value("rd.diff.labels") == ["before (f32[4,3], f32[])", "now (f32[8,3], f32[])"]
    assert "float32[" not in result.text and "float32[" not in html
    # the source lines whose HLO changed are named by the notebook cell
    label = f"In [{defined.execution_count}]"
    assert f"{label}, line 3:" in result.text and f"{label}, line 3</td>" in result.html


def test_recompiles_explain_a_new_object_per_call_in_one_line(kernel):
    """A closure made inside the function is named with its cell and line, in the guard's
    warning, `%recompiles` and `%bench`'s invalid-variant note; reasons compare with the
    previous compilation, not JAX's closest key."""
    defined = kernel.ok(
        "@jax.tree_util.register_pytree_node_class\n"
        "class Term_rd:\n"
        "    def __init__(self, y, fn):\n"
        "        self.y, self.fn = y, fn\n"
        "    def tree_flatten(self):\n"
        "        return (self.y,), self.fn\n"
        "    @classmethod\n"
        "    def tree_unflatten(cls, fn, children):\n"
        "        return cls(children[0], fn)\n"
        "@jax.jit\n"
        "def solve_rd(term):\n"
        "    return term.fn(term.y)\n"
        "def step_rd(y):\n"
        "    return solve_rd(Term_rd(y, lambda v: v * 2))"
    )
    made = f"In [{defined.execution_count}], line 14"
    one_line = (
        f"`term.fn` is a new object at each call: the lambda inside `step_rd` created at {made}"
    )
    warned = kernel.ok("for _ in range(12):\n    step_rd(jnp.ones(3))")
    shown = warned.html + warned.text + warned.stdout + warned.stderr
    assert one_line in warned.text, shown
    assert "<code>term.fn</code> is a new object at each call" in warned.html
    assert "0x" not in shown and "pytree metadata" not in shown and "`" not in warned.html
    listed = kernel.ok("%recompiles solve_rd")
    assert one_line in listed.text and "0x" not in listed.text + listed.html
    bench = kernel.ok("b_rd = %bench step_rd(jnp.ones(3)) --time-budget 0.02 --no-peak\nb_rd")
    note = bench.html + bench.text
    assert "is a new object at each call: the lambda inside `step_rd`" in bench.text, note
    assert "0x" not in note and "pytree metadata" not in note
    kernel.ok(
        "@jax.jit\ndef grow_rd(x):\n    return x * 2\nfor n in (1, 6, 7):\n    grow_rd(jnp.ones(n))"
    )
    listed = kernel.ok("%recompiles grow_rd")
    assert "x changed: f32[6] → f32[7] since the previous compilation" in listed.text
    assert "f32[1] → f32[7]" not in listed.text and "before f32[1]" not in listed.text


def test_a_diffrax_closure_under_filter_jit_is_named_in_one_line(kernel):
    pytest.importorskip("diffrax")
    defined = kernel.ok(
        "import diffrax, equinox as eqx\n"
        "@eqx.filter_jit\n"
        "def solve_dx(term, y0):\n"
        "    return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, 1.0, 0.1, y0).ys\n"
        "def step_dx(y0):\n"
        "    return solve_dx(diffrax.ODETerm(lambda t, y, args: -y), y0)"
    )
    warned = kernel.ok("for _ in range(12):\n    step_dx(jnp.ones(2))")
    line = (
        "`term.vector_field` is a new object at each call: the lambda inside `step_dx` "
        f"created at In [{defined.execution_count}], line 6"
    )
    assert line in warned.text, warned.text
    assert "0x" not in warned.text + warned.html and "PyTreeDef" not in warned.text
    listed = kernel.ok("%recompiles solve_dx")
    assert line in listed.text and "PyTreeDef" not in listed.text + listed.html
    # where the user's function is, not the library's wrapper
    assert f"defined at In [{defined.execution_count}], line 2" in listed.text
    assert "_jit.py" not in listed.text + listed.html


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
        "%inspect --compile-profile --platforms tpu cubic_cp(jnp.ones(3))", "drop --platforms"
    )
    kernel.fails_cleanly("%compile_profile", "needs an expression")
    kernel.fails_cleanly("%passes cubic_cp(undefined_cp)", "undefined_cp")
    kernel.fails_cleanly("%compile_profile 3(4)", "not a function")
    # `{x}` stays as written (no variable expansion): a set literal, not an interpolation
    kernel.fails_cleanly("%passes cubic_cp({x_cp})", "x_cp")
