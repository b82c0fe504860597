"""`jaxlab.inspect` through JAX's AOT stages, without IPython."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.core import analysis as _analysis


def fn(x):
    return x + x * x + x * x * x


def test_plain_function_gives_every_stage():
    insp = jaxlab.inspect(fn, jnp.ones((64, 32), jnp.float32))
    assert [e.primitive.name for e in insp.jaxpr.eqns] == ["mul", "add", "mul", "mul", "add"]
    assert "stablehlo.multiply" in insp.stablehlo
    assert insp.hlo_module.entry is not None
    assert [i.opcode for i in insp.hlo_module.entry.instructions] == ["parameter", "fusion"]
    t = insp.timings
    assert t.trace_s > 0 and t.lower_s > 0 and t.compile_s > 0
    assert t.first_run_s is not None and t.steady_run_s is not None and t.steady_runs >= 1
    assert insp.output.shape == (64, 32)
    assert insp.in_avals == "(f32[64,32],)"  # JAX's short form, as every view spells it


def test_shape_dtype_struct_inspects_without_data():
    spec = jax.ShapeDtypeStruct((128, 8), jnp.bfloat16)
    insp = jaxlab.inspect(fn, spec)
    assert insp.jaxpr.in_avals[0].shape == (128, 8)
    assert insp.timings.first_run_s is None and insp.output is None
    with pytest.raises(ValueError, match="ShapeDtypeStruct"):
        jaxlab.inspect(fn, spec, run=True)


def test_already_jitted_function_keeps_its_static_arguments():
    def power(x, n):
        return x**n

    jitted = jax.jit(power, static_argnums=1)
    insp = jaxlab.inspect(jitted, jnp.arange(3.0), 3)
    assert insp.output.tolist() == [0.0, 1.0, 8.0]
    assert [e.primitive.name for e in insp.jaxpr.eqns] == ["integer_pow"]


def test_static_argnames_and_keyword_arguments():
    def scaled(x, *, scale, mode):
        return x * scale if mode == "mul" else x + scale

    insp = jaxlab.inspect(
        scaled,
        jnp.ones(2),
        static_argnames="mode",
        kwargs={"scale": jnp.float32(3.0), "mode": "add"},
    )
    assert insp.output.tolist() == [4.0, 4.0]
    assert [e.primitive.name for e in insp.jaxpr.eqns] == ["add"]
    assert len(insp.jaxpr.in_avals) == 2  # x and scale; mode is static


def test_static_argnums_on_plain_function():
    def make(x, n):
        return jnp.ones(n) * x

    insp = jaxlab.inspect(make, 2.0, 4, static_argnums=1)
    assert insp.output.tolist() == [2.0] * 4


def test_static_argnums_also_makes_the_parameter_static_by_name():
    # as with jax.jit(make, static_argnums=1): `n` is static when passed by keyword too
    def make(x, n):
        return jnp.ones(n) * x

    insp = jaxlab.inspect(make, 2.0, static_argnums=1, kwargs={"n": 4})
    assert len(insp.jaxpr.in_avals) == 1
    assert insp.output.tolist() == [2.0] * 4


def test_donating_function_runs_on_copies_and_keeps_the_callers_array():
    @jax.jit
    def step(x):
        return x * 2

    donating = jax.jit(step.__wrapped__, donate_argnums=0)
    x = jnp.arange(4.0)
    insp = jaxlab.inspect(donating, x, run=True)
    assert insp.timings.first_run_s is not None and insp.timings.steady_runs >= 1
    assert insp.output.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert not x.is_deleted()
    assert insp.shardings.inputs[0].donated


def test_jitted_function_with_the_options_asked_for_is_used_as_it_is():
    from jaxlab.core.stages import make_jitted

    def power(x, n, m):
        return x**n * m

    jitted = jax.jit(power, static_argnums=1, donate_argnums=0)
    same, nums, names = make_jitted(jitted, static_argnames="n")
    assert same is jitted and nums == (1,) and names == ("n",)
    # a new static argument: the original is jitted again, keeping the jit's own options
    other, nums, names = make_jitted(jitted, static_argnums=2)
    assert other is not jitted and nums == (1, 2) and names == ("n", "m")
    insp = jaxlab.inspect(jitted, jnp.arange(3.0), 2, 3, static_argnums=2, run=False)
    assert len(insp.jaxpr.in_avals) == 1
    assert insp.shardings.inputs[0].donated


def test_pytree_arguments_and_outputs():
    def loss(params, batch):
        pred = batch["x"] @ params["w"] + params["b"]  # (5,) + scalar
        return {"loss": jnp.mean((pred - batch["y"]) ** 2), "pred": pred}

    params = {"w": jnp.ones((3,)), "b": jnp.zeros(())}
    batch = {"x": jnp.ones((5, 3)), "y": jnp.zeros((5,))}
    insp = jaxlab.inspect(loss, params, batch)
    assert float(insp.output["loss"]) == pytest.approx(9.0)
    assert len(insp.jaxpr.in_avals) == 4


def test_cost_and_memory_analysis_are_dicts_or_none():
    insp = jaxlab.inspect(fn, jnp.ones((100, 100), jnp.float32))
    assert insp.cost is not None and insp.cost["flops"] > 0
    assert insp.memory is not None and insp.memory["argument_size"] == 100 * 100 * 4


class _NoAnalysis:
    def cost_analysis(self):
        raise NotImplementedError("not on this backend")

    def memory_analysis(self):
        return None


def test_analysis_unavailable_is_none_not_a_crash():
    assert _analysis.cost_analysis(_NoAnalysis()) is None
    assert _analysis.memory_analysis(_NoAnalysis()) is None


def test_unavailable_analysis_renders_as_unavailable(monkeypatch):
    insp = jaxlab.inspect(fn, jnp.ones(4))
    monkeypatch.setattr(_analysis, "cost_analysis", lambda c: None)
    monkeypatch.setattr(_analysis, "memory_analysis", lambda c: None)
    fresh = jaxlab.Inspection(insp._staged)
    assert fresh.cost is None and fresh.memory is None
    assert _analysis.UNAVAILABLE in repr(fresh)
    assert _analysis.UNAVAILABLE in fresh._repr_html_()


def test_devices_are_reported():
    insp = jaxlab.inspect(fn, jnp.ones(4))
    assert insp.devices == [jax.devices()[0]]


def test_not_callable_is_a_clear_error():
    with pytest.raises(TypeError, match="expected a function, got int"):
        jaxlab.inspect(3, jnp.ones(2))


def test_html_is_self_contained_and_escaped():
    def evil(x):
        with jax.named_scope("<img src=x onerror=alert(1)>"):
            return jnp.sin(x) * 2

    evil.__name__ = "<b>evil</b>"
    insp = jaxlab.inspect(evil, jnp.ones(3))
    page = insp.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "<img" not in page and "<b>evil" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not re.search(r"(src|href)=[\"']?https?:", page)
    bundle = insp._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
