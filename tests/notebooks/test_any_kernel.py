"""Every notebook runs in any IPython kernel with jaxlab installed: each starts with
`%load_ext jaxlab`, and runs top to bottom under a plain `python3` kernelspec (no jaxlab
preloaded), failing only in the cells tagged to raise. Each notebook's own tests read the
same run."""

from __future__ import annotations

import nbformat
import pytest

from tests.notebooks._run import NOTEBOOKS, PLAIN_KERNEL, execute

ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _code_cells(name: str) -> list:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", ALL)
def test_notebook_starts_by_loading_jaxlab(name):
    first = _code_cells(name)[0].source
    assert first.splitlines()[0].strip() == "%load_ext jaxlab", first


@pytest.mark.kernel
@pytest.mark.parametrize("name", ALL)
def test_notebook_runs_in_a_plain_python3_kernel(kernel_prefix, name):
    run = execute(name, kernel_name=PLAIN_KERNEL)  # raises at any error in an untagged cell
    expected = [
        c for c in run.nb.cells if "raises-exception" in c.get("metadata", {}).get("tags", [])
    ]
    failed = [
        c for c in run.nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))
    ]
    assert [id(c) for c in failed] == [id(c) for c in expected]
    assert "not found" not in run.stderr + "".join(o.evalue for o in run.errors)
    assert "already loaded" not in run.stdout
