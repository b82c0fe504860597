"""Recompilations explained in the user's terms: a static argument or pytree metadata that holds
a new object at each call is named in one line (which argument, which object, created where,
the fix), in the guards, ``%recompiles``, the bench's invalid-variant note and the compile
advice; ``%recompiles`` reasons say what changed since the previous compilation."""

from __future__ import annotations

import inspect
from functools import partial

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.core.cache_misses import argument_changes, category, in_user_terms, summarize
from jaxlab.core.compile_events import recording
from jaxlab.guards._recompiles import RecompileLedger

HERE = "test_cache_misses.py"


@partial(jax.jit, static_argnums=1)
def apply_static(x, g):
    return g(x)


@jax.tree_util.register_pytree_node_class
class Term:
    """A pytree whose metadata (aux data) is a function, like a library's vector field."""

    def __init__(self, y, fn):
        self.y, self.fn = y, fn

    def tree_flatten(self):
        return (self.y,), self.fn

    @classmethod
    def tree_unflatten(cls, fn, children):
        return cls(children[0], fn)


@jax.jit
def integrate(term):
    return term.fn(term.y)


def make_term(y):
    return Term(y, lambda v: v * 2)  # a new lambda at each call


LAMBDA_LINE = inspect.getsourcelines(make_term)[1] + 1


class Settings:  # compared by identity: no __eq__ / __hash__
    scale = 2.0


@partial(jax.jit, static_argnames="settings")
def scaled(x, settings):
    return x * settings.scale


def _reasons(log) -> list[str]:
    return ["\n".join(c.reasons) for c in log.compilations if c.reasons]


def _one_line(reason: str) -> str:
    line = summarize(reason)
    assert "\n" not in line and "0x" not in line and "pytree metadata" not in line, line
    return line


def test_a_static_lambda_made_per_call_is_named_with_where_it_was_created():
    with recording(explain=True) as log:
        for _ in range(2):
            apply_static(jnp.ones(3), lambda v: v + 1)
    line_no = inspect.currentframe().f_lineno - 1
    first, second = _reasons(log)
    assert category(first) == "first" and category(second) == "new-object"
    line = _one_line(second)
    assert line.startswith(
        "`g` is a new object at each call: the lambda inside "
        f"`test_a_static_lambda_made_per_call_is_named_with_where_it_was_created` created at "
        f"{HERE}:{line_no}; "
    ), line
    assert "define it once, outside the function, or pass data instead of a closure" in line


def test_pytree_metadata_holding_a_fresh_lambda_names_the_attribute_and_the_factory():
    with recording(explain=True) as log:
        for _ in range(2):
            integrate(make_term(jnp.ones(3)))
    line = _one_line(_reasons(log)[1])
    assert line.startswith(
        f"`term.fn` is a new object at each call: the lambda inside `make_term` created at "
        f"{HERE}:{LAMBDA_LINE}; fix: define it once"
    ), line


def test_a_fresh_object_compared_by_identity_is_named_by_its_type():
    with recording(explain=True) as log:
        for _ in range(2):
            scaled(jnp.ones(3), settings=Settings())
    line = _one_line(_reasons(log)[1])
    assert line == (
        "`settings` is a new object at each call: a `Settings` object; fix: create it once, "
        "outside the function, or give `Settings` __eq__ and __hash__"
    )


def test_a_static_value_that_changed_keeps_jax_words_and_unreadable_calls_still_get_one_line():
    with recording(explain=True) as log:
        apply_static(jnp.ones(3), abs)
        apply_static(jnp.ones(3), round)
    line = summarize(_reasons(log)[1])
    assert category(_reasons(log)[1]) == "static" and "builtin_function_or_method" not in line
    # without the call (objects gone), the repr's text still gives a one-line answer
    raw = (
        "for h defined at /x/m.py:3\ndifferent input pytree:\n* at input path [0][0], now "
        "<class 'm.Term'> with pytree metadata <function make.<locals>.<lambda> at 0x7f01> and "
        "before <class 'm.Term'> with pytree metadata <function make.<locals>.<lambda> at "
        "0x7f02>, so the pytree node metadata does not match"
    )
    assert summarize(in_user_terms(raw, None)) == (
        "an argument holds a new object at each call: a lambda; fix: define it once, outside "
        "the function, or pass data instead of a closure (JAX compares such objects by "
        "identity)"
    )


def test_equinox_closure_in_an_ode_term_is_named_in_one_line():
    eqx = pytest.importorskip("equinox")
    diffrax = pytest.importorskip("diffrax")

    @eqx.filter_jit
    def solve(term, y0):
        return diffrax.diffeqsolve(term, diffrax.Tsit5(), 0.0, 1.0, 0.1, y0).ys

    def step(y0):
        return solve(diffrax.ODETerm(lambda t, y, args: -y), y0)

    lambda_line = inspect.getsourcelines(step)[1] + 1
    step(jnp.ones(2))
    with recording(explain=True) as log:
        step(jnp.ones(2))
    lines = [summarize(r) for name, r in log.explanations if name == "solve"]
    assert lines, log.explanations
    assert lines[0] == (
        "`term.vector_field` is a new object at each call: the lambda inside `step` created at "
        f"{HERE}:{lambda_line}; "
        "fix: define it once, outside the function, or pass data instead of a closure (JAX "
        "compares such objects by identity)"
    ), lines[0]


def test_guard_warning_and_recompiles_report_say_it_in_the_users_terms():
    ledger = RecompileLedger()
    with recording(explain=True) as log:
        for _ in range(3):
            integrate(make_term(jnp.ones(3)))
    (warning,) = ledger.over_limit(ledger.add(log, 4), 2, 4)
    assert warning.kind == "new-object"
    assert warning.details == [
        f"`term.fn` is a new object at each call: the lambda inside `make_term` created at "
        f"{HERE}:{LAMBDA_LINE} (×3)"
    ]
    assert warning.fix.startswith("define it once, outside the function")
    html = warning._repr_mimebundle_()["text/html"]
    assert "`" not in html  # code is shown as code, not between backticks
    assert "<code>integrate</code> compiled 3 times" in html
    assert "<code>term.fn</code> is a new object" in html
    report = ledger.report("integrate")
    text, html = repr(report), report._repr_html_()
    assert "0x" not in text + html and "pytree metadata" not in text + html
    assert "<code>term.fn</code>" in html and "`term.fn` is a new object" in text


def test_recompiles_reasons_say_what_changed_since_the_previous_compilation():
    @jax.jit
    def grow(x):
        return x * 2

    ledger = RecompileLedger()
    with recording(explain=True) as log:
        for n in (1, 6, 7):
            grow(jnp.ones(n))
    ledger.add(log, 1)
    reasons = [r.reason for r in ledger.named("grow")[0].records]
    assert reasons == [
        "first compilation",
        "x changed: f32[1] → f32[6] since the previous compilation",
        "x changed: f32[6] → f32[7] since the previous compilation",
    ]
    # JAX itself compares with its closest key, the first compilation
    assert "before f32[1]" in ledger.named("grow")[0].records[2].raw_reason
    # static values too: the previous value, not the closest key's
    ledger = RecompileLedger()
    steps = jax.jit(lambda x, n: x * n, static_argnums=1)
    with recording(explain=True) as log:
        for n in (2, 5, 9):
            steps(1.0, n)
    ledger.add(log, 2)
    (entry,) = ledger.functions.values()
    assert [r.reason for r in entry.records][1:] == [
        "n changed: 2 → 5 since the previous compilation",
        "n changed: 5 → 9 since the previous compilation",
    ]


def test_argument_changes_name_leaves_as_jax_does():
    def f(x, params, n):
        return x

    before = ((jax.ShapeDtypeStruct((2,), jnp.float32), {"w": jnp.ones((3, 3))}, 1), {})
    now = ((jax.ShapeDtypeStruct((4,), jnp.float32), {"w": jnp.ones((3, 3))}, 2), {})
    assert argument_changes(f, before, now) == [("x", "f32[2]", "f32[4]"), ("n", "1", "2")]


def test_bench_invalid_variant_note_names_the_new_object():
    def step(x):
        return integrate(make_term(x))

    r = jaxlab.bench(
        step, jnp.ones(8), variants="eager", vs=(), check=False, time_budget=0.03,
        min_runs=3, peak=False, progress=False,
    )  # fmt: skip
    eager = r.timing("eager")
    assert not eager.valid and eager.recompilations
    assert eager.recompilations[0].startswith("integrate: `term.fn` is a new object at each call")
    text, html = repr(r), r._repr_html_()
    assert "0x" not in text + html and "pytree metadata" not in text + html
    assert "<code>term.fn</code> is a new object at each call" in html


def test_diff_is_false_when_nothing_differs():
    def f(x):
        return jnp.sin(x) * 2

    a = jaxlab.inspect(f, jnp.ones(8), run=False)
    same = jaxlab.diff(a, jaxlab.inspect(f, jnp.ones(8), run=False))
    assert same.empty and not same
    other = jaxlab.diff(a, jaxlab.inspect(f, jnp.ones(16), run=False))
    assert not other.empty and other


def test_compile_advice_names_the_new_object_once_with_its_cost():
    ledger = RecompileLedger()
    with recording(explain=True) as log:
        for _ in range(3):
            integrate(make_term(jnp.ones(3)))
    ledger.add(log, 1)
    (entry,) = ledger.named("integrate")
    profile = jaxlab.compile_profile(integrate, make_term(jnp.ones(3)), recompiles=entry)
    (advice,) = [a for a in profile.advice if a.kind == "new-object-recompiles"]
    assert advice.message.startswith(
        f"`term.fn` is a new object at each call: the lambda inside `make_term` created at "
        f"{HERE}:{LAMBDA_LINE}: `integrate` compiled again 3 times for it, "
    )
    assert advice.fix.startswith("define it once, outside the function")
    assert not [a for a in profile.advice if a.kind == "static-recompiles"]


def test_messages_show_code_as_code_in_html_never_backticks():
    from jaxlab.base.display import renderer
    from jaxlab.core.errors import explain
    from jaxlab.guards import GuardWarning
    from jaxlab.views.error import InspectionError

    def branchy(x):
        if x > 0:
            return x
        return -x

    try:
        jax.jit(branchy)(1.0)
    except Exception as exc:
        card = InspectionError(exc, explain(exc, fn_name="branchy"))
    html = renderer(card, "html")(card)
    assert "<code>branchy</code>" in html and "`" not in html
    warning = GuardWarning("side-effect", "`<f>` prints", fix="use `jax.debug.print`")
    html = warning._repr_mimebundle_()["text/html"]
    assert "<code>&lt;f&gt;</code> prints" in html and "<code>jax.debug.print</code>" in html
    assert "`" not in html


def test_a_function_jitted_anew_at_each_call_is_named_with_where_it_is_defined():
    with recording(explain=True) as log:
        for _ in range(3):
            jax.jit(lambda v: v * 2)(jnp.ones(3))
    line_no = inspect.currentframe().f_lineno - 1
    last = _reasons(log)[-1]
    assert category(last) == "redefined"
    assert summarize(last) == (
        f"`<lambda>` is a new function object at each call, defined at {HERE}:{line_no}"
    )


def test_finding_the_object_runs_no_code_of_the_users():
    calls = []

    class Lazy:
        def __getattr__(self, name):
            calls.append(name)
            raise AttributeError(name)

    def fn(x, holder):
        return x

    new = lambda v: v
    holder = type("Holder", (), {})()
    holder.lazy, holder.f = Lazy(), new
    raw = (
        "different input pytree:\n* at input path [0][1], now <class 'm.Holder'> with pytree "
        f"metadata <function <lambda> at {hex(id(new))}> and before <class 'm.Holder'> with "
        "pytree metadata <function <lambda> at 0x1>, so the pytree node metadata does not match"
    )
    line = summarize(in_user_terms(raw, ((1.0, holder), {}), fn))
    assert line.startswith("`holder.f` is a new object at each call: the lambda inside ")
    assert calls == []


def test_the_bench_note_leads_with_the_new_object_before_a_librarys_misses():
    from jaxlab.benchmarking.point import _reasons
    from jaxlab.core.compile_events import CompileLog

    log = CompileLog()
    library = (
        "never seen function:\n_fn id=1 defined at /env/site-packages/eqx/_eval_shape.py:31\n"
        "but seen another function defined on the same line; maybe the function is\n"
        "being re-defined repeatedly, preventing caching?"
    )
    ours = "different input pytree:\n* `term.vector_field` is a new object at each call: x"
    log.explanations += [("_fn", library), ("solve", ours), ("_fn", library)]
    reasons = _reasons(log, 0, 0)
    assert reasons[0] == "solve: `term.vector_field` is a new object at each call: x"
    assert reasons[1].startswith("_fn: `_fn` is a new function object at each call, defined at")
