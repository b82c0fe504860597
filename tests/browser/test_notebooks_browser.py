"""The notebooks a newcomer opens first, run top to bottom in JupyterLab in Debian's chromium: no
error but in the cells tagged to raise, and a screenshot in test-artifacts/ of each output that
has to read right at a glance (the profile of the Flax step, the compile advice, %hlo, the bench
titles and notes, compare, the sharding grids, the guards), to be looked at. The tour's run in
JupyterLab is test_tour_browser's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser._lab import Lab, copy_notebook, output_of, screenshot, wrapped_numbers
from tests.conftest import needs_widget_bundle

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_widget_bundle]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
RUN_TIMEOUT_MS = 600_000

# notebook -> (screenshot name, a line of the cell whose output it shows)
OUTPUTS = {
    "flax_training.ipynb": [
        ("flax-inspect", "insp = %inspect train_step"),
        ("flax-profile", "%profile --runs 5 train_step"),
        ("flax-compile-profile", "%compile_profile train_step"),
        ("flax-where-sharded", "placed = %where sharded_state"),
        ("flax-where-after-step", 'print(f"sharded step: loss'),
    ],
    "benchmarking.ipynb": [
        ("benchmarking-cubic", "r_cubic = %bench fn(x)"),
        ("benchmarking-sweep", "%bench fn(x) --sizes"),
        ("benchmarking-hessian", "r_hess = %bench hessian(X)"),
        ("benchmarking-cell-bench", "%%bench -o r_small"),
        ("benchmarking-compare", "jaxlab.compare(r_cubic, r_small)"),
    ],
    "01_numpy_vs_jax_speed.ipynb": [
        ("01-bench", "r = %bench fn(x_jnp) --vs numpy"),
        ("01-hlo", "%hlo fn(x_jnp)"),
        ("01-sweep", "%bench fn(x_np) --sizes"),
    ],
    "02_grad_control_flow.ipynb": [
        ("02-jaxpr-grad", "%jaxpr jax.grad(tanh)(1.0)"),
        ("02-hlo-grad", "%hlo jax.grad(tanh)(1.0)"),
    ],
    "03_jacobians_and_hessians.ipynb": [
        ("03-hessian-bench", "%%bench -o hessians"),
        ("03-why-not-36", "env = hessians.environment"),
        ("03-hlo", "%hlo jit_jax_fn(X)"),
    ],
    "04_vmap.ipynb": [
        ("04-vmap", "%vmap l1_distance"),
        ("04-per-example", "g = %vmap grad_loss"),
        ("04-hlo", "%hlo per_example_grads"),
    ],
    "05_pmap_and_sharding.ipynb": [
        ("05-devices", "%devices --cpu-devices 8"),
        ("05-where-pmap", "%where product"),
        ("05-where-v", "placement = %where v"),
        ("05-hlo", "%hlo column_sums(x)"),
        ("05-memory-timeline", "step_insp.memory_timeline"),
    ],
    "06_pure_functions.ipynb": [
        ("06-immutable-error", "arr[0] = 10"),
        ("06-side-effects", "def impure_step"),
        ("06-stale-closure", "offset = 100.0"),
    ],
    "guards.ipynb": [
        ("guards-stale", "W = 2 * jnp.ones(3)"),
        ("guards-recompiles", "for n in range(1, 9)"),
        ("guards-recompiles-list", "%recompiles total"),
        ("guards-error", "relu(3.0)"),
    ],
}


def expected_errors(name: str) -> int:
    nb = json.loads((NOTEBOOKS / name).read_text())
    return sum("raises-exception" in c["metadata"].get("tags", []) for c in nb["cells"])


@pytest.fixture
def notebook_lab(lab: Lab):
    yield lab
    lab.shutdown_kernels()  # one notebook's kernel at a time: some hold 100 MB arrays


@pytest.mark.parametrize("name", list(OUTPUTS))
def test_notebook_outputs_in_jupyterlab(notebook_lab, page, name):
    lab = notebook_lab
    lab.open(page, copy_notebook(lab.root, name))
    lab.run_all(page)
    lab.wait_until_executed(page, RUN_TIMEOUT_MS)
    outputs = lab.outputs(page)
    errors = [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
    assert len(errors) == expected_errors(name), errors
    for shot, needle in OUTPUTS[name]:
        output = output_of(page, needle)
        box = output.bounding_box()
        assert box and box["height"] > 0, (shot, needle)
        screenshot(output, shot)
    assert not wrapped_numbers(page)
    if name == "flax_training.ipynb":
        # the profile leads with train_step's lines; Flax's are one click away under them
        profile = output_of(page, "%profile --runs 5 train_step")
        first = profile.locator("details:has(> summary:text-is('time by source line')) tbody tr")
        # text_content: a cell JupyterLab has not painted yet (off screen) has no inner text
        cell = first.first.locator("td").first
        cell.scroll_into_view_if_needed()
        assert (cell.text_content() or "").startswith("In ["), cell.text_content()
        fold = profile.locator("details.jl-lib").first
        fold.locator("summary").click()
        assert fold.locator("td", has_text="linear.py:").first.is_visible()
        screenshot(profile, "flax-profile-library-open")
    if name == "05_pmap_and_sharding.ipynb":
        grid = output_of(page, "placement = %where v").locator("svg.jl-sharding-grid")
        assert grid.is_visible()
        assert grid.locator("rect[data-device]").count() == 8
