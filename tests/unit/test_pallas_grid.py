"""Grid and BlockSpecs of Pallas kernels evaluated for every program, the per-step on-chip
footprint, the CostEstimate line, and the static grid pictures."""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxlab.ir.pallas_grid import pallas_kernels
from jaxlab.views.pallas import kernel_html
from tests import pallas_kernels as pk

F32 = jax.ShapeDtypeStruct((512, 512), jnp.float32)


@pytest.fixture(scope="module")
def matmul():
    (kernel,) = pallas_kernels(jax.make_jaxpr(pk.square_tiled_matmul)(F32, F32))
    return kernel


def test_grid_and_specs_are_read(matmul):
    assert matmul.grid == (4, 4, 4)
    assert [b.role for b in matmul.blocks] == ["input", "input", "output"]
    assert all(b.block_shape == (128, 128) for b in matmul.blocks)
    assert matmul.programs_evaluated == 64
    assert "kernel" in matmul.source


def test_blocks_of_a_program_match_the_index_maps_evaluated_directly(matmul):
    (eqn,) = jax.make_jaxpr(pk.square_tiled_matmul)(F32, F32).eqns
    maps = [bm.index_map_jaxpr for bm in eqn.params["grid_mapping"].block_mappings]
    for program in [(1, 2, 0), (1, 2, 3), (3, 0, 1)]:
        direct = [
            tuple(int(v) for v in jax.core.eval_jaxpr(m.jaxpr, m.consts, *program)) for m in maps
        ]
        assert list(matmul.blocks_of(program).values()) == direct
    assert list(matmul.blocks_of((1, 2, 3)).values()) == [(1, 3), (3, 2), (1, 2)]


def test_grid_4x4_picture_marks_program_1_2():
    (kernel,) = pallas_kernels(jax.make_jaxpr(pk.tiled_matmul)(F32, F32))
    assert kernel.grid == (4, 4)
    html = kernel_html(kernel, program=(1, 2))
    selected = re.findall(r'<rect class="jl-blk[^"]*jl-sel" data-block="([\d,]+)"', html)
    # x: row block 1 of 4; y: column block 2 of 4; output: block (1, 2)
    assert selected == ["1,0", "0,2", "1,2"]
    assert selected == [",".join(map(str, b)) for b in kernel.blocks_of((1, 2)).values()]
    # the program cell is marked, and every block lists the programs that touch it (hover)
    assert re.search(r'<rect class="jl-prog jl-sel" data-p="6" data-pid="1,2"', html)
    index = kernel.program_index((1, 2))
    out_cell = re.search(r'data-block="1,2" data-p="([\d ]*)"', html).group(1)
    assert out_cell.split() == [str(index)]
    x_cell = re.search(r'data-block="1,0" data-p="([\d ]*)"', html).group(1)
    assert x_cell.split() == [str(4 + j) for j in range(4)]
    assert f'rect.jl-prog[data-p="{index}"]:hover' in html


def test_vmem_footprint_is_the_sum_of_double_buffered_blocks(matmul):
    fp = matmul.footprint("tpu")
    block = 128 * 128 * 4
    assert fp.bytes == 3 * 2 * block
    assert [n for _, n, _ in fp.parts] == [2, 2, 2]
    assert "2 buffers" in fp.rule and fp.fits
    gpu = matmul.footprint("cuda")
    assert gpu.bytes == 3 * block


def test_cost_estimate_counts_flops_and_blocks_moved(matmul):
    cost = matmul.cost
    # per program: the dot, the accumulation and the `program_id(2) == 0` comparison
    assert cost.flops == 64 * (2 * 128 * 128 * 128 + 128 * 128 + 1)
    # x changes block every step but (i, k) repeats across j: 64 fetches; y: 64; output: 16
    assert cost.bytes_accessed == (64 + 64 + 16) * 128 * 128 * 4
    assert cost.line() == (
        f"cost_estimate=pl.CostEstimate(flops={cost.flops}, transcendentals=0, "
        f"bytes_accessed={cost.bytes_accessed})"
    )


def test_transcendentals_are_counted():
    x = jax.ShapeDtypeStruct((64, 128), jnp.float32)
    (kernel,) = pallas_kernels(jax.make_jaxpr(pk.scaled_exp)(x))
    assert kernel.cost.transcendentals == 64 * 128
    assert kernel.cost.flops == 64 * 128


def test_out_of_bounds_index_maps_are_flagged_and_drawn():
    (kernel,) = pallas_kernels(jax.make_jaxpr(pk.out_of_bounds)(F32, F32))
    bad = kernel.out_of_bounds
    assert [(pid, block) for _, pid, block in bad] == [((i, 3), (i, 4)) for i in range(4)]
    html = kernel_html(kernel)
    assert html.count('class="jl-blk jl-oob') == 4
    assert "4 blocks outside the array" in html


def test_a_kernel_without_grid_is_one_program():
    x = jax.ShapeDtypeStruct((8, 128), jnp.float32)
    (kernel,) = pallas_kernels(jax.make_jaxpr(pk.add)(x, x))
    assert kernel.grid == () and kernel.num_programs == 1
    assert kernel.blocks_of(()) == {b.name: (0, 0) for b in kernel.blocks}
    assert kernel.footprint("tpu").bytes == 3 * 2 * 8 * 128 * 4
    kernel_html(kernel)


def test_program_ids_outside_the_grid_are_refused(matmul):
    with pytest.raises(ValueError, match="outside the grid"):
        matmul.program_index((4, 0, 0))
    with pytest.raises(ValueError, match="has 2 axes"):
        matmul.program_index((1, 2))


def test_no_kernels_in_plain_jax():
    assert pallas_kernels(jax.make_jaxpr(jnp.sin)(np.ones(3, np.float32))) == []


def test_a_dynamic_grid_is_described_not_evaluated():
    from jaxlab.ir.pallas_grid import build_kernel

    x = jax.ShapeDtypeStruct((8, 128), jnp.float32)
    (eqn,) = jax.make_jaxpr(pk.add)(x, x).eqns
    from jaxlab.base.compat import pallas_call_info

    info = pallas_call_info(eqn)
    info["grid"] = (-1,)  # as JAX marks a grid size known only at run time
    kernel = build_kernel(info)
    assert kernel.dynamic_grid and kernel.num_programs == 0
    assert all(b.indices is None for b in kernel.blocks)
    assert "one program" in " ".join(kernel.cost.notes)
    html = kernel_html(kernel)
    assert "dynamic sizes" in html and "jl-grid-programs" not in html
