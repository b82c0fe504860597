"""`%numerics` in a real kernel: a training step whose gradient is NaN through `jnp.where`
is traced to its line with the double-where fix; bad input is one short message, the kernel
stays alive and the user's variables are unchanged."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.kernel

SETUP = """def step(w, x):
    y = x @ w
    safe = jnp.where(y > 0, jnp.log(y), 0.0)
    return jnp.mean(safe ** 2)

w = jnp.array([[1.0, 0.0], [0.0, 0.0]])
x = jnp.ones((3, 2))
"""


@pytest.fixture(scope="module", autouse=True)
def setup(kernel):
    kernel.ok(SETUP)


def test_grad_nan_through_where_names_the_line_and_the_double_where(kernel):
    cell = kernel.run("%numerics --grad step(w, x)")
    setup_cell = cell.execution_count - 1
    assert cell.status == "ok", cell.error
    shown = cell.text + cell.html
    assert f"In [{setup_cell}], line 3" in shown, shown
    assert "double-where" in shown
    # the result is returned: n = %numerics ...
    kernel.ok("n = %numerics --grad step(w, x)")
    assert kernel.value("n.origin.line") == 3
    assert kernel.value("n.origin.trap") == "NaN gradient through jnp.where"
    assert kernel.value("n.origin.phase") == "forward"
    assert kernel.value("n.origin.where") == f"In [{setup_cell}], line 3"
    assert kernel.value("bool(jnp.isnan(n.output[1]).any())") is True
    assert kernel.value("sorted({r.phase for r in n.equation_stats})") == ["backward", "forward"]


def test_options_argnums_and_only(kernel):
    kernel.ok("g1 = %numerics --grad --argnums 1 step(w, x)")
    assert kernel.value("n.output[1].shape == w.shape and g1.output[1].shape == x.shape")
    kernel.ok("part = %numerics --only 2-2 step(w, x)")
    assert kernel.value("[r.primitive for r in part.equation_stats]") == ["dot_general"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%numerics w(x)", "not a function"),
        ("%numerics step(w, undefined_name)", "undefined_name"),
        ("%numerics step(w, jnp.ones((3, 5)))", "dot_general"),
        ("%numerics --only nowhere step(w, x)", "matched no equation"),
        ("%numerics --grad --argnums 7 step(w, x)", "argnums"),
    ],
)
def test_bad_input_is_one_short_message(kernel, line, expected):
    kernel.fails_cleanly(line, expected)
