"""Magics bind the call's keywords to the function: ``%profile h(x, runs=...)`` profiles
``h(x, runs=...)``, whatever jaxlab's own options are called."""

from __future__ import annotations

import gc

import pytest

SETUP = """
seen = []
def h(x, runs="one"):
    seen.append(("runs", runs))
    return x * len(runs)
def k(x, stage="one"):
    seen.append(("stage", stage))
    return x * len(stage)
def labelled(x, label="one"):
    seen.append(("label", label))
    return x + len(label)
def placed(x, platforms="one"):
    seen.append(("platforms", platforms))
    return x - len(platforms)
xs = jnp.arange(4.0)
"""


@pytest.fixture(scope="module")
def defined(ip):
    before = set(ip.user_ns)
    ip.run_cell(SETUP)
    yield ip
    # the shell is shared by the whole session: jitted functions left bound here (jk) would
    # stay among the %jit functions every later guard session watches
    for name in set(ip.user_ns) - before:
        del ip.user_ns[name]
    gc.collect()


@pytest.fixture
def shell(defined):
    defined.user_ns["seen"].clear()
    return defined


def run(ip, line: str):
    result = ip.run_cell(line)
    result.raise_error()
    return ip.user_ns


def test_profile_binds_runs_to_the_function(shell):
    ns = run(shell, 'p = %profile --runs 2 h(xs, runs="five")')
    assert ns["p"].runs == 2 and ns["seen"] == [("runs", "five")]


def test_hlo_binds_stage_to_the_function(shell):
    ns = run(shell, 't = %hlo --stage jaxpr k(xs, stage="two")')
    assert ns["t"].dialect == "jaxpr" and ns["seen"] == [("stage", "two")]


def test_inspect_binds_platforms_to_the_function_and_runs_like_the_function(shell):
    ns = run(shell, 'i = %inspect placed(xs, platforms="three")')
    assert ns["seen"] == [("platforms", "three")]
    assert ns["i"].timings.first_run_s is not None  # real arrays run, as jaxlab.inspect does
    ns = run(shell, "j = %inspect --no-run placed(jnp.ones(3))")
    assert ns["j"].timings.first_run_s is None


def test_bench_binds_label_to_the_function(shell):
    ns = run(
        shell, 'b = %bench --variants jit --vs none --time-budget 0.05 labelled(xs, label="seven")'
    )
    assert ns["b"].variant_names == ["jit"]
    assert ("label", "seven") in ns["seen"] and ("label", "one") not in ns["seen"]


def test_inspect_runs_without_profile_is_a_usage_error(shell):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="--runs counts the calls --profile measures"):
        shell.run_line_magic("inspect", "--runs 5 placed(xs)")


def test_jit_o_returns_the_value_and_the_stage_timings(shell):
    ns = run(shell, "r = %jit -o k(xs)\nv = %jit --quiet k(xs)")
    r = ns["r"]
    assert r.output.tolist() == (ns["xs"] * 3).tolist() == ns["v"].tolist()
    assert r.timings.compile_s >= 0 and r.timings.first_run_s is not None
    assert repr(r).startswith("jit k(")


def test_python_forms_of_jit_and_recompiles(shell):
    import jaxlab

    run(shell, "import jaxlab\njk = jaxlab.reporting_jit(k, report=None)\n_ = jk(xs)")
    run_result = jaxlab.jit_run(shell.user_ns["k"], shell.user_ns["xs"])
    assert run_result.output.tolist() == [0.0, 3.0, 6.0, 9.0]
    report = run(shell, "rep = jaxlab.recompiles()")["rep"]
    assert isinstance(report, jaxlab.RecompileReport)
    assert report.rows() == shell.run_line_magic("recompiles", "").rows()
