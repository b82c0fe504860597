"""Magics in IPython's in-process shell: help text, local scope, and the HTML they display."""

from __future__ import annotations

import jax.numpy as jnp
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import jaxlab
from jaxlab.base.display import RenderWarning


def test_help_comes_from_magic_arguments(ip):
    doc = ip.find_line_magic("grad").__doc__
    assert "--order" in doc and "--argnums" in doc and "--has-aux" in doc and "--traceback" in doc
    assert "--in-axes" in ip.find_line_magic("vmap").__doc__
    assert "--stage" in ip.find_line_magic("hlo").__doc__
    assert "--static-argnums" in ip.find_cell_magic("jit").__doc__


def test_magics_see_local_variables_inside_functions(ip):
    ip.run_cell(
        "def use_local():\n"
        "    y = 3.0\n"
        "    sq = lambda v: v * v\n"
        "    g = %grad sq(y)\n"
        "    return g\n"
        "local_grad = use_local()"
    )
    assert float(ip.user_ns["local_grad"]) == 6.0


def test_hlo_output_is_highlighted_html(ip):
    ip.run_cell("def cubic(x):\n    return x + x*x + x*x*x\nh = %hlo cubic(jnp.ones((4, 4)))")
    h = ip.user_ns["h"]
    html = h._repr_html_()
    assert 'class="jl-code jl-hlo"' in html
    assert "1 fusion" in html
    assert h.dialect == "hlo" and h.inspection is not None
    assert str(h).startswith("HloModule")


def test_unload_removes_magics(ip):
    ip.run_cell("%unload_ext jaxlab")
    assert "grad" not in ip.magics_manager.magics["line"]
    ip.run_cell("%load_ext jaxlab")
    assert "grad" in ip.magics_manager.magics["line"]


def test_jit_call_with_donation_leaves_the_argument_usable(ip):
    ip.run_cell("donor = jnp.arange(3.0)\ndef doubled(x):\n    return x * 2")
    out = ip.run_line_magic("jit", "doubled(donor) --donate-argnums 0 --quiet")
    assert out.tolist() == [0.0, 2.0, 4.0]
    assert not ip.user_ns["donor"].is_deleted()


def test_static_options_on_a_function_rebound_by_jit(ip):
    # `%jit pw` binds a jit without static arguments; the IR magics add the one asked for
    ip.run_cell("def pw(x, n):\n    return x ** n\n%jit pw --quiet")
    text = ip.run_line_magic("jaxpr", "pw(jnp.ones(3), 3) --static-argnums 1")
    assert len(text.source.jaxpr.invars) == 1
    assert [e.primitive.name for e in text.source.eqns] == ["integer_pow"]
    h = ip.run_line_magic("hlo", "pw(jnp.ones(3), n=3) --static-argnums 1")
    assert len(h.inspection.jaxpr.in_avals) == 1


def test_an_inspection_whose_view_fails_shows_its_text(ip, monkeypatch):
    insp = jaxlab.inspect(lambda x: x * 2, jnp.ones(2), run=False)

    def broken(self):
        raise RuntimeError("view model failed")

    monkeypatch.setattr(jaxlab.Inspection, "view_model", broken)
    with capture_output() as captured, pytest.warns(RenderWarning, match="view model failed"):
        insp._ipython_display_()
    assert [sorted(o.data) for o in captured.outputs] == [["text/plain"]]
    assert captured.outputs[0].data["text/plain"].startswith("Inspection of")


def test_jit_of_a_local_name_leaves_the_global_alone(ip):
    ip.run_cell(
        "def twin(x):\n    return x\n"
        "global_twin = twin\n"
        "def uses_local():\n    twin = lambda x: x + 1\n    %jit twin\n"
    )
    with pytest.raises(UsageError, match="is a local variable here"):
        ip.user_ns["uses_local"]()
    assert ip.user_ns["twin"] is ip.user_ns["global_twin"]


def test_compile_profile_advice_never_points_at_ipython(ip):
    # a cell's step with no loop, many leaves updated at one source position: IPython's own
    # loops around the cell are no loop of the step's
    ip.run_cell(
        "def tree_step(params, x):\n"
        "    return jax.tree.map(lambda p: p - 0.1 * jnp.tanh(p * x), params)\n"
        "tree_params = {f'w{i}': jnp.full((4,), float(i)) for i in range(12)}\n"
        "tree_profile = %compile_profile tree_step(tree_params, jnp.ones(4))"
    )
    profile = ip.user_ns["tree_profile"]
    assert not [str(a) for a in profile.advice if a.kind == "unrolled-loop"]
    assert all("IPython" not in a.file and "jaxlab" not in a.file for a in profile.advice)


def test_titles_name_the_transformation_that_was_staged(ip):
    ip.run_cell(
        "def tanh_t(x):\n    return jnp.tanh(x)\n"
        "def loss_t(w, x):\n    return jnp.sum((w * x) ** 2)\n"
        "grad_loss_t = jax.grad(loss_t)\n"
        "per_example_t = jax.vmap(jax.grad(loss_t), in_axes=(None, 0))"
    )
    j = ip.run_line_magic("jaxpr", "jax.grad(tanh_t)(1.0)")
    assert j.title.startswith("jaxpr of grad(tanh_t)(x: "), j.title
    insp = ip.run_line_magic("inspect", "grad_loss_t(jnp.ones(3), jnp.ones(3))")
    assert repr(insp).startswith("Inspection of grad(loss_t)(w: f32[3], x: f32[3])")
    h = ip.run_line_magic("hlo", "per_example_t(jnp.ones(3), jnp.ones((5, 3)))")
    assert h.title.startswith("optimized HLO of vmap(grad(loss_t))(w: f32[3], x: f32[5,3])")


def test_where_points_out_arrays_laid_out_otherwise_than_last_time(ip):
    ip.run_cell(
        "from jax.sharding import NamedSharding, PartitionSpec\n"
        "mesh_w = jax.make_mesh((4, 2), ('data', 'model'))\n"
        "def put_w(x, *spec):\n"
        "    return jax.device_put(x, NamedSharding(mesh_w, PartitionSpec(*spec)))\n"
        "state_w = {'w': put_w(jnp.ones((8, 4)), None, 'model'), 'b': put_w(jnp.ones(4))}\n"
        "first_w = %where state_w\n"
        "same_w = %where state_w\n"
        "state_w = {'w': state_w['w'], 'b': put_w(state_w['b'], 'model')}  # after a 'step'\n"
        "second_w = %where state_w"
    )
    assert ip.user_ns["first_w"].changes == [] and ip.user_ns["same_w"].changes == []
    second = ip.user_ns["second_w"]
    assert [(c.path, c.before.split(" over ")[0], c.after.split(" over ")[0])
            for c in second.changes] == [("state_w['b']", "P()", "P('model',)")]  # fmt: skip
    text = repr(second)
    assert "1 array laid out otherwise than at the last look at state_w:" in text
    assert "P() → P('model',): state_w['b']" in text
    assert "laid out otherwise" in second._repr_html_()
