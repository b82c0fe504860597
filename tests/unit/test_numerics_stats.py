"""Every statistic of a row against NumPy on the host (float64), on arrays with known contents:
subnormals (checked through their bits, since XLA:CPU flushes them in arithmetic), ±Inf, NaN and
zeros; and the structure of the rows (loops, branches, phases, paths, bad input)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import jaxlab
from jaxlab.base import renamed
from jaxlab.core import numerics as numerics_engine
from jaxlab.core.numerics import BadInput
from jaxlab.ir.jaxpr import JaxprModel
from jaxlab.ir.numerics import (
    HISTOGRAM_BINS,
    HISTOGRAM_LOW,
    OVERFLOW_THRESHOLD,
    UNDERFLOW_THRESHOLD,
)

F32_SUB = np.array([1, 5, 0x7FFFFF], dtype=np.uint32).view(np.float32)  # subnormals
F32_VALUES = np.concatenate(
    [
        np.array([0.0, -0.0, 1.5, -2.25, 3e38, -7e4, 1e-30, 2.0**-25, 2.0**-10, 500.0]),
        F32_SUB.astype(np.float64),
        [np.nan, np.inf, -np.inf, np.nan, 70000.0],
    ]
).astype(np.float32)


def reference(values: np.ndarray) -> dict:
    """The statistics computed on the host, from the exact values (float64)."""
    with np.errstate(invalid="ignore"):  # float8_e4m3fn's NaN
        x = values.astype(np.float64).ravel()
    n = x.size
    finite = np.isfinite(x)
    fx = x[finite]
    nonzero = fx[fx != 0]
    a = np.abs(nonzero)
    tiny = float(np.finfo(values.dtype).smallest_normal)
    _, e = np.frexp(a)
    binades = np.clip(e - 1 - HISTOGRAM_LOW, 0, HISTOGRAM_BINS - 1)
    return {
        "nan": int(np.isnan(x).sum()),
        "posinf": int((x == np.inf).sum()),
        "neginf": int((x == -np.inf).sum()),
        "min": float(fx.min()),
        "max": float(fx.max()),
        "mean": float(fx.mean()),
        "absmax": float(np.abs(fx).max()),
        "absmin_nonzero": float(a.min()),
        "zero_frac": float((fx == 0).sum() / n),
        "subnormal_frac": float((a < tiny).sum() / n),
        "overflow_bf16": float((np.abs(fx) >= OVERFLOW_THRESHOLD["bf16"]).sum() / n),
        "overflow_f16": float((np.abs(fx) >= OVERFLOW_THRESHOLD["f16"]).sum() / n),
        "underflow_f16": float((a <= UNDERFLOW_THRESHOLD["f16"]).sum() / n),
        "overflow_fp8_e4m3": float((np.abs(fx) >= OVERFLOW_THRESHOLD["fp8_e4m3"]).sum() / n),
        "underflow_fp8_e4m3": float((a <= UNDERFLOW_THRESHOLD["fp8_e4m3"]).sum() / n),
        "histogram": tuple(np.bincount(binades, minlength=HISTOGRAM_BINS).tolist()),
    }


def passthrough(x):
    """A copy that moves bits without arithmetic (no flushing of subnormals)."""
    return jnp.flip(x)


@pytest.mark.parametrize(
    "dtype", [np.float32, ml_dtypes.bfloat16, np.float16], ids=["f32", "bf16", "f16"]
)
def test_every_statistic_matches_numpy(dtype):
    if dtype is np.float32:
        values = F32_VALUES
    else:
        info = ml_dtypes.finfo(dtype)
        sub = np.array([1, 3], dtype=np.uint16).view(dtype)
        values = np.concatenate(
            [
                np.array([0.0, 1.5, -2.25, float(info.max), -100.0, 2.0**-25, 500.0]).astype(dtype),
                sub,
                np.array([np.nan, np.inf, -np.inf], dtype=dtype),
            ]
        )
    n = jaxlab.numerics(passthrough, jnp.asarray(values))
    (row,) = [r for r in n.equation_stats if r.primitive == "rev"]
    ref = reference(np.asarray(values))
    assert row.dtype == np.dtype(dtype).name and row.count == values.size
    for name, expected in ref.items():
        got = getattr(row, name)
        if name == "mean":
            assert got == pytest.approx(expected, rel=1e-6), name
        else:
            assert got == expected, name
    # the argument's statistics are the same numbers, read before any equation
    (arg,) = n.arguments
    assert (arg.min, arg.max, arg.nan, arg.histogram) == (
        row.min,
        row.max,
        row.nan,
        ref["histogram"],
    )


def matches_reference(row, values: np.ndarray) -> None:
    for name, expected in reference(values).items():
        got = getattr(row, name)
        if name == "mean":
            assert got == pytest.approx(expected, rel=1e-6), name
        else:
            assert got == expected, name


@pytest.mark.parametrize(
    "dtype",
    [np.float16, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2],
    ids=["f16", "bf16", "f8_e4m3fn", "f8_e5m2"],
)
def test_every_bit_pattern_lands_in_its_bucket(dtype):
    # every value of the type once: each binade, both sides of every cast threshold, the
    # subnormals, zeros, NaNs and infinities; every count is exact
    width = np.dtype(dtype).itemsize * 8
    values = np.arange(1 << width, dtype=np.uint32).astype(f"uint{width}").view(dtype)
    row = jaxlab.numerics(passthrough, jnp.asarray(values)).equation_stats[0]
    assert row.count == values.size
    for name, expected in reference(values).items():
        if name != "mean":  # a sum of every value: its rounding is the device's
            assert getattr(row, name) == expected, name


def test_arguments_measured_in_groups_match_numpy_each():
    # arguments of one dtype and length class are measured together, padded to the longest:
    # each keeps its own statistics, in the call's order, whatever its neighbours hold
    rng = np.random.default_rng(0)
    wide = rng.standard_normal(30).astype(np.float32)
    wide[[3, 17]] = [np.inf, np.nan]
    args = {
        "a": F32_VALUES,
        "b": F32_VALUES[:18],
        "c": wide,
        "d": np.zeros(17, np.float32),
        "e": F32_VALUES.astype(ml_dtypes.bfloat16),
        "f": F32_VALUES[3:20].astype(ml_dtypes.bfloat16),
    }
    ints = np.array([-5, 0, 7, 0, 2**31 - 1], np.int32)
    n = jaxlab.numerics(
        lambda p, k: sum(jnp.sum(v.astype(jnp.float32)) for v in p.values()) + k[0],
        {k: jnp.asarray(v) for k, v in args.items()},
        jnp.asarray(ints),
    )
    assert [a.name for a in n.arguments] == [f"p['{k}']" for k in args] + ["k"]
    for arg, (name, values) in zip(n.arguments, args.items(), strict=False):
        assert arg.count == values.size and arg.dtype == np.dtype(values.dtype).name, name
        if name == "d":  # all zeros: no non-zero magnitude, every element in the zero count
            assert (arg.min, arg.max, arg.zero_frac, arg.absmin_nonzero) == (0.0, 0.0, 1.0, None)
            continue
        matches_reference(arg, values)
    k = n.arguments[-1]
    assert (k.min, k.max, k.zero_frac, k.count) == (-5, 2**31 - 1, 2 / 5, 5)


def test_many_parameters_compile_a_few_histograms():
    # XLA:CPU compiles every scatter as a kernel of its own: a model's parameters of one
    # shape share their histograms' scatter instead of one each
    params = [jnp.full((8, 8), float(i), jnp.float32) for i in range(40)]
    closed = jax.jit(lambda ps: sum(jnp.sum(p) for p in ps)).trace(params).jaxpr
    inst = numerics_engine.instrument(closed, params)
    scatters = inst.compiled.as_text().count(" scatter(")
    assert 1 <= scatters <= 3  # the arguments, the sums, the running total
    rows = numerics_engine.decode_arguments(inst, [f"p{i}" for i in range(40)], closed.in_avals)
    assert [(a.min, a.max, a.count) for a in rows] == [(float(i), float(i), 64) for i in range(40)]


def test_float64_and_float8_match_numpy():
    # float64: subnormals far below the histogram's first bin, values beyond float32's range
    f64 = np.array(
        [0.0, 5e-324, -2e-310, 1e-200, 2.0**-25, 2.0**-10, 65520.0, 1e300, -3.5e38, 7.0],
        np.float64,
    )
    with jax.enable_x64(True):
        n = jaxlab.numerics(passthrough, jnp.asarray(f64))
    (row,) = [r for r in n.equation_stats if r.primitive == "rev"]
    assert row.dtype == "float64" and row.subnormal_frac == 2 / 10
    matches_reference(row, f64)
    # float8_e4m3fn has no Inf; its subnormals start at 2**-9
    f8 = np.array([0.0, 448.0, -448.0, 2.0**-9, -(2.0**-7), 0.5, 3.0], ml_dtypes.float8_e4m3fn)
    row = jaxlab.numerics(passthrough, jnp.asarray(f8)).equation_stats[0]
    assert row.subnormal_frac == 2 / 7 and row.overflow_fp8_e4m3 == 0.0
    matches_reference(row, f8)


def test_counts_past_the_narrow_counters():
    """Values measured together count their buckets in the narrowest type that holds their
    length; each bucket here is full."""

    def f(a, b, c, d, e):
        return [jnp.flip(v) for v in (a, b, c, d, e)]

    sizes = (255, 255, 65535, 65535, 70000)
    fills = (0.0, -0.0, 1.0, 1.5, 3.0)
    args = [jnp.full((n,), v, jnp.float32) for n, v in zip(sizes, fills, strict=True)]
    rows = [r for r in jaxlab.numerics(f, *args).equation_stats if r.primitive == "rev"]
    assert [r.count for r in rows] == list(sizes)
    assert [r.zero_frac for r in rows] == [1.0, 1.0, 0.0, 0.0, 0.0]
    one = -HISTOGRAM_LOW  # the bin of binade 0: [1, 2)
    assert [r.histogram[one] for r in rows[2:4]] == [65535, 65535]
    assert rows[4].histogram[one + 1] == 70000 and sum(rows[4].histogram) == 70000


def test_two_byte_counters_of_a_padded_batch_are_exact():
    """Values of 2**8 to 2**16 elements measured together (padded to the longest) count in two
    bytes a bucket: every statistic is exact, with buckets past 256 and the padding left out."""
    rng = np.random.default_rng(0)
    huge = np.isfinite(F32_VALUES) & (np.abs(F32_VALUES) > 1e37)  # a float32 sum would overflow
    values = np.tile(F32_VALUES[~huge], 300)
    mixed = np.concatenate([values, rng.normal(size=6000 - values.size)]).astype(np.float32)
    rng.shuffle(mixed)

    def f(x):
        return jnp.flip(x), jnp.flip(x[:3000]), jnp.flip(x[:300])

    rows = [
        r for r in jaxlab.numerics(f, jnp.asarray(mixed)).equation_stats if r.primitive == "rev"
    ]
    assert [r.count for r in rows] == [6000, 3000, 300]
    for row, k in zip(rows, (6000, 3000, 300), strict=True):
        for name, expected in reference(mixed[:k]).items():
            if name == "mean":  # a float32 sum of thousands of values
                assert row.mean == pytest.approx(expected, rel=1e-5)
            else:
                assert getattr(row, name) == expected, name
    assert rows[0].nan == 600 and max(rows[0].histogram) > 256


def test_values_of_different_sizes_measured_together():
    x = np.array([3.0, -1.0, 0.0, 2.0**-140, np.inf, 0.25, -7.5, 1e-3], np.float32)

    def f(x):
        return [jnp.flip(x[:k]) for k in (1, 3, 5, 8)]

    rows = [r for r in jaxlab.numerics(f, jnp.asarray(x)).equation_stats if r.primitive == "rev"]
    assert [r.count for r in rows] == [1, 3, 5, 8]
    for row, k in zip(rows, (1, 3, 5, 8), strict=True):
        matches_reference(row, x[:k])


def test_subnormals_are_counted_from_their_bits():
    n = jaxlab.numerics(passthrough, jnp.asarray(F32_SUB))
    row = n.equation_stats[0]
    assert row.subnormal_frac == 1.0 and row.zero_frac == 0.0
    assert row.absmin_nonzero == float(F32_SUB[0]) == 2.0**-149
    # binades -149 (2**-149), -147 (5 * 2**-149) and -127 (the largest subnormal)
    filled = [HISTOGRAM_LOW + i for i, c in enumerate(row.histogram) if c]
    assert filled == [-149, -147, -127]
    # arithmetic flushes them: XLA:CPU multiplies them as zeros, and the row says so
    flushed = jaxlab.numerics(lambda x: x * 2.0, jnp.asarray(F32_SUB)).equation_stats[0]
    assert flushed.zero_frac == 1.0


def test_integers_and_booleans():
    values = np.array([-(2**31), -5, 0, 0, 7, 2**31 - 1], dtype=np.int32)
    n = jaxlab.numerics(lambda x: (jnp.flip(x), x > 0), jnp.asarray(values))
    ints = n.row("0")
    assert (ints.min, ints.max, ints.absmax, ints.absmin_nonzero) == (
        -(2**31),
        2**31 - 1,
        2**31,
        5,
    )
    assert ints.zero_frac == pytest.approx(2 / 6)
    # the mean is summed in float32: exact for moderate values
    moderate = jaxlab.numerics(
        jnp.flip, jnp.array([-5, 0, 7, 100], dtype=jnp.int32)
    ).equation_stats[0]
    assert moderate.mean == pytest.approx(25.5)
    assert ints.nan == 0 and ints.subnormal_frac is None and ints.histogram == ()
    bools = n.row("1")
    assert (bools.dtype, bools.min, bools.max, bools.zero_frac) == ("bool", 0, 1, 4 / 6)


def test_integers_and_booleans_measured_together():
    """Batches of integers and booleans (their zeros the only bucket they count) read as
    NumPy says, padded and in two-byte counters too."""
    values = np.arange(-150, 150, dtype=np.int32) * np.int32(3_000_000)  # 300: one zero
    values[::7] = 0

    sizes = (300, 260, 6, 5)  # two of a length class each: measured in pairs

    def f(x):
        return [jnp.flip(x[:k]) for k in sizes], [x[:k] > 0 for k in sizes]

    n = jaxlab.numerics(f, jnp.asarray(values))
    ints = [r for r in n.equation_stats if r.primitive == "rev"]
    bools = [r for r in n.equation_stats if r.primitive == "gt"]
    for row, k in zip(ints, sizes, strict=True):
        part = values[:k].astype(np.int64)
        nonzero = np.abs(part[part != 0])
        assert (row.count, row.min, row.max, row.absmin_nonzero) == (
            k,
            part.min(),
            part.max(),
            nonzero.min(),
        )
        assert row.zero_frac == (part == 0).sum() / k and row.histogram == ()
    for row, k in zip(bools, sizes, strict=True):
        positive = values[:k] > 0
        assert (row.count, row.dtype, row.min, row.max) == (k, "bool", 0, int(positive.any()))
        assert row.zero_frac == (~positive).sum() / k and row.nan == 0


def test_a_loop_accumulates_over_iterations():
    def f(x):
        return jax.lax.fori_loop(0, 4, lambda i, a: a * 2.0, x)

    n = jaxlab.numerics(f, jnp.array([1.0, -3.0]))
    mul = next(r for r in n.equation_stats if r.primitive == "mul")
    seen = np.array([[2, -6], [4, -12], [8, -24], [16, -48]], dtype=np.float64)
    assert (mul.executions, mul.count, mul.loops) == (4, 8, 1)
    assert (mul.min, mul.max, mul.mean) == (-48.0, 16.0, pytest.approx(seen.mean()))
    assert mul.first_nonfinite is None and mul.eqn_path == "0/jaxpr/1"


def test_rows_link_to_the_jaxpr_by_path_and_carry_their_lines():
    def f(x):
        y = jnp.sin(x)
        return jax.lax.cond(x[0] > 0, lambda a: a * 2.0, lambda a: a + 1.0, y)

    closed = jax.make_jaxpr(f)(jnp.ones(3))
    model = JaxprModel.build(closed)
    n = jaxlab.numerics(f, jnp.ones(3))
    paths = {e.path: e.primitive for e in model.equations}
    for r in n.equation_stats:
        assert paths[r.eqn_path] == r.primitive
    sin = next(r for r in n.equation_stats if r.primitive == "sin")
    assert sin.file == __file__ and sin.where.startswith("test_numerics_stats.py:")
    cond = next(r for r in n.equation_stats if r.primitive == "cond")
    assert cond.branches == (0, 1)


def test_grad_rows_are_forward_and_backward_on_the_forward_lines():
    def loss(w):
        h = jnp.tanh(w * 3.0)  # forward line
        return jnp.sum(h**2)

    n = jaxlab.numerics(loss, jnp.array([0.5, -1.0]), grad=True)
    phases = {(r.primitive, r.phase) for r in n.equation_stats}
    assert ("tanh", "forward") in phases
    backward = [r for r in n.equation_stats if r.phase == "backward"]
    assert backward and all(r.line is not None for r in backward)
    tanh_line = next(r for r in n.equation_stats if r.primitive == "tanh").line
    # the transposed multiply by 3.0 keeps the forward line of tanh(w * 3.0)
    assert any(r.line == tanh_line and r.primitive == "mul" for r in backward)
    value, grads = n.output
    expected = jax.jit(jax.grad(loss))(jnp.array([0.5, -1.0]))
    np.testing.assert_allclose(np.asarray(grads), np.asarray(expected), rtol=1e-5)
    assert math.isfinite(float(value))


def test_to_pandas_and_cast_report():
    def f(x):
        return x * 1000.0

    n = jaxlab.numerics(f, jnp.array([1.0, 0.5, 1e-9]))
    frame = n.to_pandas()
    assert list(frame.columns)[:4] == ["equation", "output", "primitive", "phase"]
    assert frame.loc[0, "max"] == 1000.0
    report = n.cast_report("fp8_e4m3")
    assert isinstance(report, jaxlab.Table) and report.title == "Numerics.cast_report('fp8_e4m3')"
    assert report[0]["primitive"] == "mul" and report[0]["overflow_frac"] == pytest.approx(2 / 3)
    assert report[0]["absmax_ratio"] == pytest.approx(1000.0 / 448.0)
    # rows as dicts, a DataFrame, text and HTML views; iterating it still gives the dicts
    assert report.rows()[0]["overflow_frac"] == report[0]["overflow_frac"]
    assert [r["primitive"] for r in report] == [r["primitive"] for r in report.rows()]
    assert list(report.to_pandas().columns) == list(report.columns)
    assert "Numerics.cast_report('fp8_e4m3')" in repr(report) and "<table" in report._repr_html_()
    renamed._warned.clear()
    with pytest.warns(FutureWarning, match="column 'overflow' is now 'overflow_frac'"):
        assert report[0]["overflow"] == report[0]["overflow_frac"]
    assert n.cast_report("float16") == []
    with pytest.raises(ValueError, match="bf16, f16 and fp8_e4m3"):
        n.cast_report("int8")


def test_only_a_named_scope():
    def f(x):
        with jax.named_scope("inner"):
            y = jnp.exp(x)
        return y * 2.0 + 1.0

    n = jaxlab.numerics(f, jnp.ones(2), only="inner")
    assert [r.primitive for r in n.equation_stats] == ["exp"]
    assert n.equation_stats[0].scope == "inner"
    assert any("not instrumented" in note for note in n.notes)
    with pytest.raises(BadInput, match="matched no equation"):
        jaxlab.numerics(f, jnp.ones(2), only="elsewhere")


def test_bad_input_is_one_message_with_the_fix():
    with pytest.raises(BadInput, match="expected a function") as info:
        jaxlab.numerics(3, jnp.ones(2))
    assert "\n  fix: " in str(info.value)


def test_donated_arguments_stay_valid_and_callbacks_are_noted():
    seen = []

    def f(x):
        jax.debug.callback(lambda v: seen.append(float(v)), x.sum())
        return x * 2.0

    x = jnp.ones(3)
    n = jaxlab.numerics(jax.jit(f, donate_argnums=0), x)
    assert not x.is_deleted() and float(x.sum()) == 3.0
    assert seen == [3.0]
    assert any("callbacks (debug_callback) ran once" in note for note in n.notes)
