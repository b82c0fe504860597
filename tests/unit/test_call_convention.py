"""A call is a call: jaxlab's options never take the user's keyword arguments.

The user's functions here take keywords named like jaxlab's options (``runs``, ``label``,
``stage``, ``platforms``); what reaches them is recorded while JAX traces them."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.base import renamed
from jaxlab.core.calls import split_call, takes_call

SEEN: list[tuple[str, object]] = []


def h(x, runs="one"):
    SEEN.append(("runs", runs))
    return x * len(runs)


def labelled(x, label="one"):
    SEEN.append(("label", label))
    return x + len(label)


def staged(x, stage="one"):
    SEEN.append(("stage", stage))
    return x * len(stage)


def placed(x, platforms="one"):
    SEEN.append(("platforms", platforms))
    return x - len(platforms)


def scaled(x, scale="one"):
    SEEN.append(("scale", scale))
    return x * len(scale)


X = jnp.arange(4.0)
QUICK_BENCH = {"variants": "jit", "vs": (), "time_budget": 0.05, "peak": False}


@pytest.fixture(autouse=True)
def fresh():
    SEEN.clear()
    renamed._warned.clear()
    yield
    renamed._warned.clear()


def test_profile_gives_the_function_its_own_runs():
    p = jaxlab.profile(h, X, runs=2, peak=False, kwargs={"runs": "five"})
    assert p.runs == 2 and SEEN == [("runs", "five")]


def test_an_option_that_is_also_a_parameter_is_an_error_naming_both_readings():
    with pytest.raises(TypeError) as info:
        jaxlab.profile(h, X, runs=3)
    message = str(info.value)
    assert "`runs=3` is ambiguous" in message
    assert "option of `jaxlab.profile`" in message and "parameter of `h`" in message
    assert "kwargs={'runs': 3}" in message and "kwargs={}" in message
    assert SEEN == []  # nothing was traced


def test_bench_gives_the_function_its_own_label():
    r = jaxlab.bench(labelled, X, label="mine", **QUICK_BENCH, kwargs={"label": "seven"})
    assert r.label == "mine"
    assert ("label", "seven") in SEEN and ("label", "one") not in SEEN
    with pytest.raises(TypeError, match="`label='x'` is ambiguous"):
        jaxlab.bench(labelled, X, label="x", **QUICK_BENCH)


def test_hlo_gives_the_function_its_own_stage():
    text = jaxlab.hlo(staged, X, stage="jaxpr", kwargs={"stage": "two"})
    assert text.dialect == "jaxpr" and SEEN == [("stage", "two")]
    assert "mul" in text and "3.0" in text  # len("two")


def test_inspect_gives_the_function_its_own_platforms():
    insp = jaxlab.inspect(placed, X, kwargs={"platforms": "three"})
    assert isinstance(insp, jaxlab.Inspection) and SEEN == [("platforms", "three")]
    assert insp.timings.first_run_s is not None  # real arrays: run, as documented
    with pytest.raises(TypeError, match="`platforms='cpu'` is ambiguous"):
        jaxlab.inspect(placed, X, platforms="cpu")


@pytest.mark.parametrize(
    "call",
    [
        lambda f, kw: jaxlab.jaxpr(f, X, **kw),
        lambda f, kw: jaxlab.compile_profile(f, X, **kw),
        lambda f, kw: jaxlab.passes(f, X, **kw),
        lambda f, kw: jaxlab.check_kernel(f, lambda x, scale: x * len(scale), X, **kw),
    ],
    ids=["jaxpr", "compile_profile", "passes", "check_kernel"],
)
def test_every_entry_point_passes_kwargs_to_the_function(call):
    def fresh(x, scale="one"):  # a new function: JAX's trace cache cannot answer for it
        return scaled(x, scale)

    call(fresh, {"kwargs": {"scale": "three"}})
    assert ("scale", "three") in SEEN and ("scale", "one") not in SEEN


def test_an_extra_keyword_still_reaches_the_function_and_warns_once_with_kwargs():
    with pytest.warns(FutureWarning, match=r"write them as kwargs=\{'scale': \.\.\.\}"):
        jaxlab.jaxpr(scaled, X, scale="four")
    assert SEEN == [("scale", "four")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jaxlab.jaxpr(scaled, X, scale="five")  # once per entry point
    assert SEEN[-1] == ("scale", "five")


def test_with_kwargs_every_other_keyword_must_be_an_option():
    with pytest.raises(TypeError, match=r"`jaxlab.hlo` has no option scale; put the call's"):
        jaxlab.hlo(scaled, X, scale=2.0, kwargs={})
    with pytest.raises(TypeError, match="takes a mapping"):
        jaxlab.hlo(scaled, X, kwargs=[("scale", 2.0)])


def test_split_call_keeps_options_and_call_keywords_apart():
    options = {"runs", "peak"}
    assert split_call("e", (scaled,), options, {"runs": 2}, None) == ({"runs": 2}, {})
    assert split_call("e", (h,), options, {"runs": 2}, {"runs": 9}) == ({"runs": 2}, {"runs": 9})
    with pytest.warns(FutureWarning):
        assert split_call("e", (scaled,), options, {"scale": 2}, None) == ({}, {"scale": 2})
    # a function that takes **kwargs has no parameter of that name: the option is jaxlab's
    assert split_call("e", (lambda x, **kw: x,), options, {"runs": 2}, None) == ({"runs": 2}, {})


def test_takes_call_reads_the_options_from_the_signature():
    @takes_call()
    def entry(fn, *args, runs=10, kwargs=None):
        return runs, kwargs

    assert entry.options == frozenset({"runs"})
    assert entry(scaled, 1, runs=3) == (3, {})
    assert entry(h, 1, kwargs={"runs": 4}) == (10, {"runs": 4})
    with pytest.raises(TypeError, match="parameter of `h`"):
        entry(h, 1, runs=3)


def test_old_option_names_still_work_and_warn_once_with_the_new_one():
    with pytest.warns(FutureWarning, match=r"bench\(input_dtype=\.\.\.\)` is now `dtype=`"):
        r = jaxlab.bench(scaled, X, input_dtype="float16", **QUICK_BENCH)
    assert r.timings[0].out_dtypes == ["float16"]
    with pytest.warns(FutureWarning, match=r"bench\(roofline=\.\.\.\)` is now `peak=`"):
        jaxlab.bench(scaled, X, roofline=False, variants="jit", vs=(), time_budget=0.05)
    with pytest.raises(TypeError, match="give dtype= only"):
        jaxlab.bench(scaled, X, dtype="float16", input_dtype="float16", **QUICK_BENCH)
