"""`jaxlab.jaxpr` and `jaxlab.hlo`: the public counterparts of ``%jaxpr`` and ``%hlo``."""

from __future__ import annotations

import re

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
    text = jaxlab.jaxpr(scaled, placeholder, static_argnames="k", kwargs={"k": 3})
    assert [str(v.aval) for v in text.source.jaxpr.invars] == ["float32[4,2]"]


@pytest.mark.parametrize(("stage", "dialect"), [("hlo", "hlo"), ("stablehlo", "stablehlo")])
def test_hlo_gives_each_stage_with_its_inspection(stage, dialect):
    text = jaxlab.hlo(scaled, jnp.ones(3), 2.0, stage=stage)
    assert text.dialect == dialect
    assert text.inspection.fn_name == "scaled"
    if stage == "stablehlo":
        assert str(text) == text.inspection.stablehlo
    else:  # the program's instructions, in XLA's order
        names = [i.name for i in text.inspection.hlo_module]
        shown = re.findall(r"%([\w.\-]+) = ", text)
        assert shown == names and text.source.as_text() == text.inspection.hlo


def test_hlo_shows_the_program_first_with_the_users_lines_and_no_frame_tables():
    text = jaxlab.hlo(scaled, jnp.ones(3), 2.0)
    raw = text.inspection.hlo
    assert "\nStackFrames\n" in raw and "jaxlab/core/stages.py" in raw  # what JAX printed
    lines = str(text).split("\n")
    # the module header, wrapped: one attribute a line
    assert lines[0].startswith("HloModule jit_scaled") and max(map(len, lines[:5])) < 110
    assert "entry_computation_layout={(f32[3]{0}, f32[])->f32[3]{0}}" in text
    first = next(k for k, line in enumerate(lines) if " = " in line)
    assert first <= 6, lines[: first + 1]
    for table in ("FileNames", "FunctionNames", "FileLocations", "StackFrames"):
        assert table not in text
    assert "metadata=" not in text and "stages.py" not in text and "jaxlab/" not in text
    # each instruction of the user's code names its line
    line = scaled.__code__.co_firstlineno + 1
    made = [ln for ln in lines if "sine(" in ln or "multiply(" in ln]
    assert made and all(ln.endswith(f"  // test_irtext.py:{line}") for ln in made)
    # the same in the HTML (the code block, the fusion table), and in a saved inspection
    html = text._repr_html_()
    for hidden in ("FileNames", "StackFrames", "stages.py", "inspection.py", "metadata="):
        assert hidden not in html
    assert not re.search(r"(?<!test_)irtext\.py", html)
    assert f"test_irtext.py:{line}" in html


def test_a_long_entry_layout_is_left_to_the_entry_line():
    params = {f"w{i}": jnp.ones((i + 1, 3)) for i in range(20)}
    text = jaxlab.hlo(lambda p: jax.tree.map(jnp.sin, p), params)
    assert "entry_computation_layout" in text.inspection.hlo  # XLA's header: one long line
    header = str(text).split("\n\n", 1)[0].split("\n")
    assert "    entry_computation_layout={…}," in header and max(map(len, header)) < 110
    assert re.search(r"^ENTRY %\S+ \(", text, re.M)


def test_every_view_of_optimized_hlo_drops_the_frame_tables(tmp_path):
    from jaxlab.views.inspector.model import view_model

    insp = jaxlab.inspect(scaled, jnp.ones(3), 2.0, run=False)
    panes = next(s for s in view_model(insp)["sections"] if s["kind"] == "panes")["panes"]
    hlo = next(p for p in panes if p["id"] == "hlo")["lines"]
    assert hlo[0].startswith("HloModule jit_scaled") and max(map(len, hlo[:4])) < 100
    assert not any(t in ln for ln in hlo for t in ("StackFrames", "FileNames", "metadata="))
    saved = jaxlab.Inspection.load(insp.save(tmp_path / "scaled.json"))
    html = saved._repr_html_()
    assert "StackFrames" not in html and "stages.py" not in html and "HloModule" in html


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="unknown stage 'llvm'; expected one of jaxpr"):
        jaxlab.hlo(scaled, jnp.ones(3), 2.0, stage="llvm")
    with pytest.raises(TypeError):
        jaxlab.jaxpr(3, jnp.ones(3))


def test_both_are_public():
    assert {"jaxpr", "hlo"} <= set(jaxlab.__all__)
    assert jaxlab.jaxpr.__module__ == "jaxlab.api.irtext"


def test_the_hlo_diff_shows_instructions_without_their_metadata():
    a = jaxlab.inspect(scaled, jnp.ones(3), 2.0, run=False)
    b = jaxlab.inspect(scaled, jnp.ones(5), 2.0, run=False)
    rows = jaxlab.diff(a, b).hlo.rows
    assert any(r.kind == "changed" for r in rows)
    shown = [text for r in rows for text in (r.a, r.b) if text]
    assert shown and not any("metadata=" in t or "StackFrames" in t for t in shown)
