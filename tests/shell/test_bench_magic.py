"""``%bench`` / ``%%bench`` in IPython's in-process shell: options, scope, cell form."""

from __future__ import annotations

import pytest

from jaxlab import BenchResult

FAST = "--time-budget 0.02 --no-peak"


@pytest.fixture(scope="module", autouse=True)
def setup(ip):
    ip.run_cell(
        "import numpy as np\n"
        "def cube_sum(x):\n    return x + x*x + x*x*x\n"
        "xb = jnp.ones((16, 16))\n"
        "xb_np = np.ones((16, 16), np.float32)\n"
    )


def test_help_is_the_manual(ip):
    doc = ip.find_line_magic("bench").__doc__
    for option in ("--vs", "--sizes", "--make", "--x64", "--dtype", "--time", "--traceback", "-o"):
        assert option in doc
    assert ip.find_cell_magic("bench") is not None


def test_line_form_returns_a_result(ip):
    ip.run_cell(f"r_line = %bench cube_sum(xb) {FAST}")
    r = ip.user_ns["r_line"]
    assert isinstance(r, BenchResult)
    assert r.variant_names == ["jit", "eager", "numpy"]


def test_output_option_and_timeit_style_o(ip):
    ip.run_cell(f"%bench -o r_named cube_sum(xb) --variants jit {FAST}")
    assert ip.user_ns["r_named"].variant_names == ["jit"]
    ip.run_cell(f"r_o = %bench -o cube_sum(xb) --variants jit {FAST}")
    assert isinstance(ip.user_ns["r_o"], BenchResult)


def test_vs_options(ip):
    ip.run_cell(
        "def cube_np(x):\n    return x + x*x + x*x*x\n"
        f"r_vs = %bench cube_sum(xb) --vs numpy:cube_np --vs torch {FAST}"
    )
    r = ip.user_ns["r_vs"]
    assert r.variant_names == ["jit", "eager", "numpy", "torch"]
    assert "cube_np (given)" in next(v.how for v in r.variants if v.name == "numpy")
    ip.run_cell(f"r_none = %bench cube_sum(xb) --vs none {FAST}")
    assert ip.user_ns["r_none"].variant_names == ["jit", "eager"]


def test_sweep_options(ip):
    ip.run_cell(f"r_sw = %bench cube_sum(xb) --sizes 4,16 --make 'lambda n: (jnp.ones(n),)' {FAST}")
    r = ip.user_ns["r_sw"]
    assert r.sweep and r.sizes == [4, 16]
    assert r.timing("jit", 16).signature == "f32[16]"


def test_magic_sees_local_variables(ip):
    ip.run_cell(
        "def local_bench():\n"
        "    y = jnp.ones(8)\n"
        f"    r = %bench cube_sum(y) --variants jit {FAST}\n"
        "    return r\n"
        "r_local = local_bench()"
    )
    assert ip.user_ns["r_local"].timing("jit").signature == "f32[8]"


def test_cell_form_with_calls_and_functions(ip):
    ip.run_cell(
        f"%%bench -o r_cell {FAST}\n"
        "jit: jax.jit(cube_sum)(xb)\n"
        "# a comment line\n"
        "numpy: cube_sum(xb_np)\n"
    )
    r = ip.user_ns["r_cell"]
    assert r.variant_names == ["jit", "numpy"] and r.baseline == "numpy"
    # titled by the cell's variants and what each calls
    assert r.label == "jit: cube_sum(f32[16,16]), numpy: cube_sum(f32[16,16])", r.label
    ip.run_cell("cube_jit = jax.jit(cube_sum)\n")
    ip.run_cell(f"%%bench -o r_fns xb {FAST}\njit: cube_jit\nnumpy: cube_sum\n")
    r = ip.user_ns["r_fns"]
    assert r.timing("jit").compile_s is not None
    assert r.timing("numpy").out_dtypes == ["float32"]
    assert r.valid


def test_cell_form_sweep(ip):
    ip.run_cell("cube_jit = jax.jit(cube_sum)")
    ip.run_cell(
        f"%%bench -o r_cell_sweep --sizes 8,64 --make 'lambda n: (jnp.ones(n),)' {FAST}\n"
        "jit: cube_jit\nnumpy: cube_sum\n"
    )
    r = ip.user_ns["r_cell_sweep"]
    assert r.sizes == [8, 64] and r.variant_names == ["jit", "numpy"]
    assert r.timing("numpy", 64).transfer_s is None
    assert r.timing("jit", 64).compile_s is not None
    assert r.valid


def test_cell_form_rejects_sweeps_of_fixed_calls(ip):
    result = ip.run_cell(f"%%bench --sizes 8,64 {FAST}\njit: cube_jit(xb)\n")
    assert not result.success
    assert "fixed arguments" in str(result.error_in_exec)
