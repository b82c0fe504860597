"""``jaxlab.bench`` end to end, with small sizes and short budgets. Timings are never asserted
(the machine is shared): structure, flags and invariants are."""

from __future__ import annotations

import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.benchmarking import timer
from jaxlab.benchmarking.result import BenchError

QUICK = {"time_budget": 0.03, "min_runs": 3, "peak": False, "progress": False}


def cubic(x):
    return x + x * x + x * x * x


def scale_by(x, k):
    return x * k


SCALE_BY = jax.jit(scale_by, static_argnums=1)


@pytest.fixture(scope="module")
def seed():
    """The seed benchmark at a small size."""
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    return jaxlab.bench(cubic, x, **{**QUICK, "peak": True})


def test_default_is_jit_eager_numpy(seed):
    assert seed.variant_names == ["jit", "eager", "numpy"]
    assert seed.baseline == "numpy" and seed.reference == "jit"
    kinds = {v.name: (v.kind, v.framework) for v in seed.variants}
    assert kinds == {"jit": ("jit", "jax"), "eager": ("eager", "jax"), "numpy": ("twin", "numpy")}
    assert seed.valid and not seed.failures and not seed.mismatches


def test_stages_are_reported_apart(seed):
    jit = seed.timing("jit")
    assert jit.trace_s > 0 and jit.lower_s > 0 and jit.compile_s > 0
    assert jit.first_call_s > 0
    for name in ("eager", "numpy"):
        t = seed.timing(name)
        assert t.compile_s is None and t.trace_s is None and t.first_call_s > 0


def test_statistics_are_consistent(seed):
    for t in seed.timings:
        s = t.summary
        assert s.runs == len(t.samples) >= 3
        assert s.min_s <= s.q1_s <= s.median_s <= s.q3_s <= s.max_s
        assert s.ci_low_s <= s.median_s <= s.ci_high_s
        assert t.number >= 1
        assert t.stopped in ("precision", "budget")
    assert seed.settings["timer_resolution_s"] > 0


def test_numpy_inputs_are_put_on_the_device_with_a_note(seed):
    assert seed.timing("jit").transfer_s > 0
    assert seed.timing("numpy").transfer_s is None
    assert any(n.text.startswith("NumPy inputs (argument 0)") for n in seed.notes)


def test_machine_is_recorded(seed):
    env = seed.environment
    assert env["backend"] == "cpu" and env["device_count"] >= 1
    assert env["usable_cpus"] >= 1 and env["jax"] == jax.__version__
    assert "threads" in env


def test_roofline_uses_xla_costs_and_the_measured_peak(seed):
    jit = seed.timing("jit")
    assert jit.bytes == pytest.approx(2 * 64 * 64 * 4)
    assert jit.work_source == "XLA cost analysis"
    assert seed.timing("numpy").bytes == jit.bytes
    assert seed.peak["gbps"] > 0 and "STREAM" in seed.peak["method"]
    r = seed.rates(jit)
    assert r.gbps == pytest.approx(jit.bytes / jit.median_s / 1e9)
    assert r.percent_of_peak == pytest.approx(100 * r.gbps / seed.peak["gbps"])
    # measured once per session
    from jaxlab.benchmarking import roofline

    assert roofline.peak_bandwidth() is roofline.peak_bandwidth()


def test_rows_and_pandas_frame(seed):
    pd = pytest.importorskip("pandas")
    frame = seed.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 3
    for col in ("variant", "size", "median_s", "iqr_s", "min_s", "runs"):
        assert col in frame.columns
    for col in ("trace_s", "lower_s", "compile_s"):
        assert frame.loc[frame.variant == "jit", col].notna().all()
        assert frame.loc[frame.variant != "jit", col].isna().all()
    assert set(frame["size"]) == {64 * 64}


def test_pandas_missing_is_explained(seed, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        seed.to_pandas()


def test_save_and_load_round_trip(seed, tmp_path):
    path = seed.save(tmp_path / "r.json")
    loaded = jaxlab.BenchResult.load(path)
    assert loaded.to_dict() == json.loads(json.dumps(seed.to_dict()))
    assert loaded.timing("jit").samples == seed.timing("jit").samples
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(ValueError, match="not a saved BenchResult"):
        jaxlab.BenchResult.load(bad)
    bad.write_text("not json")
    with pytest.raises(jaxlab.ResultFileError, match="is not a saved BenchResult"):
        jaxlab.BenchResult.load(bad)


def test_sync_waits_for_every_output_leaf():
    """The second output is the slow one; the timing loop must wait for it too."""
    x = jnp.ones((400, 400))
    slow = jax.jit(lambda v: jnp.tanh(v @ v) @ v)
    state = {"calls": 0, "unready": 0, "prev": None}

    def fast_and_slow(v):
        prev = state["prev"]
        if prev is not None and not prev[1].is_ready():
            state["unready"] += 1
        out = (v + 1, slow(v))
        state["prev"] = out
        state["calls"] += 1
        return out

    jaxlab.bench(fast_and_slow, x, variants="eager", vs=(), runs=5, loops=2, check=False, **QUICK)
    assert state["calls"] >= 10
    assert state["unready"] == 0
    # the control: waiting on the first leaf only leaves the slow one running
    state.update(calls=0, unready=0)
    timer.sample(lambda: fast_and_slow(x), lambda out: out[0].block_until_ready(), 8)
    jax.block_until_ready(state["prev"])
    assert state["unready"] > 0


def test_recompilation_inside_the_loop_flags_the_timing_invalid():
    counter = itertools.count()

    def step(x):
        return SCALE_BY(x, next(counter))  # a new static argument every call

    r = jaxlab.bench(step, jnp.ones(8), variants="jit,eager", vs=(), check=False, **QUICK)
    eager = r.timing("eager")
    assert not eager.valid and not r.valid
    assert eager.stopped == "recompiled"
    assert any("scale_by: static argument" in reason for reason in eager.recompilations)
    # under jit the static value is fixed at trace time: no recompilation there
    assert r.timing("jit").valid and not r.timing("jit").recompilations


def test_stable_function_is_not_flagged():
    r = jaxlab.bench(SCALE_BY, jnp.ones(8), 3, variants="jit,eager", vs=(), **QUICK)
    assert r.valid and all(not t.recompilations for t in r.timings)


def test_static_arguments_are_passed_through():
    r = jaxlab.bench(scale_by, jnp.ones(8), 3, static_argnums=1, vs="numpy", **QUICK)
    assert r.variant_names == ["jit", "eager", "numpy"] and r.valid


def test_float64_numpy_against_float32_jax_is_called_out():
    x = np.linspace(0, 1, 256)  # float64
    r = jaxlab.bench(cubic, x, **QUICK)
    assert r.timing("jit").out_dtypes == ["float32"]
    assert r.timing("numpy").out_dtypes == ["float64"]
    gap = [n for n in r.notes if "float64" in n.text and n.level == "warn"]
    assert gap and "--x64" in gap[0].text and "--dtype" in gap[0].text
    r64 = jaxlab.bench(cubic, x, x64=True, **QUICK)
    assert r64.timing("jit").out_dtypes == ["float64"]
    assert not [n for n in r64.notes if n.level == "warn" and n.topic is None]
    r32 = jaxlab.bench(cubic, x, dtype="float32", **QUICK)
    assert r32.timing("numpy").out_dtypes == ["float32"]
    assert not [n for n in r32.notes if n.level == "warn" and n.topic is None]


def test_a_twin_that_raises_keeps_the_other_variants():
    def broken(x):
        raise ZeroDivisionError("boom")

    r = jaxlab.bench(cubic, jnp.ones(16), vs={"numpy": broken}, **QUICK)
    assert r.variant_names == ["jit", "eager"]
    assert "ZeroDivisionError: boom" in r.failures["numpy"]
    assert "numpy twin `broken`" in r.failures["numpy"]
    assert r.baseline == "eager"
    assert "ZeroDivisionError" in r._repr_html_()


def test_outputs_that_disagree_are_reported_loudly():
    r = jaxlab.bench(cubic, jnp.arange(16.0), vs={"numpy": lambda x: x * 2}, **QUICK)
    assert not r.valid
    (m,) = r.mismatches
    assert m.variant == "numpy" and m.reference == "jit"
    assert "differ beyond rtol" in m.message
    assert "disagrees" in repr(r) and "INVALID" in repr(r)


def test_integer_outputs_are_compared_exactly():
    r = jaxlab.bench(
        lambda x: x + 1, jnp.arange(8), vs={"numpy": lambda x: x + 1 + (x == 7)}, **QUICK
    )
    (m,) = r.mismatches
    assert "exact comparison" in m.message and "1 of 8" in m.message


def test_explicit_twin_that_cannot_be_made_is_an_error():
    def with_lax(x):
        return jax.lax.cumsum(x)

    with pytest.raises(BenchError, match=r"`jax\.lax\.cumsum`"):
        jaxlab.bench(with_lax, jnp.ones(4), vs="numpy", **QUICK)
    # without asking, it is a note and the JAX variants still run
    r = jaxlab.bench(with_lax, jnp.ones(4), **QUICK)
    assert r.variant_names == ["jit", "eager"]
    assert any("no NumPy twin" in n.text for n in r.notes)


def test_torch_twin_and_explicit_torch_function():
    torch = pytest.importorskip("torch")

    def total(x):
        return jnp.sum(x * x)

    r = jaxlab.bench(total, jnp.arange(32.0), vs="numpy,torch", **QUICK)
    assert r.variant_names == ["jit", "eager", "numpy", "torch"] and r.valid
    r2 = jaxlab.bench(
        total,
        jnp.arange(32.0),
        vs={"torch": lambda t: torch.sum(t * t)},
        variants="jit,torch",
        **QUICK,
    )
    assert r2.variant_names == ["jit", "torch"] and r2.valid
    assert r2.environment["threads"]["torch"] >= 1


def test_named_variants_with_fixed_calls():
    x = jnp.ones(32)
    xn = np.ones(32)
    r = jaxlab.bench({"jit": (jax.jit(cubic), (x,)), "numpy": (cubic, (xn,))}, **QUICK)
    assert r.variant_names == ["jit", "numpy"]
    assert r.timing("jit").compile_s is not None
    assert r.baseline == "numpy" and r.valid


def test_sweep_gives_points_speedups_and_a_crossover():
    r = jaxlab.bench(cubic, jnp.ones(10), sizes="1e1, 1e2,1e3", **QUICK)
    assert r.sweep and r.sizes == [10, 100, 1000]
    assert len(r.timings) == 9
    assert [t.signature for t in r.timings if t.variant == "jit"] == [
        "f32[10]",
        "f32[100]",
        "f32[1000]",
    ]
    for n in r.sizes:
        assert r.speedup("jit", size=n) > 0
    c = r.crossover("jit")
    assert c is None or c.variant == "jit"
    html = r._repr_html_()
    assert html.count("<svg") == 2


def test_default_scaling_keeps_aspect_ratio_dtype_and_values():
    from jaxlab.benchmarking.sweep import default_make

    x = jnp.arange(12.0).reshape(3, 4)
    make, how = default_make((x, x, 2), {})
    (a, b, k), _ = make(48)
    assert a.shape == (6, 8) and b.shape == (6, 8) and k == 2
    assert a.dtype == x.dtype and float(a[0, 0]) == 0.0
    assert "argument 0, argument 1" in how


def test_factory_sweep():
    r = jaxlab.bench(jnp.sum, sizes=[4, 8], make=lambda n: jnp.ones(n), vs="numpy", **QUICK)
    assert r.sizes == [4, 8] and r.variant_names == ["jit", "eager", "numpy"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": []}, "no sizes given"),
        ({"sizes": ""}, "no sizes given"),
        ({"sizes": "1e3,abc"}, "'abc' is not a number"),
        ({"sizes": [0]}, "positive whole number"),
        ({"sizes": [1.5]}, "not a whole number"),
        ({"time_budget": 0}, "time_budget must be a positive number"),
        ({"input_dtype": "int32"}, "floating dtype"),
        ({"input_dtype": "nonsense"}, "is not a dtype"),
        ({"vs": "matlab"}, "unknown comparison 'matlab'"),
        ({"variants": "jit,gpu"}, "no variant named 'gpu'"),
        ({"baseline": "torch"}, "no variant named 'torch' to use as the baseline"),
        ({"sizes": [4], "make": 3}, "argument factory must be a function"),
    ],
)
def test_bad_options_are_explained(kwargs, message):
    with pytest.raises(BenchError, match=message):
        jaxlab.bench(cubic, jnp.ones(4), **{**QUICK, **kwargs})


def test_non_callable_is_explained():
    with pytest.raises(BenchError, match="expected a function to time, got int"):
        jaxlab.bench(3, jnp.ones(4), **QUICK)


def test_nothing_to_scale_is_explained():
    with pytest.raises(BenchError, match="nothing to scale"):
        jaxlab.bench(lambda a: a * 2, 2.0, sizes=[4], **QUICK)


def test_all_variants_failing_raises_the_error():
    with pytest.raises(TypeError, match="positional argument"):
        jaxlab.bench(cubic, jnp.ones(4), jnp.ones(4), **QUICK)


def test_ctrl_c_mid_sweep_keeps_finished_sizes():
    def make(n):
        if n == 300:
            raise KeyboardInterrupt
        return jnp.ones(n)

    r = jaxlab.bench(jnp.sum, sizes=[100, 200, 300, 400], make=make, **QUICK)
    assert r.interrupted and r.sizes == [100, 200]
    assert any("interrupted" in n.text and "2 of 4" in n.text for n in r.notes)


def test_ctrl_c_before_anything_finished_is_raised():
    def make(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jaxlab.bench(jnp.sum, sizes=[100], make=make, **QUICK)


def test_factory_failure_after_some_sizes_keeps_them():
    def make(n):
        if n > 100:
            raise ValueError("too big")
        return jnp.ones(n)

    r = jaxlab.bench(jnp.sum, sizes=[10, 100, 1000], make=make, **QUICK)
    assert r.sizes == [10, 100]
    assert any(n.level == "error" and "too big" in n.text for n in r.notes)
    with pytest.raises(BenchError, match="argument factory failed at n=1000"):
        jaxlab.bench(jnp.sum, sizes=[1000], make=make, **QUICK)


def test_progress_reports_each_size():
    events = []

    class Recorder:
        def start(self, total, title):
            events.append(("start", total))

        def update(self, done, text):
            events.append(("update", done))

        def finish(self, text):
            events.append(("finish", text))

    jaxlab.bench(jnp.sum, sizes=[4, 8], make=jnp.ones, **{**QUICK, "progress": Recorder()})
    assert events[0] == ("start", 2)
    assert [e for e in events if e[0] == "update"] == [("update", 1), ("update", 2)]
    assert events[-1][0] == "finish" and "2 sizes" in events[-1][1]


def test_compare_pairs_variants_and_tests_significance(seed):
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    other = jaxlab.bench(cubic, x, **QUICK)
    comp = jaxlab.compare(seed, other, labels=["before", "after"])
    assert [row.variant for row in comp.entries] == ["jit", "eager", "numpy"]
    for row in comp.entries:
        (ratio,) = row.ratios
        assert ratio.speedup == pytest.approx(row.medians_s[0] / row.medians_s[1])
        assert 0 <= ratio.p <= 1
        spans = ratio.speedup_low <= 1 <= ratio.speedup_high
        assert ratio.significant == (ratio.p < 0.05 and not spans)
    # a workload 64 times larger is significantly slower
    fixed = {**QUICK, "runs": 20, "variants": "jit"}
    small = jaxlab.bench(cubic, np.ones((64, 64), np.float32), **fixed)
    big = jaxlab.bench(cubic, np.ones((512, 512), np.float32), **fixed)
    (jit_row,) = jaxlab.compare(small, big).entries
    assert jit_row.ratios[0].speedup < 1 and jit_row.ratios[0].significant, jit_row
    assert "compare" in repr(comp) and "<table" in comp._repr_html_()


def test_compare_rejects_bad_input(seed):
    with pytest.raises(TypeError, match="BenchResult objects"):
        jaxlab.compare(seed, 3)
    with pytest.raises(BenchError, match="at least two"):
        jaxlab.compare(seed)


def test_function_rebound_by_percent_jit_is_timed_underneath():
    from jaxlab.core.jit import ReportingJit

    reported = []
    rj = ReportingJit(cubic, report=reported.append)
    r = jaxlab.bench(rj, jnp.ones(8), **QUICK)
    assert r.variant_names == ["jit", "eager", "numpy"] and r.valid
    assert reported == []  # the timing loop did not go through the reporting wrapper


def test_donating_function_is_explained_and_the_rest_kept():
    donating = jax.jit(cubic, donate_argnums=0)
    r = jaxlab.bench(donating, jnp.ones(8), **QUICK)
    assert r.variant_names == ["eager", "numpy"]
    assert "donates its arguments" in r.failures["jit"]


def test_torch_missing_is_explained(monkeypatch):
    from jaxlab.benchmarking import variants

    monkeypatch.setattr(variants, "torch_available", lambda: False)
    with pytest.raises(BenchError, match="PyTorch is not installed"):
        jaxlab.bench(cubic, jnp.ones(4), vs="torch", **QUICK)


def test_fast_calls_are_looped_to_span_many_timer_ticks():
    r = jaxlab.bench({"numpy": np.negative}, np.ones(4), **QUICK)
    t = r.timing("numpy")
    assert t.number > 1
    assert t.number * t.median_s >= 0.5 * timer.TICKS_PER_SAMPLE * timer.timer_resolution()


def test_label_shows_the_arguments_as_given():
    r = jaxlab.bench(cubic, np.ones(3), variants="numpy", **QUICK)
    assert r.label == "cubic(x: f64[3])"
    # every leaf of the arguments is kept in the result, and in what it saves
    assert r.arguments == [{"argument": "x", "path": "x", "type": "f64[3]", "bytes": 24}]
    assert jaxlab.BenchResult.from_dict(r.to_dict()).arguments == r.arguments


def test_first_call_of_a_jitted_variant_does_not_compile_again():
    from jaxlab.core.compile_events import recording

    def shift_by(x, k):
        return x + k

    with recording() as log:
        r = jaxlab.bench(shift_by, jnp.ones(8), 3, static_argnums=1, variants="jit", **QUICK)
    assert len(log.of("shift_by")) == 1  # staged once; the timed calls reuse it
    assert r.timing("jit").compile_s > 0


def test_function_that_cannot_be_jitted_still_runs_eagerly():
    def branchy(x):
        return x if x.sum() > 0 else -x

    r = jaxlab.bench(branchy, jnp.ones(8), **QUICK)
    assert r.variant_names == ["eager", "numpy"]
    assert "jitted function `branchy`" in r.failures["jit"]
    assert "control flow" in r.failures["jit"]
    assert r.reference == "eager" and r.valid
