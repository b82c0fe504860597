"""Magics whose result holds NaN or Inf say so in one line, with the ``%numerics`` call that
finds where the first one is made."""

from __future__ import annotations

from IPython.utils.capture import capture_output

SETUP = (
    "import jax, jax.numpy as jnp\n"
    "def sqrt_sum(x):\n"
    "    return jnp.sqrt(x).sum()\n"
    "def pair(x, y):\n"
    "    return (jnp.log(x) * y).sum()\n"
    "zero = jnp.zeros(3)\n"
    "ones = jnp.ones(3)\n"
)


def _run(ip, line: str) -> str:
    ip.run_cell(SETUP)
    with capture_output() as out:
        ip.run_cell(line)
    return out.stdout


def _hint_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "the result holds" in line]


def test_grad_with_a_nan_names_the_numerics_call(ip):
    out = _run(ip, "g = %grad sqrt_sum(zero)")
    (line,) = _hint_lines(out)
    assert line == (
        "[jaxlab] the result holds 3 +Inf; find where the first one is made: "
        "%numerics --grad sqrt_sum(zero)"
    )
    assert ip.user_ns["g"].shape == (3,)  # the value is still returned


def test_grad_argnums_and_jit_static_options_carry_over(ip):
    out = _run(ip, "g = %grad --argnums 1 pair(zero, ones)")
    assert _hint_lines(out)[0].endswith("%numerics --grad --argnums 1 pair(zero, ones)")
    assert "3 -Inf" in _hint_lines(out)[0]
    out = _run(ip, "r = %jit pair(zero, ones)")
    assert _hint_lines(out) == [
        "[jaxlab] the result holds 1 -Inf; find where the first one is made: "
        "%numerics pair(zero, ones)"
    ]


def test_other_transforms_name_the_transformed_call(ip):
    out = _run(ip, "j = %jacrev sqrt_sum(zero)")
    assert _hint_lines(out)[0].endswith("%numerics jax.jacrev(sqrt_sum)(zero)")
    out = _run(ip, "v = %vmap pair(zero, ones) --in-axes (0,None)")
    assert _hint_lines(out)[0].endswith("%numerics jax.vmap(pair, in_axes=(0, None))(zero, ones)")


def test_finite_results_say_nothing(ip):
    for line in (
        "g = %grad sqrt_sum(ones)",
        "r = %jit pair(ones, ones)",
        "v = %vmap pair(ones, ones)",
    ):
        assert _hint_lines(_run(ip, line)) == []


def test_bench_notes_the_nan_with_the_numerics_call(ip):
    ip.run_cell(SETUP)
    with capture_output():
        ip.run_cell("r = %bench pair(zero, ones) --time-budget 0.05")
    notes = [n.text for n in ip.user_ns["r"].notes if n.topic == "nonfinite"]
    assert notes == [
        "jit returns 1 -Inf: these are the times of a computation that went wrong; "
        "find where the first one is made: %numerics pair(zero, ones)"
    ]
