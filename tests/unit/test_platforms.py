"""Lowering for platforms this machine lacks: StableHLO per platform, the Pallas kernel modules
read from the custom-call payloads and linked to the kernel's source line, the differences from
the CPU lowering, and bad input (unknown platforms, one platform failing)."""

from __future__ import annotations

import inspect as pyinspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import AbstractMesh, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxlab
from jaxlab.api.platforms import PlatformInspection
from jaxlab.core.platforms import PLATFORMS, check_platforms
from tests import pallas_kernels as pk

X = jax.ShapeDtypeStruct((8, 128), jnp.float32)


def kernel_line(fn) -> int:
    """The file line of the kernel body's one statement."""
    lines, first = pyinspect.getsourcelines(fn)
    return first + next(i for i, t in enumerate(lines) if "o_ref[...] =" in t)


@pytest.fixture(scope="module")
def add_tpu() -> PlatformInspection:
    return jaxlab.inspect(pk.add, X, X, platforms=("tpu",))


def test_tpu_lowering_has_a_tpu_custom_call_with_the_mosaic_module(add_tpu):
    assert isinstance(add_tpu, PlatformInspection)
    assert "stablehlo.custom_call @tpu_custom_call" in add_tpu.stablehlo("tpu")
    (module,) = add_tpu.kernel_modules("tpu")
    assert module.kind == "mosaic_tpu" and not module.error
    assert "tpu.vector_store" in module.text and "func.func" in module.text
    line = kernel_line(pk.add_kernel)
    linked = module.ops_for_line(line, pk.__file__)
    assert {op.op for op in linked} >= {"vector.load", "arith.addf", "tpu.vector_store"}


def test_kernel_module_ops_are_linked_in_the_view(add_tpu):
    model = add_tpu.view_model()
    panes = {p["id"]: p for p in model["sections"][0]["panes"]}
    source = panes["source"]
    group = source["lines"].index(next(t for t in source["lines"] if "o_ref[...] =" in t))
    kernel_pane = panes["kernel-0"]
    linked = [
        kernel_pane["lines"][i]
        for i, g in enumerate(kernel_pane["links"])
        if g == group or (isinstance(g, list) and group in g)
    ]
    assert any("arith.addf" in t for t in linked)
    assert source["links"][group] == group
    # the kernel jaxpr is a pane too, its equations linked to the same line
    jaxpr_pane = panes["kernel-jaxpr-0"]
    assert [
        t for t, g in zip(jaxpr_pane["lines"], jaxpr_pane["links"], strict=True) if g == group
    ] == ["f32[8,128] = get", "f32[8,128] = get", "f32[8,128] = add", "f32[8,128] = swap"]
    html = add_tpu._repr_html_()
    assert "Mosaic (TPU) module" in html and f'data-g="{group}"' in html
    assert "need a TPU backend" in html


def test_the_source_pane_shows_only_the_users_code_linked_to_the_custom_call(add_tpu):
    """The ops JAX makes while lowering carry the stack of jaxlab's lowering call: never a
    block of jaxlab's code in the source pane; the kernel's call line links the custom call."""
    model = add_tpu.view_model()
    panes = {p["id"]: p for p in model["sections"][0]["panes"]}
    source = panes["source"]
    headers = " ".join(str(h) for h in source["headers"])
    assert {b.file for b in add_tpu.sources} == {pk.__file__}
    assert "platforms.py" not in headers and "_timed" not in headers, headers
    html = add_tpu._repr_html_()
    assert "platforms.py" not in html and "_timed" not in html and "lower_for" not in html
    call = pyinspect.getsourcelines(pk.add)[1] + 1  # the pallas_call line
    group = source["numbers"].index(call)
    tpu = panes["stablehlo-tpu"]
    linked = [t for t, g in zip(tpu["lines"], tpu["links"], strict=True) if g == group]
    assert any("tpu_custom_call" in t for t in linked), linked
    assert all(g in (-1, group) for g in tpu["links"])


def test_gpu_lowerings_give_triton_or_mosaic_gpu_modules():
    pi = jaxlab.inspect(pk.add, X, X, platforms="cuda,rocm")
    assert pi.platforms == ("cuda", "rocm")
    cuda, rocm = pi.kernel_modules("cuda"), pi.kernel_modules("rocm")
    assert [k.kind for k in cuda] in (["mosaic_gpu"], ["triton"])
    assert [k.kind for k in rocm] == ["triton"] and "Triton" in pi.lowering("rocm").note
    assert cuda[0].ops_for_line(kernel_line(pk.add_kernel), pk.__file__)
    assert rocm[0].ops_for_line(kernel_line(pk.add_kernel), pk.__file__)
    assert "num_warps" in rocm[0].attributes


def test_sharded_matmul_over_a_4x2_mesh_shows_sharding_annotations():
    mesh = AbstractMesh((4, 2), ("x", "y"))
    a = jax.ShapeDtypeStruct((512, 256), jnp.float32, sharding=NamedSharding(mesh, P("x", None)))
    b = jax.ShapeDtypeStruct((256, 512), jnp.float32, sharding=NamedSharding(mesh, P(None, "y")))
    pi = jaxlab.inspect(lambda a, b: a @ b, a, b, platforms=("tpu",))
    text = pi.stablehlo("tpu")
    assert 'sdy.mesh @mesh = <["x"=4, "y"=2]>' in text
    assert 'sdy.sharding = #sdy.sharding<@mesh, [{"x"}, {}]>' in text
    assert pi.errors == {}


def test_differences_from_the_cpu_lowering():
    x = np.ones((8, 128), np.float32)
    pi = jaxlab.inspect(pk.add_interpreted, x, x, platforms=("tpu", "cpu"))
    assert pi.cpu is not None and pi.cpu_error is None
    assert pi.differences("cpu") == []
    # interpret mode lowers the same everywhere; a real kernel adds a custom call for TPU
    pi = jaxlab.inspect(pk.add, X, X, platforms=("tpu",))
    assert pi.cpu is None and "interpret mode" in pi.cpu_error
    assert pi.differences("tpu") == []  # no CPU lowering to compare with
    jnp_pi = jaxlab.inspect(lambda v: jnp.sort(v) + 1, np.ones(16, np.float32), platforms="tpu")
    assert jnp_pi.cpu is not None
    diffs = jnp_pi.differences("tpu")
    assert all(
        d.what in ("custom call", "op", "layout", "sharding", "mesh", "module") for d in diffs
    )


def test_a_pallas_function_without_interpret_mode_is_inspected_for_tpu_and_cuda():
    pi = jaxlab.inspect(pk.add, X, X)
    assert isinstance(pi, PlatformInspection)
    assert pi.platforms == ("tpu", "cuda")
    assert "interpret mode" in pi.cpu_error
    assert "kernel add_kernel" in repr(pi)


def test_one_platform_failing_keeps_the_others():
    pi = jaxlab.inspect(pk.tpu_only, X, platforms=("tpu", "cuda", "rocm"))
    assert pi.lowering("tpu").ok and [k.kind for k in pi.kernel_modules("tpu")] == ["mosaic_tpu"]
    assert set(pi.errors) == {"cuda", "rocm"}
    assert all("roll" in e for e in pi.errors.values())
    html = pi._repr_html_()
    assert html.count("lowering failed") == 2 and "Mosaic (TPU) module" in html
    assert "rocm: lowering failed" in repr(pi)


def test_unknown_platforms_are_one_line_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown platform 'xpu'; valid platforms: cpu, tpu"):
        jaxlab.inspect(pk.add, X, X, platforms=("xpu",))
    with pytest.raises(ValueError, match="no platform given"):
        check_platforms(())
    with pytest.raises(ValueError, match="platforms must be names"):
        check_platforms(3)
    assert check_platforms("TPU, cuda tpu") == ("tpu", "cuda")
    assert PLATFORMS == ("cpu", "tpu", "cuda", "rocm")
    with pytest.raises(ValueError, match="drop run=True"):
        jaxlab.inspect(pk.add, X, X, platforms="tpu", run=True)
    with pytest.raises(KeyError, match="was not lowered here"):
        jaxlab.inspect(pk.add, X, X, platforms="tpu").lowering("cuda")


def test_plain_programs_still_inspect_on_cpu():
    insp = jaxlab.inspect(jnp.sin, np.ones(4, np.float32))
    assert type(insp).__name__ == "Inspection" and insp.pallas_kernels == []


def test_an_unreadable_kernel_payload_is_reported_not_raised():
    from jaxlib.mlir import ir

    from jaxlab.ir.pallas import kernel_modules

    lowered = jax.jit(pk.add).trace(X, X).lower(lowering_platforms=("tpu",))
    module = lowered.compiler_ir("stablehlo")
    with module.context:
        (call,) = [
            op
            for op in module.body.operations[0].regions[0].blocks[0].operations
            if op.name == "stablehlo.custom_call"
        ]
        call.attributes["backend_config"] = ir.StringAttr.get(
            '{"custom_call_config": {"body": "bm90IE1MSVI="}}'  # base64 of "not MLIR"
        )
    (kernel,) = kernel_modules(module, "tpu")
    assert kernel.module is None and kernel.ops == [] and kernel.text == ""
    assert "MLIRError" in kernel.error or "parse" in kernel.error.lower()
    assert "error:" in repr(kernel)


def test_titles_summarise_pytree_arguments_by_name():
    def step(params, x):
        for w in params:
            x = jnp.tanh(x @ w)
        return x

    params = [jnp.ones((16, 16))] * 12
    pi = jaxlab.inspect(step, params, jnp.ones((4, 16)), platforms=("tpu",))
    assert [a.name for a in pi.arguments.arguments] == ["params", "x"]
    assert "params: list[12] of f32[16,16]" in pi.view_model()["title"]
    assert repr(pi).splitlines()[0].count("f32[16,16]") == 1  # not one entry per leaf
