"""Links of the inspector, asserted structurally: source line → jaxpr equations → StableHLO ops
→ HLO instructions and fusions, for the seed function and each kind of nested jaxpr."""

from __future__ import annotations

import inspect as pyinspect
import linecache
from functools import partial

import jax
import jax.numpy as jnp
import pytest
from jax import lax

import jaxlab
from jaxlab.ir.jaxpr import JaxprModel
from jaxlab.ir.sources import enclosing_function


def line_of(fn, text: str) -> int:
    """File line number of the first line of `fn` containing `text`."""
    lines, first = pyinspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return first + k
    raise AssertionError(f"{text!r} not in {fn.__name__}")


def fn(x):
    return x + x * x + x * x * x


def test_seed_function_is_one_fusion_linked_to_its_line():
    insp = jaxlab.inspect(fn, jnp.ones((1000, 1000)), run=False)
    line = line_of(fn, "return")
    fusions = [f for f in insp.fusions if f.kind != "unfused"]
    assert len(fusions) == 1
    fusion = fusions[0]
    assert fusion.source_lines == [(__file__, line)]
    # one FLOP per element for each fused add and multiply (XLA computes x*x once)
    assert set(fusion.opcodes) == {"add", "multiply"}
    assert fusion.flops == len(fusion.opcodes) * 1000 * 1000
    assert fusion.bytes == 2 * 1000 * 1000 * 4  # read x, write the result
    links = insp.links_for_line(line)
    assert sorted(e.primitive for e in links.equations) == ["add", "add", "mul", "mul", "mul"]
    assert sorted(links.equations, key=lambda e: e.index) == [
        insp.jaxpr_model.equations[i] for i in fusion.equations
    ]
    assert sorted(op.op for op in links.stablehlo_ops) == sorted(
        ["stablehlo.add"] * 2 + ["stablehlo.multiply"] * 3
    )
    fused = {op.name for op in fusion.ops}
    assert links.hlo_instructions and {i.name for i in links.hlo_instructions} <= fused | {
        fusion.name
    }
    assert links.fusions == [fusion]
    # the line above the body links nothing
    assert not insp.links_for_line(line - 1)


@pytest.mark.parametrize(
    "f", [fn, lambda x: jnp.sin(x) * 2.0], ids=["multi-line", "printed on one line"]
)
def test_equations_know_their_text_lines(f):
    insp = jaxlab.inspect(f, jnp.ones(3), run=False)
    text = insp.jaxpr_model.text.splitlines()
    for eq in insp.jaxpr_model.equations:
        assert eq.text_line > 0
        assert f"= {eq.primitive} " in text[eq.text_line - 1]


def scanned(xs):
    def body(carry, x):
        y = jnp.sin(x) * carry  # scan body
        return carry + 1.0, y

    return lax.scan(body, 0.5, xs)


def test_scan_body_links_to_equations_inside_the_scan():
    insp = jaxlab.inspect(scanned, jnp.ones((5, 3)), run=False)
    line = line_of(scanned, "scan body")
    links = insp.links_for_line(line)
    prims = {e.primitive for e in links.equations}
    assert {"sin", "mul"} <= prims
    eqns = insp.jaxpr_model.equations
    scan = next(e for e in eqns if e.primitive == "scan")
    assert all(e.parent == scan.index and e.depth == 1 for e in links.equations)
    assert scan.subjaxprs and scan.subjaxprs[0].label == "jaxpr"
    # the HLO of the body runs inside the while loop XLA made of the scan
    module = insp.hlo_module
    assert any(i.opcode == "while" for i in module)
    assert any(i.opcode in ("sine", "fusion") for i in links.hlo_instructions)
    body_comps = {c.name for c in module.computations.values() if c.kind != "control"}
    assert any(i.computation in body_comps for i in links.hlo_instructions)


def looped(x):
    def cond(state):
        return state[0] < 10  # loop condition

    def body(state):
        i, v = state
        return i + 1, jnp.tanh(v) + 1.0  # loop body

    return lax.while_loop(cond, body, (0, x))[1]


def test_while_loop_condition_and_body_lines():
    insp = jaxlab.inspect(looped, jnp.ones(4), run=False)
    w = next(e for e in insp.jaxpr_model.equations if e.primitive == "while")
    assert [s.label for s in w.subjaxprs] == ["body_jaxpr", "cond_jaxpr"]
    cond_links = insp.links_for_line(line_of(looped, "loop condition"))
    assert [e.primitive for e in cond_links.equations] == ["lt"]
    assert cond_links.equations[0].parent == w.index
    body_links = insp.links_for_line(line_of(looped, "loop body"))
    assert {"tanh", "add"} <= {e.primitive for e in body_links.equations}
    assert any(i.opcode in ("tanh", "fusion") for i in body_links.hlo_instructions)
    assert body_links.stablehlo_ops


def branchy(p, x):
    return lax.cond(
        p,
        lambda v: jnp.cos(v) * 2.0,  # true branch
        lambda v: v - 1.0,  # false branch
        x,
    )


def test_cond_branches_link_separately():
    insp = jaxlab.inspect(branchy, True, jnp.ones(4), run=False)
    cond = next(e for e in insp.jaxpr_model.equations if e.primitive == "cond")
    assert [s.label for s in cond.subjaxprs] == ["branches[0]", "branches[1]"]
    true_links = insp.links_for_line(line_of(branchy, "true branch"))
    false_links = insp.links_for_line(line_of(branchy, "false branch"))
    assert {e.primitive for e in true_links.equations} == {"cos", "mul"}
    assert {e.primitive for e in false_links.equations} == {"sub"}
    assert true_links.hlo_instructions and false_links.hlo_instructions
    branch_comps = {c for i in insp.hlo_module if i.opcode == "conditional" for c in i.called}
    assert len(branch_comps) == 2


@jax.custom_jvp
def softplus(x):
    return jnp.log1p(jnp.exp(x))  # custom_jvp primal


softplus.defjvp(lambda p, t: (softplus(p[0]), t[0] * jax.nn.sigmoid(p[0])))


def uses_softplus(x):
    return softplus(x) * 3.0


def test_custom_jvp_primal_links_inside_custom_jvp_call():
    insp = jaxlab.inspect(uses_softplus, jnp.ones(4), run=False)
    call = next(e for e in insp.jaxpr_model.equations if e.primitive == "custom_jvp_call")
    links = insp.links_for_line(line_of(softplus.fun, "custom_jvp primal"))
    assert {e.primitive for e in links.equations} == {"exp", "log1p"}
    assert all(e.parent == call.index for e in links.equations)
    assert links.stablehlo_ops and links.hlo_instructions
    # the helper's source is shown beside the inspected function
    assert any(b.function == "softplus" for b in insp.sources)


@jax.jit
def inner(x):
    return jnp.cos(x) + 1.0  # inner jit


def outer(x):
    return inner(x) + inner(x * 2.0)


def test_nested_jit_equations_and_fusions():
    insp = jaxlab.inspect(outer, jnp.ones(4), run=False)
    calls = [e for e in insp.jaxpr_model.equations if e.primitive in ("jit", "pjit")]
    assert len(calls) == 2 and all(c.name == "inner" for c in calls)
    links = insp.links_for_line(line_of(inner, "inner jit"))
    assert sorted(e.primitive for e in links.equations) == ["add", "add", "cos", "cos"]
    assert {e.parent for e in links.equations} == {c.index for c in calls}
    # the two calls print as one shared jaxpr: both map to the same text lines
    cos = [e for e in links.equations if e.primitive == "cos"]
    assert cos[0].text_line == cos[1].text_line > 0
    assert links.fusions and all(f.equations for f in links.fusions)
    call_line = insp.links_for_line(line_of(outer, "return"))
    assert len(call_line.equations) >= 6  # the calls, and what they contain through them


def scoped(x):
    with jax.named_scope("attention"):
        y = jnp.exp(x) * 2.0  # scoped op
    return y + 1.0


def test_named_scope_in_every_stage_and_in_the_graph():
    insp = jaxlab.inspect(scoped, jnp.ones(4), run=False)
    links = insp.links_for_line(line_of(scoped, "scoped op"))
    assert {e.name_stack for e in links.equations} == {"attention"}
    assert all("attention" in op.op_name for op in links.stablehlo_ops)
    assert all("attention" in i.op_name for i in links.hlo_instructions if i.op_name)
    from jaxlab.views.graph import graph_of

    graph = graph_of(insp, "jaxpr")
    scopes = [g for g in graph.groups if g.kind == "scope"]
    assert [g.label for g in scopes] == ["attention"]
    assert {graph.nodes[n].label.split()[0] for k, n in scopes[0].items if k == "n"} == {
        "exp",
        "mul",
    }


def test_remat_and_shard_map_sub_jaxprs_are_walked():
    from jax.sharding import Mesh, PartitionSpec

    @jax.checkpoint
    def block(x):
        return jnp.tanh(x) * 3.0

    mesh = Mesh(jax.devices()[:2], ("d",))

    @partial(jax.shard_map, mesh=mesh, in_specs=PartitionSpec("d"), out_specs=PartitionSpec("d"))
    def sharded(x):
        return block(x) + 1.0

    insp = jaxlab.inspect(sharded, jnp.ones(8), run=False)
    eqns = insp.jaxpr_model.equations
    prims = [e.primitive for e in eqns]
    assert "shard_map" in prims
    assert any(p.startswith("remat") or p == "checkpoint" for p in prims)
    tanh = next(e for e in eqns if e.primitive == "tanh")
    assert tanh.depth == 2 and tanh.frames


@pytest.mark.parametrize("static", [False, True])
def test_links_for_line_with_explicit_file(static):
    def f(x, n):
        return jnp.sin(x) * n

    insp = jaxlab.inspect(f, jnp.ones(3), 2.0, static_argnums=1 if static else None, run=False)
    line = line_of(f, "return")
    assert insp.links_for_line(line, file=__file__).equations
    assert not insp.links_for_line(line, file="elsewhere.py")


def test_source_blocks_follow_a_file_edited_on_disk(tmp_path):
    path = tmp_path / "helpers.py"
    path.write_text("def a(x):\n    return x\n\n\ndef b(x):\n    return x\n")
    assert enclosing_function(str(path), 5) == (5, 6, "b")
    # the same number of lines, other functions
    path.write_text("def c(x):\n    y = x\n    z = y\n    w = z\n    return w\n\n")
    linecache.checkcache(str(path))
    assert enclosing_function(str(path), 5) == (1, 5, "c")


def test_equations_have_stable_paths_through_sub_jaxprs():
    def f(x):
        return jax.lax.scan(lambda c, y: (c + jnp.sin(y), c), x, jnp.ones(3))[0]

    model = JaxprModel.build(jax.make_jaxpr(f)(1.0))
    paths = {e.primitive: e.path for e in model.equations}
    assert paths["scan"] == "1"
    assert paths["sin"] == "1/jaxpr/0"
    assert paths["add"] == "1/jaxpr/2"
