"""The benchmarking notebook runs in a real kernel, and its outputs survive a static HTML
export (tables and SVG plots are plain HTML, no script needed)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

pytestmark = pytest.mark.kernel

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "benchmarking.ipynb"


@pytest.fixture(scope="module")
def executed(kernel_prefix):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the same notebook with a smaller array: CI machines are small and shared
    nb.cells[1].source = nb.cells[1].source.replace("SIDE = 1000", "SIDE = 300")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.replace("--time-budget 0.3", "--time-budget 0.05").replace(
                "--time-budget 0.2", "--time-budget 0.05"
            )
            cell.source = cell.source.replace("1e5,1e6 --time-budget 0.1", "1e5 --time-budget 0.03")
    NotebookClient(nb, kernel_name="jaxlab-test", timeout=300).execute()
    return nb


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
