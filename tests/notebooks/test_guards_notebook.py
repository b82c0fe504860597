"""notebooks/guards.ipynb shows each guard once, where the notebook says it will."""

from __future__ import annotations

import pytest

from jaxlab.guards import MIME
from tests.notebooks._run import PLAIN_KERNEL, execute

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("kernel_name", ["jaxlab-test", PLAIN_KERNEL])
def test_guards_notebook_warns_where_it_says(kernel_prefix, kernel_name):
    """The same warnings in the jaxlab kernel and in a plain one (after `%load_ext jaxlab`)."""
    nb = execute("guards.ipynb", kernel_name=kernel_name).nb
    code = [c for c in nb.cells if c.cell_type == "code"]

    def cell(start: str):
        (found,) = [c for c in code if c.source.startswith(start)]
        return found

    def warnings(c) -> list[tuple]:
        return [
            (o.data[MIME]["guard"], o.data[MIME]["kind"], o.data[MIME]["variable"])
            for o in c.outputs
            if MIME in o.get("data", {})
        ]

    expected = {
        "W = 2 *": [("stale-closure", "global", "W")],
        "table[0] = 5.0": [("stale-closure", "in-place", "table")],
        "history = []": [
            ("side-effect", "print", None),
            ("side-effect", "mutation", "history"),
            ("side-effect", "random", None),
        ],
        "@jax.jit\ndef total": [("recompiles", "types", None)],
    }
    for start, found in expected.items():
        assert warnings(cell(start)) == found, start
    others = [c for c in code if not any(c.source.startswith(s) for s in expected)]
    assert all(warnings(c) == [] for c in others)
    assert "[1., 1., 1.]" in cell("predict(jnp.ones(3))   # still").outputs[0].data["text/plain"]
    errors = {
        c.source.splitlines()[0]: o for c in code for o in c.outputs if o.output_type == "error"
    }
    assert set(errors) == {"@jax.jit", "a = jnp.arange(4)"}
    assert all("[jaxlab]" in o.traceback[0] for o in errors.values())
