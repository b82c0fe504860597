"""The notebooks reproducing the seed articles' examples run top to bottom and show the
articles' numbers (the runs of test_any_kernel, under a plain python3 kernelspec; the browser
tests run them in the jaxlab kernel)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.notebooks._hlo import assert_hlo_shows_the_program_first
from tests.notebooks._run import NOTEBOOKS, execute

pytestmark = pytest.mark.kernel


def test_every_notebook_is_executed_by_a_test():
    tested = "".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        assert f'"{notebook.name}"' in tested, f"{notebook.name} is not executed by any test"


def test_speed(kernel_prefix):
    run = execute("01_numpy_vs_jax_speed.ipynb")
    assert run.clean
    m = re.search(r"NumPy ([\d.]+) ms, JAX eager ([\d.]+) ms, JAX jit ([\d.]+) ms", run.stdout)
    assert m, run.stdout
    numpy_ms, eager_ms, jit_ms = map(float, m.groups())
    assert min(numpy_ms, eager_ms, jit_ms) > 0
    # next to the introduction's figures, what machine and versions made these
    import jax

    machine = re.search(r"on .+ \(\d+ CPUs usable\), JAX (\S+) on cpu:0, NumPy (\S+)", run.stdout)
    assert machine and machine.group(1) == jax.__version__ and machine.group(2) == np.__version__
    assert "151 ms" in markdown(run) and "the one named above" in markdown(run)
    assert "[ 1  4  9 16]" in run.stdout
    html = run.data("text/html")
    assert "1 fusion" in html  # x + x*x + x*x*x: one loop fusion
    assert "crossover" in html.lower() or "<svg" in html
    assert_hlo_shows_the_program_first(run)


def markdown(run) -> str:
    return "\n".join(c.source for c in run.nb.cells if c.cell_type == "markdown")


def cell_outputs(run, needle: str, mime: str = "text/html") -> str:
    """The outputs (of one kind) of the code cell whose source contains `needle`."""
    cell = next(c for c in run.nb.cells if c.cell_type == "code" and needle in c.source)
    return "".join(o.get("data", {}).get(mime, "") for o in cell.outputs)


def test_grad_control_flow(kernel_prefix):
    run = execute("02_grad_control_flow.ipynb")
    assert run.clean
    assert run.stdout.count("0.4199743 0.6216267") == 2
    # the values the markdown states are the printed ones (float32 to 7 digits)
    stated = re.search(
        r"approx ([\d.]+)\$ and the third derivative.*?is about ([\d.]+)\.", markdown(run), re.S
    )
    assert stated and run.stdout.count(" ".join(stated.groups())) == 2, stated
    assert "f'(x) = 3*x^2 = 12.0" in run.stdout
    assert "f'(x) = -3*x^2 = -27.0" in run.stdout
    assert "[6.0, 6.0, 6.0, 6.0, 6.0]" in run.data("text/plain")
    assert "8.0 2.0" in run.stdout
    assert "traced value in Python control flow" in run.stdout
    assert_hlo_shows_the_program_first(run)
    # the titles name what was staged: the gradient, not the function differentiated
    html = run.data("text/html")
    assert "jaxpr of grad(tanh)(" in html and "optimized HLO of grad(tanh)(" in html


def test_jacobians_and_hessians(kernel_prefix):
    run = execute("03_jacobians_and_hessians.ipynb")
    assert run.clean
    assert "[[8. 0. 0.]\n [0. 9. 5.]]" in run.stdout
    assert "[8. 0.] [0. 9. 5.]" in run.stdout
    assert re.search(r"JAX jit [\d.]+ µs; PyTorch vectorized [\d.]+ ms \(\d+x slower\)", run.stdout)
    # the introduction's 36× and this machine's ratio side by side, with why they differ: the
    # machine and versions printed, and the compiled Hessian taking no input (what the markdown
    # says the HLO shows)
    import jax
    import torch

    machine = re.search(
        r"on (.+) \((\d+) CPUs usable\), JAX (\S+) on cpu:0, PyTorch (\S+) on (\d+) threads; "
        r"1000 float32 inputs, a 1000×1000 Hessian",
        run.stdout,
    )
    assert machine, run.stdout
    assert machine.group(3) == jax.__version__ and machine.group(4) == torch.__version__
    text = markdown(run)
    assert "36" in text and "Why not the introduction's 36×?" in text
    assert "its entry\n  computation takes `()`" in text
    hlo = cell_outputs(run, "%hlo jit_jax_fn(X)", "text/plain")
    assert "entry_computation_layout={()->f32[1000,1000]" in hlo
    assert re.search(
        r"ENTRY %main\S* \(\) -> f32\[1000,1000\] \{\n  ROOT \S+ = \S+ fusion\(\)", hlo
    )
    assert_hlo_shows_the_program_first(run)


def test_vmap(kernel_prefix):
    run = execute("04_vmap.ipynb")
    assert run.clean
    assert "[2., 2., 5.]" in run.data("text/plain")
    assert "per-example gradients match the loop" in run.stdout
    assert "((6, 3), (6,))" in run.data("text/plain")
    assert_hlo_shows_the_program_first(run)
    # the batched functions are named as such, with the batched shapes
    html = run.data("text/html")
    assert "jaxpr of vmap(vmap(l1_distance))(x: f32[3,2], y: f32[2,2])" in html
    assert "optimized HLO of vmap(grad(loss))(" in html


def test_pmap_and_sharding(kernel_prefix):
    run = execute("05_pmap_and_sharding.ipynb")
    assert run.clean
    text = run.data("text/plain")
    assert "8 devices in 1 process" in text
    assert "(8, 2)" in text  # pmap: one block of rows per device
    assert "P('data', 'model') over mesh {'data': 4, 'model': 2}" in text
    assert "[('all-reduce', [[0, 2, 4, 6], [1, 3, 5, 7]]" in text
    assert "fully replicated" in text
    assert "2 distinct pieces, each on 4 devices" in text
    assert "MemoryTimeline of" in text
    assert run.data("text/html").count("<svg") >= 5  # sharding grids and the memory plot
    # the grid the markdown promises: `v` sharded over `data`, each of its four pieces striped
    # with the colours of the two `model` devices holding it
    v = cell_outputs(run, "placement = %where v")
    grid = re.search(
        r'<svg[^>]*class="jl-sharding-grid" aria-label="sharding of v".*?</svg>', v, re.S
    )
    assert grid, v[:2000]
    pieces = re.findall(r"\[(\d+):(\d+)\] on devices (\d+), (\d+)", grid.group(0))
    assert sorted(set(pieces)) == [
        ("0", "2", "0", "1"), ("2", "4", "2", "3"), ("4", "6", "4", "5"), ("6", "8", "6", "7"),
    ]  # fmt: skip
    assert grid.group(0).count("data-device=") == 8
    assert_hlo_shows_the_program_first(run)


def test_pure_functions(kernel_prefix):
    run = execute("06_pure_functions.ipynb")
    # exactly the two cells meant to fail did, each explained by jaxlab above JAX's error
    assert [e["ename"] for e in run.errors] == ["TypeError", "TracerBoolConversionError"]
    assert "JAX arrays are immutable" in run.errors[0]["traceback"][0]
    assert "traced value in Python control flow" in run.errors[1]["traceback"][0]
    assert "[1 2 3 4] [10  2  3  4]" in run.stdout
    guards = [o for o in run.outputs() if "application/vnd.jaxlab.guard+json" in o.get("data", {})]
    kinds = [o["data"]["application/vnd.jaxlab.guard+json"]["guard"] for o in guards]
    assert kinds.count("side-effect") == 3 and kinds.count("stale-closure") == 1
