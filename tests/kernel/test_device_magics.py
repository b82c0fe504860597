"""`%devices`, `%where` and the distribution views of `%hlo` in real kernels: one started
from a kernelspec with 8 simulated CPU devices, one fresh kernel for the device count."""

from __future__ import annotations

import re

import pytest

from tests.kernel._client import Kernel, install_kernelspec

pytestmark = pytest.mark.kernel

SETUP = """
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
mesh = jax.make_mesh((4, 2), ('x', 'y'), axis_types=(AxisType.Auto, AxisType.Auto))
named = jax.device_put(jnp.arange(64.0).reshape(8, 8), NamedSharding(mesh, P('x', None)))
both = jax.device_put(jnp.arange(64.0).reshape(8, 8), NamedSharding(mesh, P('x', 'y')))
pmapped = jax.pmap(lambda v: v * 2)(jnp.ones((8, 3)))
psum = jax.jit(jax.shard_map(lambda a: jax.lax.psum(a, 'x'), mesh=mesh,
                             in_specs=P('x', 'y'), out_specs=P(None, 'y')))
summed = psum(both)
to_rows = jax.jit(lambda a: a * 2, out_shardings=NamedSharding(mesh, P('y', None)))
out_sharded = to_rows(named)
mesh3 = jax.make_mesh((2, 2, 2), ('a', 'b', 'c'))
cube = jax.device_put(jnp.ones((4, 4, 4)), NamedSharding(mesh3, P('a', 'b', 'c')))
line = jax.device_put(jnp.ones(16), NamedSharding(jax.make_mesh((8,), ('d',)), P('d')))

def jax_rows(a):
    return sorted(
        (s.device.id,
         '[' + ', '.join('%d:%d' % sl.indices(n)[:2] for sl, n in zip(s.index, a.shape)) + ']',
         s.replica_id)
        for s in a.addressable_shards)

np_arr = np.ones(3)
donated = jnp.ones(8)
_ = jax.jit(lambda a: a + 1, donate_argnums=0)(donated)
leaked = None
def leak(a):
    global leaked
    leaked = a
    return a
_ = jax.jit(leak)(jnp.ones(3))
"""

ARRAYS = ["named", "pmapped", "summed", "out_sharded", "cube", "line"]


@pytest.fixture(scope="module")
def k8(kernel_prefix):
    from pathlib import Path

    install_kernelspec(Path(kernel_prefix), "jaxlab-test-8cpu", "--cpu-devices", "8")
    k = Kernel("jaxlab-test-8cpu")
    k.ok(SETUP)
    yield k
    k.shutdown()


@pytest.mark.parametrize("name", ARRAYS)
def test_where_rows_match_addressable_shards(k8, name):
    result = k8.ok(f"p = %where {name}\np")
    assert "<svg" in result.html
    rows = k8.value("sorted((r['device'], r['index'], r['replica_id']) for r in p.rows())")
    assert rows == k8.value(f"jax_rows({name})")
    assert len(rows) == 8
    assert k8.value("len(p.to_pandas())") == 8


def test_where_draws_the_replicated_pieces(k8):
    html = k8.ok("%where named").html
    tiles = re.findall(r'<g class="jl-tile" data-index="([^"]*)" data-devices="([^"]*)"', html)
    assert sorted(devices for _, devices in tiles) == ["0,1", "2,3", "4,5", "6,7"]


def test_devices_lists_eight_addressable_cpu_devices(k8):
    k8.ok("r = %devices")
    assert k8.value("[len(r.devices), len(r.addressable), r.process_count]") == [8, 8, 1]
    assert k8.value("r.devices[0].memory_note") == "not reported"


def test_hlo_shows_shardings_and_collectives(k8):
    result = k8.ok("h = %hlo psum(both)\nh")
    assert "all-reduce" in result.html and "replica groups" in result.html
    groups = k8.value("[c.groups for c in h.inspection.collectives]")
    assert groups == [[[0, 2, 4, 6], [1, 3, 5, 7]]]
    specs = k8.value("[e.spec for e in h.inspection.output_shardings]")
    assert specs == ["P(None, 'y')"]
    assert k8.value("h.inspection.memory_timeline.peak_bytes > 0")


BAD = [
    ("numpy array", "%where np_arr", "is not on any device: a NumPy array"),
    ("donated array", "%where donated", "has been deleted: it was donated"),
    ("leaked tracer", "%where leaked", "is a tracer"),
    ("python value", "%where {'a': 1}", "is not on any device"),
    ("undefined name", "%where nothing_here", "name 'nothing_here' is not defined"),
    ("no expression", "%where", "needs an array or a pytree"),
    ("unknown option", "%where named --shards", "unrecognized arguments"),
    ("count after start", "%devices --cpu-devices 4", "cannot switch to 4"),
    ("bad count", "%devices --cpu-devices two", "invalid int value"),
    ("unknown backend", "%devices --backend tpu", "no 'tpu' backend"),
]


@pytest.mark.parametrize(("label", "line", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_gives_one_short_message(k8, label, line, expected):
    k8.fails_cleanly(line, expected, max_lines=4)


def test_device_count_is_set_before_jax_starts_and_explained_after(kernel):
    """Point 5: in a fresh kernel the count can be chosen; once JAX runs, a clear message."""
    initialized = "__import__('jaxlab.base.compat').base.compat.backends_initialized()"
    assert kernel.value(initialized) is False
    kernel.ok("r = %devices --cpu-devices 3")
    assert kernel.value("[len(r.devices), len(jax.devices())]") == [3, 3]
    result = kernel.fails_cleanly(
        "%devices --cpu-devices 5", "running with 3 CPU device(s) and cannot switch to 5"
    )
    assert "restart the kernel" in result.stderr and "--cpu-devices 5" in result.stderr
