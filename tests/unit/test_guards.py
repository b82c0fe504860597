"""The guards without IPython: what a traced function reads and does, value comparison, the
stale-closure and recompilation checks, and failures turned into one warning."""

from __future__ import annotations

import functools
import itertools
import linecache
import random
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.core.compile_events import recording
from jaxlab.core.errors import explain_pitfall
from jaxlab.guards import Guards, GuardSettings, side_effects
from jaxlab.guards._functions import global_reads, python_function, reachable_functions
from jaxlab.guards._recompiles import RecompileLedger, reason_category, summarize_reason
from jaxlab.guards._values import same_value, trackable

# -- module-level "notebook globals" read by the functions below ----------------------------------

SCALE = jnp.arange(3.0)
OFFSET = 2.0
history: list = []
state = {"log": [], "step": 0}
counter = 0


class Optimizer(NamedTuple):
    update: object


opt = Optimizer(update=lambda g: g)


def scaled(x):
    return x * SCALE


def uses_helper(x):
    return scaled(x) + OFFSET


def impure(x):
    global counter
    print("x is", x)
    counter += 1
    history.append(x)
    state["log"].append(x)
    state["step"] = 1
    t = time.time()
    r = random.random() + np.random.randn()
    return x + t + r


def pure_looking(x):
    out = []
    out.append(x)
    jax.debug.print("x = {}", x)
    total = 0

    def inner():
        nonlocal total
        total = 1

    inner()
    return opt.update(out[0]) + total


def make_counter():
    calls = []
    count = 0

    def step(x):
        nonlocal count
        count = count + 1
        calls.append(x)
        return x

    return step


def test_reads_follow_helpers_and_wrappers():
    jitted = jax.jit(jax.grad(uses_helper))
    assert python_function(jitted) is uses_helper
    assert reachable_functions(uses_helper) == [uses_helper, scaled]
    reads = {r.name: r.function.__name__ for r in global_reads(uses_helper)}
    assert reads == {"scaled": "uses_helper", "OFFSET": "uses_helper", "SCALE": "scaled"}
    assert python_function(jnp.sin) is None

    class Model:
        def apply(self, x):
            return x * SCALE

    assert python_function(jax.jit(Model().apply)) is Model.apply


def test_each_kind_of_side_effect_once_with_its_line():
    found = side_effects(impure)
    kinds = [(e.kind, e.name) for e in found]
    assert kinds == [
        ("print", "print"),
        ("global-write", "counter"),
        ("mutation", "history"),
        ("mutation", "state"),
        ("mutation", "state"),
        ("time", "time.time"),
        ("random", "random.random"),
    ]
    first_line = impure.__code__.co_firstlineno
    assert [e.line - first_line for e in found] == [2, 3, 4, 5, 6, 7, 8]
    assert found[0].source == 'print("x is", x)'
    assert len({e.site for e in found}) == len(found)


def test_locals_debug_print_and_inner_nonlocals_are_not_side_effects():
    assert side_effects(pure_looking) == []


def test_closure_writes_and_mutation_are_found():
    found = side_effects(make_counter())
    assert [(e.kind, e.name, e.scope) for e in found] == [
        ("nonlocal-write", "count", "closure"),
        ("mutation", "calls", "closure"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        (jnp.ones(3), jnp.ones(3), True),
        (jnp.ones(3), jnp.zeros(3), False),
        (jnp.ones(3), jnp.ones(4), False),
        (jnp.ones(3), np.ones(3), False),
        (np.array([np.nan]), np.array([np.nan]), True),
        (2.0, 2.0, True),
        (2, 2.0, False),
        ("train", "eval", False),
        ({"w": jnp.ones(2), "b": 0.0}, {"w": jnp.ones(2), "b": 0.0}, True),
        ({"w": jnp.ones(2), "b": 0.0}, {"w": jnp.ones(2), "b": 1.0}, False),
        (jax.random.key(0), jax.random.key(0), True),
        (jax.random.key(0), jax.random.key(1), False),
    ],
)
def test_same_value(old, new, same):
    assert same_value(old, new) is same


def test_functions_compare_by_code():
    def make(k):
        def f(x):
            return x * k

        return f

    assert same_value(scaled, scaled)
    assert not same_value(scaled, uses_helper)
    exec_ns: dict = {}
    source = "def g(x):\n    return x + 1\n"
    exec(compile(source, "<cell-1>", "exec"), exec_ns)
    first = exec_ns["g"]
    exec(compile(source, "<cell-1>", "exec"), exec_ns)
    assert first is not exec_ns["g"] and same_value(first, exec_ns["g"])
    assert same_value(make(2), make(2)) and not same_value(make(2), make(3))
    assert (
        trackable(make(2))
        and trackable(jnp.ones(2))
        and trackable({"a": [1, 2.0]})
        and not trackable(object())
    )


# -- the session: a dict stands in for the notebook's namespace --------------------------------


def cell_namespace() -> dict:
    ns: dict = {"jax": jax, "jnp": jnp}
    exec(
        compile(
            "W = jnp.ones(3)\n"
            "def predict(x):\n    return x * W\n"
            "@jax.jit\ndef loss(x):\n    return predict(x).sum()\n",
            "<cell-2>",
            "exec",
        ),
        ns,
    )
    return ns


_cell_files = itertools.count()


def run_cell(guards: Guards, ns: dict, cell: int, code: str = "") -> list:
    """Like IPython: the cell's source goes to linecache under its own file name."""
    guards.before_cell(ns)
    if code:
        filename = f"<cell-{next(_cell_files)}>"  # unique: JAX remembers call sites
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        exec(compile(code, filename, "exec"), ns)
    return guards.after_cell(ns, cell)


def test_stale_global_warns_once_at_the_cell_that_changed_it():
    guards = Guards()
    ns = cell_namespace()
    assert run_cell(guards, ns, 3, "loss(jnp.ones(3))") == []
    assert run_cell(guards, ns, 4, "W = jnp.ones(3)") == []  # same value again
    (w,) = run_cell(guards, ns, 5, "W = 2 * jnp.ones(3)")
    assert (w.guard, w.function, w.variable, w.cell) == ("stale-closure", "loss", "W", 5)
    assert "predict" in w.summary and "clear_cache" in w.fix
    # cells named as every other guard names them
    assert "traced at In [3]" in w.summary and "changed at In [5]" in w.summary, w.summary
    assert run_cell(guards, ns, 6, "W = 3 * jnp.ones(3)") == []  # once
    # after clear_cache and a new trace, the new value is the one watched
    assert run_cell(guards, ns, 7, "loss.clear_cache()") == []
    assert run_cell(guards, ns, 8, "loss(jnp.ones(3))") == []
    (w,) = run_cell(guards, ns, 9, "del W")
    assert (w.variable, w.cell) == ("W", 9) and "deleted" in w.summary


def test_a_global_changed_after_the_trace_in_the_same_cell():
    guards = Guards()
    ns: dict = {"jax": jax}
    assert run_cell(guards, ns, 1, "lr = 0.1\n@jax.jit\ndef step(x):\n    return x * lr\n") == []
    (w,) = run_cell(guards, ns, 2, "for lr in [0.1, 0.2]:\n    y = step(1.0)\n")
    assert (w.function, w.variable, w.cell) == ("step", "lr", 2)
    assert float(ns["y"]) == pytest.approx(0.1)  # really stale
    # defined, traced and made stale in one cell
    code = (
        "@jax.jit\ndef step2(x):\n    return x * lr2\nfor lr2 in [1.0, 2.0]:\n    y2 = step2(1.0)\n"
    )
    (w,) = run_cell(guards, ns, 3, code)
    assert (w.function, w.variable, w.cell) == ("step2", "lr2", 3)
    # cleared and traced again in one cell: the values of that trace are watched
    assert run_cell(guards, ns, 4, "step2.clear_cache()\ny2 = step2(1.0)") == []
    (w,) = run_cell(guards, ns, 5, "step2.clear_cache()\ny2 = step2(1.0)\nlr2 = 3.0")
    assert (w.variable, w.cell) == ("lr2", 5)


def test_tracing_another_function_of_the_same_name_keeps_what_was_watched():
    guards = Guards()
    ns: dict = {"jax": jax}
    code = "a = 1.0\n@jax.jit\ndef step(x):\n    return x * a\ny = step(1.0)\n"
    assert run_cell(guards, ns, 1, code) == []
    code = "old_step = step\na = 5.0\n@jax.jit\ndef step(x):\n    return x + a\ny = step(1.0)\n"
    (w,) = run_cell(guards, ns, 2, code)
    assert (w.function, w.variable, w.cell) == ("old_step", "a", 2)


def test_a_container_changed_in_place_is_a_change():
    guards = Guards()
    ns: dict = {"jax": jax, "jnp": jnp}
    code = (
        "params = {'w': jnp.ones(2), 'b': 0.0}\n"
        "@jax.jit\ndef predict(x):\n    return x * params['w'] + params['b']\n"
        "y = predict(1.0)\n"
    )
    assert run_cell(guards, ns, 1, code) == []
    assert run_cell(guards, ns, 2, "params['w'] = jnp.ones(2)") == []  # equal leaves
    (w,) = run_cell(guards, ns, 3, "params['b'] = 1.0")
    assert (w.function, w.variable, w.cell) == ("predict", "params", 3)


def test_untraced_functions_are_not_watched():
    guards = Guards()
    ns = cell_namespace()
    assert run_cell(guards, ns, 3, "W = 2 * W") == []  # nothing was traced with the old W
    assert run_cell(guards, ns, 4, "y = loss(jnp.ones(3))") == []
    (w,) = run_cell(guards, ns, 5, "W = 3 * W")
    assert (w.function, w.variable, w.cell) == ("loss", "W", 5)


def test_guard_failure_is_one_warning_and_turns_that_guard_off(monkeypatch):
    guards = Guards()
    ns = cell_namespace()

    def boom(*args):
        raise RuntimeError("broken")

    monkeypatch.setattr(guards.stale, "check", boom)
    (w,) = run_cell(guards, ns, 3, "loss(jnp.ones(3))")
    assert w.guard == "internal" and "stale_closures" in w.summary and "broken" in w.summary
    assert "\n" not in w.text()
    assert guards.settings.stale_closures is False
    assert run_cell(guards, ns, 4, "W = 2 * W") == []


def test_side_effects_reported_once_per_site_when_traced():
    guards = Guards(GuardSettings(stale_closures=False))
    ns: dict = {"jax": jax}
    code = "@jax.jit\ndef noisy(x):\n    print(x)\n    return x\n"
    assert run_cell(guards, ns, 1, code) == []  # not traced yet
    (w,) = run_cell(guards, ns, 2, "noisy(1.0)")
    assert (w.guard, w.kind, w.function, w.cell) == ("side-effect", "print", "noisy", 2)
    assert "jax.debug.print" in w.fix
    assert run_cell(guards, ns, 3, "noisy(2)") == []
    # the same source defined again (a re-run cell) is the same site
    assert run_cell(guards, ns, 4, code + "noisy(1.0)") == []


def test_a_side_effect_in_a_nested_function_is_reported_once_per_line():
    """A `print` in a scan body: the body is read inside the jitted function and traced by
    JAX on its own; one warning, for the jitted function."""
    guards = Guards(GuardSettings(stale_closures=False))
    ns: dict = {"jax": jax, "jnp": jnp}
    code = (
        "@jax.jit\ndef summed_se(xs):\n"
        "    def body(c, v):\n        print(v)\n        return c + v, v\n"
        "    return jax.lax.scan(body, 0.0, xs)[0]\n"
    )
    assert run_cell(guards, ns, 1, code) == []
    (w,) = run_cell(guards, ns, 2, "summed_se(jnp.ones(3))")
    assert (w.guard, w.kind, w.function) == ("side-effect", "print", "summed_se")
    assert w.where.endswith(":4 (in summed_se): print(v)")


def test_recompile_limit_and_reasons():
    guards = Guards(GuardSettings(recompile_limit=3))
    ns: dict = {"jax": jax, "jnp": jnp}
    assert run_cell(guards, ns, 1, "@jax.jit\ndef shapes(x):\n    return x + 1\n") == []
    loop = "for n in range({}, {}):\n    shapes(jnp.ones(n))\n"
    assert run_cell(guards, ns, 2, loop.format(1, 4)) == []
    (w,) = run_cell(guards, ns, 3, loop.format(4, 9))
    assert (w.guard, w.function, w.cell, w.kind) == ("recompiles", "shapes", 3, "types")
    assert any("`x` changed" in d for d in w.details)
    report = guards.ledger.report()
    assert report["shapes"].count == 8 and report["shapes"].cells == {2: 3, 3: 5}
    assert report["shapes"].records[0].reason == "first compilation"
    guards.settings.recompiles = False
    assert run_cell(guards, ns, 4, loop.format(10, 15)) == []
    assert guards.ledger.report()["shapes"].count == 8


def test_same_named_functions_keep_their_own_recompile_history():
    guards = Guards(GuardSettings(recompile_limit=3))
    ns: dict = {"jax": jax, "jnp": jnp}
    code = (
        "@jax.jit\ndef shapes(x):\n    return x + {}\nfor n in range({}):\n"
        "    shapes(jnp.ones(n))\n"
    )
    assert run_cell(guards, ns, 1, code.format(1, 3)) == []
    (w,) = run_cell(guards, ns, 2, code.format(2, 5))  # 5 of its own, not 3 + 5
    assert w.function.startswith("shapes (") and "5 times" in w.summary
    assert "`%recompiles shapes`" in w.fix
    first, second = guards.ledger.named("shapes")
    assert (first.label, first.count, first.cells) == ("shapes", 3, {1: 3})
    assert (second.count, second.cells) == (5, {2: 5})
    assert len(guards.ledger.report("shapes")) == 2
    # a jitted function created inline is followed too, under its own identity
    code = (
        "def inline(x):\n    return x * 2\nfor n in range(5):\n    jax.jit(inline)(jnp.ones(n))\n"
    )
    (w,) = run_cell(guards, ns, 3, code)
    assert (w.function, w.kind) == ("inline", "types")


def test_eager_operations_are_not_counted():
    ledger = RecompileLedger()
    with recording(explain=True) as log:
        jnp.ones(7) * 3 + 1
    ledger.add(log, 1)
    assert ledger.functions == {}


def test_reason_summaries():
    static = jax.jit(lambda x, n: x * n, static_argnums=1)
    with recording(explain=True) as log:
        static(1.0, 2)
        static(1.0, 3)
    first, second = ("\n".join(c.reasons) for c in log.compilations)
    assert reason_category(first) == "first" and summarize_reason(first) == "first compilation"
    assert reason_category(second) == "static"
    assert summarize_reason(second) == "static argument [0][1] is now 3, was 2"


def branchy(x):
    if x > 0:
        return x
    return -x


def raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def test_pitfalls_are_explained_and_other_errors_are_not():
    e = explain_pitfall(raised(lambda: jax.jit(branchy)(1.0)))
    assert e is not None and e.kind == "tracer-bool" and "`branchy`" in e.summary
    assert "if x > 0:" in e.where
    e = explain_pitfall(raised(lambda: jnp.ones(3).__setitem__(0, 1.0)))
    assert e is not None and e.kind == "immutable" and ".at[i].set(v)" in e.fix
    assert explain_pitfall(raised(lambda: len(3))) is None


def test_html_escapes_what_comes_from_the_program():
    from jaxlab.guards import GuardWarning
    from jaxlab.guards._recompiles import CompileRecord, FunctionCompiles, RecompileReport

    w = GuardWarning(
        "side-effect", "`<f>` prints", fix="use <b>", where='line 1: print("<script>")'
    )
    html = w._repr_mimebundle_()["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;f&gt;" in html
    entry = FunctionCompiles("<lambda>", 1, 0.01, {3: 1}, [CompileRecord(3, 0.01, "<x>", "")])
    for report in (RecompileReport([entry]), RecompileReport([entry], name="<lambda>")):
        html = report._repr_html_()
        assert "<lambda>" not in html and "&lt;lambda&gt;" in html
    assert "<lambda>" in repr(RecompileReport([entry]))


def test_numpy_fingerprints_see_writes_without_reading_megabytes():
    from jaxlab.guards._values import SAMPLE_HEAD, Snapshot, fingerprint

    small = np.ones(100)
    snap = Snapshot.of(small)
    assert snap.unchanged(small)
    small[50] = 2.0  # any element of a small array
    assert not snap.unchanged(small) and snap.in_place(small) and not snap.same_as(small)
    big = np.zeros(4_000_000)
    assert len(fingerprint(big)[2]) < 10_000  # samples, not 32 MB
    snap = Snapshot.of(big)
    big[SAMPLE_HEAD // 2] = 1.0
    assert not snap.unchanged(big) and not snap.same_as(big)
    snap = Snapshot.of(big)
    big[-1] = 1.0
    assert not snap.unchanged(big)
    # a new, equal array is the same value; a container holding an array written into is not
    assert Snapshot.of(np.arange(3.0)).same_as(np.arange(3.0))
    params = {"w": np.ones(3)}
    snap = Snapshot.of(params)
    params["w"][0] = 5.0
    assert not snap.unchanged(params) and not snap.same_as(params)


def test_reads_cover_globals_enclosing_variables_and_attributes():
    from types import SimpleNamespace

    from jaxlab.guards._reads import reads

    ns: dict = {"jnp": jnp, "cfg": SimpleNamespace(lr=0.1, opt=SimpleNamespace(beta=0.9))}
    exec(
        compile(
            "def make():\n"
            "    table = jnp.ones(2)\n"
            "    def step(x):\n"
            "        return x * table * cfg.lr * cfg.opt.beta + jnp.pi\n"
            "    return step\n"
            "class Model:\n"
            "    def __init__(self):\n"
            "        self.w = 2.0\n"
            "    def apply(self, x):\n"
            "        return x * self.w\n",
            "<cell-reads>",
            "exec",
        ),
        ns,
    )
    found = {(r.kind, r.name): r.current() for r in reads(ns["make"]())}
    assert found[("attribute", "cfg.lr")] == 0.1 and found[("attribute", "cfg.opt.beta")] == 0.9
    assert ("closure", "table") in found
    assert not any(name.startswith("jnp.") for _, name in found)  # modules are not state
    model = ns["Model"]()
    found = {r.name: r for r in reads(ns["Model"].apply, model)}
    assert found["self.w"].current() == 2.0
    model.w = 3.0
    assert found["self.w"].current() == 3.0


def test_the_reads_module_lists_the_kinds_of_read_there_are():
    from types import SimpleNamespace

    from jaxlab.guards import _reads

    ns: dict = {"W": 2.0, "cfg": SimpleNamespace(lr=0.1)}
    exec(
        "def make():\n    b = 1.0\n    def step(x):\n        return x * W * b * cfg.lr\n"
        "    return step\n",
        ns,
    )
    kinds = {r.kind for r in _reads.reads(ns["make"]())}
    assert kinds == {"global", "closure", "attribute"}
    lines = (_reads.__doc__ or "").splitlines()
    bullets = [line for line in lines if line.startswith("- ")]
    assert lines[2].startswith("Three kinds") and len(bullets) == len(kinds)


def test_traced_function_finds_the_user_function_behind_jax_wrappers():
    from jaxlab.guards._functions import traced_function

    ns: dict = {}
    exec(compile("def f(x):\n    return x\n", "<cell-tf>", "exec"), ns)
    f = ns["f"]

    class Box:
        def m(self, x):
            return x

    box = Box()
    assert traced_function(f) == (f, None)
    assert traced_function(functools.partial(f)) == (f, None)
    fn, owner = traced_function(box.m)
    assert fn is Box.m and owner is box

    # a wrapper of library code holding the user function in its closure, as pmap's does
    lib: dict = {}
    code = "def make(inner):\n    def wrapper(*a):\n        return inner(*a)\n    return wrapper\n"
    exec(compile(code, jax.__file__, "exec"), lib)
    assert traced_function(lib["make"](f)) == (f, None)
    assert traced_function(jnp.sin) is None


def test_side_effects_of_a_jitted_method_and_an_inline_jit():
    guards = Guards(GuardSettings(stale_closures=False))
    ns: dict = {"jax": jax, "jnp": jnp}
    code = (
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.calls = 0\n"
        "    def step(self, x):\n"
        "        self.calls += 1\n"
        "        return x + 1\n"
        "c = Counter()\n"
        "y = jax.jit(c.step)(1.0)\n"
    )
    (w,) = run_cell(guards, ns, 1, code)
    assert (w.kind, w.function, w.variable) == ("mutation", "Counter.step", "self")
    assert "changes the object `self`" in w.summary
    assert run_cell(guards, ns, 2, "y = jax.jit(c.step)(jnp.ones(2))") == []


def test_values_read_through_a_users_module_or_class_are_watched(tmp_path, monkeypatch):
    (tmp_path / "consts_sg.py").write_text("K = 2.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import consts_sg

    guards = Guards()
    ns: dict = {"jax": jax, "jnp": jnp, "consts_sg": consts_sg, "__name__": "__main__"}
    code = (
        "class Net:\n    scale = 3.0\n"
        "@jax.jit\ndef scaled_sg(x):\n    return x * consts_sg.K * Net.scale + jnp.pi\n"
    )
    assert run_cell(guards, ns, 1, code) == []
    assert run_cell(guards, ns, 2, "scaled_sg(jnp.ones(3))") == []
    (w,) = run_cell(guards, ns, 3, "consts_sg.K = 5.0")
    assert (w.guard, w.function, w.variable, w.cell) == (
        "stale-closure",
        "scaled_sg",
        "consts_sg.K",
        3,
    )
    assert "`consts_sg.K`" in w.summary and "clear_cache" in w.fix
    (w,) = run_cell(guards, ns, 4, "Net.scale = 4.0")
    assert (w.guard, w.variable) == ("stale-closure", "Net.scale")
    # a library's module is not state: nothing to say when the user sets an attribute of it
    assert run_cell(guards, ns, 5, "jnp.pi_sg = 1.0") == []
