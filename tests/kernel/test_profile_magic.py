"""`%profile`, `%memory` and `%inspect --profile` in a real kernel: where the time goes by
source line, arrays held only by the output history, memory diffs with cell and line, and bad
input (one short message, kernel alive, variables untouched, a user's profiler left alone)."""

from __future__ import annotations

import pytest

from tests.kernel._client import Kernel

pytestmark = pytest.mark.kernel

SETUP = """
def seed(x):
    return x + x*x + x*x*x

def matmul_and_small(x, y):
    a = jnp.sin(x[:8]) * 2.0
    b = a + 1.0
    big = x @ y
    return big.sum() + b.sum()

def broken(x):
    return x @ jnp.ones((3, 5))

not_a_function = 5
"""


@pytest.fixture(scope="module", autouse=True)
def setup(kernel):
    kernel.ok(SETUP)


def test_matmul_line_comes_first_with_the_majority_of_the_time(kernel):
    result = kernel.ok(
        "x = jnp.ones((1024, 1024))\np = %profile --runs 5 matmul_and_small(x, x)\np"
    )
    assert "Profile of matmul_and_small" in result.text
    assert "<svg" in result.html
    # it leads with where the time goes, naming the cell's line and the roof that bounds it
    verdict = kernel.value("p.verdict")
    assert result.text.splitlines()[0] == verdict
    assert "% of kernel time in" in verdict and ", a matmul, compute-bound at " in verdict
    assert result.html.index('class="jl-verdict"') < result.html.index('class="jl-title"')
    assert kernel.value("type(p).__name__") == "Profile"
    assert kernel.value("p.runs") == 5
    top = kernel.value("(p.by_line()[0]['code'], p.by_line()[0]['percent'])")
    assert "x @ y" in top[0] and top[1] > 50
    assert kernel.value("p.kernel_s <= p.wall_s")


def test_seed_function_spends_at_least_90_percent_in_one_fusion(kernel):
    kernel.ok("s = %profile seed(jnp.ones((2000, 2000)))")
    assert kernel.value("s.runs") == 10
    shares = kernel.value("[k.total_s / s.kernel_sum_s for k in s.kernels if 'fusion' in k.kind]")
    assert len(shares) == 1 and shares[0] >= 0.9
    assert kernel.value("0 < s.coverage_frac <= 1")


def test_inspect_with_profile_shows_measured_times(kernel):
    result = kernel.ok("ip = %inspect --profile --runs 3 seed(jnp.ones((300, 300)))")
    assert kernel.value("ip.profile.runs") == 3
    assert kernel.value("[s['kind'] for s in ip.view_model()['sections']].count('profile')") == 1
    assert result.status == "ok"


def test_memory_names_an_array_held_only_by_the_output_history(kernel):
    shown = kernel.ok("jnp.arange(123457.0) * 3")
    n = shown.execution_count
    kernel.ok("snap = %memory")
    held = "[a for a in snap.arrays if a.shape == (123457,) and a.referenced_by]"
    assert kernel.value(f"[a.referenced_by[0] for a in {held}]") == [f"Out[{n}]"]
    assert kernel.value(f"[a.only_history for a in {held}]") == [True]
    result = kernel.ok("snap")
    assert f"Out[{n}]" in result.html and "output history" in result.html


def test_memory_diff_shows_the_new_array_with_its_cell_and_line(kernel):
    kernel.ok("before = %memory")
    created = kernel.ok("pad = 0\nfresh = jnp.ones((321, 123)) + 1.0")
    n = created.execution_count
    kernel.ok("d = %memory --diff --since before")
    rows = kernel.value(
        "[(a.referenced_by, a.creators[0].cell, a.creators[0].line) "
        "for a in d.created if a.shape == (321, 123)]"
    )
    assert rows == [[["fresh"], f"In [{n}]", 2]]
    kernel.ok("again = jnp.zeros(77) + 1")
    kernel.ok("d2 = %memory --diff")
    assert kernel.value("[a.referenced_by for a in d2.created if a.shape == (77,)]") == [["again"]]
    # --diff is a flag on every magic; the old `--diff SNAPSHOT` still works and says so once
    old = kernel.ok("d3 = %memory --diff before")
    assert "--diff SNAPSHOT is now --diff --since SNAPSHOT" in old.stderr
    assert kernel.value("[a.referenced_by for a in d3.created if a.shape == (77,)]") == [["again"]]
    assert "is now" not in kernel.ok("d3 = %memory --diff before").stderr


def test_memory_names_one_creating_line_and_groups_small_arrays(kernel):
    # arrays of one size made in two cells: each names its own cell and line
    a = kernel.ok("twin_a = jnp.ones((211, 7)) + 1.0")
    b = kernel.ok("pad = 1\ntwin_b = jnp.ones((211, 7)) * 2.0")
    kernel.ok("scalars = [jnp.float32(i) + 0 for i in range(20)]\nmem = %memory")
    created = kernel.value(
        "{a.referenced_by[0]: a.created_at for a in mem.arrays if a.shape == (211, 7)}"
    )
    assert created == {
        "twin_a": f"In [{a.execution_count}], line 1",
        "twin_b": f"In [{b.execution_count}], line 2",
    }
    shown = kernel.ok("mem")
    assert "arrays under 1 KiB" in shown.text and "arrays under 1 KiB" in shown.html
    assert "scalars[3]" not in shown.html.split("arrays under 1 KiB")[0]


def test_bad_input_gets_one_clear_line(kernel):
    kernel.fails_cleanly("%profile --runs 0 seed(jnp.ones(3))", "--runs must be at least 1")
    kernel.fails_cleanly("%profile --runs many seed(jnp.ones(3))", "--runs expects")
    kernel.fails_cleanly("%profile not_a_function(jnp.ones(3))", "not a function")
    kernel.fails_cleanly("%profile", "needs an expression")
    kernel.fails_cleanly("%profile undefined_fn(jnp.ones(3))", "undefined_fn")
    result = kernel.fails_cleanly("%profile broken(jnp.ones((2, 2)))", "broken", max_lines=12)
    assert "return x @ jnp.ones((3, 5))" in result.stderr and "(in broken)" in result.stderr
    assert result.data and "text/html" in result.data[-1]  # the error card
    kernel.fails_cleanly("%memory --diff --since not_a_function", "not a memory snapshot")
    kernel.fails_cleanly("%memory something", "takes no expression")


def test_a_users_profiler_session_is_left_running(kernel, tmp_path):
    kernel.ok(f"jax.profiler.start_trace({str(tmp_path)!r})")
    try:
        kernel.fails_cleanly("%profile seed(jnp.ones(3))", "already active")
        kernel.fails_cleanly("%inspect --profile seed(jnp.ones(3))", "already active")
    finally:
        kernel.ok("jax.profiler.stop_trace()")  # the user's session was still running
    assert list(tmp_path.rglob("*.xplane.pb"))
    kernel.ok("%profile --runs 1 seed(jnp.ones(3))")


@pytest.fixture(scope="module")
def eight(kernel_prefix):
    k = Kernel("jaxlab-test", env={"JAXLAB_CPU_DEVICES": "8"})
    k.ok("import jax, jax.numpy as jnp")
    yield k
    k.shutdown()


def test_a_batch_sharded_step_on_8_devices_has_rows_per_device_and_collectives(eight):
    assert eight.value("jax.device_count()") == 8
    eight.ok(
        "auto = (jax.sharding.AxisType.Auto,)\n"
        "mesh = jax.make_mesh((8,), ('batch',), axis_types=auto)\n"
        "spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec('batch'))\n"
        "x = jax.device_put(jnp.ones((256, 64)), spec)\n"
        "w = jnp.full((64, 64), 0.01)\n"
        "def step(w, x):\n"
        "    loss = lambda w: jnp.mean(jnp.tanh(x @ w) ** 2)\n"
        "    return jax.grad(loss)(w)"
    )
    result = eight.ok("p = %profile --runs 3 step(w, x)\np")
    assert eight.value("p.devices") == list(range(8))
    assert eight.value("sorted({k.device for k in p.kernels})") == list(range(8))
    kinds = eight.value("sorted({k.kind for k in p.collectives})")
    assert kinds and all(k.startswith("collective (") for k in kinds)
    assert eight.value("len(p.to_pandas().query('kind.str.startswith(\\'collective\\')'))") >= 8
    assert "outlined red" in result.html


def test_lines_of_notebook_cells_are_named_by_their_cell(kernel):
    cell = kernel.ok("def cubic(x):\n    return x * x * x")
    kernel.ok("pc = %profile --runs 2 cubic(jnp.ones((100, 100)))")
    assert kernel.value("pc.by_line()[0]['where']") == f"In [{cell.execution_count}]:2"
    assert f"In [{cell.execution_count}]:2" in kernel.value("pc.rows()[0]['source']")
