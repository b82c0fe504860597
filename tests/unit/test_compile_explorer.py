"""The compile explorer: compile profile (passes, kernels, source lines, advice), the pass
pipeline, diffs of two compilations, and saved inspections."""

from __future__ import annotations

import inspect as pyinspect
import json
import os
import tempfile

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.api.saved import InspectionFileError
from jaxlab.ir.compile_trace import parse_compile_trace, spans_of
from jaxlab.ir.hlo_diff import text_diff
from tests.unit import _compile_programs as progs

SRC = progs.__file__


def line_of(fn, text: str) -> int:
    lines, start = pyinspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _jaxlab_temp_dirs() -> set[str]:
    return {n for n in os.listdir(tempfile.gettempdir()) if n.startswith("jaxlab-")}


@pytest.fixture(scope="module")
def loop_profiles():
    x = jnp.ones((8, 8))
    return jaxlab.compile_profile(progs.unrolled, x, x), jaxlab.compile_profile(progs.rolled, x, x)


def test_unrolled_loop_advice_names_the_loop_and_by_line_blames_its_body(loop_profiles):
    unrolled, rolled = loop_profiles
    loop_line = line_of(progs.unrolled, "for i in range(100)")
    body_line = line_of(progs.unrolled, "jnp.tanh(x @ w) + i")
    advice = [a for a in unrolled.advice if a.kind == "unrolled-loop"]
    assert len(advice) == 1
    assert (advice[0].file, advice[0].line) == (SRC, loop_line)
    assert "fori_loop" in advice[0].fix and "scan" in advice[0].fix
    assert "≈100 copies" in advice[0].message
    assert advice[0].cost_s and advice[0].cost_s > 0
    by_line = unrolled.by_line()
    top = by_line[0]
    assert (top["file"], top["line"]) == (SRC, body_line)
    assert top["kernels"] >= 100
    assert top["time_s"] > 0.5 * sum(r["time_s"] for r in by_line)
    assert top["code"] == "x = jnp.tanh(x @ w) + i"
    # the fori_loop version has one copy of the body: a handful of kernels, no advice
    assert len(rolled.codegen) < 10 <= 100 <= len(unrolled.codegen)
    assert not [a for a in rolled.advice if a.kind == "unrolled-loop"]


def test_profile_splits_compile_into_passes_and_code_generation(loop_profiles):
    profile = loop_profiles[1]
    frame = profile.passes.to_pandas()
    assert list(frame.columns) == ["pipeline", "pass", "time_s", "calls"]
    assert "layout-assignment" in set(frame["pass"])
    assert "HLO passes through layout assignment" in set(frame["pipeline"])
    assert (frame["time_s"] >= 0).all() and (frame["calls"] >= 1).all()
    assert 0 < profile.passes_s + profile.codegen_s <= profile.compile_s
    assert profile.trace_s > 0 and profile.lower_s > 0
    kernels = profile.codegen.to_pandas()
    assert list(kernels.columns) == [
        "fusion",
        "lines",
        "time_s",
        "emit_s",
        "llvm_share_s",
        "op_count",
    ]
    assert all(profile.kernel_ops(name) for name in kernels["fusion"])
    text = repr(profile)
    assert "compile profile of rolled" in text and "XLA passes" in text
    assert "<h4>slowest XLA passes" in profile._repr_html_()


def test_profile_compiles_afresh_even_when_jax_has_the_executable():
    f = jax.jit(progs.seed)
    x = jnp.ones(16)
    f(x)  # JAX now holds this compilation in memory
    before = _jaxlab_temp_dirs()
    profile = jaxlab.compile_profile(f, x)
    assert profile.trace.found and profile.passes and profile.codegen
    assert _jaxlab_temp_dirs() <= before  # the profiler's folder is gone


def test_baked_constant_advice():
    profile = jaxlab.compile_profile(progs.closes_over_big, jnp.ones((4, 1024)))
    advice = [a for a in profile.advice if a.kind == "baked-constant"]
    assert len(advice) == 1
    assert "2 MiB" in advice[0].message or "2.0 MiB" in advice[0].message
    assert "argument" in advice[0].fix


def test_static_argument_advice_from_the_recompile_log():
    from jaxlab.core.compile_events import recording
    from jaxlab.guards._recompiles import RecompileLedger

    f = jax.jit(progs.scaled, static_argnums=1)
    ledger = RecompileLedger()
    with recording(explain=True) as log:
        for n in range(4):
            f(jnp.ones(3), n)
    ledger.add(log, 1)
    entry = ledger.functions["scaled"]
    profile = jaxlab.compile_profile(f, jnp.ones(3), 5, recompiles=entry)
    advice = [a for a in profile.advice if a.kind == "static-recompiles"]
    assert len(advice) == 1 and "`n`" in advice[0].message and "3 times" in advice[0].message


def test_passes_show_the_pass_that_created_the_seed_loop_fusion():
    before = _jaxlab_temp_dirs()
    pipeline = jaxlab.passes(progs.seed, jnp.ones(1000))
    assert _jaxlab_temp_dirs() <= before
    assert pipeline.module == "jit_seed" and len(pipeline) >= 1
    step = pipeline.created("fusion")
    assert step is not None and step.name == "fusion"
    assert step.pipeline == "HLO passes after layout assignment"
    added = [r.b for r in step.diff.rows if r.kind in ("added", "changed")]
    assert any("kind=kLoop" in line for line in added)
    assert not any("fusion(" in line for line in step.before.splitlines())
    assert "fusion" in repr(pipeline)
    html = pipeline._repr_html_()
    assert "unchanged lines" in html or "<details>" in html
    assert list(pipeline.to_pandas().columns)[:3] == ["index", "pipeline", "pass"]


def test_passes_respect_a_dump_folder_set_in_xla_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("XLA_FLAGS", f"--xla_dump_to={tmp_path}")
    pipeline = jaxlab.passes(progs.seed, jnp.ones(10))
    assert pipeline.created("fusion") is not None
    assert any(str(tmp_path) in n and "kept" in n for n in pipeline.notes)
    assert any(n.endswith(".txt") for n in os.listdir(tmp_path))  # the user's dump stays


def test_diff_of_dtypes_and_shapes_lists_the_changed_lines_and_fusions():
    body = line_of(progs.seed, "return x + x * x")
    f32 = jaxlab.inspect(progs.seed, jnp.ones(1000), run=False)
    bf16 = jaxlab.inspect(progs.seed, jnp.ones(1000, jnp.bfloat16), run=False)
    small = jaxlab.inspect(progs.seed, jnp.ones((8, 8)), run=False)
    for other in (bf16, small):
        d = jaxlab.diff(f32, other)
        assert not d.empty and d.aligned
        assert d.hlo.changed and d.stablehlo.changed and d.jaxpr.changed
        assert [(c.file, c.line) for c in d.lines.changes] == [(SRC, body)]
        assert d.fusions and all(f.lines == ((SRC, body),) for f in d.fusions)
    by_dtype = jaxlab.diff(f32, bf16)
    assert {f.kind for f in by_dtype.fusions} == {"removed", "added"}
    assert any("bf16" in f.b for f in by_dtype.fusions if f.kind == "added")
    by_shape = jaxlab.diff(f32, small)
    assert [f.kind for f in by_shape.fusions] == ["changed"]
    assert "f32[8,8]" in by_shape.fusions[0].b
    sizes = {r["what"]: r for r in by_shape.deltas() if r["group"] == "memory"}
    assert sizes["argument_size"]["delta"] == 8 * 8 * 4 - 1000 * 4


def test_identical_compiles_give_an_empty_diff():
    a = jaxlab.inspect(progs.seed, jnp.ones(100), run=False)
    b = jaxlab.inspect(progs.seed, jnp.ones(100), run=False)
    d = jaxlab.diff(a, b)
    assert d.empty and not d.fusions and not d.lines.changes
    assert "no difference" in repr(d)


def test_unrelated_functions_diff_and_say_nothing_aligns():
    a = jaxlab.inspect(progs.seed, jnp.ones(3), run=False)
    b = jaxlab.inspect(progs.other, jnp.ones(3), run=False)
    d = jaxlab.diff(a, b)
    assert not d.empty and not d.aligned
    assert any("no source line appears in both" in n for n in d.notes)


def test_saved_inspection_round_trip(tmp_path):
    insp = jaxlab.inspect(progs.seed, jnp.ones(100), run=False)
    path = insp.save(tmp_path / "seed.json")
    loaded = jaxlab.Inspection.load(path)
    assert loaded.fn_name == "seed" and loaded.in_avals == insp.in_avals
    assert loaded.jax_version == jax.__version__
    assert jaxlab.diff(loaded, insp).empty
    changed = jaxlab.diff(loaded, jaxlab.inspect(progs.seed, jnp.ones(200), run=False))
    assert not changed.empty and changed.lines.changes
    assert "saved inspection of seed" in repr(loaded)


def test_loading_a_file_that_is_not_a_saved_inspection(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"cells": []}))
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": "jaxlab.inspection", "version": 99, "jaxlab": "9.0"}))
    for path in (bad, other):
        with pytest.raises(InspectionFileError, match="is not a saved jaxlab inspection") as e:
            jaxlab.Inspection.load(path)
        assert "\n" not in str(e.value)
    with pytest.raises(InspectionFileError, match="newer jaxlab") as e:
        jaxlab.Inspection.load(newer)
    assert "\n" not in str(e.value) and "upgrade" in str(e.value)
    with pytest.raises(InspectionFileError, match="no file"):
        jaxlab.Inspection.load(tmp_path / "missing.json")


def test_bad_input():
    with pytest.raises(TypeError, match="expected a function"):
        jaxlab.compile_profile(3, jnp.ones(3))
    with pytest.raises(TypeError, match="expected a function"):
        jaxlab.passes("f", jnp.ones(3))
    before = _jaxlab_temp_dirs()
    with pytest.raises(jax.errors.TracerBoolConversionError):
        jaxlab.compile_profile(progs.fails_to_trace, jnp.ones(()))
    assert _jaxlab_temp_dirs() <= before
    a = jaxlab.inspect(progs.seed, jnp.ones(3), run=False)
    with pytest.raises(TypeError, match="compares two inspections"):
        jaxlab.diff(a, 3)


def test_hlo_diff_ignores_renumbered_names_and_metadata():
    a = (
        "HloModule m\n\nENTRY %main.3 (p.1: f32[4]) -> f32[4] {\n"
        "  %p.1 = f32[4]{0} parameter(0)\n"
        '  ROOT %add.7 = f32[4]{0} add(%p.1, %p.1), metadata={op_name="a" stack_frame_id=3}\n}\n'
    )
    b = (
        a.replace(".7", ".12")
        .replace("main.3", "main.9")
        .replace("stack_frame_id=3", "stack_frame_id=5")
    )
    assert not text_diff("HLO", a, b).changed
    c = b.replace("add(", "multiply(")
    d = text_diff("HLO", a, c)
    assert d.changed and (d.removed, d.added) == (1, 1)
    assert "- " in d.unified() and "+ " in d.unified()


def test_compile_trace_parser_nests_passes_in_their_pipelines():
    src = "external/xla/xla/hlo/pass/hlo_pass_pipeline.cc"

    def ev(label, ts, dur, tid=1, **args):
        return {"ph": "X", "name": label, "ts": ts, "dur": dur, "tid": tid, "pid": 1, "args": args}

    events = [
        ev("PjRtCpuClient::Compile", 0, 1000),
        ev("outer (jit_f)", 10, 500, _src=src, module="jit_f"),
        ev("algsimp", 20, 50),
        ev("simplification", 100, 300),  # a fixed-point wrapper around a nested pipeline
        ev("simplification (jit_f)", 101, 298, _src=src, module="jit_f"),
        ev("algsimp", 110, 100),
        ev("algsimp", 220, 100),
        ev("dce", 330, 10),
        ev("$python.py:1 f", 30, 5),
        ev("CpuCompiler::RunBackend", 600, 300, name="jit_f"),
        ev("Codegen", 700, 100),
        ev(
            "FusionCompiler::Compile",
            610,
            40,
            tid=2,
            module="add_fusion_kernel_module",
            op_count="7",
        ),
    ]
    trace = parse_compile_trace(spans_of(events))
    assert trace.module == "jit_f" and trace.found
    assert trace.pipelines_s == {"outer": 500e-6}
    got = {(p.pipeline, p.name): (round(p.time_s * 1e6), p.calls) for p in trace.passes}
    assert got == {
        ("outer", "algsimp"): (50, 1),
        ("simplification", "algsimp"): (200, 2),
        ("simplification", "dce"): (10, 1),
    }
    assert round(trace.backend_s * 1e6) == 300 and round(trace.codegen_s * 1e6) == 100
    assert [(k.fusion, k.op_count) for k in trace.kernels] == [("add_fusion", 7)]


def test_views_fold_long_unchanged_runs_and_the_widget_model_fetches_them():
    from jaxlab.views.compile import CONTEXT, diff_table, pass_model, step_rows
    from jaxlab.views.compile_widget import answer

    pipeline = jaxlab.passes(progs.unrolled, jnp.ones((4, 4)), jnp.ones((4, 4)))
    step = max(pipeline.changed, key=lambda s: sum(r.kind == "same" for r in s.diff.rows))
    html = diff_table(step.diff)
    same = sum(r.kind == "same" for r in step.diff.rows)
    assert "unchanged lines</summary>" in html and same > 2 * CONTEXT
    model = pass_model(pipeline)
    entry = next(s for s in model["steps"] if s["index"] == step.index)
    folds = [item for item in entry["items"] if item[0] == "fold"]
    rows = [item for item in entry["items"] if item[0] == "row"]
    assert folds and len(rows) + sum(end - start for _, start, end in folds) == len(step.diff.rows)
    _, start, end = folds[0]
    fetched = step_rows(pipeline, step.index, start, end)
    assert len(fetched) == end - start and all(r[0] == "same" for r in fetched)
    reply = answer(pipeline, {"type": "rows", "req": 7, "step": step.index, "start": start,
                              "end": end})  # fmt: skip
    assert reply["req"] == 7 and len(reply["rows"]) == end - start
    bad = answer(pipeline, {"type": "rows", "req": 8, "step": "x"})
    assert bad["rows"] == [] and "error" in bad
    # a body line's instructions carry its source line on both sides
    body = line_of(progs.unrolled, "jnp.tanh(x @ w) + i")
    assert any(r[5] == f"{SRC}:{body}" or r[6] == f"{SRC}:{body}" for r in fetched + [
        item[1:] for item in rows])  # fmt: skip


def test_trace_reader_drops_thread_pool_markers_unread(tmp_path):
    import gzip

    from jaxlab.ir.compile_trace import read_spans

    marker = {"ph": "X", "pid": 1, "tid": 2, "ts": 1, "dur": 0,
              "name": "ThreadpoolListener::Record", "args": {"_src": "a/b.cc"}}  # fmt: skip
    kept = {"ph": "X", "pid": 1, "tid": 2, "ts": 1, "dur": 5, "name": 'algsimp "q" {x}',
            "args": {"module": "m", "nested": "}{"}}  # fmt: skip
    text = json.dumps({"traceEvents": [marker] * 50 + [kept, marker]}, separators=(",", ":"))
    path = tmp_path / "t.trace.json.gz"
    with gzip.open(path, "wt") as f:
        f.write(text)
    spans = read_spans(path)
    assert [(s.name, s.args["nested"]) for s in spans] == [('algsimp "q" {x}', "}{")]


def test_saved_inspection_from_another_session_and_jax_version(tmp_path):
    """A notebook cell's file differs between sessions: lines align by function and line, and
    a different JAX version is named."""
    insp = jaxlab.inspect(progs.seed, jnp.ones(100), run=False)
    path = insp.save(tmp_path / "seed.json")
    data = json.loads(path.read_text())
    data["jax"] = "0.4.1"
    data["hlo"] = data["hlo"].replace(SRC, "/tmp/ipykernel_1/123.py")
    path.write_text(json.dumps(data))
    d = jaxlab.diff(
        jaxlab.Inspection.load(path), jaxlab.inspect(progs.seed, jnp.ones(50), run=False)
    )
    assert any("0.4.1" in n for n in d.notes)
    assert d.lines.by_function and d.lines.common == 1
    assert [(c.file, c.line) for c in d.lines.changes] == [("seed", line_of(progs.seed, "return"))]


def test_tiny_kernels_advice():
    from types import SimpleNamespace

    from jaxlab.api.compile_advice import TINY_KERNELS_MIN, advise
    from jaxlab.ir.hlo import HloModule

    n = TINY_KERNELS_MIN + 10
    body = "\n".join(
        f"  %f.{i} = f32[2]{{0}} fusion(%p.1), kind=kLoop, calls=%fused_computation"
        for i in range(n)
    )
    text = (
        "HloModule m\n\n%fused_computation (q: f32[2]) -> f32[2] {\n"
        "  %q = f32[2]{0} parameter(0)\n  ROOT %n = f32[2]{0} negate(%q)\n}\n\n"
        f"ENTRY %main (p.1: f32[2]) -> f32[2] {{\n  %p.1 = f32[2]{{0}} parameter(0)\n{body}\n"
        f"  ROOT %r = f32[2]{{0}} add(%f.0, %f.1)\n}}\n"
    )
    kernels = [{"fusion": f"f.{i}", "time_s": 0.001, "_places": []} for i in range(n)]
    profile = SimpleNamespace(
        inspection=SimpleNamespace(hlo_module=HloModule.parse(text), jaxpr=None),
        codegen=kernels, compile_s=1.0, passes_s=0.0, recompiles=None,
        kernel_ops=lambda name: [],
    )  # fmt: skip
    found = [a for a in advise(profile) if a.kind == "tiny-kernels"]
    assert len(found) == 1 and f"{n} kernels" in found[0].message
    assert "vmap" in found[0].fix and found[0].cost_s == pytest.approx(n * 0.001)


def test_diff_and_saved_inspections_name_pytree_arguments_summarised(tmp_path):
    def step(params, x):
        for w in params:
            x = jnp.tanh(x @ w)
        return x

    params = [jnp.ones((8, 8))] * 10
    a = jaxlab.inspect(step, params, jnp.ones((2, 8)), run=False)
    b = jaxlab.inspect(step, params, jnp.ones((4, 8)), run=False)
    result = jaxlab.diff(a, b)
    assert result.labels[0].startswith("step(params: list[10] of f32[8,8], x: f32[2,8])")
    assert all(label.count("f32[8,8]") == 1 for label in result.labels)
    path = tmp_path / "a.json"
    a.save(path)
    loaded = jaxlab.Inspection.load(path)
    assert loaded.call_text == a.call_text
    assert "list[10] of f32[8,8]" in repr(loaded)


def test_code_generation_by_line_counts_library_code_in_the_users_line(tmp_path):
    from jaxlab.ir.sources import is_library
    from tests.unit.test_profile import installed_dense

    dense = installed_dense(tmp_path)

    def step(x, w):
        for k in range(40):  # enough kernels for XLA:CPU to emit them one by one
            x = dense(x, w) + k
        return x

    x = jnp.ones((64, 64))
    profile = jaxlab.compile_profile(step, x, x)
    lines = profile.by_line()
    assert lines and not any(is_library(r["file"]) for r in lines)
    mine = next(r for r in lines if r["code"] == "x = dense(x, w) + k")
    assert {lib["code"] for lib in mine["library"]} >= {"return jnp.tanh(y)"}
    assert all(is_library(lib["file"]) for lib in mine["library"])
    flat = profile.by_line(library=True)
    assert any(is_library(r["file"]) and r["code"] == "return jnp.tanh(y)" for r in flat)
    assert sum(r["time_s"] for r in flat) == pytest.approx(sum(r["time_s"] for r in lines))
    html = profile._repr_html_()
    assert '<details class="jl-lib"><summary>fakelib.py:7' in html
    assert "by_line(library=True)" in html
    # a saved profile keeps the fold
    again = jaxlab.CompileProfile.load(profile.save(tmp_path / "p.json"))
    assert [r["code"] for r in again.by_line()] == [r["code"] for r in lines]
