"""The guards follow what JAX traced, not names, in a real kernel: jitted callables created
inline, with static arguments, under grad, passed to a helper, kept in a dict or on an object,
pmap, shard_map and checkpoint; NumPy arrays and containers changed in place; values read through
attributes and enclosing functions; same-named functions in different cells. Each mistake gives
one warning at the cell that shows it, naming the function and the value; the same code written
correctly stays silent."""

from __future__ import annotations

import re

import pytest

from tests.kernel.test_guards import guard_outputs, one_warning, silent

pytestmark = pytest.mark.kernel


def warns_stale(kernel, change: str, function: str, variable: str) -> dict:
    """Run `change`: exactly one stale-value warning, at that cell, naming `function` and
    `variable`."""
    warning, cell = one_warning(kernel, change)
    found = (warning["guard"], warning["function"], warning["variable"], warning["cell"])
    assert found == ("stale-closure", function, variable, cell)
    return warning


@pytest.mark.parametrize(
    ("label", "define", "call", "function"),
    [
        (
            "inline",
            "def g_in(x):\n    print(x)\n    return x * 2",
            "z_in = jax.jit(g_in)(1.0)",
            "g_in",
        ),
        (
            "static",
            "def g_st(x, n):\n    print(n)\n    return x * n",
            "z_st = jax.jit(g_st, static_argnums=1)(1.0, 3)",
            "g_st",
        ),
        (
            "grad",
            "def g_gr(x):\n    print(x)\n    return (x ** 2).sum()",
            "z_gr = jax.grad(jax.jit(g_gr))(jnp.ones(3))",
            "g_gr",
        ),
        (
            "helper",
            "def g_hp(x):\n    print(x)\n    return x + 1\ndef run_hp(f, x):\n    return f(x)",
            "z_hp = run_hp(jax.jit(g_hp), 1.0)",
            "g_hp",
        ),
        (
            "dict",
            "def g_dc(x):\n    print(x)\n    return x + 1\nfns_dc = {'step': jax.jit(g_dc)}",
            "z_dc = fns_dc['step'](1.0)",
            "g_dc",
        ),
        (
            "object",
            "def g_ob(x):\n    print(x)\n    return x + 1\nimport types\n"
            "box_ob = types.SimpleNamespace(step=jax.jit(g_ob))",
            "z_ob = box_ob.step(1.0)",
            "g_ob",
        ),
        (
            "checkpoint",
            "def g_cp(x):\n    print(x)\n    return jnp.sin(x)",
            "z_cp = jax.jit(jax.checkpoint(g_cp))(1.0)",
            "g_cp",
        ),
        (
            "pmap",
            "def g_pm(x):\n    print(x)\n    return x + 1",
            "z_pm = jax.pmap(g_pm)(jnp.ones((jax.local_device_count(), 2)))",
            "g_pm",
        ),
        (
            "shard_map",
            "def g_sm(x):\n    print(x)\n    return x * 2\n"
            "from jax.sharding import PartitionSpec as P\n"
            "mesh_sm = jax.make_mesh((jax.device_count(),), ('i',))",
            "z_sm = jax.jit(jax.shard_map(g_sm, mesh=mesh_sm, in_specs=P(), out_specs=P()))"
            "(jnp.ones(4))",
            "g_sm",
        ),
    ],
)
def test_print_at_trace_time_wherever_the_jitted_callable_lives(
    kernel, label, define, call, function
):
    silent(kernel, define)  # nothing traced yet
    result = kernel.ok(call)
    warnings = guard_outputs(result)
    assert [(w["guard"], w["kind"], w["function"]) for w in warnings] == [
        ("side-effect", "print", function)
    ], label
    assert warnings[0]["cell"] == result.execution_count
    assert re.match(r"In \[\d+\], line 2", warnings[0]["where"]), warnings[0]["where"]
    silent(kernel, call)  # once per source line
    # written the JAX way: silent
    clean = define.replace("print(x)", "jax.debug.print('{}', x)").replace(
        "print(n)", "jax.debug.print('{}', n)"
    )
    silent(kernel, clean)
    silent(kernel, call)


STALE_CASES = {
    "numpy in place": (
        "w_np = np.ones(3)\ndef lin_np(x):\n    return x * w_np\nf_np = jax.jit(lin_np)",
        "y_np = f_np(1.0)",
        "w_np[0] = 5.0",
        ("f_np", "w_np", "global `w_np`"),
    ),
    "large numpy in place, inline jit": (
        "big_np = np.zeros(2_000_000)\ndef pick_np(x):\n    return x + big_np[-1]",
        "y2_np = jax.jit(pick_np)(1.0)",
        "big_np[-1] = 3.0",
        ("pick_np", "big_np", "jax.clear_caches()"),
    ),
    "container in place": (
        "table_ct = [1.0, 2.0]\n@jax.jit\ndef use_ct(x):\n    return x * table_ct[0]",
        "y_ct = use_ct(1.0)",
        "table_ct[0] = 4.0",
        ("use_ct", "table_ct", "changed in place"),
    ),
    "attribute": (
        "import types\ncfg_at = types.SimpleNamespace(lr=0.1)\n"
        "@jax.jit\ndef step_at(w):\n    return w - cfg_at.lr",
        "y_at = step_at(1.0)",
        "cfg_at.lr = 0.5",
        ("step_at", "cfg_at.lr", "attribute `cfg_at.lr`"),
    ),
    "self attribute": (
        "class Model_sa:\n    def __init__(self):\n        self.w = jnp.ones(3)\n"
        "    def apply(self, x):\n        return x * self.w\n"
        "m_sa = Model_sa()\nfwd_sa = jax.jit(m_sa.apply)",
        "y_sa = fwd_sa(1.0)",
        "m_sa.w = 2 * jnp.ones(3)",
        ("fwd_sa", "self.w", "attribute `self.w`"),
    ),
    "enclosing variable": (
        "def make_ef():\n    scale = np.ones(2)\n"
        "    return jax.jit(lambda x: x * scale), scale\nf_ef, scale_ef = make_ef()",
        "y_ef = f_ef(1.0)",
        "scale_ef[0] = 9.0",
        ("f_ef", "scale", "enclosing variable `scale`"),
    ),
}


@pytest.mark.parametrize("case", list(STALE_CASES))
def test_stale_values_of_every_kind(kernel, case):
    define, call, change, (function, variable, phrase) = STALE_CASES[case]
    silent(kernel, define)
    silent(kernel, call)
    warning = warns_stale(kernel, change, function, variable)
    assert phrase in warning["summary"] + warning["fix"]
    silent(kernel, change)  # said once
    silent(kernel, call.split(" = ")[0] + " = 0")  # unrelated


def test_numpy_array_changed_in_place_really_is_stale(kernel):
    silent(
        kernel,
        "w_rs = np.ones(3)\n@jax.jit\ndef lin_rs(x):\n    return x * w_rs\ny_rs = lin_rs(1.0)",
    )
    warning = warns_stale(kernel, "w_rs[0] = 5.0", "lin_rs", "w_rs")
    assert warning["kind"] == "in-place" and "changed in place" in warning["summary"]
    assert kernel.value("lin_rs(1.0).tolist()") == [1.0, 1.0, 1.0]  # the guard is right
    # the correct way: the array is an argument; changing it is fine
    silent(kernel, "w2_rs = np.ones(3)\n@jax.jit\ndef lin2_rs(x, w):\n    return x * w")
    silent(kernel, "y2_rs = lin2_rs(1.0, w2_rs)")
    silent(kernel, "w2_rs[0] = 5.0\ny2_rs = lin2_rs(1.0, w2_rs)")


def test_same_named_functions_in_different_cells_keep_their_own_history(kernel):
    silent(
        kernel,
        "@jax.jit\ndef twin_sn(x):\n    return x + 1\n"
        "for n in range(1, 4):\n    twin_sn(jnp.ones(n))",
    )
    silent(kernel, "first_sn = twin_sn")
    result = kernel.ok(
        "@jax.jit\ndef twin_sn(x):\n    return x * 2\n"
        "for n in range(1, 5):\n    twin_sn(jnp.ones(n))"
    )
    assert guard_outputs(result) == []  # 4 compilations of the new one, not 3 + 4
    kernel.ok("r_sn = %recompiles twin_sn")
    assert kernel.value("[f.count for f in r_sn.functions]") == [3, 4]
    labels = kernel.value("[f.label for f in r_sn.functions]")
    assert labels[0] == "twin_sn" and labels[1] == f"twin_sn (In [{result.execution_count}])"
    silent(kernel, "first_sn(jnp.ones(9))")
    kernel.ok("r_sn = %recompiles twin_sn")
    assert kernel.value("[f.count for f in r_sn.functions]") == [4, 4]
