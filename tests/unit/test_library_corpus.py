"""Real programs of the libraries JAX users use, each through every analysis jaxlab offers.

Each program is what a user of the library writes (tiny shapes, so the whole corpus stays
fast); each analysis is called as a user calls it. A library that is not installed skips its
programs and says so (``pip install -e ".[libraries]"`` installs them all).
"""

from __future__ import annotations

import pytest

import jaxlab
from jaxlab.api.transforms import jit_run
from jaxlab.benchmarking.variants import default_variants
from jaxlab.core.stages import has_own_staging
from tests.library_programs import PROGRAMS, Program, program


def _title(p: Program, text: str) -> None:
    for path in p.static:
        argument, _, leaf = path.partition(".")
        assert f"{argument}: " in text, text
        assert leaf in text.split("static", 1)[-1], f"{path} not shown static in: {text}"


@pytest.fixture(params=list(PROGRAMS))
def prog(request: pytest.FixtureRequest) -> Program:
    return program(request.param)


def test_inspect(prog: Program):
    insp = jaxlab.inspect(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert insp.hlo and insp.jaxpr.eqns
    _title(prog, str(insp).splitlines()[0])
    assert insp.timings.first_run_s is not None
    assert "<html" in insp.to_html().lower()  # the inspector's views draw it
    if prog.check is not None:
        prog.check(insp.output)


def test_other_platforms(prog: Program):
    lowered = jaxlab.inspect(prog.fn, *prog.args, platforms=("tpu",), kwargs=prog.kwargs)
    (tpu,) = lowered.lowerings
    _title(prog, str(lowered).splitlines()[0])
    if prog.host_callbacks:  # said in one sentence, with the fix
        assert not tpu.ok and tpu.error.startswith("the program calls back into Python"), tpu
        assert "throw=False" in tpu.error
        assert lowered.cpu is not None  # the CPU inspection is still there
        return
    assert tpu.ok, tpu.error
    assert "func.func public @main" in tpu.lowered.as_text()


def test_profile(prog: Program):
    profile = jaxlab.profile(prog.fn, *prog.args, runs=1, peak=False, kwargs=prog.kwargs)
    assert len(profile.calls) == 1
    title = [line for line in str(profile).splitlines() if line.startswith("Profile of ")]
    _title(prog, title[0])


def test_compile_profile(prog: Program):
    cp = jaxlab.compile_profile(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert cp.compile_s > 0


def test_passes(prog: Program):
    pipeline = jaxlab.passes(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert pipeline.before_optimizations.strip()
    assert pipeline.steps


def test_jaxpr_and_jit_run(prog: Program):
    text = jaxlab.jaxpr(prog.fn, *prog.args, kwargs=prog.kwargs)
    assert str(text).startswith("let ") or "lambda" in str(text)
    run = jit_run(prog.fn, *prog.args, kwargs=prog.kwargs)
    if prog.check is not None:
        prog.check(run.output)


def test_bench(prog: Program):
    result = jaxlab.bench(
        prog.fn, *prog.args, vs="none", runs=3, time_budget=0.2, peak=False, kwargs=prog.kwargs
    )
    assert {"jit", "eager"} <= set(result.variant_names)
    assert not result.failures and not result.mismatches, (result.failures, result.mismatches)
    assert result.median_s("jit") > 0
    _title(prog, result.label)


def test_bench_of_a_library_jit_times_it_and_its_function_op_by_op():
    """bench(step) of an eqx.filter_jit step: the jit variant is Equinox's compilation, the
    eager one the user's function run op by op (not Equinox's jit again)."""
    p = program("equinox-mlp-step")
    result = jaxlab.bench(p.fn, *p.args, vs="none", runs=2, time_budget=0.2, peak=False)
    how = {v.name: v.how for v in result.variants}
    assert how["jit"] == "step, compiled by its own jit (equinox)"
    assert how["eager"] == "step op by op, without jit"
    variants, _ = default_variants(p.fn, "none")
    eager = next(v for v in variants if v.kind == "eager")
    assert not has_own_staging(eager.fn) and eager.fn is not p.fn


# the files where each library writes +Inf on purpose (an initial bound, the unfilled slots
# of a saved trajectory): the first equations that take the constant are there
SENTINELS = {
    "diffrax-adaptive-solve": {"_integrate.py"},
    "diffrax-gradient": {"_integrate.py"},
    "optimistix-root-find": {"_misc.py"},
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_numerics(name: str):
    """The numerics explorer on every library program, including values JAX folds to Python
    scalars while tracing (equinox's and lineax's loops) and the +Inf that Diffrax and
    Optimistix write on purpose: every output measured, no origin (the +Inf never reaches
    an output, and a note says where it is), and the call's own output unchanged."""
    p = program(name)
    n = jaxlab.numerics(p.fn, *p.args, kwargs=p.kwargs)
    assert n.origin is None, n.origin
    assert n.equation_stats and all(r.nan == 0 and r.neginf == 0 for r in n.equation_stats)
    held = [r for r in n.equation_stats if r.posinf]
    files = SENTINELS.get(name, set())
    if not files:
        assert not held and str(n).startswith("No NaN or Inf in ")
    else:
        (note,) = [x for x in n.notes if "on purpose" in x]
        assert all(f in note for f in files), note
        assert "no output holds NaN or Inf" in note
        assert str(n).startswith("No NaN or Inf reaches the outputs: ")
        outputs = [n.equation_stats[i] for i in n.output_rows if isinstance(i, int)]
        assert outputs and all(r.finite for r in outputs)
    if p.check is not None:
        p.check(n.output)
