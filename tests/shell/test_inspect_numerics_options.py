"""`%inspect --numerics` with options it cannot be combined with: one short message naming
the fix, and the user's variables untouched."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from IPython.core.error import UsageError

import jaxlab


def _usage_error(ip, line: str) -> str:
    ip.run_cell("import jax.numpy as jnp\ndef f(x):\n    return jnp.log(x)\nx = jnp.ones(3)")
    with pytest.raises(UsageError) as err:
        ip.run_line_magic("inspect", line)
    assert ip.user_ns["x"].shape == (3,)
    return str(err.value)


@pytest.mark.parametrize(
    ("option", "said"), [("--numerics", "fix:"), ("--compare bf16", "--compare run the call")]
)
def test_running_options_with_platform_or_compile_profile_say_which_to_drop(ip, option, said):
    flag = option.split()[0]
    assert _usage_error(ip, f"{option} --platforms tpu f(x)") == (
        f"%inspect: {flag} runs the call on this machine; it cannot be combined with "
        "--platforms.\n  fix: drop one of them."
    )
    message = _usage_error(ip, f"{option} --compile-profile f(x)")
    assert message.startswith("%inspect: --compile-profile measures the compiler;")
    assert said in message


def test_inspect_numerics_needs_real_arrays():
    with pytest.raises(ValueError, match=r"numerics=True\)` runs the call"):
        jaxlab.inspect(jnp.log, jax.ShapeDtypeStruct((3,), jnp.float32), numerics=True)
    with pytest.raises(
        ValueError, match=r"platforms=\.\.\., numerics=\.\.\.\)`: numerics runs the call"
    ):
        jaxlab.inspect(jnp.log, jnp.ones(3), numerics=True, platforms="tpu")


def test_an_unknown_compare_lists_the_valid_ones(ip):
    message = _usage_error(ip, "--compare tf32 f(x)")
    assert message.startswith("%inspect: compare='tf32' is not a configuration jaxlab compares.")
    assert "bf16, f16, x64, eager" in message and "\n" in message


def test_inspect_compare_carries_the_comparison(ip):
    ip.run_cell(
        "import jax.numpy as jnp\n"
        "def var(x):\n"
        "    m = jnp.mean(x)\n"
        "    return jnp.mean(x * x) - m * m\n"
        "x = jnp.linspace(999.0, 1001.0, 2048)"
    )
    insp = ip.run_line_magic("inspect", "--compare bf16 --no-run var(x)")
    assert insp.numerics_diff.top["primitive"] == "sub"
    assert insp.numerics_diff.top["line"] == 4
    assert str(ip.user_ns["x"].dtype) == "float32"
