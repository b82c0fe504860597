"""An Equinox training step (an eqx.nn.MLP, whose leaves include its activation functions,
through eqx.filter_value_and_grad inside eqx.filter_jit) through the magics of a real kernel:
every analysis works, and the signature shows the activation functions held static."""

from __future__ import annotations

import pytest

from tests.kernel._client import Kernel

pytestmark = pytest.mark.kernel

pytest.importorskip("equinox", reason="equinox is not installed: pip install -e '.[libraries]'")
pytest.importorskip("optax", reason="optax is not installed: pip install -e '.[libraries]'")

# the training step of the Equinox docs, as the library corpus runs it
SETUP = """
from tests.library_programs import equinox_mlp_step

program = equinox_mlp_step()
step = program.fn
model, opt_state, x, y = program.args
weights_before = [np.asarray(layer.weight).copy() for layer in model.layers]
"""

STATIC = "model: MLP(6 arrays, 488 B; static activation, final_activation)"


@pytest.fixture(scope="module", autouse=True)
def setup(kernel: Kernel) -> None:
    kernel.ok(SETUP)


def _model_untouched(kernel: Kernel) -> None:
    assert kernel.value(
        "all(bool((np.asarray(l.weight) == w).all()) for l, w in zip(model.layers, weights_before))"
    )
    assert kernel.value("model.activation is jax.nn.relu")


def test_inspect_shows_the_activation_functions_static(kernel: Kernel):
    result = kernel.ok("insp = %inspect step(model, opt_state, x, y)\ninsp")
    assert STATIC in result.text, result.text
    assert "Error interpreting argument" not in result.text + result.stderr
    assert kernel.value("type(insp).__name__") == "Inspection"
    assert kernel.value("len(insp.jaxpr.eqns) > 0")
    assert "static activation" in result.html
    _model_untouched(kernel)


def test_inspect_for_tpu(kernel: Kernel):
    result = kernel.ok("lowered = %inspect --platforms tpu step(model, opt_state, x, y)\nlowered")
    assert STATIC in result.text, result.text
    assert "for tpu" in result.text.splitlines()[0]
    assert "lines of StableHLO" in result.text
    assert kernel.value("'func.func public @main' in lowered.stablehlo('tpu')")


def test_profile(kernel: Kernel):
    result = kernel.ok("p = %profile --runs 2 step(model, opt_state, x, y)\np")
    assert STATIC in result.text, result.text
    assert kernel.value("len(p.calls)") == 2
    _model_untouched(kernel)


def test_jit_call_returns_the_step_with_static_leaves_whole(kernel: Kernel):
    result = kernel.ok("out = %jit step(model, opt_state, x, y)")
    assert "[jaxlab] jit step(" in result.stdout and "static activation" in result.stdout
    # the returned model keeps its activation function; the loss matches a call of the step
    assert kernel.value("out[0].activation is jax.nn.relu")
    assert kernel.value("abs(float(out[2]) - float(step(model, opt_state, x, y)[2])) < 1e-6")
    kernel.ok("program.check(out)")  # the loss against NumPy's, in float64
    _model_untouched(kernel)
