"""In a real kernel, magics give the call's keywords to the function even when jaxlab has an
option of that name: ``%profile h(x, runs=...)``, ``%hlo k(x, stage=...)``."""

from __future__ import annotations

import pytest

from tests.shell.test_call_keywords import SETUP  # the same functions, in IPython's shell

pytestmark = pytest.mark.kernel


def test_profile_and_hlo_give_the_functions_their_own_keywords(kernel):
    kernel.ok(SETUP)
    kernel.ok('p = %profile --runs 2 h(xs, runs="five")')
    assert kernel.value("(p.runs, seen)") == [2, [["runs", "five"]]]  # as JSON
    result = kernel.ok('t = %hlo --stage jaxpr k(xs, stage="two")\nt')
    assert kernel.value("(t.dialect, seen[-1])") == ["jaxpr", ["stage", "two"]]
    assert "mul" in result.text
    # the Python functions say the same, with the call's keywords in kwargs=
    kernel.ok('import jaxlab\nt2 = jaxlab.hlo(k, xs, stage="jaxpr", kwargs={"stage": "ab"})')
    assert kernel.value("(t2.dialect, seen[-1])") == ["jaxpr", ["stage", "ab"]]


def test_jit_o_gives_the_value_and_the_stage_timings(kernel):
    kernel.ok(SETUP)
    result = kernel.ok("r = %jit -o k(xs)\nr")
    assert result.text.startswith("jit k(")
    assert kernel.value("(r.output.tolist(), r.timings.first_run_s is not None)") == [
        [0.0, 3.0, 6.0, 9.0],
        True,
    ]
