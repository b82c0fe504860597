"""NaN and Inf a program writes on purpose, or never uses, are no origin; the loop condition
of a while_loop is measured like its body.

The small programs mimic what Optimistix and Diffrax do (the real libraries run in
``test_library_corpus.py``): an initial "best so far" of +Inf, a step-size bound of
``jnp.inf * dt``, the unused slots of a saved trajectory filled with +Inf.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.ir.numerics_origin import nonfinite_kinds


def line_of(fn, marker: str) -> int:
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, text in enumerate(lines) if marker in text]
    assert len(hits) == 1, hits
    return hits[0]


# -- values written on purpose ---------------------------------------------------------------


def best_so_far(xs):
    """Optimistix's pattern: a running minimum that starts at +Inf (jnp.full of jnp.inf)."""
    best = jnp.full(xs.shape[1:], jnp.inf)  # sentinel

    def step(best, x):
        return jnp.minimum(best, (x - 2.0) ** 2), None

    return jax.lax.scan(step, best, xs)[0]


def test_an_initial_inf_that_never_reaches_the_outputs_is_no_origin():
    xs = jnp.array([[0.0, 1.0], [3.0, 5.0], [2.5, 2.0]])
    n = jaxlab.numerics(best_so_far, xs)
    assert n.origin is None and n.clean
    np.testing.assert_allclose(np.asarray(n.output), [0.25, 0.0])
    made = [r for r in n.equation_stats if r.primitive == "broadcast_in_dim" and not r.finite]
    assert len(made) == 1 and made[0].posinf == 2
    assert made[0].line == line_of(best_so_far, "# sentinel")
    assert made[0].inputs == ("inf",)  # the literal, by its value
    (note,) = [x for x in n.notes if "on purpose" in x]
    assert f"broadcast_in_dim at {made[0].where}" in note
    text = str(n)
    assert text.splitlines()[0].startswith("No NaN or Inf reaches the outputs:")
    assert "hold +Inf" in text.splitlines()[0]


def adaptive(y0, dt):
    """Diffrax's pattern: a step bound of inf * dt, and a trajectory whose unused slots hold
    +Inf until the loop writes them; the result is the last state written."""
    bound = jnp.inf * dt  # bound
    ts = jnp.full((8,), jnp.inf)  # slots

    def cond(c):
        i, t, _, _ = c
        return (t < 1.0) & (i < 8)

    def body(c):
        i, t, y, ts = c
        h = jnp.minimum(dt, bound)
        y = y * (1.0 - 0.5 * h)
        t = t + h
        return i + 1, t, y, ts.at[i].set(t)

    i, _, y, ts = jax.lax.while_loop(cond, body, (0, 0.0, y0, ts))
    return y, ts[i - 1]


def test_a_step_bound_and_saved_slots_of_inf_are_no_origin():
    n = jaxlab.numerics(adaptive, jnp.array([1.0, 2.0]), jnp.float32(0.25))
    assert n.origin is None
    y, t = n.output
    np.testing.assert_allclose(np.asarray(y), np.array([1.0, 2.0]) * 0.875**4, rtol=1e-6)
    assert float(t) == 1.0
    bound = [r for r in n.equation_stats if r.line == line_of(adaptive, "# bound")]
    assert [r.primitive for r in bound] == ["mul"] and bound[0].posinf == 1
    assert "inf" in bound[0].inputs
    (note,) = [x for x in n.notes if "on purpose" in x]
    assert f"mul at {bound[0].where}" in note and "no output holds NaN or Inf" in note


def restart(xs):
    """A carry that a loop sets to +Inf on its first iteration (from a literal) and reads on
    the next ones: the later iterations inherit it through the loop, nothing is born."""

    def step(c, x):
        low = jnp.where(x > 0, jnp.inf, c)  # first
        return low, jnp.minimum(low, x) + 1.0

    return jax.lax.scan(step, 0.0, xs)[1][-1]


def test_a_value_carried_from_an_earlier_iteration_is_not_born_again():
    n = jaxlab.numerics(restart, jnp.array([1.0, -1.0, -2.0]))
    assert n.origin is None, n.origin
    assert float(n.output) == -1.0
    select = next(r for r in n.equation_stats if r.primitive == "select_n" and not r.finite)
    assert select.line == line_of(restart, "# first") and select.first_nonfinite == (0,)


def overflow_after_sentinel(x):
    """A real overflow in a program that also keeps a sentinel: the overflow is the origin."""
    best = jnp.full((2,), jnp.inf)
    big = jnp.exp(x * 100.0)  # overflow
    return jnp.minimum(best, big)


def test_a_real_overflow_is_still_found_beside_a_sentinel():
    n = jaxlab.numerics(overflow_after_sentinel, jnp.array([1.0, 0.0]))
    o = n.origin
    assert o is not None and (o.primitive, o.kind) == ("exp", "+Inf")
    assert o.line == line_of(overflow_after_sentinel, "# overflow")
    assert o.trap == "exp overflow" and o.constant is None


def inf_result(x):
    return jnp.minimum(x, 1.0) + jnp.full((3,), jnp.inf)  # leaks


def test_an_inf_constant_that_reaches_the_output_is_named_as_the_constant():
    n = jaxlab.numerics(inf_result, jnp.ones(3))
    o = n.origin
    assert o is not None and o.row is not None
    assert (o.primitive, o.kind, o.constant) == ("broadcast_in_dim", "+Inf", "inf")
    assert o.line == line_of(inf_result, "# leaks")
    assert o.sentence().startswith("+Inf comes in through a constant (inf) that broadcast_in_dim")
    assert "isfinite" in o.fix


def test_a_closed_over_constant_is_an_input_with_its_values():
    table = np.array([1.0, np.nan, np.inf], dtype=np.float32)

    def lookup(x):
        return x * jnp.asarray(table)  # origin

    n = jaxlab.numerics(lookup, jnp.ones(3))
    o = n.origin
    assert (o.primitive, o.line) == ("mul", line_of(lookup, "# origin"))
    assert o.constant == "constant float32[3] holding NaN, +Inf"
    assert n.equation_stats[o.row].inputs[1] == o.constant
    assert nonfinite_kinds(o.constant) == ("NaN", "+Inf")


def inf_minus_inf(x):
    big = jnp.full((2,), jnp.inf) * x
    return big - big  # nan


def test_a_nan_made_from_infs_is_born_where_the_infs_meet():
    n = jaxlab.numerics(inf_minus_inf, jnp.ones(2))
    o = n.origin
    assert (o.primitive, o.kind, o.line) == ("sub", "NaN", line_of(inf_minus_inf, "# nan"))
    assert o.constant is None


def unused(x):
    wasted = jnp.log(x - 5.0)  # unused
    del wasted
    return x * 2.0


def test_a_nan_that_reaches_no_output_is_a_note_not_an_origin():
    n = jaxlab.numerics(unused, jnp.ones(3))
    assert n.origin is None
    log = next(r for r in n.equation_stats if r.primitive == "log")
    assert log.nan == 3 and log.line == line_of(unused, "# unused")
    (note,) = [x for x in n.notes if "never reaches an output" in x]
    assert f"log at {log.where}" in note and note.startswith("NaN made at")
    assert n.output_rows and all(isinstance(r, int) for r in n.output_rows)


def ratio(n, d):
    r = n / d
    return jnp.where(d == 0, 0.0, r).sum()


@pytest.mark.parametrize("grad", [False, True])
def test_a_masked_division_reaches_the_outputs_and_stays_the_origin(grad):
    n = jaxlab.numerics(ratio, jnp.ones(3), jnp.array([0.0, 1.0, 2.0]), grad=grad)
    assert n.origin is not None and n.origin.primitive == "div" and n.origin.phase == "forward"


def test_the_reading_survives_save_and_load(tmp_path):
    n = jaxlab.numerics(unused, jnp.ones(3))
    loaded = jaxlab.Numerics.load(n.save(tmp_path / "n.json"))
    assert loaded.output_rows == n.output_rows and loaded.notes == n.notes
    assert (
        jaxlab.ir.numerics_origin.find_origin(
            loaded.equation_stats, loaded.arguments, loaded.output_rows
        )
        is None
    )


# -- the condition of a while_loop -------------------------------------------------------------


def countdown(x):
    def cond(c):
        return jnp.sqrt(c - 2.0) < 10.0  # cond

    return jax.lax.while_loop(cond, lambda c: c - 1.0, x)


def test_the_condition_of_a_while_loop_is_measured_each_evaluation():
    n = jaxlab.numerics(countdown, jnp.float32(5.0))
    assert float(n.output) == 1.0  # sqrt(-1) is NaN, NaN < 10 is False: the loop stops
    cond_rows = [r for r in n.equation_stats if "/cond_jaxpr/" in r.eqn_path]
    assert [r.primitive for r in cond_rows] == ["sub", "sqrt", "lt"]
    sub, sqrt, lt = cond_rows
    # evaluated before each of the 4 iterations and once more to stop: c = 5, 4, 3, 2, 1
    assert sub.executions == 5 and (sub.min, sub.max) == (-1.0, 3.0)
    assert sqrt.nan == 1 and sqrt.first_nonfinite == (4,)
    assert lt.dtype == "bool" and lt.zero_frac == pytest.approx(1 / 5)
    o = n.origin
    assert (o.primitive, o.line, o.iteration) == ("sqrt", line_of(countdown, "# cond"), (4,))
    assert o.trap == "sqrt of a negative value"
    body = [r for r in n.equation_stats if "/body_jaxpr/" in r.eqn_path]
    assert [r.executions for r in body] == [4]
    # the condition runs before the body in each iteration
    assert sub.equation < body[0].equation
