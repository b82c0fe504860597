"""`%numerics f(x) --compare C` in a real kernel: the variance written as E[x²]−E[x]² loses its
value in bf16 at the subtraction, named with its cell and line and the `jnp.var` fix; bad
compare values are one short message and the kernel's variables are unchanged."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel

SETUP = """import numpy as np
def variance(x, scale):
    m = jnp.mean(x)
    m2 = jnp.mean(x * x)
    return (m2 - m * m) * scale

x = jnp.asarray(np.random.default_rng(0).normal(1000.0, 1.0, 4096).astype(np.float32))
scale = jnp.float32(1.0)
"""


@pytest.fixture(scope="module", autouse=True)
def setup(kernel):
    kernel.ok(SETUP)


def test_compare_bf16_names_the_subtraction(kernel):
    cell = kernel.run("%numerics variance(x, scale) --compare bf16")
    setup_cell = cell.execution_count - 1
    assert cell.status == "ok", cell.error
    shown = cell.text + cell.html
    assert f"sub at In [{setup_cell}], line 5 makes the most error" in shown, shown
    assert "jnp.var" in shown
    kernel.ok("d = %numerics variance(x, scale) --compare bf16 --cast x")
    assert kernel.value("d.top['primitive']") == "sub"
    assert kernel.value("d.top['line']") == 5
    assert kernel.value("d.cast") == ["x"]
    assert kernel.value("str(x.dtype)") == "float32"
    assert kernel.value("d.output_error > 0.5") is True


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%numerics variance(x, scale) --compare tf32", "bf16, f16, x64, eager"),
        ("%numerics variance(x, scale) --compare bf16 --cast nothing", "names no argument"),
        ("%numerics variance(x, scale) --cast x", "add --compare"),
    ],
)
def test_bad_compare_is_one_short_message(kernel, line, expected):
    kernel.fails_cleanly(line, expected)


def test_bench_mismatch_names_the_creator(kernel):
    # NumPy float64 data: JAX computes in float32, NumPy in float64
    kernel.ok("x64_data = np.asarray(x, np.float64)")
    kernel.ok("r = %bench variance(x64_data, 1.0) --vs numpy --time 0.02 --no-roofline")
    problems = kernel.value("[m.message for m in r.mismatches]")
    assert problems, "the float32 variance of data with mean 1000 should disagree with NumPy"
    jit_numpy = [p for p in problems if "jit" in p and "numpy" in p]
    assert jit_numpy, problems
    assert "sub at In [" in jit_numpy[0] and "line 5 makes most of it" in jit_numpy[0]
    assert "jnp.var" in jit_numpy[0]


def test_cast_report_line_ends_with_the_compare_call_that_confirms_it(kernel):
    kernel.ok(
        "def overflowing(v):\n"
        "    e = jnp.exp(v)\n"
        "    return e / 1024.0\n"
        "big = jnp.linspace(10.0, 13.0, 300)"
    )
    cell = kernel.run("n = %numerics overflowing(big)\nn")
    assert cell.status == "ok", cell.error
    f16 = next(line for line in cell.text.splitlines() if line.strip().startswith("f16:"))
    call = "%numerics overflowing(big) --compare f16"
    assert f16.endswith(f"run the cast program to see the error it makes: {call}"), f16
    assert kernel.value("n.compare_call('f16')") == call
    report = kernel.run("n.cast_report('f16')")
    assert report.text.splitlines()[-1].endswith(call), report.text
    kernel.ok(f"d = {call}")
    assert kernel.value("d.top['primitive']") == "exp"
    assert kernel.value("d.top['line']") == kernel.value(
        "n.equation_stats[n.cast_report('f16')[0]['row']].line"
    )
    overflowed = kernel.value("d.top['candidate_nonfinite']")
    assert (
        overflowed == kernel.value("round(n.cast_report('f16')[0]['overflow_frac'] * big.size)") > 0
    )
