"""`jaxlab.placement` on 8 simulated CPU devices: every shard's device, index and replica id
match JAX's own ``addressable_shards``; the sharding grid draws every piece."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxlab
from jaxlab.api.placement import PlacementError, normalize_index
from jaxlab.views.placement import device_list, grid_svg, placement_html


def mesh(shape, names):
    return jax.make_mesh(shape, names, axis_types=(AxisType.Auto,) * len(shape))


def expected_rows(array) -> set[tuple]:
    shape = array.shape
    return {
        (s.device.id, normalize_index(s.index, shape), s.replica_id)
        for s in array.addressable_shards
    }


def placed_rows(array_placement) -> set[tuple]:
    return {(s.device_id, s.index, s.replica_id) for s in array_placement.shards}


def assert_matches_jax(array) -> jaxlab.Placement:
    p = jaxlab.placement(array, name="a")
    (a,) = p.arrays
    assert len(a.shards) == len(array.addressable_shards)
    assert placed_rows(a) == expected_rows(array)
    assert a.shape == array.shape and a.dtype == str(array.dtype)
    assert a.nbytes == array.nbytes
    return p


def test_named_sharding_on_a_4x2_mesh():
    m = mesh((4, 2), ("x", "y"))
    x = jax.device_put(jnp.arange(64.0).reshape(8, 8), NamedSharding(m, P("x", None)))
    p = assert_matches_jax(x)
    a = p.arrays[0]
    assert a.sharding_type == "NamedSharding"
    assert a.spec == "P('x', None)"
    assert a.mesh == {"x": 4, "y": 2}
    assert a.committed is True
    assert a.shard_shape == (2, 8)
    assert a.replication == 2  # replicated over 'y'
    assert len(a.tiles()) == 4
    assert sorted(len(t.devices) for t in a.tiles()) == [2, 2, 2, 2]
    rows = p.to_pandas()
    assert list(rows.columns[:5]) == ["array", "device", "process", "index", "replica_id"]
    assert len(rows) == 8
    assert set(rows["index"]) == {"[0:2, 0:8]", "[2:4, 0:8]", "[4:6, 0:8]", "[6:8, 0:8]"}


def test_pmap_output():
    y = jax.pmap(lambda v: v * 2)(jnp.ones((8, 3)))
    p = assert_matches_jax(y)
    assert p.arrays[0].shard_shape == (1, 3)
    assert len(p.arrays[0].devices) == 8
    # JAX's internal axis name is nothing a user can write: it is shown as the pmap's axis
    assert p.arrays[0].spec == "P(<pmap axis>,)" and p.arrays[0].mesh == {"<pmap axis>": 8}
    for text in (repr(p), p._repr_html_()):
        assert "_internal_pmap_axis_name" not in text and "pmap output" in text
    assert "P(&lt;pmap axis&gt;,)" in p._repr_html_()


def test_shard_map_psum_output_and_its_collective():
    m = mesh((4, 2), ("x", "y"))
    x = jax.device_put(jnp.arange(64.0).reshape(8, 8), NamedSharding(m, P("x", "y")))
    f = jax.jit(
        jax.shard_map(
            lambda a: jax.lax.psum(a, "x"), mesh=m, in_specs=P("x", "y"), out_specs=P(None, "y")
        )
    )
    out = f(x)
    p = assert_matches_jax(out)
    assert p.arrays[0].spec == "P(None, 'y')"
    insp = jaxlab.inspect(f, x, run=False)
    (coll,) = insp.collectives
    assert coll.kind == "all-reduce"
    assert coll.groups == [[0, 2, 4, 6], [1, 3, 5, 7]]
    assert coll.bytes == 2 * 4 * 4  # the f32[2,4] block of each device
    assert coll.bytes_moved == 2 * 3 * coll.bytes // 4


def test_jit_with_out_shardings():
    m = mesh((4, 2), ("x", "y"))
    x = jax.device_put(jnp.ones((8, 16)), NamedSharding(m, P("x", "y")))
    target = NamedSharding(m, P("y", None))
    f = jax.jit(lambda a: a.sum(1).reshape(2, 4) * 2.0, out_shardings=target)
    out = f(x)
    p = assert_matches_jax(out)
    assert p.arrays[0].spec == "P('y', None)"
    insp = jaxlab.inspect(f, x, run=False)
    assert [e.spec for e in insp.input_shardings] == ["P('x', 'y')"]
    assert [e.spec for e in insp.output_shardings] == ["P('y', None)"]
    assert insp.output_shardings[0].shard_shape == (1, 4)
    kinds = {c.kind for c in insp.collectives}
    assert "all-reduce" in kinds  # the sum over the sharded 'y' columns
    for c in insp.collectives:
        if c.kind == "collective-permute":
            assert sorted(src for src, _ in c.pairs) == list(range(8))
        else:
            assert sorted(d for g in c.groups for d in g) == list(range(8))


@pytest.mark.parametrize(
    ("shape", "names", "spec", "array_shape"),
    [
        ((8,), ("d",), P("d"), (16,)),
        ((2, 2, 2), ("a", "b", "c"), P("a", "b", "c"), (4, 4, 4)),
        ((2, 2, 2), ("a", "b", "c"), P(("a", "b"), None, "c"), (4, 2, 6)),
    ],
    ids=["1-D", "3-D", "3-D-combined-axes"],
)
def test_1d_and_3d_meshes(shape, names, spec, array_shape):
    m = mesh(shape, names)
    x = jax.device_put(jnp.ones(array_shape), NamedSharding(m, spec))
    p = assert_matches_jax(x)
    svg = grid_svg(p.arrays[0], p.device_order)
    tiles = re.findall(r'<g class="jl-tile" data-index="([^"]*)" data-devices="([^"]*)"', svg)
    # every (piece, device) pair is drawn once: a striped piece lists all its devices
    drawn = sorted(int(d) for _, ds in tiles for d in ds.split(","))
    assert drawn == sorted(s.device_id for s in p.arrays[0].shards)


def test_arrays_produced_inside_shard_map():
    m = mesh((2, 2, 2), ("a", "b", "c"))
    x = jax.device_put(jnp.arange(64.0).reshape(4, 4, 4), NamedSharding(m, P("a", "b", "c")))

    def body(block):
        return jnp.cumsum(block, axis=0) + jax.lax.axis_index("c")

    out = jax.jit(
        jax.shard_map(body, mesh=m, in_specs=P("a", "b", "c"), out_specs=P("a", "b", "c"))
    )(x)
    p = assert_matches_jax(out)
    a = p.arrays[0]
    assert a.shard_shape == (2, 2, 2)
    html = placement_html(p)
    # a rank-3 array is drawn as one 2-D grid per slice of dimension 0
    assert html.count('class="jl-grid-label"') == 2
    assert html.count('class="jl-tile"') == 8


def test_pytree_paths_single_device_and_skipped_leaves():
    tree = {"w": jnp.ones((3, 3)), "b": [jnp.zeros(3), np.ones(2)], "step": 3}
    p = jaxlab.placement(tree, name="params")
    assert [a.path for a in p] == ["params['b'][0]", "params['w']"]
    assert p["params['w']"].sharding_type == "SingleDeviceSharding"
    assert p["params['w']"].committed is False
    assert [path for path, _ in p.skipped] == ["params['b'][1]", "params['step']"]
    assert "NumPy array" in p.skipped[0][1]
    assert len(p.rows()) == 2


def test_abstract_value_with_a_sharding():
    m = mesh((4, 2), ("x", "y"))
    s = jax.ShapeDtypeStruct((8, 4), jnp.bfloat16, sharding=NamedSharding(m, P("x")))
    a = jaxlab.placement(s).arrays[0]
    assert a.abstract and a.committed is None
    assert a.nbytes == 8 * 4 * 2
    assert {sh.index for sh in a.shards} == {((i, i + 2), (0, 4)) for i in (0, 2, 4, 6)}


def test_colours_one_per_device_and_replicas_striped():
    m = mesh((4, 2), ("x", "y"))
    x = jax.device_put(jnp.ones((8, 8)), NamedSharding(m, P("x", None)))
    p = jaxlab.placement(x)
    svg = grid_svg(p.arrays[0], p.device_order)
    fills = dict(re.findall(r'fill="(#[0-9a-f]{6}|hsl\([^)]*\))" data-device="(\d+)"', svg))
    assert len(fills) == 8  # one distinct colour for each of the 8 devices
    assert svg.count('class="jl-tile"') == 4  # four pieces, each striped over two devices


def test_html_is_static_and_escaped():
    x = jax.device_put(jnp.ones(4), jax.devices()[2])
    html = jaxlab.placement({"<b>&": x})._repr_html_()
    assert "<script" not in html
    assert "<b>&" not in html and "&lt;b&gt;&amp;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_device_list_compresses_runs():
    assert device_list([0, 1, 2, 3, 6]) == "0–3, 6"
    assert device_list([4, 5]) == "4, 5"


def test_bad_input_messages():
    with pytest.raises(PlacementError, match="NumPy array"):
        jaxlab.placement(np.ones(3), name="h")
    with pytest.raises(PlacementError, match="holds no arrays"):
        jaxlab.placement({}, name="empty")
    x = jnp.ones(16)
    jax.jit(lambda a: a + 1, donate_argnums=0)(x)
    with pytest.raises(PlacementError, match="deleted: it was donated"):
        jaxlab.placement({"x": x}, name="state")
    captured = {}

    def f(a):
        try:
            jaxlab.placement(a, name="a")
        except PlacementError as exc:
            captured["message"] = str(exc)
        return a

    jax.jit(f)(jnp.ones(3))
    assert "is a tracer (float32[3])" in captured["message"]


def transformer_params(layers: int, m):
    """A 48-layer parameter list like benchmarks/transformer.py's, sharded over `m`."""
    w = 64
    shapes = {"wq": (w, w), "wk": (w, w), "wv": (w, w), "wo": (w, w), "w1": (w, 4 * w),
              "w2": (4 * w, w)}  # fmt: skip
    specs = {"w1": P(None, "x"), "w2": P("x", None)}
    return [
        {k: jax.device_put(jnp.zeros(s), NamedSharding(m, specs.get(k, P(None, "x"))))
         for k, s in shapes.items()}
        for _ in range(layers)
    ]  # fmt: skip


def test_288_sharded_parameters_are_grouped_and_each_group_drawn_once():
    params = transformer_params(48, mesh((8,), ("x",)))
    p = jaxlab.placement(params, name="params")
    assert len(p) == 288
    groups = p.groups()
    distinct = {(a.shape, a.dtype, a.spec) for a in p}
    assert len(groups) == len(distinct) == 3
    df = p.summary()
    assert len(df) == len(distinct)
    assert df["count"].sum() == 288
    assert sorted(df["count"]) == [48, 48, 192]
    assert set(df["arrays"]) == {
        "params[*]['wk'], params[*]['wo'], params[*]['wq'], params[*]['wv']",  # JAX sorts keys
        "params[*]['w1']",
        "params[*]['w2']",
    }
    html = placement_html(p)
    assert html.count('class="jl-sharding-grid"') == 3  # one grid per group, not per array
    assert html.count('class="jl-array"') == 3
    assert "×192" in html and "×48" in html
    assert len(p.to_pandas()) == 288 * 8  # the per-shard table stays
    assert "288 arrays, 9 MiB, in 3 groups on 8 devices" in repr(p)


def test_single_device_pytree_is_one_line_without_grids():
    state = {"w": jnp.ones((32, 32)), "b": jnp.zeros(32), "m": [jnp.zeros(3), jnp.zeros(3)]}
    p = jaxlab.placement(state)
    assert p.single_device == jax.devices()[0].id
    html = placement_html(p)
    assert "jl-sharding-grid" not in html and 'class="jl-array"' not in html
    assert "Placement of <code>dict</code>" in html  # the type, not an internal leaf name
    assert "4 arrays" in html and "all on " in html and "(device " in html
    assert len(p.summary()) == 3


def test_collapse_paths():
    from jaxlab.api.placement import collapse_paths

    assert collapse_paths(["p[0]['w']", "p[1]['w']"]) == "p[*]['w']"
    assert collapse_paths(["p[0][2]", "p[1][2]"]) == "p[*][2]"
    assert collapse_paths(["a", "b", "c", "d"]) == "a, b, c, d"
    assert collapse_paths(list("abcdef")) == "a, b, c, … (+3)"
    # Flax State paths: the parameters' and the optimizer's copies of every bias
    paths = [f"s[0]['{layer}']['bias'].value" for layer in "abc"]
    paths += [f"s[1]['opt'][0]['mu']['{layer}']['bias'].value" for layer in "abc"]
    assert collapse_paths(paths) == "s…['bias'].value"
    assert collapse_paths([f"s['{k}']['{k}']" for k in "abcdef"]) == (
        "s['a']['a'], s['b']['b'], s['c']['c'], … (+3)"
    )
    assert collapse_paths(["x"]) == "x"
