"""numerics_diff: the equation that creates the error, on programs where it is known."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import jaxlab
from jaxlab.core.numerics import BadInput


def line_of(fn, text: str) -> int:
    """The file line of the first line of `fn` containing `text`."""
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, s in enumerate(lines) if text in s)


def naive_var(x):
    m = jnp.mean(x)
    m2 = jnp.mean(x * x)
    return m2 - m * m


def naive_softmax(x):
    e = jnp.exp(x)
    return e / jnp.sum(e)


def bf16_sum(x):
    return lax.reduce(x, np.zeros((), x.dtype), lax.add, (0,))


def loop_sum(x):
    return lax.fori_loop(0, x.shape[0], lambda i, s: s + x[i], jnp.zeros((), x.dtype))


def matmul_low(a, b):
    return a @ b


def matmul_f32acc(a, b):
    return jnp.matmul(a, b, preferred_element_type=jnp.float32)


def fused(x, y, z):
    return x * y + z


def carried(x):
    s = lax.fori_loop(0, x.shape[0], lambda i, s: s + x[i], jnp.zeros((), x.dtype))
    t = s * 3.0
    u = t - 1.0
    return u


rng = np.random.default_rng(0)


def test_variance_blames_the_subtraction():
    x = jnp.asarray(rng.normal(1000.0, 1.0, 4096).astype(np.float32))
    d = jaxlab.numerics_diff(naive_var, x, compare="bf16")
    assert d.top["primitive"] == "sub"
    assert d.top["line"] == line_of(naive_var, "m2 - m * m")
    assert "jnp.var" in d.top["fix"]
    # the float32 variance is about 1; in bf16 the result is off by the whole value
    assert d.output_error > 0.5
    assert d.top["local_error"] > 100 * max(
        r["local_error"] for r in d.rows if r["primitive"] != "sub"
    )


def test_softmax_without_max_blames_the_exp():
    x = jnp.asarray(rng.normal(0.0, 1.0, 64).astype(np.float32) + 12.0)
    d = jaxlab.numerics_diff(naive_softmax, x, compare="f16")
    assert d.top["primitive"] == "exp"
    assert d.top["line"] == line_of(naive_softmax, "jnp.exp(x)")
    assert d.top["local_error"] == np.inf  # exp(12+) overflows float16 (65504)
    assert "max" in d.top["fix"]
    assert d.reference_nonfinite is None


def test_long_bf16_sum_blames_the_accumulating_loop():
    x = jnp.asarray(rng.uniform(0.5, 1.5, 1 << 14).astype(np.float32))
    d = jaxlab.numerics_diff(loop_sum, x, compare="bf16")
    # fori_loop with static bounds is a scan: the add of its body carries the sum
    assert d.top["primitive"] == "add" and d.top["_loop"] == "scan"
    assert d.top["line"] == line_of(loop_sum, "lax.fori_loop")
    assert "accumulator" in d.top["fix"] and "float32" in d.top["fix"]
    assert d.top["iterations"] == x.shape[0]
    assert repr(d).startswith(
        f"add at {d.top['where']} (in a scan loop, worst at iteration {d.top['iteration'][0]}) "
        "makes the most error"
    )
    # the loop as one equation is not blamed: the error is made in its body
    assert next(r for r in d.rows if r["primitive"] == "scan")["local_error"] is None
    # checked against NumPy: the bf16 running sum stalls where adding ~1 no longer changes it
    exact = float(np.sum(np.asarray(x, np.float64)))
    stalled = float(loop_sum(x.astype(jnp.bfloat16)))
    assert stalled < exact / 10
    assert d.output_error == pytest.approx(
        abs(stalled - float(loop_sum(x))) / float(loop_sum(x)), rel=1e-3
    )


def test_bf16_reduce_on_cpu_is_accumulated_wide():
    # XLA:CPU sums a bfloat16 reduce in float32: what is left is the final rounding
    x = jnp.asarray(rng.uniform(0.5, 1.5, 1 << 14).astype(np.float32))
    d = jaxlab.numerics_diff(bf16_sum, x, compare="bf16")
    assert d.top["primitive"] == "reduce_sum"
    assert d.top["line"] == line_of(bf16_sum, "lax.reduce")
    assert d.top["local_error"] <= 2.0**-8


def test_bf16_matmul_accumulation():
    a = jnp.asarray(rng.uniform(0, 1, (64, 2048)).astype(np.float32))
    b = jnp.asarray(rng.uniform(0, 1, (2048, 64)).astype(np.float32))
    low = jaxlab.numerics_diff(matmul_low, a, b, compare="bf16")
    wide = jaxlab.numerics_diff(matmul_f32acc, a, b, compare="bf16")
    assert low.top["primitive"] == "dot_general"
    assert low.top["line"] == line_of(matmul_low, "a @ b")
    assert "preferred_element_type=jnp.float32" in low.top["fix"]
    assert wide.top["primitive"] == "dot_general"
    print("low", low.top["local_error"], "wide", wide.top["local_error"])
    assert wide.top["local_error"] < low.top["local_error"]


def test_eager_and_jit_differ_at_the_fused_add():
    x, y, z = (jnp.asarray(rng.standard_normal(4096).astype(np.float32)) for _ in range(3))
    d = jaxlab.numerics_diff(fused, x, y, z, compare="eager")
    assert d.top["primitive"] == "add"
    assert d.top["line"] == line_of(fused, "x * y + z")
    mul = next(r for r in d.rows if r["primitive"] == "mul")
    assert mul["rel_error"] == 0.0
    add = next(r for r in d.rows if r["primitive"] == "add")
    # XLA:CPU contracts x*y+z to a fused multiply-add (one rounding instead of two): a
    # minority of elements differ, by one ulp, so the median is 0 ulps
    assert add["rel_error"] > 0 and add["max_rel_error"] > 0
    assert add["ulps"] == 0.0
    assert add["local_error"] == add["rel_error"]


def test_accumulation_is_made_once_and_carried():
    x = jnp.asarray(rng.uniform(0.5, 1.5, 1 << 14).astype(np.float32))
    d = jaxlab.numerics_diff(carried, x, compare="bf16")
    assert d.top["line"] == line_of(carried, "lax.fori_loop")
    assert d.top["primitive"] == "add"  # in the body of the fori_loop (a scan)
    for text in ("s * 3.0", "t - 1.0"):
        row = next(r for r in d.rows if r["line"] == line_of(carried, text))
        assert row["rel_error"] > 10 * row["local_error"]  # inherited, not made


def test_jnp_sum_of_bf16_already_accumulates_in_f32():
    # JAX's own jnp.sum converts bfloat16 to float32 to sum: only the inputs' rounding is left
    x = jnp.asarray(rng.uniform(0.5, 1.5, 1 << 16).astype(np.float32))
    d = jaxlab.numerics_diff(lambda v: jnp.sum(v), x, compare="bf16")
    row = next(r for r in d.rows if r["primitive"] == "reduce_sum")
    assert row["dtype"] == "float32"
    assert row["rel_error"] < 1e-4


def test_unknown_compare_lists_the_valid_ones():
    with pytest.raises(BadInput, match="bf16, f16, x64, eager"):
        jaxlab.numerics_diff(fused, 1.0, 2.0, 3.0, compare="tf32")


def test_integer_only_program():
    with pytest.raises(BadInput, match="integer"):
        jaxlab.numerics_diff(lambda i: i * 2 + 1, jnp.arange(4), compare="eager")


def test_x64_says_inputs_were_converted():
    x = jnp.asarray(rng.normal(1000.0, 1.0, 4096).astype(np.float32))
    d = jaxlab.numerics_diff(naive_var, x, compare="x64")
    assert any("converted to float64" in n for n in d.notes)
    assert d.top["primitive"] == "sub"
    exact = float(np.var(np.asarray(x, np.float64)))
    assert d.output_error == pytest.approx(abs(float(naive_var(x)) - exact) / exact, rel=1e-2)


def test_reference_holding_nan_is_named():
    def f(x):
        return jnp.log(x) * 2.0

    d = jaxlab.numerics_diff(f, jnp.asarray([-1.0, 2.0, 3.0]), compare="bf16")
    assert d.reference_nonfinite["primitive"] == "log"
    assert d.reference_nonfinite["reference_nonfinite"] == 1


def test_views_lead_with_the_top_creator_and_escape_user_strings():
    from jaxlab.api.numerics_diff import NumericsDiff

    row = {
        "equation": 3,
        "primitive": "sub",
        "file": "<img src=x onerror=alert(1)>.py",
        "line": 7,
        "where": "<img src=x onerror=alert(1)>.py:7",
        "output": 0,
        "dtype": "bfloat16",
        "reference_dtype": "float32",
        "shape": (),
        "rel_error": 0.9,
        "max_rel_error": 0.9,
        "ulps": 128.0,
        "local_error": 0.9,
        "reference_nonfinite": 0,
        "candidate_nonfinite": 0,
        "_params": {},
    }
    d = NumericsDiff(
        fn_name="<script>f</script>",
        compare="bf16",
        reference="the program as given",
        candidate="bfloat16 inputs",
        rows=[row],
        outputs=[
            {
                "output": "output",
                "dtype": "bfloat16",
                "rel_error": 0.9,
                "max_rel_error": 0.9,
                "ulps": 128.0,
            }
        ],
        cast=["<x>"],
    )
    text = repr(d)
    assert text.splitlines()[0].startswith("sub at <img src=x onerror=alert(1)>.py:7 makes")
    page = d.to_html()
    assert "<img" not in page and "<script>f" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.py:7" in page
    assert list(d.to_pandas().columns) == [
        "equation",
        "primitive",
        "file",
        "line",
        "where",
        "dtype",
        "rel_error",
        "max_rel_error",
        "ulps",
        "local_error",
        "iteration",
        "iterations",
    ]


def test_numpy_twin_is_the_reference_for_final_outputs():
    def f(x):
        return jnp.sum(x * x) - jnp.sum(x) ** 2 / x.shape[0]

    x = jnp.asarray(rng.normal(1000.0, 1.0, 4096).astype(np.float32))
    d = jaxlab.numerics_diff(f, x, compare="numpy")
    assert d.rows == [] and d.aligned == 0
    assert any("NumPy float64 twin" in n for n in d.notes)
    x64 = np.asarray(x, np.float64)
    exact = np.sum(x64 * x64) - np.sum(x64) ** 2 / 4096
    assert d.output_error == pytest.approx(abs(float(f(x)) - exact) / abs(exact), rel=1e-3)


def dtype_branch(x):
    if x.dtype == jnp.float32:
        return jnp.sin(x) * 2.0
    return jnp.cos(x - np.pi / 2) * 2.0


def test_nothing_aligns_compares_the_final_outputs_only():
    x = jnp.linspace(0.1, 3.0, 256, dtype=jnp.float32)
    d = jaxlab.numerics_diff(dtype_branch, x, compare="bf16")
    assert d.aligned == 0 and d.rows == [] and d.top is None
    assert any("no equation of the two programs aligns" in n for n in d.notes)
    exact = np.sin(np.asarray(x, np.float64)) * 2.0
    got = np.asarray(dtype_branch(x.astype(jnp.bfloat16)), np.float64)
    want = np.linalg.norm(got - np.asarray(dtype_branch(x), np.float64)) / np.linalg.norm(exact)
    assert d.output_error == pytest.approx(want, rel=1e-2)
    assert repr(d).startswith("The output is off by")


def test_precision_default_against_highest_on_cpu_agrees():
    a = jnp.asarray(rng.standard_normal((64, 64)).astype(np.float32))
    d = jaxlab.numerics_diff(matmul_low, a, a, compare="precision=default")
    row = next(r for r in d.rows if r["primitive"] == "dot_general")
    if jax.default_backend() == "cpu":  # XLA:CPU has no TF32 or bf16 passes
        assert row["rel_error"] == 0.0 and d.top is None
        assert repr(d).startswith("No error:")
    else:
        assert d.top["primitive"] == "dot_general"
        assert "Precision.HIGHEST" in d.top["fix"]


def test_grad_against_x64():
    def loss(w, x):
        return jnp.mean((x @ w) ** 2)

    w = jnp.asarray(rng.standard_normal((16, 4)).astype(np.float32))
    x = jnp.asarray(rng.standard_normal((32, 16)).astype(np.float32))
    d = jaxlab.numerics_diff(loss, w, x, compare="x64", grad=True)
    assert d.rows and all(r["dtype"] == "float32" for r in d.rows)
    assert len(d.outputs) == 2  # the value and the gradient
    assert 0 < d.output_error < 1e-5
    assert all(r["reference_dtype"] == "float64" for r in d.rows)


def test_creators_table_is_ranked_and_converts():
    x = jnp.asarray(rng.normal(1000.0, 1.0, 4096).astype(np.float32))
    c = jaxlab.numerics_diff(naive_var, x, compare="bf16").creators()
    local = [r["local_error"] for r in c]
    assert local == sorted(local, reverse=True)
    frame = c.to_pandas()
    assert list(frame.columns)[:3] == ["where", "line", "primitive"]
    assert "_params" not in frame.columns


def test_eager_with_many_values_says_they_were_compiled_together(monkeypatch):
    from jaxlab.core import numerics_diff as core

    monkeypatch.setattr(core, "MAX_SEPARATE", 1)
    x, y, z = (jnp.asarray(rng.standard_normal(64).astype(np.float32)) for _ in range(3))
    d = jaxlab.numerics_diff(fused, x, y, z, compare="eager")
    assert any("compiled as one program" in n for n in d.notes)
    assert [r["primitive"] for r in d.rows] == ["mul", "add"]


def overflowing(x):
    e = jnp.exp(x)
    return e / 1024.0


def test_cast_report_names_the_call_that_confirms_it():
    x = jnp.asarray(rng.normal(12.0, 0.5, 1000).astype(np.float32))
    n = jaxlab.numerics(overflowing, x)
    report = n.cast_report("f16")
    worst = report[0]
    assert worst["primitive"] == "exp" and worst["overflow_frac"] > 0
    call = n.compare_call("f16")
    assert call == "jaxlab.numerics_diff(overflowing, x, compare='f16')"
    # the report's views end with it
    last = f"run the cast program to see the error it makes: {call}"
    assert repr(report).splitlines()[-1] == last
    html = report._repr_html_()
    assert html.rindex("run the cast program") > html.rindex("</table>")
    empty = n.cast_report("bf16")
    assert empty.footer == ""  # nothing to confirm: every value fits bf16
    assert repr(empty).splitlines()[1] == (
        "a cast to bf16 damages no float output: none overflows or flushes to zero"
    )
    assert n.compare_call("fp8_e4m3") is None  # numerics_diff compares bf16 and f16
    cast_line = next(line for line in repr(n).splitlines() if line.strip().startswith("f16:"))
    assert cast_line.endswith(f"run the cast program to see the error it makes: {call}")
    d = eval(call, {"jaxlab": jaxlab, "overflowing": overflowing, "x": x})
    # the cast program agrees: exp is where the error is made, on the reported line, and it
    # overflows exactly the elements the report counted (NumPy: exp(x) rounds past f16's max)
    exp_line = n.equation_stats[worst["row"]].line
    assert d.top["primitive"] == "exp" and d.top["line"] == exp_line
    assert d.top["local_error"] == np.inf
    overflowed = d.top["candidate_nonfinite"]
    assert overflowed == round(worst["overflow_frac"] * x.size)
    with np.errstate(over="ignore"):
        host = np.exp(np.asarray(x, np.float64)).astype(np.float16)
    assert overflowed == int(np.isinf(host).sum()) > 0


def test_compare_call_keeps_grad_and_keywords():
    def loss(w, x, *, scale):
        return jnp.sum(jnp.exp(w * x)) * scale

    w = jnp.full((4,), 12.0)
    n = jaxlab.numerics(loss, w, jnp.ones(4), grad=True, kwargs={"scale": 1.0})
    call = n.compare_call("bf16")
    assert call == (
        "jaxlab.numerics_diff(loss, w, x, kwargs={'scale': scale}, grad=True, compare='bf16')"
    )
    d = eval(call, {"jaxlab": jaxlab, "loss": loss, "w": w, "x": jnp.ones(4), "scale": 1.0})
    assert len(d.outputs) == 2  # the value and the gradient


# -- inside loops and branches --------------------------------------------------------------


def scanned_mean(xs):
    def step(total, x):
        total = total + x
        return total, total

    total, running = lax.scan(step, jnp.zeros((), xs.dtype), xs)
    scaled = total * 2.0
    return scaled / xs.shape[0], running


def test_a_scan_body_accumulator_is_the_creator_with_its_error_summed_over_steps():
    xs = jnp.asarray(rng.uniform(0.5, 1.5, 4096).astype(np.float32))
    d = jaxlab.numerics_diff(scanned_mean, xs, compare="bf16")
    top = d.top
    assert (top["primitive"], top["line"]) == ("add", line_of(scanned_mean, "total + x"))
    assert top["_carried"] and top["iterations"] == 4096 and len(top["iteration"]) == 1
    # the error the accumulation makes is the error of the sum: checked against float64
    exact = np.cumsum(np.asarray(xs, np.float64))
    low = np.asarray(scanned_mean(xs.astype(jnp.bfloat16))[1], np.float64)
    assert top["local_error"] == pytest.approx(abs(low[-1] - exact[-1]) / exact[-1], rel=0.1)
    # rel_error of a body value covers every iteration, norm-wise (the running sums)
    assert top["rel_error"] == pytest.approx(
        np.linalg.norm(low - exact) / np.linalg.norm(exact), rel=0.02
    )
    # the lines after the loop carry the error in, they do not make it
    for text in ("total * 2.0", "scaled / xs.shape[0]"):
        row = next(r for r in d.rows if r["line"] == line_of(scanned_mean, text))
        assert row["rel_error"] > 10 * row["local_error"]
        assert row["iteration"] is None and row["iterations"] is None


def while_sum(x):
    def body(carry):
        i, s = carry
        s = s + x[i]
        return i + 1, s

    return lax.while_loop(lambda c: c[0] < x.shape[0], body, (0, jnp.zeros((), x.dtype)))[1]


def test_a_while_body_is_compared_equation_by_equation_over_every_iteration():
    x = jnp.asarray(rng.uniform(0.5, 1.5, 2048).astype(np.float32))
    d = jaxlab.numerics_diff(while_sum, x, compare="bf16")
    assert (d.top["primitive"], d.top["line"]) == ("add", line_of(while_sum, "s = s + x[i]"))
    assert d.top["_loop"] == "while" and d.top["iterations"] == 2048
    exact = float(np.sum(np.asarray(x, np.float64)))
    low = float(while_sum(x.astype(jnp.bfloat16)))
    assert d.top["local_error"] == pytest.approx(abs(low - exact) / exact, rel=0.1)
    assert "accumulator" in d.top["fix"]
    assert d.output_error == pytest.approx(
        abs(low - float(while_sum(x))) / float(while_sum(x)), rel=1e-3
    )


def until_hundred(step):
    def body(s):
        return s + step

    return lax.while_loop(lambda s: s < 100.0, body, jnp.zeros((), step.dtype))


def test_a_while_loop_that_stops_at_another_count_is_compared_over_the_common_steps():
    step = jnp.asarray(0.3, jnp.float32)
    d = jaxlab.numerics_diff(until_hundred, step, compare="bf16")
    # float32 needs 334 steps of 0.3; bfloat16 rounds its sum to 0.5 steps past 64
    n32 = int(np.ceil(100 / np.float32(0.3)))
    add = next(r for r in d.rows if r["primitive"] == "add")
    note = next(n for n in d.notes if "iterations in the reference" in n)
    assert f"ran {n32:,} iterations in the reference" in note
    low = 0
    s = np.float64(0)
    while s < 100:  # bf16 arithmetic on the host: round to 8 significant bits each step
        s = float(jnp.asarray(s + float(jnp.bfloat16(0.3)), jnp.bfloat16))
        low += 1
    assert f"and {low:,} in the candidate" in note
    assert add["iterations"] == min(n32, low)


def branchy(xs):
    def step(carry, x):
        def far(v):
            return (v * v) - (v - 1.0) * (v + 1.0)  # = 1, by cancellation

        def near(v):
            return v * 0.5

        y = lax.cond(x > 500.0, far, near, x)
        return carry + y, y

    return lax.scan(step, jnp.zeros((), xs.dtype), xs)[1]


def test_branches_inside_a_scan_are_compared_on_the_iterations_that_took_them():
    xs = jnp.asarray(np.where(rng.uniform(size=256) < 0.3, 1000.5, 0.25).astype(np.float32))
    d = jaxlab.numerics_diff(branchy, xs, compare="bf16")
    assert d.top["primitive"] == "sub" and d.top["_loop"] == "cond"
    assert d.top["line"] == line_of(branchy, "(v * v) - (v - 1.0)")
    taken = int(np.sum(np.asarray(xs) > 500.0))  # both configurations branch alike here
    assert d.top["iterations"] == taken
    assert np.asarray(xs)[d.top["iteration"][0]] > 500.0  # its worst step took that branch
    half = next(r for r in d.rows if r["primitive"] == "mul" and r["_loop"] == "cond"
                and r["line"] == line_of(branchy, "v * 0.5"))  # fmt: skip
    assert half["iterations"] == 256 - taken and half["local_error"] == 0.0


def test_a_while_inside_a_scan_is_one_equation_and_says_so():
    def f(xs):
        def step(c, x):
            y = lax.while_loop(lambda v: v > 1.0, lambda v: v * 0.5, x)
            return c + y, y

        return lax.scan(step, jnp.zeros((), xs.dtype), xs)[0]

    d = jaxlab.numerics_diff(f, jnp.linspace(2.0, 50.0, 64), compare="bf16")
    assert any(
        "runs inside another loop or a branch: it is compared as one equation" in n for n in d.notes
    )
    inner = next(r for r in d.rows if r["primitive"] == "while")
    assert inner["_loop"] == "scan" and inner["iterations"] == 64


def picked(x, flag):
    def cancel(v):
        return (v + 1.0) * (v + 1.0) - v * v  # 2v + 1, by cancellation

    def plain(v):
        return v * 3.0

    return lax.cond(flag, cancel, plain, x)


def test_a_top_level_cond_compares_the_branch_taken_only():
    x = jnp.asarray(np.full(64, 300.0, np.float32))
    d = jaxlab.numerics_diff(picked, x, jnp.asarray(True), compare="bf16")
    assert d.top["primitive"] == "sub" and d.top["_loop"] == "cond"
    assert d.top["line"] == line_of(picked, "(v + 1.0) * (v + 1.0) - v * v")
    assert d.top["iterations"] == 1 and d.top["iteration"] is None
    # the branch not taken has no rows
    assert not any(r["line"] == line_of(picked, "v * 3.0") for r in d.rows)
    # checked against NumPy in bfloat16 (each operation rounded): 301 rounds to 300, so the
    # cancellation leaves nothing of 2v + 1 = 601
    v = np.asarray(300.0, jnp.bfloat16)
    low = float((v + v.dtype.type(1)) * (v + v.dtype.type(1)) - v * v)
    assert low == 0.0
    assert d.output_error == pytest.approx(abs(low - 601.0) / 601.0)
    # on the reference's inputs (301² and 300² in float32, cast to bf16) the subtraction alone
    # makes 601 into 90624 - 90112 = 512
    made = float(np.asarray(301.0**2, jnp.bfloat16) - np.asarray(300.0**2, jnp.bfloat16))
    assert d.top["local_error"] == pytest.approx(abs(made - 601.0) / 601.0)


def normed_loss(w, x):
    return jnp.sum(jax.nn.standardize(x @ w, axis=-1) ** 2)


def test_backward_equations_without_a_location_are_on_their_calls_line():
    # JAX's transposes inside the gradient of a library call carry no source location: they
    # are placed on the line of the call, as the numerics explorer places them
    w = jnp.asarray(rng.standard_normal((16, 8)).astype(np.float32))
    x = jnp.asarray(rng.standard_normal((32, 16)).astype(np.float32))
    d = jaxlab.numerics_diff(normed_loss, w, x, compare="bf16", grad=True)
    assert d.rows and all(r["line"] is not None for r in d.rows)
    lines = {r["line"] for r in d.rows}
    assert lines == {line_of(normed_loss, "jax.nn.standardize")}


def test_a_loop_too_large_to_stack_is_compared_as_one_equation(monkeypatch):
    from jaxlab.core import numerics_diff as core

    xs = jnp.asarray(rng.uniform(0.5, 1.5, 4096).astype(np.float32))
    # the body's values: 4096 iterations of a few scalars, about 56 KiB in float32
    monkeypatch.setattr(core, "MAX_STACKED_BYTES", 1 << 14)
    d = jaxlab.numerics_diff(scanned_mean, xs, compare="bf16")
    note = next(n for n in d.notes if "compared as one equation" in n)
    assert note.startswith(f"the scan loop at {d.top['where']} would keep ")
    assert not any(r["_loop"] for r in d.rows)  # no body equation has a row
    assert d.top["primitive"] == "scan" and d.top["local_error"] > 0.01  # blamed as a whole
