"""`%hlo --platform`, `%inspect --platform` and `%check_kernel` in a real kernel: StableHLO for
TPU with sharding annotations, a Pallas kernel's Mosaic module linked to its source line, a
wrong kernel's first wrong block, and bad input (one short line, kernel alive)."""

from __future__ import annotations

import html as htmllib
import re

import pytest

pytestmark = pytest.mark.kernel

SETUP = """
from jax.sharding import AbstractMesh, NamedSharding, PartitionSpec as P
from tests import pallas_kernels as pk
mesh = AbstractMesh((4, 2), ("x", "y"))
a = jax.ShapeDtypeStruct((512, 256), jnp.float32, sharding=NamedSharding(mesh, P("x", None)))
b = jax.ShapeDtypeStruct((256, 512), jnp.float32, sharding=NamedSharding(mesh, P(None, "y")))
def matmul(a, b):
    return a @ b
x8 = jnp.ones((8, 128), jnp.float32)
xs = jax.random.normal(jax.random.key(0), (512, 256), jnp.float32)
ys = jax.random.normal(jax.random.key(1), (256, 512), jnp.float32)
def wrong(x, y):
    return pk.tiled_matmul(x, y, kernel=pk.wrong_matmul_kernel)
def ref(x, y):
    return jnp.dot(x, y, preferred_element_type=jnp.float32)
"""


def plain(html: str) -> str:
    """The text a reader sees (tags dropped, entities decoded)."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


@pytest.fixture(scope="module", autouse=True)
def setup(kernel):
    kernel.ok(SETUP)


def test_hlo_for_tpu_of_a_sharded_matmul_shows_the_sharding_annotations(kernel):
    result = kernel.ok("r = %hlo --platforms tpu matmul(a, b)\nr")
    assert kernel.value("type(r).__name__") == "PlatformInspection"
    assert kernel.value("r.platforms") == ["tpu"]
    text = plain(result.html)
    assert "StableHLO for TPU" in text
    assert 'sdy.mesh @mesh = <["x"=4, "y"=2]>' in text
    assert 'sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>' in text
    assert "need a TPU backend" in text


def test_hlo_for_tpu_of_a_pallas_kernel_links_the_mosaic_module_to_the_kernel_line(kernel):
    result = kernel.ok("r = %hlo --platforms tpu pk.add(x8, x8)\nr")
    html = result.html
    assert "tpu_custom_call" in plain(html) and "Mosaic (TPU) module of add_kernel" in html
    # every rendered line: (groups, text); the kernel body's source line shares its group
    # with the Mosaic ops made from it
    lines = [
        (g.split(), plain(body))
        for g, body in re.findall(
            r'<span class="jl-l[^"]*" data-line="\d+" data-g="([^"]*)">(.*?)</span>(?=<span '
            r'class="jl-l|</pre>)',
            html,
        )
    ]
    (group,) = {g[0] for g, text in lines if "o_ref[...] = x_ref[...] + y_ref[...]" in text}
    linked = [text for g, text in lines if group in g]
    assert any("arith.addf" in text for text in linked)
    assert any("tpu.vector_store" in text for text in linked)


def test_inspect_for_several_platforms_draws_the_kernel_grid(kernel):
    result = kernel.ok("p = %inspect --platforms tpu,rocm pk.tiled_matmul(xs, ys)\np")
    assert kernel.value("p.platforms") == ["tpu", "rocm"]
    assert kernel.value("[k.grid for k in p.pallas_kernels]") == [[4, 4]]
    html = result.html
    assert "svg" in html and "jl-grid-programs" in html and "pl.CostEstimate(" in html
    assert kernel.value("len(p.kernel_modules('rocm'))") == 1


def test_check_kernel_names_the_first_wrong_block(kernel):
    result = kernel.ok("c = %check_kernel --ref ref wrong(xs, ys)\nc")
    assert kernel.value("c.ok") is False
    assert kernel.value("list(c.outputs[0].first_program)") == [2, 1]
    assert "outputs differ" in result.html
    kernel.ok("ok = %check_kernel --ref ref pk.tiled_matmul(xs, ys)")
    assert kernel.value("ok.ok") is True


BAD = [
    ("unknown platform", "%hlo --platforms xpu matmul(a, b)",
     "unknown platform 'xpu'; valid platforms: cpu, tpu, cuda, rocm"),
    ("unknown platform inspect", "%inspect --platforms tpu,gpu matmul(a, b)",
     "valid platforms: cpu, tpu, cuda, rocm"),
    ("no reference", "%check_kernel wrong(xs, ys)", "--ref"),
    ("bad tolerance", "%check_kernel --ref ref --rtol -1 wrong(xs, ys)", "must be a number"),
    ("ref not a function", "%check_kernel --ref xs wrong(xs, ys)", "ref_fn must be a function"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "line", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(kernel, label, line, expected):
    kernel.fails_cleanly(f"r2 = {line}", expected)
