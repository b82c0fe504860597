"""The benchmarking notebook runs in a real kernel (the run of test_any_kernel, under a plain
python3 kernelspec), and its outputs survive a static HTML export (tables and SVG plots are
plain HTML, no script needed)."""

from __future__ import annotations

import pytest
from nbconvert import HTMLExporter

from tests.notebooks._run import execute

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def executed(kernel_prefix):
    return execute("benchmarking.ipynb").nb


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_notebook_runs_without_errors(executed):
    errors = [
        o
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors, errors


def test_outputs_are_tables_and_plots(executed):
    code = [c for c in executed.cells if c.cell_type == "code"]
    seed, sweep = _html(code[1]), _html(code[2])
    # how long a call takes, then what it costs: a header and three variants each
    assert "vs numpy" in seed and seed.count("<table") == 2 and seed.count("<tr>") == 8
    assert sweep.count("<svg") == 2 and "jl-progress" in sweep
    hess = _html(code[4])
    assert "vs torch" in hess and "disagrees" not in hess
    assert "compare" in _html(code[6])


def test_static_export_keeps_tables_and_plots(executed):
    body, _ = HTMLExporter().from_notebook_node(executed)
    assert body.count('class="jl-bench"') >= 4
    assert body.count("<svg") >= 2 and "<polyline" in body
    assert "speedup over numpy" in body
