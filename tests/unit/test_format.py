"""One formatting of seconds, bytes, counts and sizes for every view."""

from __future__ import annotations

import pytest

from jaxlab.base.format import format_bytes, format_count, format_seconds, format_size, short_repr
from jaxlab.benchmarking.result import Crossover


@pytest.mark.parametrize(
    ("n", "text"),
    [(500, "500"), (2048, "2048"), (1e4, "1e4"), (1e5, "1e5"), (2.5e6, "2.5e6"),
     (12345, "1.23e4"), (99999, "1e5"), (3162.28, "3162"), (31.62, "31.6")],
)  # fmt: skip
def test_sizes_read_as_people_write_them(n, text):
    assert format_size(n) == text


def test_a_crossover_size_is_written_like_the_sizes_of_the_sweep():
    assert Crossover("jit", "numpy", 3162.28, True).describe().endswith("above n ≈ 3162")


def test_units():
    assert [format_seconds(s) for s in (5e-9, 1.5e-5, 0.0123, 2.5, None)] == [
        "5 ns", "15 µs", "12.3 ms", "2.5 s", "–",
    ]  # fmt: skip
    # a value that rounds up to the next unit is shown in it, never as 1e+03 of the smaller
    assert [format_seconds(s) for s in (999.96e-6, 0.99996, 999.7e-9, 999.4e-6)] == [
        "1 ms", "1 s", "1 µs", "999 µs",
    ]  # fmt: skip
    assert [format_bytes(b) for b in (512, 1536, 3 * 2**30)] == ["512 B", "1.5 KiB", "3 GiB"]
    assert [format_count(c) for c in (950, 12345, 4.5e6)] == ["950", "12.3k", "4.5M"]
    assert short_repr("x" * 100, 10) == "'xxxxxxxx…"


def test_one_name_for_a_function_everywhere():
    import functools

    import jax

    from jaxlab.base.format import function_name
    from jaxlab.magics._base import Call

    def loss(w):
        return w

    class Model:
        def __call__(self, x):
            return x

    assert function_name(loss) == function_name(jax.jit(loss)) == "loss"
    assert function_name(Model()) == "Model"
    scaled = functools.partial(loss)
    assert function_name(scaled) == "partial"
    assert function_name(scaled, "partial(loss)") == "partial(loss)"
    # the magics name the call the same way, falling back to the expression as written
    assert Call(jax.jit(loss), (), {}, "f", "f(w)").name == "loss"
    assert Call(scaled, (), {}, "partial(loss)", "partial(loss)(w)").name == "partial(loss)"


def test_titles_name_what_was_staged_transformations_included():
    import jax
    import jax.numpy as jnp

    import jaxlab
    from jaxlab.base.format import function_name

    def loss(w, x):
        return jnp.sum((x * w) ** 2)

    def l1_distance(x, y):
        return jnp.sum(jnp.abs(x - y))

    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0))
    assert function_name(jax.grad(loss)) == "grad(loss)"
    assert function_name(jax.jit(jax.grad(loss))) == "grad(loss)"
    assert function_name(per_example) == "vmap(grad(loss))"
    assert function_name(jax.value_and_grad(loss)) == "value_and_grad(loss)"
    assert function_name(jax.hessian(loss)) == "hessian(loss)"
    assert function_name(jax.jacrev(loss)) == "jacrev(loss)"
    assert function_name(jax.checkpoint(loss)) == "checkpoint(loss)"
    w, xs = jnp.ones(3), jnp.ones((5, 3))
    insp = jaxlab.inspect(jax.grad(loss), w, xs[0], run=False)
    assert repr(insp).startswith("Inspection of grad(loss)(w: f32[3], x: f32[3])")
    assert "Inspection of <code>grad(loss)(w: f32[3]" in insp._repr_html_()
    batched = jaxlab.jaxpr(jax.vmap(l1_distance), xs, xs)
    assert batched.title == "jaxpr of vmap(l1_distance)(x: f32[5,3], y: f32[5,3])"
    hlo = jaxlab.hlo(per_example, w, xs)
    assert hlo.title.startswith("optimized HLO of vmap(grad(loss))(w: f32[3], x: f32[5,3])")


def test_notebook_code_is_named_by_its_cell():
    from jaxlab.base.format import (
        function_location,
        relabel_cells,
        set_cell_labeler,
        source_location,
    )

    cells = {"/tmp/ipykernel_1/224308452.py": "In [19]"}
    assert source_location("/tmp/ipykernel_1/224308452.py", 2) == "224308452.py:2"
    set_cell_labeler(cells.get)
    try:
        assert source_location("/tmp/ipykernel_1/224308452.py", 2) == "In [19], line 2"
        assert source_location("/home/me/model.py", 12) == "model.py:12"
        assert function_location("k at /tmp/ipykernel_1/224308452.py:3") == "k at In [19], line 3"
        hlo = 'FileNames\n1 "/tmp/ipykernel_1/224308452.py"\n2 "/lib/jax/x.py"\n'
        assert relabel_cells(hlo) == 'FileNames\n1 "In [19]"\n2 "/lib/jax/x.py"\n'
    finally:
        set_cell_labeler(None)
