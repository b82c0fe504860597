"""`jaxlab.jaxpr` and `jaxlab.hlo`: the public counterparts of ``%jaxpr`` and ``%hlo``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import jaxlab


def scaled(x, k):
    return jnp.sin(x) * k


def test_jaxpr_is_the_text_of_the_traced_call():
    text = jaxlab.jaxpr(scaled, jnp.ones(3), 2.0)
    assert isinstance(text, jaxlab.IRText) and text.dialect == "jaxpr"
    assert [str(e.primitive) for e in text.source.eqns] == ["sin", "convert_element_type", "mul"]
    assert "sin" in text and text.title.startswith("jaxpr of scaled(")


def test_jaxpr_takes_static_arguments_and_placeholders():
    placeholder = jax.ShapeDtypeStruct((4, 2), jnp.float32)
    text = jaxlab.jaxpr(scaled, placeholder, k=3, static_argnames="k")
    assert [str(v.aval) for v in text.source.jaxpr.invars] == ["float32[4,2]"]


@pytest.mark.parametrize(("stage", "dialect"), [("hlo", "hlo"), ("stablehlo", "stablehlo")])
def test_hlo_gives_each_stage_with_its_inspection(stage, dialect):
    text = jaxlab.hlo(scaled, jnp.ones(3), 2.0, stage=stage)
    assert text.dialect == dialect
    assert text.inspection.fn_name == "scaled"
    expected = text.inspection.hlo if stage == "hlo" else text.inspection.stablehlo
    assert str(text) == expected


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="unknown stage 'llvm'; expected one of jaxpr"):
        jaxlab.hlo(scaled, jnp.ones(3), 2.0, stage="llvm")
    with pytest.raises(TypeError):
        jaxlab.jaxpr(3, jnp.ones(3))


def test_both_are_public():
    assert {"jaxpr", "hlo"} <= set(jaxlab.__all__)
    assert jaxlab.jaxpr.__module__ == "jaxlab.api.irtext"
