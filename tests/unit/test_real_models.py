"""Flax nnx and Optax code as a user writes it: the inspector's title summarises the model and
optimizer state, library frames fold, `flax.nnx.jit` steps can be inspected."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.core.jit import ReportingJit

nnx = pytest.importorskip("flax.nnx")
optax = pytest.importorskip("optax")


class MLP(nnx.Module):
    def __init__(self, rngs):
        self.l1 = nnx.Linear(4, 32, rngs=rngs)
        self.l2 = nnx.Linear(32, 1, rngs=rngs)

    def __call__(self, x):
        return self.l2(nnx.relu(self.l1(x)))


def loss_fn(model, x, y):
    return jnp.mean((model(x) - y) ** 2)


@pytest.fixture
def setup():
    model = MLP(nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    return model, opt, jnp.ones((16, 4)), jnp.ones((16, 1))


def test_functional_step_folds_flax_and_optax_frames(setup):
    model, opt, x, y = setup
    graphdef, state = nnx.split((model, opt))

    def train_step(state, x, y):
        model, opt = nnx.merge(graphdef, state, copy=True)
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        opt.update(model, grads)
        return loss, nnx.state((model, opt))

    insp = jaxlab.inspect(train_step, state, x, y, run=False)
    assert insp.arguments.text == "state: State(14 arrays, 2.27 KiB), x: f32[16,4], y: f32[16,1]"
    assert len(insp.arguments.leaves) == 16
    blocks = insp.sources
    assert blocks[0].function == "" and "def train_step" in blocks[0].lines[0]
    libraries = [b for b in blocks if b.library]
    packages = {b.file.split("site-packages/")[-1].split("/")[0] for b in libraries}
    assert packages >= {"flax", "optax"}
    assert all(not b.library for b in blocks[: len(blocks) - len(libraries)])  # user's first
    panes = next(s for s in insp.view_model()["sections"] if s["kind"] == "panes")
    source = panes["panes"][0]
    folds = source["folds"]
    assert len(folds) == len(libraries)
    linear = next(f for f in folds if "flax/nnx/nn/linear.py" in source["lines"][f["header"]])
    assert linear["equations"] >= 2 and linear["kernels"] >= 1
    assert f"{linear['equations']} equations" in source["lines"][linear["header"]]
    # the folded header links every group of its lines: hovering it lights its equations
    header_groups = source["links"][linear["header"]]
    header_groups = header_groups if isinstance(header_groups, list) else [header_groups]
    inside = range(linear["first"], linear["last"] + 1)
    assert header_groups and all(g in inside for g in header_groups)
    jaxpr_links = panes["panes"][1]["links"]
    lit = [v for v in jaxpr_links if set(v if isinstance(v, list) else [v]) & set(header_groups)]
    assert len(lit) == linear["equations"]
    # kernels name the user's lines, and count the libraries'
    fusions = next(s for s in insp.view_model()["sections"] if s["kind"] == "fusions")
    texts = fusions["kernels"]["sources"]
    assert any("test_real_models.py:" in t and "in flax" in t for t in texts)


def test_nnx_jit_step_is_staged_without_touching_the_model(setup):
    model, opt, x, y = setup

    @nnx.jit
    def step(model, opt, x, y):
        loss, grads = nnx.value_and_grad(loss_fn)(model, x, y)
        opt.update(model, grads)
        return loss

    before = model.l1.kernel[...]
    insp = jaxlab.inspect(step, model, opt, x, y)
    assert insp.signature.startswith("step(model: MLP(4 arrays, ")
    assert "opt: Optimizer(10 arrays, " in insp.signature
    assert model.l1.kernel[...] is before  # the caller's model is not updated


def test_jit_report_summarises_pytrees():
    lines = []

    def apply(params, x):
        return sum(p["w"].sum() for p in params) * x

    f = ReportingJit(apply, report=lines.append)
    f([{"w": jnp.ones((8, 8)), "b": jnp.zeros(8)}] * 12, 2.0)
    assert "compiled apply(params: list[12] of dict{w: f32[8,8], b: f32[8]}, x: 2.0)" in lines[0]
