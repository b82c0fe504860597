"""The precision explorer's views: the inspector's error column, heat and top creator
(``inspect(..., compare=...)``), and the error along the program in the NumericsDiff view."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import jaxlab
from jaxlab.api.numerics_diff import NumericsDiff
from jaxlab.views.inspector.errors import error_heat, short
from jaxlab.views.inspector.model import sections_of
from jaxlab.views.inspector.values import MAX_TIPS, merge_cell
from jaxlab.views.numerics_diff import (
    SHOWN,
    SPARK_WIDTH,
    TEXT_COLUMNS,
    error_sparkline,
    error_sparkline_text,
)

EVIL = "<img src=x onerror=alert(1)>"


def naive_var(x):
    m = jnp.mean(x)
    m2 = jnp.mean(x * x)
    return m2 - m * m


@pytest.fixture(scope="module")
def inspected():
    x = jnp.asarray(np.random.default_rng(0).normal(1000.0, 1.0, 4096).astype(np.float32))
    return jaxlab.inspect(naive_var, x, compare="bf16", run=False)


def test_the_answer_comes_first_and_the_top_creator_is_marked_in_both_panes(inspected):
    d = inspected.numerics_diff
    assert d.top["primitive"] == "sub"
    model = inspected.view_model()
    assert model["sections"][0]["kind"] == "precision"
    sec = sections_of(model)["precision"]
    assert sec["answer"].startswith("sub at ") and "makes the most error" in sec["answer"]
    panes = {p["id"]: p for p in sections_of(model)["panes"]["panes"]}
    jaxpr_line = sec["origin_lines"]["jaxpr"]
    assert " = sub " in panes["jaxpr"]["lines"][jaxpr_line]
    cell = sec["values"][str(jaxpr_line)]
    assert cell["state"] == "origin" and cell["heat"] == 1.0  # the value is lost
    assert cell["text"] == f"{short(d.top['rel_error'])} · {short(d.top['local_error'])}"
    assert "makes" in cell["tip"] and "bfloat16[]" in cell["tip"]
    source_line = sec["origin_lines"]["source"]
    assert "m2 - m * m" in panes["source"]["lines"][source_line]
    # the source line heat is the largest error made on it: the subtraction loses everything
    assert sec["source_heat"][str(source_line)] == max(sec["source_heat"].values()) == 1.0


def test_every_matched_equation_has_its_error_beside_its_jaxpr_line(inspected):
    d = inspected.numerics_diff
    sec = sections_of(inspected.view_model())["precision"]
    eqs = {eq.path: eq for eq in inspected.jaxpr_model.equations}
    lines = {eqs[r["_path"]].text_line - 1 for r in d.rows}
    assert {int(k) for k in sec["values"]} == lines
    # a rounding within the dtype's own (x * x in bf16: a relative error under 2^-8) is cool
    mul = next(r for r in d.rows if r["primitive"] == "mul" and r["dtype"] == "bfloat16")
    assert mul["local_error"] <= 2.0**-8
    assert sec["values"][str(eqs[mul["_path"]].text_line - 1)]["heat"] == 0.0


def test_static_html_links_to_the_creator_and_heats_the_source(inspected):
    html = inspected.to_html()
    (anchor,) = re.findall(
        r'<span class="jl-val jl-err jl-val-origin" id="(jl-precision-top-\w+)"', html
    )
    assert html.count(f'href="#{anchor}"') == 1
    heated = re.findall(
        r'<span class="jl-l[^"]*jl-err-heat[^"]*"[^>]*style="--jl-err:([\d.]+)"', html
    )
    assert heated and max(map(float, heated)) == 1.0
    assert 'class="jl-error-spark"' in html  # the error along the program


def test_error_heat_is_the_error_past_the_dtypes_rounding_on_a_log_scale():
    assert error_heat(2.0**-8, "bfloat16") == 0.0  # the unit roundoff of bf16
    assert error_heat(2.0**-4, "bfloat16") == 0.5
    assert error_heat(1.0, "bfloat16") == error_heat(5.0, "bfloat16") == 1.0
    assert error_heat(2.0**-12, "float32") == 0.5
    assert error_heat(float("inf"), "float32") == error_heat(float("nan"), "float32") == 1.0
    assert error_heat(None, "float32") == error_heat(0.0, "float32") == 0.0


def test_a_line_of_many_outputs_shows_the_one_making_the_most_error():
    def cell(text, state, heat):
        return {"text": text, "state": state, "heat": heat, "tip": f"tip {text}"}

    merged = None
    for new in (cell("a", "finite", 0.2), cell("b", "finite", 0.7), cell("c", "finite", 0.5)):
        merged = merge_cell(merged, new, by_heat=True, listed_in="NumericsDiff.table()")
    assert (merged["text"], merged["state"], merged["heat"]) == ("b", "finite", 0.7)
    merged = merge_cell(merged, cell("d", "nonfinite", 0.1), by_heat=True)
    assert (merged["text"], merged["state"], merged["heat"]) == ("d", "nonfinite", 0.7)
    for i in range(6):
        merged = merge_cell(merged, cell(f"e{i}", "finite", 1.0), listed_in="NumericsDiff.table()")
    tips = merged["tip"].split("\n")
    assert tips[:MAX_TIPS] == ["tip a", "tip b", "tip c", "tip d"]
    assert tips[MAX_TIPS:] == ["… (NumericsDiff.table() lists every output of this line)"]
    # ranked by state alone, a hotter output of the same state keeps the first one's text
    plain = merge_cell(cell("a", "finite", 0.2), cell("b", "finite", 0.7))
    assert (plain["text"], plain["heat"]) == ("a", 0.7)


def test_inspect_compare_needs_arrays_and_this_machine():
    with pytest.raises(ValueError, match=r"compare=\.\.\.\)` runs the call"):
        jaxlab.inspect(naive_var, jax.ShapeDtypeStruct((3,), jnp.float32), compare="bf16")
    with pytest.raises(ValueError, match=r"platforms=\.\.\., compare=\.\.\.\)`: compare runs"):
        jaxlab.inspect(naive_var, jnp.ones(3), compare="bf16", platforms="tpu")


def _row(i: int, rel: float, local: float | None, where: str = "m.py:3") -> dict:
    return {
        "equation": i, "primitive": "add", "file": "m.py", "line": 3, "where": where,
        "output": 0, "dtype": "bfloat16", "reference_dtype": "float32", "shape": (4,),
        "rel_error": rel, "max_rel_error": rel, "ulps": 1.0, "local_error": local,
        "reference_nonfinite": 0, "candidate_nonfinite": 0, "_params": {}, "_path": str(i),
    }  # fmt: skip


def _diff(rows: list[dict]) -> NumericsDiff:
    return NumericsDiff(
        fn_name="f", compare="bf16", reference="the program as given",
        candidate="bfloat16 inputs", rows=rows, outputs=[],
    )  # fmt: skip


def test_error_sparkline_has_a_bar_per_output_and_marks_the_creators():
    rows = [_row(i, 1e-3 * (i + 1), 1e-3 if i % 5 == 0 else 0.0) for i in range(40)]
    rows[17]["local_error"] = 0.5
    d = _diff(rows)
    spark = error_sparkline(d)
    bars = re.findall(
        r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="(#\w+)"', spark
    )
    assert len(bars) == 40
    red = [i for i, (_, _, fill) in enumerate(bars) if fill == "#cf222e"]
    creators = [r["equation"] for r in d.creators()[:SHOWN]]
    assert red == sorted(creators) and 17 in red
    assert spark.count('class="jl-creator-mark"') == len(creators)
    heights = [float(h) for _, h, _ in bars]
    assert heights == sorted(heights)  # the error grows along this program
    assert "#17 add at m.py:3: off by 0.018, makes 0.5" in spark


def test_error_sparkline_shares_columns_past_its_width_and_escapes_names():
    rows = [_row(i, 1e-4, 0.0, where=EVIL) for i in range(3 * SPARK_WIDTH)]
    rows[100]["rel_error"] = 0.5
    spark = error_sparkline(_diff(rows))
    assert spark.count("<rect") == SPARK_WIDTH
    assert "<img" not in spark and "&lt;img src=x onerror=alert(1)&gt;" in spark
    assert "outputs 99–101; worst: #100 add at" in spark
    assert error_sparkline(_diff([_row(0, 0.0, 0.0)])) == ""  # nothing is off


def running(xs):
    def step(total, x):
        total = total + x
        return total, total

    return lax.scan(step, jnp.zeros((), xs.dtype), xs)[0]


def test_the_creator_inside_a_scan_body_is_marked_on_its_body_line():
    xs = jnp.asarray(np.random.default_rng(1).uniform(0.5, 1.5, 2048).astype(np.float32))
    insp = jaxlab.inspect(running, xs, compare="bf16", run=False)
    d = insp.numerics_diff
    assert d.top["primitive"] == "add" and d.top["_loop"] == "scan"
    model = insp.view_model()
    sec = sections_of(model)["precision"]
    panes = {p["id"]: p for p in sections_of(model)["panes"]["panes"]}
    line = panes["jaxpr"]["lines"][sec["origin_lines"]["jaxpr"]]
    assert "jaxpr={ lambda" in line and " = add " in line  # the scan's body, on one line
    cell = sec["values"][str(sec["origin_lines"]["jaxpr"])]
    assert f"worst at iteration {d.top['iteration'][0]}" in cell["tip"]
    assert "total + x" in panes["source"]["lines"][sec["origin_lines"]["source"]]
    assert sec["answer"].startswith(f"add at {d.top['where']} (in a scan loop, worst at iteration")


def test_the_text_view_draws_the_error_along_the_program_in_one_line():
    rows = [_row(i, 10.0 ** (-8 + i), 0.0) for i in range(8)]  # one decade a step
    line = error_sparkline_text(_diff(rows))
    assert line == (
        "error along the program: ▁▂▃▄▅▆▇█  (8 outputs in execution order, 1e-8 … 0.1, log scale)"
    )
    assert line in repr(_diff(rows)).splitlines()
    many = [_row(i, 1e-3, 0.0) for i in range(5 * TEXT_COLUMNS)]
    many[7]["rel_error"] = float("inf")
    bars = error_sparkline_text(_diff(many)).split(": ", 1)[1].split("  (")[0]
    assert len(bars) == TEXT_COLUMNS and bars[1] == "█" and set(bars) == {"▁", "█"}
    assert error_sparkline_text(_diff([_row(0, 0.0, 0.0)])) == ""


def test_values_and_errors_side_by_side(inspected):
    x = jnp.asarray(np.random.default_rng(0).normal(1000.0, 1.0, 4096).astype(np.float32))
    both = jaxlab.inspect(naive_var, x, compare="bf16", numerics=True, run=False)
    kinds = [s["kind"] for s in both.view_model()["sections"]]
    assert kinds[:2] == ["numerics", "precision"]
    html = both.to_html()
    sub = next(line for line in html.split('<span class="jl-l') if '"nf">sub<' in line)
    # the values column first, then the error column, then the equation
    assert sub.index('class="jl-val jl-val-finite"') < sub.index(
        'class="jl-val jl-err jl-val-origin"'
    )
    assert "jl-creator" in sub.split(">", 1)[0]


def test_the_cast_note_names_the_type_and_the_inputs_cast(inspected):
    text = repr(inspected.numerics_diff)
    assert "  note: inputs cast to bfloat16: x" in text.splitlines()
    assert "cast down" not in text
