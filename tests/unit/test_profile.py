"""`jaxlab.profile`: measured kernel times from JAX's profiler, attributed to kernels, source
lines and named scopes; the trace parser; bad input; a profiler session of the user's own."""

from __future__ import annotations

import glob
import gzip
import importlib.util
import json
import os
import tempfile

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.core.profiler import ProfilerBusy
from jaxlab.ir.fusions import fusions_of
from jaxlab.ir.hlo import HloModule
from jaxlab.ir.kernel_times import attribute, scope_of
from jaxlab.ir.sources import is_library
from jaxlab.ir.trace_events import KernelEvent, TraceError, parse_trace


def seed(x):
    return x + x * x + x * x * x


def matmul_and_small(x, y):
    a = jnp.sin(x[:8]) * 2.0
    b = a + 1.0
    big = x @ y
    return big.sum() + b.sum()


def scoped(x):
    with jax.named_scope("attention"):
        y = x @ x
    with jax.named_scope("mlp"):
        z = jnp.tanh(y) * 3.0
    return z


# -- the trace parser -----------------------------------------------------------------------


def _trace(events: list[dict], gz: bool = True) -> bytes:
    text = json.dumps({"displayTimeUnit": "ns", "traceEvents": events}).encode()
    return gzip.compress(text) if gz else text


META = [
    {"ph": "M", "pid": 1, "name": "process_name", "args": {"name": "/host:CPU"}},
    {"ph": "M", "pid": 1, "tid": 7, "name": "thread_name", "args": {"name": "tf_XLAEigen/12"}},
]


def _kernel(op: str, ts: float, dur: float, run: str = "1", device: str = "0") -> dict:
    args = {"device_ordinal": device, "hlo_module": "jit_f", "hlo_op": op, "run_id": run}
    return {"ph": "X", "pid": 1, "tid": 7, "ts": ts, "dur": dur, "name": op, "args": args}


def test_parse_trace_reads_kernel_events_and_tracks():
    events = [*META, _kernel("fusion.1", 10.0, 5.0), _kernel("copy.2", 20.0, 1.5, device="3")]
    events.append({"ph": "X", "pid": 1, "tid": 9, "ts": 1.0, "dur": 2.0, "name": "host work"})
    for gz in (True, False):
        trace = parse_trace(_trace(events, gz))
        assert [k.op for k in trace.kernels] == ["fusion.1", "copy.2"]
        assert [k.device for k in trace.kernels] == [0, 3]
        assert trace.tracks == ["/host:CPU / tf_XLAEigen/12"]
        assert trace.modules == {"jit_f": 2}
        assert trace.kernels[0].end_us == 15.0


def test_parse_trace_decodes_everything_when_a_marker_hides_in_other_text():
    sneaky = {"ph": "X", "pid": 1, "tid": 7, "ts": 0, "dur": 1, "name": 'x "hlo_module"'}
    trace = parse_trace(_trace([*META, sneaky, _kernel("fusion", 3.0, 1.0)]))
    assert [k.op for k in trace.kernels] == ["fusion"]


@pytest.mark.parametrize(
    "blob", [b"", b"not json", gzip.compress(b"[1, 2"), b'{"events": []}', b"\x1f\x8bxx"]
)
def test_parse_trace_rejects_what_is_not_a_trace(blob):
    with pytest.raises(TraceError):
        parse_trace(blob)


def test_scope_of_keeps_named_scopes_and_drops_transformations():
    assert scope_of("jit(f)/attention/dot_general") == "attention"
    assert scope_of("jit(step)/jvp(loss)/transpose(jvp(f))/block/mlp/tanh") == "block/mlp"
    assert scope_of("jit(f)/mul") == ""
    assert scope_of("") == ""


# -- attribution ----------------------------------------------------------------------------


def test_a_kernel_the_program_does_not_name_is_listed_as_unattributed():
    compiled = jax.jit(seed).lower(jnp.ones(4)).compile()
    module = HloModule.parse(compiled.as_text())
    kernels = fusions_of(module, unfused=True)
    real = kernels[0].name
    events = [
        KernelEvent(real, real, module.name, 0, 0, 0.0, 4.0, "1"),
        KernelEvent("mystery.7", "mystery.7", module.name, 0, 0, 5.0, 2.0, "1"),
    ]
    kp = attribute(events, kernels, module, [1e-5], ["t"])
    by_name = {k.kernel: k for k in kp.kernels}
    assert by_name["mystery.7"].attributed is False
    assert by_name["mystery.7"].kind == "unattributed"
    assert by_name["mystery.7"].total_s == pytest.approx(2e-6)
    assert by_name[real].attributed and by_name[real].lines
    assert kp.calls[0].kernels == 2 and kp.calls[0].busy_s == pytest.approx(6e-6)
    assert kp.calls[0].gaps_s == pytest.approx(1e-6)


def test_a_trace_without_kernel_events_keeps_the_wall_times_and_says_so():
    from jaxlab.api.profile import Profile

    compiled = jax.jit(seed).lower(jnp.ones(4)).compile()
    module = HloModule.parse(compiled.as_text())
    kp = attribute([], fusions_of(module, unfused=True), module, [1e-3, 2e-3], [])
    assert [c.wall_s for c in kp.calls] == [1e-3, 2e-3] and kp.kernels == []
    p = Profile("seed", 2, module.name, kp.kernels, kp.calls, [], 0, [], [])
    assert p.wall_s == pytest.approx(3e-3) and p.coverage_frac == 0 and p.by_line() == []
    assert "names no kernel" in repr(p) and "names no kernel" in p._repr_html_()


# -- profiles of real programs --------------------------------------------------------------


def test_the_seed_function_spends_its_time_in_one_fusion():
    p = jaxlab.profile(seed, jnp.ones((2000, 2000)), runs=5, peak=False)
    fusions = [k for k in p.kernels if "fusion" in k.kind]
    assert len(fusions) == 1
    assert fusions[0].total_s / p.kernel_sum_s >= 0.9
    assert p.runs == 5 and len(p.calls) == 5
    assert all(c.kernels >= 1 for c in p.calls)


def test_the_matmul_line_comes_first_with_most_of_the_time():
    x = jnp.ones((1024, 1024))
    p = jaxlab.profile(matmul_and_small, x, x, runs=5, peak=False)
    lines = p.by_line()
    assert "x @ y" in lines[0]["code"]
    assert lines[0]["percent"] > 50
    assert {"jnp.sin(x[:8]) * 2.0" in r["code"] for r in lines} >= {True}
    assert sum(r["total_s"] for r in lines) == pytest.approx(p.kernel_sum_s)


def test_kernel_time_stays_within_wall_time_and_coverage_is_reported():
    p = jaxlab.profile(seed, jnp.ones((1000, 1000)), runs=4, peak=False)
    assert 0 < p.kernel_s <= p.wall_s
    assert 0 < p.coverage_frac <= 1
    for c in p.calls:
        assert c.busy_s <= c.span_s + 1e-9 and c.span_s <= c.wall_s
        assert c.host_s >= 0 and c.gaps_s >= 0
    df = p.to_pandas()
    assert list(df.columns[:8]) == [
        "kernel", "kind", "device", "calls", "total_s", "mean_s", "percent", "source",
    ]  # fmt: skip
    assert {"bytes", "flops", "gbps", "gflops", "percent_of_peak"} <= set(df.columns)
    assert df["percent"].sum() == pytest.approx(100)
    assert len(p.to_pandas("call")) == 4
    assert p.unattributed == []


def test_percent_of_peak_uses_the_measured_peak_bandwidth():
    p = jaxlab.profile(seed, jnp.ones((1000, 1000)), runs=2)
    assert p.peak is not None and p.peak.gbps > 0
    row = p.rows()[0]
    assert row["gbps"] > 0
    assert row["percent_of_peak"] == pytest.approx(100 * row["gbps"] / p.peak.gbps)


def test_time_rolls_up_per_named_scope():
    p = jaxlab.profile(scoped, jnp.ones((256, 256)), runs=3, peak=False)
    scopes = {s["scope"]: s for s in p.by_scope()}
    assert {"attention", "mlp"} <= set(scopes)
    assert sum(s["percent"] for s in scopes.values()) == pytest.approx(100)


def test_a_batch_sharded_step_has_rows_for_every_device_and_marks_collectives():
    assert jax.device_count() >= 8, "conftest asks for 8 CPU devices"
    mesh = jax.make_mesh((8,), ("batch",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
    x = jax.device_put(jnp.ones((64, 128)), sharding)
    w = jnp.ones((128, 128))

    def step(x, w):
        return jnp.mean(jnp.tanh(x @ w) ** 2)  # a mean over the batch: an all-reduce

    p = jaxlab.profile(step, x, w, runs=3, peak=False)
    assert p.devices == list(range(8))
    assert {k.device for k in p.kernels} == set(range(8))
    assert p.collectives, [k.kind for k in p.kernels]
    assert all(k.kind.startswith("collective") for k in p.collectives)
    from jaxlab.views.profile import timeline_model

    model = timeline_model(p)
    assert {t.split(" · ")[0] for t in model["tracks"]} == {f"device {d}" for d in range(8)}
    assert any(k["collective"] for k in model["kernels"])


def test_profile_diff_matches_kernels_by_source_line():
    x = jnp.ones((512, 512))
    before = jaxlab.profile(matmul_and_small, x, x, runs=2, peak=False)
    after = jaxlab.profile(matmul_and_small, x, x * 2, runs=2, peak=False)
    diff = jaxlab.profile_diff(before, after)
    assert any("x @ y" in r["what"] for r in diff.lines)
    assert all(r["before_s"] is not None and r["after_s"] is not None for r in diff.lines)
    assert len(diff.to_pandas("kernel")) == len(diff.kernels)
    with pytest.raises(TypeError, match="two Profiles"):
        jaxlab.profile_diff(before, "after")


def test_inspect_with_profile_adds_times_heat_and_a_timeline():
    insp = jaxlab.inspect(scoped, jnp.ones((128, 128)), profile=2)
    assert insp.profile is not None and insp.profile.runs == 2
    section = next(s for s in insp.view_model()["sections"] if s["kind"] == "profile")
    assert set(section["kernel_times"]) <= {f.name for f in insp.fusions}
    assert section["heat"]["source"] and max(section["heat"]["source"].values()) == 1.0
    assert section["heat"]["hlo"]
    assert section["timeline"]["events"]
    assert "<svg" in section["html"]
    # the static view marks the hot lines too, scoped to its own output
    html = insp.to_html()
    assert ".jl-pane:nth-child(1) .jl-l[data-line=" in html
    assert ".jl-pane:nth-child(4) .jl-l[data-line=" in html
    assert jaxlab.inspect(scoped, jnp.ones(4)).profile is None


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("runs", [0, -1, 1.5, True, "10"])
def test_runs_must_be_a_positive_integer(runs):
    with pytest.raises((ValueError, TypeError), match="runs"):
        jaxlab.profile(seed, jnp.ones(3), runs=runs)


def test_non_callables_and_placeholders_are_refused():
    with pytest.raises(TypeError, match="expected a function"):
        jaxlab.profile(42, jnp.ones(3))
    with pytest.raises(ValueError, match="placeholder"):
        jaxlab.profile(seed, jax.ShapeDtypeStruct((3,), jnp.float32))


def _leftovers() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "jaxlab-profile-*")))


def test_a_profiler_session_of_the_users_is_left_alone(tmp_path):
    before = _leftovers()
    jax.profiler.start_trace(str(tmp_path))
    try:
        with pytest.raises(ProfilerBusy, match="already active"):
            jaxlab.profile(seed, jnp.ones(3), runs=2, peak=False)
        assert _leftovers() == before
    finally:
        jax.profiler.stop_trace()  # still the user's session: stopping it works
    assert glob.glob(str(tmp_path / "**" / "*.xplane.pb"), recursive=True)
    # and jaxlab can profile again afterwards
    assert jaxlab.profile(seed, jnp.ones(3), runs=1, peak=False).calls


def test_a_failing_call_stops_the_profiler_and_removes_its_folder():
    calls = {"n": 0}

    def flaky(x):
        return x * 2

    before = _leftovers()
    from jaxlab.core.profiler import trace_calls

    def once() -> float:
        calls["n"] += 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        trace_calls(once, 3)
    assert calls["n"] == 1
    assert _leftovers() == before
    assert jaxlab.profile(flaky, jnp.ones(3), runs=1, peak=False).calls  # profiler stopped


def test_a_loop_counts_its_body_kernels_once():
    def looped(x):
        def body(c, _):
            return jnp.tanh(c @ c), None

        c, _ = jax.lax.scan(body, x, None, length=20)
        return c.sum()

    p = jaxlab.profile(looped, jnp.full((128, 128), 0.01), runs=3, peak=False)
    loops = [k for k in p.kernels if k.kind == "while"]
    body = [k for k in p.kernels if k.calls == 60]  # 20 iterations × 3 calls
    assert loops and body
    assert p.kernel_sum_s <= p.wall_s
    assert p.kernel_sum_s == pytest.approx(p.kernel_s, rel=0.05)
    assert loops[0].total_s < sum(k.total_s for k in body)
    body_line = next(r for r in p.by_line() if "c @ c" in r["code"])
    assert body_line["total_s"] > loops[0].total_s


# -- library code folds into the user's lines ------------------------------------------------

LIBRARY_SOURCE = """
import jax.numpy as jnp


def dense(x, w):
    y = x @ w
    return jnp.tanh(y)
"""


def load_function(path, name: str):
    """The function `name` of the Python file at `path`, imported as a module of its own."""
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def installed_dense(tmp_path):
    """`dense` from a module under a site-packages folder: library code, as Flax's is."""
    root = tmp_path / "site-packages"
    root.mkdir()
    path = root / "fakelib.py"
    path.write_text(LIBRARY_SOURCE)
    return load_function(path, "dense")


def test_library_lines_fold_into_the_users_calling_line(tmp_path):
    dense = installed_dense(tmp_path)

    def step(x, w):
        h = dense(x, w)
        return (h * 2.0).sum()

    x = jnp.ones((512, 512))
    p = jaxlab.profile(step, x, x, runs=3, peak=False)
    lines = p.by_line()
    top = lines[0]
    assert top["code"] == "h = dense(x, w)" and not is_library(top["file"])
    assert [lib["code"] for lib in top["library"]][:1] == ["y = x @ w"]
    assert all(is_library(lib["file"]) and lib["library"] == [] for lib in top["library"])
    assert sum(lib["total_s"] for lib in top["library"]) <= top["total_s"] * (1 + 1e-9)
    assert not any(is_library(r["file"]) for r in lines)
    assert sum(r["total_s"] for r in lines) == pytest.approx(p.kernel_sum_s)
    # the library's own lines, one click away
    flat = p.by_line(library=True)
    assert flat[0]["code"] == "y = x @ w" and is_library(flat[0]["file"])
    assert sum(r["total_s"] for r in flat) == pytest.approx(p.kernel_sum_s)
    dot = next(r for r in p.rows() if "fakelib.py:6" in r["library_source"])
    assert dot["source"].startswith("test_profile.py:")
    assert "fakelib" not in dot["source"]
    assert "library_source" in p.to_pandas().columns


def test_a_kernel_source_names_its_lines_with_their_shares_leaving_out_crumbs():
    from jaxlab.api.profile import _shares_text

    a, b, c = ("/x/f.py", 3), ("/x/f.py", 4), ("/x/g.py", 9)
    assert _shares_text([(a, 1.0)]) == "f.py:3"
    assert _shares_text([(a, 0.94), (b, 0.06)]) == "f.py:3 (94%), f.py:4 (6%)"
    assert _shares_text([(a, 0.997), (c, 0.003)]) == "f.py:3 (100%), 1 more under 0.5%"
    assert _shares_text([]) == "(no source)"
