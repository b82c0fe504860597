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


def test_numerics_with_platform_or_compile_profile_says_which_to_drop(ip):
    assert _usage_error(ip, "--numerics --platforms tpu f(x)") == (
        "%inspect: --numerics runs the call on this machine; it cannot be combined with "
        "--platforms.\n  fix: drop one of them."
    )
    message = _usage_error(ip, "--numerics --compile-profile f(x)")
    assert message.startswith("%inspect: --compile-profile measures the compiler;")
    assert "fix:" in message


def test_inspect_numerics_needs_real_arrays():
    with pytest.raises(ValueError, match=r"numerics=True\)` runs the call"):
        jaxlab.inspect(jnp.log, jax.ShapeDtypeStruct((3,), jnp.float32), numerics=True)
    with pytest.raises(
        ValueError, match=r"platforms=\.\.\., numerics=\.\.\.\)`: numerics runs the call"
    ):
        jaxlab.inspect(jnp.log, jnp.ones(3), numerics=True, platforms="tpu")
