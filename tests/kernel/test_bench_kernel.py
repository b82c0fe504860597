"""``%bench`` in a real kernel: the seed comparison, bad input (one short message, kernel alive,
variables unchanged), partial results kept, and Ctrl-C in the middle of a sweep."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.kernel

FAST = "--time-budget 0.02 --no-peak"

SETUP = """
import time, pathlib
def fn(x):
    return x + x*x + x*x*x
def fn_lax(x):
    return jax.lax.cumsum(x)
def twin_raises(x):
    raise ZeroDivisionError("twin failed on purpose")
def twin_wrong(x):
    return x * 2
x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
arr = jnp.ones(3)
"""


@pytest.fixture(scope="module", autouse=True)
def setup(kernel):
    kernel.ok(SETUP)


def test_seed_comparison_in_the_kernel(kernel):
    result = kernel.ok(f"r_seed = %bench fn(x) --vs numpy {FAST}\nr_seed")
    assert "<table" in result.html and "vs numpy" in result.html
    # the verdict first: each speedup over numpy with its interval, holds or unsettled
    verdict = kernel.value("r_seed.verdict")
    assert verdict.startswith("jit ") and "than numpy (95 % CI " in verdict
    assert result.text.splitlines()[0] == verdict
    assert result.html.index('class="jl-verdict"') < result.html.index("<table")
    assert len(result.text.splitlines()) <= 10 or "unsettled" in verdict
    assert kernel.value("r_seed.variant_names") == ["jit", "eager", "numpy"]
    assert kernel.value("r_seed.valid") is True
    rows = kernel.value("r_seed.to_pandas()[['variant', 'runs']].values.tolist()")
    assert [r[0] for r in rows] == ["jit", "eager", "numpy"] and all(r[1] >= 3 for r in rows)
    assert kernel.value("[t.compile_s is not None for t in r_seed.timings]") == [True, False, False]


BAD = [
    ("not callable", "%bench arr(x)", "not a function"),
    ("undefined", "%bench fn(nope)", "name 'nope' is not defined"),
    ("not a call", "%bench fn", "needs a call like `f(x)`"),
    ("empty sizes", "%bench fn(x) --sizes ,", "--sizes needs at least one size"),
    ("bad size", "%bench fn(x) --sizes 1e3,lots", "'lots' is not a number"),
    ("unknown vs", "%bench fn(x) --vs matlab", "unknown comparison 'matlab'"),
    ("twin not made", "%bench fn_lax(x) --vs numpy", "`jax.lax.cumsum`"),
    ("bad dtype", "%bench fn(x) --dtype int8", "floating dtype"),
    ("make not callable", "%bench fn(x) --sizes 4 --make 3", "--make must be a function"),
    ("make without sizes", "%bench fn(x) --make 'lambda n: n'", "add --sizes"),
    ("bad variant", "%bench fn(x) --variants gpu", "no variant named 'gpu'"),
    ("bad time", "%bench fn(x) --time-budget -1", "time_budget must be a positive number"),
    ("wrong arity", "%bench fn(x, x)", "takes 1 positional argument but 2 were given"),
    ("empty cell", "%%bench\n# nothing\n", "needs one variant per line"),
    ("zero processes", "%bench fn(x) --processes 0", "--processes takes a whole number ≥ 1"),
    ("negative processes", "%bench fn(x) --processes -2", "--processes takes a whole number"),
    ("processes not a number", "%bench fn(x) --processes many", "got `many`"),
    ("processes fraction", "%bench fn(x) --processes 1.5", "--processes takes a whole number"),
]


@pytest.mark.parametrize(("label", "code", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gives_one_short_message(kernel, label, code, expected):
    kernel.fails_cleanly(code, expected)


def test_twin_that_raises_keeps_the_other_variants(kernel):
    before = kernel.namespace()
    result = kernel.ok(f"%bench fn(x) --vs numpy:twin_raises {FAST}")
    assert "ZeroDivisionError: twin failed on purpose" in result.html
    assert "<table" in result.html  # jit and eager are still there
    assert kernel.namespace() == before


def test_outputs_that_disagree_are_reported(kernel):
    before = kernel.namespace()
    result = kernel.ok(f"%bench fn(x) --vs numpy:twin_wrong {FAST}")
    assert "numpy disagrees with jit" in result.html and "INVALID" in result.html
    assert kernel.namespace() == before


def test_traceback_option(kernel):
    result = kernel.run(f"%bench fn(x, x) --traceback {FAST}")
    assert result.status == "error" and result.error["ename"] == "TypeError"
    assert kernel.alive()


def test_ctrl_c_mid_sweep_keeps_finished_sizes(kernel, tmp_path):
    marker = tmp_path / "third-size-started"
    kernel.ok(
        "def make_slow(n):\n"
        "    if n >= 3:\n"
        f"        pathlib.Path({str(marker)!r}).touch()\n"
        "        time.sleep(120)\n"
        "    return (jnp.ones(n),)\n"
    )
    result = kernel.run_interrupted(
        f"r_int = %bench fn(x) --sizes 1,2,3,4 --make make_slow {FAST}\nr_int", marker.exists
    )
    assert marker.exists()
    assert result.status == "ok", result.error
    assert kernel.value("r_int.interrupted") is True
    assert kernel.value("r_int.sizes") == [1, 2]
    assert "2 of 4 sizes" in result.html
    assert "jl-progress" in result.html
    assert kernel.alive()


def test_fresh_processes_report_each_median(kernel):
    before = kernel.namespace()
    result = kernel.ok(f"r_proc = %bench fn(x) --processes 2 --variants jit,numpy {FAST}\nr_proc")
    assert kernel.value("[len(t.process_medians_s) for t in r_proc.timings]") == [2, 2]
    assert kernel.value("r_proc.settings['processes']") == 2
    assert "2 processes, medians" in result.html
    frame = "r_proc.to_pandas()[['faults_per_call', 'alloc_bytes_per_call']].notna().all().tolist()"
    assert kernel.value(frame) == [True, True]
    assert set(kernel.namespace()) - set(before) == {"r_proc"}


def test_ctrl_c_during_worker_processes_keeps_the_finished_ones(kernel, tmp_path):
    marks = tmp_path / "worker-pids"
    kernel.ok(
        "def marked(x):\n"
        "    import os, pathlib, time\n"
        f"    path = pathlib.Path({str(marks)!r})\n"
        "    pids = set(path.read_text().split()) if path.exists() else set()\n"
        "    if str(os.getpid()) not in pids:\n"
        "        with path.open('a') as f:\n"
        "            f.write(f'{os.getpid()}\\n')\n"
        "        pids.add(str(os.getpid()))\n"
        "    if len(pids) >= 2:\n"
        "        time.sleep(120)  # the second worker waits for Ctrl-C\n"
        "    return x * 2\n"
    )
    result = kernel.run_interrupted(  # in the second worker
        f"r_ctrl = %bench marked(x) --processes 3 --vs none {FAST}\nr_ctrl",
        lambda: marks.exists() and len(marks.read_text().split()) >= 2,
    )
    assert result.status == "ok", result.error
    assert kernel.value("r_ctrl.interrupted") is True
    assert kernel.value("r_ctrl.settings['processes']") == 1
    assert "interrupted (Ctrl-C) after 1 of 3 worker processes" in result.html
    # the second worker was stopped and the third never started
    pids = marks.read_text().split()
    assert len(pids) == 2
    assert not any(os.path.exists(f"/proc/{pid}") for pid in pids)
    assert kernel.alive()


def test_function_that_cannot_be_shipped_is_timed_here_with_the_reason(kernel):
    kernel.ok(
        "import threading\n"
        "guard_lock = threading.Lock()\n"
        "def locked(x):\n"
        "    with guard_lock:\n"
        "        return x * 2\n"
    )
    result = kernel.ok(f"r_lock = %bench locked(x) --processes 2 --vs none {FAST}\nr_lock")
    assert "processes=2 not used" in result.html and "_thread.lock" in result.html
    assert kernel.value("[t.process_medians_s for t in r_lock.timings]") == [[], []]
    assert kernel.alive()


def test_large_output_times_numpy_in_the_kernel_and_eager_in_a_worker(kernel):
    kernel.ok(
        "import os\n"
        "traced_in, numpy_in = [], []\n"
        "def fn_rec(x):\n"
        "    traced_in.append(os.getpid())\n"
        "    return x + x*x + x*x*x\n"
        "def numpy_rec(x):\n"
        "    numpy_in.append(os.getpid())\n"
        "    return x + x*x + x*x*x\n"
        "x_large = np.ones((512, 1024), dtype=np.float32)\n"
    )
    kernel.ok(f"r_large = %bench fn_rec(x_large) --vs numpy:numpy_rec {FAST}\nr_large")
    assert kernel.value("[t.variant for t in r_large.timings]") == ["jit", "eager", "numpy"]
    assert kernel.value("all(t.samples for t in r_large.timings)") is True
    # NumPy ran here, where the user's own NumPy loop runs; eager only in the worker (the
    # kernel traced fn_rec once for jit and never ran it op by op)
    assert kernel.value("set(numpy_in) == {os.getpid()} and len(numpy_in) > 3") is True
    assert kernel.value("traced_in == [os.getpid()]") is True
    apart = "[n.text for n in r_large.notes if 'worker process' in n.text]"
    [note] = kernel.value(apart)
    assert note.startswith("eager timed in a fresh worker process: the compiled call allocates")
    assert kernel.value("r_large.mismatches == [] and r_large.failures == {}") is True
