"""The tour runs top to bottom and shows every part of jaxlab (the run of test_any_kernel, under
a plain python3 kernelspec; the browser tests and the Binder test run it in the kernel that
jaxlab's kernelspec installs)."""

from __future__ import annotations

import pytest

from tests.conftest import needs_widget_bundle
from tests.notebooks._hlo import assert_hlo_shows_the_program_first
from tests.notebooks._run import execute

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def tour(kernel_prefix):
    return execute("tour.ipynb")


def test_no_errors(tour):
    assert not tour.errors


def test_seed_values(tour):
    assert "0.4199743 0.6216267" in tour.stdout
    assert "12.0 -27.0 [6.0, 6.0, 6.0, 6.0, 6.0]" in tour.stdout
    assert "compilation #2" in tour.stdout


@needs_widget_bundle
def test_every_view_is_there(tour):
    html = tour.data("text/html")
    assert 'class="jl-code jl-hlo"' in html and 'class="jl-code jl-jaxpr"' in html
    assert 'class="jaxlab jl-insp"' in html  # the inspector's static rendering
    assert "application/vnd.jupyter.widget-view+json" in "".join(
        "".join(o.get("data", {})) for o in tour.outputs()
    )
    assert 'class="jl-sharding-grid"' in html
    assert "all-reduce" in html
    assert "<svg" in html and "vs numpy" in tour.data("text/plain")
    assert 'class="jaxlab jl-profile"' in html and 'class="jl-timeline"' in html
    assert 'class="jaxlab jl-memory"' in html


def test_hlo_outputs_show_the_program_first(tour):
    assert assert_hlo_shows_the_program_first(tour) == 2  # one device, then the sharded sums


def test_titles_name_what_was_staged(tour):
    # `grad_loss = jax.grad(loss)`: the inspection is of the gradient, not of `loss`
    assert "Inspection of grad(loss)(params: " in tour.data("text/plain")


def test_links_and_fusions_are_reported(tour):
    line = next(text for text in tour.stdout.splitlines() if "jaxpr equations," in text)
    equations, instructions, fusions = (int(w) for w in line.split() if w.isdigit())
    assert equations > 0 and instructions > 0 and fusions > 0


def test_guards_speak_only_where_the_tour_says(tour):
    guards = [o for o in tour.outputs() if "application/vnd.jaxlab.guard+json" in o.get("data", {})]
    kinds = [o["data"]["application/vnd.jaxlab.guard+json"]["guard"] for o in guards]
    assert sorted(kinds) == ["recompiles", "stale-closure"]


def test_bad_input_messages(tour):
    assert "differentiation needs floating-point inputs" in tour.stdout
    assert "takes 1 positional argument but 2 were given" in tour.stdout
    assert "grad needs a scalar output" in tour.stdout
