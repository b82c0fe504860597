"""The notebook guards in a real kernel, cell after cell: each warning appears once, in the cell
where the problem shows, naming the function and the variable; clean cells stay silent."""

from __future__ import annotations

import re

import pytest

from jaxlab.guards import MIME

pytestmark = pytest.mark.kernel


def guard_outputs(result) -> list[dict]:
    """The guard warnings a cell displayed (their JSON)."""
    return [d[MIME] for d in result.data if MIME in d]


def silent(kernel, code: str):
    """Run a cell that must succeed without any guard output."""
    result = kernel.ok(code)
    assert guard_outputs(result) == [], [w["summary"] for w in guard_outputs(result)]
    assert "[jaxlab]" not in result.stdout + result.stderr
    return result


def one_warning(kernel, code: str) -> tuple[dict, int]:
    """Run a cell that must succeed with exactly one guard warning; (warning, cell number)."""
    result = kernel.ok(code)
    warnings = guard_outputs(result)
    assert len(warnings) == 1, [w["summary"] for w in warnings]
    assert "text/html" in next(d for d in result.data if MIME in d)
    return warnings[0], result.execution_count


def test_stale_global_is_reported_once_at_the_cell_that_changed_it(kernel):
    silent(kernel, "W_st = jnp.ones(3)")
    silent(kernel, "@jax.jit\ndef model_st(x):\n    return x * W_st\ny_st = model_st(jnp.ones(3))")
    silent(kernel, "W_st = jnp.ones(3)")  # the same value again: nothing is stale
    warning, cell = one_warning(kernel, "W_st = 2 * jnp.ones(3)")
    assert (warning["guard"], warning["function"], warning["variable"]) == (
        "stale-closure",
        "model_st",
        "W_st",
    )
    assert warning["cell"] == cell
    assert "argument" in warning["fix"] and "model_st.clear_cache()" in warning["fix"]
    # the function really is stale: the guard is not crying wolf
    assert kernel.value("model_st(jnp.ones(3)).tolist()") == [1.0, 1.0, 1.0]
    silent(kernel, "W_st = 3 * jnp.ones(3)")  # once
    silent(kernel, "model_st.clear_cache()\ny_st = model_st(jnp.ones(3))")
    warning, cell = one_warning(kernel, "W_st = 4 * jnp.ones(3)")  # watched again after retrace
    assert (warning["variable"], warning["cell"]) == ("W_st", cell)


def test_a_global_changed_in_the_loop_that_traces_the_function(kernel):
    silent(kernel, "lr_lp = 0.1\n@jax.jit\ndef step_lp(w):\n    return w - lr_lp")
    warning, cell = one_warning(
        kernel, "out_lp = []\nfor lr_lp in [0.1, 0.01]:\n    out_lp.append(float(step_lp(1.0)))"
    )
    assert (warning["function"], warning["variable"], warning["cell"]) == (
        "step_lp",
        "lr_lp",
        cell,
    )
    assert kernel.value("out_lp") == [pytest.approx(0.9)] * 2  # the second rate never arrived


def test_stale_global_read_by_a_helper_and_by_a_magic_jitted_function(kernel):
    silent(kernel, "scale_h = 2.0\ndef helper_h(x):\n    return x * scale_h")
    silent(kernel, "def outer_h(x):\n    return helper_h(x) + 1")
    silent(kernel, "%jit --quiet outer_h\nz_h = outer_h(jnp.ones(2))")
    warning, cell = one_warning(kernel, "scale_h = 3.0")
    assert (warning["function"], warning["variable"], warning["cell"]) == (
        "outer_h",
        "scale_h",
        cell,
    )
    assert "helper_h" in warning["summary"]


def test_redefining_a_helper_makes_the_caller_stale(kernel):
    silent(kernel, "def act_r(x):\n    return jnp.tanh(x)")
    silent(kernel, "@jax.jit\ndef net_r(x):\n    return act_r(x) * 2\nq_r = net_r(1.0)")
    silent(kernel, "def act_r(x):\n    return jnp.tanh(x)")  # the same cell run again
    warning, _ = one_warning(kernel, "def act_r(x):\n    return jax.nn.relu(x)")
    assert (warning["function"], warning["variable"]) == ("net_r", "act_r")


def test_side_effects_are_reported_when_traced_once_per_site(kernel):
    silent(kernel, "log_se = []\nsteps_se = 0")
    code = (
        "import time\n"
        "@jax.jit\n"
        "def noisy_se(x):\n"
        "    global steps_se\n"
        "    print('x =', x)\n"
        "    log_se.append(x)\n"
        "    steps_se = 1\n"
        "    return x * time.time()\n"
    )
    silent(kernel, code)  # defined, not traced: nothing happened yet
    result = kernel.ok("out_se = noisy_se(1.0)")
    warnings = guard_outputs(result)
    assert [(w["kind"], w["function"], w["variable"]) for w in warnings] == [
        ("print", "noisy_se", None),
        ("mutation", "noisy_se", "log_se"),
        ("global-write", "noisy_se", "steps_se"),
        ("time", "noisy_se", None),
    ]
    assert all(w["cell"] == result.execution_count for w in warnings)
    assert "line 5" in warnings[0]["where"] and "print('x =', x)" in warnings[0]["where"]
    assert "jax.debug.print" in warnings[0]["fix"]
    assert "jax.random" not in warnings[3]["fix"] and "argument" in warnings[3]["fix"]
    silent(kernel, "out_se = noisy_se(2.0)\nout_se = noisy_se(jnp.ones(2))")
    silent(kernel, code + "out_se = noisy_se(1.0)")  # the same cell again: same sites


def test_random_module_call_points_to_explicit_keys(kernel):
    silent(kernel, "import random as pyrandom")
    warning, cell = one_warning(
        kernel, "@jax.jit\ndef noise_rd(x):\n    return x + pyrandom.random()\nn_rd = noise_rd(1.0)"
    )
    assert (warning["kind"], warning["function"], warning["cell"]) == ("random", "noise_rd", cell)
    assert "jax.random.split" in warning["fix"]


def test_recompilations_over_the_limit_and_recompiles_magic(kernel):
    silent(kernel, "@jax.jit\ndef grow_rc(x):\n    return x.sum()")
    silent(kernel, "for n in range(1, 4):\n    grow_rc(jnp.ones(n))")  # 3: under the limit
    warning, cell = one_warning(kernel, "for n in range(4, 11):\n    grow_rc(jnp.ones(n))")
    assert (warning["guard"], warning["function"], warning["cell"], warning["kind"]) == (
        "recompiles",
        "grow_rc",
        cell,
        "types",
    )
    assert "7 times" in warning["summary"]
    kernel.ok("report_rc = %recompiles\ndetail_rc = %recompiles grow_rc")
    assert kernel.value("report_rc['grow_rc'].count") == 10
    assert kernel.value("len(detail_rc.functions[0].records)") == 10
    assert kernel.value("detail_rc.functions[0].records[0].reason") == "first compilation"
    assert kernel.value("len(report_rc['grow_rc'].cells)") == 2
    # a higher limit: the same loop passes silently
    silent(kernel, "%config JaxLab.recompile_limit = 20")
    silent(kernel, "for n in range(11, 19):\n    grow_rc(jnp.ones(n))")
    silent(kernel, "%config JaxLab.recompile_limit = 5")


def test_recompiles_magic_bad_input(kernel):
    before = kernel.namespace()
    result = kernel.run("%recompiles no_such_function")
    assert result.status == "error" and result.error["ename"] == "UsageError"
    assert "no compilations of `no_such_function`" in result.error["evalue"]
    result = kernel.run("%recompiles --clear grow_rc")
    assert result.status == "error" and "takes no function name" in result.error["evalue"]
    result = kernel.run("%recompiles --frobnicate")
    assert result.status == "error" and "%recompiles?" in result.error["evalue"]
    assert kernel.alive()
    assert kernel.namespace() == before


def test_friendly_errors_in_ordinary_cells_keep_the_original(kernel):
    result = kernel.run(
        "@jax.jit\ndef sign_fe(x):\n    if x > 0:\n        return x\n    return -x\nsign_fe(1.0)"
    )
    assert result.status == "error" and result.error["ename"] == "TracerBoolConversionError"
    first, *rest = result.error["traceback"]
    assert "[jaxlab]" in first and "`sign_fe`" in first and "if x > 0:" in first
    assert "jax.lax.cond" in first
    assert any("TracerBoolConversionError" in line for line in rest)  # the original underneath
    # wrapped at spaces: JupyterLab breaks a longer line of an error anywhere, mid-word
    header = re.sub(r"\x1b\[[0-9;]*m", "", first).split("\n  (the original error")[0]
    assert len(header.split("\n")) >= 3 and max(map(len, header.split("\n"))) <= 88

    result = kernel.run("a_fe = jnp.arange(3)\na_fe[0] = 10")
    assert result.error["ename"] == "TypeError"
    assert ".at[i].set(v)" in result.error["traceback"][0]
    assert kernel.value("a_fe.tolist()") == [0, 1, 2]

    result = kernel.run("jax.jit(lambda x, n: jnp.zeros(n) + x)(1.0, 3)")
    assert result.error["ename"] == "TypeError"
    assert "static" in result.error["traceback"][0]

    kernel.ok("leak_fe = []\n@jax.jit\ndef leaky_fe(x):\n    leak_fe.append(x)\n    return x")
    kernel.ok("leaky_fe(1.0)")
    result = kernel.run("leak_fe[0] + 1")
    assert result.error["ename"] == "UnexpectedTracerError"
    assert "escaped" in result.error["traceback"][0]

    result = kernel.run("len(3)")  # not a JAX pitfall: shown as usual
    assert result.error["ename"] == "TypeError" and "[jaxlab]" not in result.error["traceback"][0]


GUARDS_OFF = (
    "%config JaxLab.stale_closures = False\n%config JaxLab.side_effects = False\n"
    "%config JaxLab.recompiles = False\n%config JaxLab.friendly_errors = False"
)
GUARDS_ON = GUARDS_OFF.replace("False", "True")
HOOKS = "__import__('jaxlab.magics._guards', fromlist=['_']).hooks_of(get_ipython())"


def test_each_guard_can_be_turned_off(kernel):
    kernel.ok(GUARDS_OFF)
    try:
        silent(kernel, "W_off = 1.0\n@jax.jit\ndef f_off(x):\n    print(x)\n    return x * W_off")
        silent(kernel, "for n in range(1, 9):\n    f_off(jnp.ones(n))")
        silent(kernel, "W_off = 2.0")
        result = kernel.run("b_off = jnp.ones(2)\nb_off[0] = 3")
        assert result.error["ename"] == "TypeError"
        assert "[jaxlab]" not in result.error["traceback"][0]
    finally:
        enabled = kernel.ok(GUARDS_ON)
    # turned on again, the guards look at what is there now: f_off is traced and prints
    assert [(w["kind"], w["function"]) for w in guard_outputs(enabled)] == [("print", "f_off")]
    # traced again from scratch in one cell: the current value is the one watched
    silent(kernel, "f_off.clear_cache()\nW_off = 3.0\ny_off = f_off(1.0)")
    warning, _ = one_warning(kernel, "W_off = 4.0")
    assert (warning["function"], warning["variable"]) == ("f_off", "W_off")


def test_config_lists_the_options_and_rejects_bad_values(kernel):
    result = kernel.ok("%config JaxLab")
    for option in (
        "stale_closures",
        "side_effects",
        "recompiles",
        "recompile_limit",
        "friendly_errors",
    ):
        assert f"JaxLab.{option}" in result.stdout
    before = kernel.namespace()
    result = kernel.run("%config JaxLab.recompile_limit = -3")
    assert "should not be less than 1" in result.stderr
    result = kernel.run("%config JaxLab.recompile_limit = 'many'")
    assert "expected an int" in result.stderr
    assert kernel.value(f"{HOOKS}.config.recompile_limit") == 5
    assert kernel.alive() and kernel.namespace() == before


def test_an_internal_failure_is_one_line_and_never_breaks_the_cell(kernel):
    try:
        result = kernel.ok(
            "import jaxlab.guards._stale as stale_mod_if\n"
            "original_check_if = stale_mod_if.StaleClosureGuard.check\n"
            "def broken_check_if(self, *args):\n"
            "    raise RuntimeError('simulated failure')\n"
            "stale_mod_if.StaleClosureGuard.check = broken_check_if\n"
            "value_if = 40 + 2\n"
            "value_if"
        )
        assert result.text == "42"
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("[jaxlab] guard failure")
        assert "simulated failure" in lines[0] and "JaxLab.stale_closures = True" in lines[0]
        assert guard_outputs(result) == []
        silent(kernel, "value_if = 43")  # turned off: no repeat
        assert kernel.value(f"{HOOKS}.config.stale_closures") is False
    finally:
        kernel.ok(
            "stale_mod_if.StaleClosureGuard.check = original_check_if\n"
            "%config JaxLab.stale_closures = True"
        )


def test_clean_cells_are_silent(kernel):
    silent(kernel, "def poly_cl(x):\n    return x**2 + 2*x + 1\njit_poly_cl = jax.jit(poly_cl)")
    silent(
        kernel, "v_cl = jit_poly_cl(3.0)\nv_cl = jit_poly_cl(4.0)\ng_cl = jax.grad(poly_cl)(3.0)"
    )
    silent(kernel, "x_cl = jnp.arange(4.0)\nx_cl = x_cl.at[0].set(10.0)")
    silent(kernel, "%jit --quiet poly_cl\nv_cl = poly_cl(2.0)")
    silent(
        kernel,
        "def dbg_cl(x):\n    jax.debug.print('x={}', x)\n    return x\n_ = jax.jit(dbg_cl)(1.0)",
    )
