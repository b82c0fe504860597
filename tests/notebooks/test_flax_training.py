"""The Flax + Optax training notebook runs top to bottom and shows the summaries a real model
needs (the run of test_any_kernel, under a plain python3 kernelspec; the browser tests run it
in the jaxlab kernel)."""

from __future__ import annotations

import re

import pytest

from tests.notebooks._run import execute

pytestmark = [pytest.mark.kernel, pytest.mark.slow]
pytest.importorskip("flax")
pytest.importorskip("optax")


def cell_html(run, needle: str, mime: str = "text/html") -> str:
    """The outputs (of one kind) of the code cell whose source contains `needle`."""
    for cell in run.nb.cells:
        if cell.cell_type == "code" and needle in cell.source:
            return "\n".join(o.get("data", {}).get(mime, "") for o in cell.outputs)
    raise AssertionError(f"no cell with {needle!r}")


def test_flax_training_notebook(kernel_prefix):
    run = execute("flax_training.ipynb")
    assert not run.errors, run.errors
    text = run.data("text/plain")
    # the inspector's title: arguments named and summarised, the leaves in the returned object
    assert "Inspection of train_step(state: State(20 arrays, " in text
    assert "x: f32[64,4], y: f32[64,1])" in text
    inspector = cell_html(run, "%inspect train_step")
    folds = re.findall(r'<details class="jl-fold"><summary>(.*?)</summary>', inspector)
    assert any("flax/nnx/nn/linear.py" in f for f in folds)
    assert any("optax/" in f for f in folds)
    first_header = re.search(r'class="jl-l jl-hdr"[^>]*>([^<]*)<', inspector).group(1)
    assert "site-packages" not in first_header and "flax" not in first_header
    # training works
    m = re.search(r"loss ([\d.]+) -> ([\d.]+) after 200 steps", run.stdout)
    assert m, run.stdout
    assert float(m.group(2)) < float(m.group(1)) / 4
    # the bench: jit against eager, outputs agreeing
    bench = cell_html(run, "%bench", "text/plain")
    # the verdict first, then the title
    assert bench.splitlines()[1].startswith("bench train_step(state: State(20 arrays, "), bench
    assert "INVALID" not in bench and "disagrees" not in bench
    assert re.search(r"^\s*jit\s", bench, re.M) and re.search(r"^\s*eager\s", bench, re.M)
    # where the time goes: measured kernels, and the compile's passes
    profile = cell_html(run, "%profile", "text/plain")
    assert profile.splitlines()[1].startswith("Profile of train_step(state: State(20 arrays, ")
    # Flax's and Optax's lines roll up into train_step's: the cells' lines lead, the library's
    # one click away under them
    by_line = profile[profile.index("by line") :].splitlines()[2:]
    assert by_line[0].startswith("In ["), profile
    assert not any(line.startswith(("linear.py", "_tree_math.py")) for line in by_line)
    assert any(line.startswith("  linear.py:") for line in by_line), profile
    lines_html = cell_html(run, "%profile").split("time by source line", 1)[1]
    assert re.match(r"</summary><table[^>]*><thead>.*?</thead><tbody><tr><td>In \[", lines_html)
    assert '<details class="jl-lib"><summary>linear.py:' in lines_html
    assert "compile profile of train_step" in cell_html(run, "%compile_profile", "text/plain")
    # single-device placement: one line, no grid
    for needle in ("%where params", "%where state"):
        html = cell_html(run, needle)
        assert "all on " in html and "(device " in html and "jl-sharding-grid" not in html
    # the guard caught the stale learning rate
    assert "stale closure" in text and "learning_rate" in text
    # sharded: a table of groups, one grid per sharded or replicated group
    sharded = cell_html(run, "placed = %where sharded_state")
    groups = int(re.search(r"in (\d+) groups on 8 devices", sharded).group(1))
    assert 2 <= groups <= 10
    assert sharded.count('class="jl-sharding-grid"') == groups
    assert "sharded step: loss" in run.stdout
    # after the step, the arrays XLA returned laid out otherwise are pointed out
    after = cell_html(run, "loss, sharded_state = step(sharded_state, xb, yb)", "text/plain")
    assert "laid out otherwise than at the last look at sharded_state:" in after, after
    # compile advice never points at IPython's code or at a loop the step does not have
    advice = cell_html(run, "%compile_profile", "text/plain")
    assert "interactiveshell" not in advice and "unrolled" not in advice
