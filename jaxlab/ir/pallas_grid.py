"""What a ``pallas_call``'s grid and BlockSpecs do, evaluated: for every program id, the block
of each operand it reads or writes; the on-chip footprint of one step; FLOPs and bytes.

The index maps are JAX functions of the program ids; they are evaluated here for every program
(vectorized, on CPU) exactly as Pallas would call them. A block index outside the array is
flagged, never raised.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jaxlab.base import compat as _compat

MAX_PROGRAMS = 65_536  # programs evaluated; larger grids are evaluated up to this many

# the rule used for the per-step footprint, shown with the figure
FOOTPRINT_RULES = {
    "tpu": (
        "VMEM per grid step = Σ over blocked inputs and outputs of buffers × block bytes "
        "(the Pallas TPU pipeline double-buffers each: 2 buffers unless pipeline_mode says "
        "otherwise) + scratch once; block bytes are unpadded (Mosaic pads the last two "
        "dimensions to (8, 128) tiles, which can add to this)"
    ),
    "gpu": (
        "shared memory / registers per program ≈ Σ block bytes of inputs and outputs, once "
        "(Triton holds each block of a program; the compiler decides between registers and "
        "shared memory) + scratch"
    ),
}
# (limit in bytes, what it is) per platform
LIMITS = {
    "tpu": (
        16 * 2**20,
        "default scoped VMEM limit of TPU v4/v5e (32 MiB on v6e; raise it "
        "with pltpu.CompilerParams(vmem_limit_bytes=...))",
    ),
    "gpu": (227 * 2**10, "shared memory per thread block on H100 (163 KiB on A100)"),
}
_NOT_VMEM = ("any", "smem", "hbm", "semaphore")
_TRANSCENDENTAL = {
    "exp",
    "exp2",
    "log",
    "log1p",
    "expm1",
    "tanh",
    "logistic",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "erf",
    "erfc",
    "erf_inv",
    "lgamma",
    "digamma",
    "pow",
    "rsqrt",
    "sqrt",
    "cbrt",
}
_FREE = {
    "get",
    "swap",
    "load",
    "store",
    "masked_load",
    "masked_swap",
    "broadcast_in_dim",
    "reshape",
    "squeeze",
    "expand_dims",
    "transpose",
    "convert_element_type",
    "iota",
    "program_id",
    "num_programs",
    "slice",
    "dynamic_slice",
    "concatenate",
    "pad",
    "copy",
    "copy_p",
    "bitcast_convert_type",
    "select_n",
    "multiple_of",
    "run_state",
    "dma_start",
    "dma_wait",
    "semaphore_signal",
    "semaphore_wait",
    "pjit",
    "closed_call",
    "scan",
    "while",
    "cond",
    "for",
    "custom_jvp_call",
    "custom_vjp_call",
    "rev",
}


@dataclass
class BlockAccess:
    """One operand or output of a kernel: its BlockSpec and the block each program touches."""

    role: str  # 'input' or 'output'
    position: int  # index among the kernel's inputs or outputs
    origin: str  # how JAX names it, e.g. 'args[0]', 'outputs'
    block_shape: tuple[int, ...]  # squeezed dims count as 1
    dim_kinds: tuple[str, ...]  # 'blocked', 'squeezed', 'element', ...
    array_shape: tuple[int, ...]
    dtype: str
    itemsize: int
    memory_space: str = ""
    buffers: int | None = None  # pipeline_mode=pl.Buffered(n)
    indices: np.ndarray | None = None  # [programs, ndim] block indices, row per program
    error: str = ""  # why the index map was not evaluated

    @property
    def name(self) -> str:
        return f"{'in' if self.role == 'input' else 'out'}[{self.position}] {self.origin}"

    @property
    def grid_of_blocks(self) -> tuple[int, ...]:
        """How many blocks fit along each dimension of the array (the last may be partial)."""
        return tuple(
            max(1, math.ceil(a / b)) if k == "blocked" else a
            for a, b, k in zip(self.array_shape, self.block_shape, self.dim_kinds, strict=False)
        )

    @property
    def block_bytes(self) -> int:
        return int(np.prod(self.block_shape, dtype=np.int64)) * self.itemsize

    @property
    def in_vmem(self) -> bool:
        space = self.memory_space.lower()
        return not any(s in space for s in _NOT_VMEM)

    def block_of(self, program: int) -> tuple[int, ...] | None:
        if self.indices is None or program >= len(self.indices):
            return None
        return tuple(int(v) for v in self.indices[program])

    def out_of_bounds(self, block: tuple[int, ...]) -> bool:
        return any(i < 0 or i >= n for i, n in zip(block, self.grid_of_blocks, strict=False))

    def element_ranges(self, block: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        """[start, stop) of the elements a block covers along each dimension."""
        out = []
        for i, b, k in zip(block, self.block_shape, self.dim_kinds, strict=False):
            start = i * b if k == "blocked" else i
            out.append((start, start + b))
        return tuple(out)

    @property
    def bad_programs(self) -> list[int]:
        """Programs whose block lies outside the array."""
        if self.indices is None:
            return []
        bounds = np.array(self.grid_of_blocks)
        bad = np.any((self.indices < 0) | (self.indices >= bounds), axis=1)
        return [int(i) for i in np.nonzero(bad)[0]]

    @property
    def fetches(self) -> int:
        """Blocks moved between HBM and on-chip memory over the grid: one per program whose
        block differs from the previous program's (the pipeline keeps an unchanged block)."""
        if self.indices is None or not len(self.indices):
            return 0
        changed = np.any(self.indices[1:] != self.indices[:-1], axis=1)
        return 1 + int(changed.sum())


@dataclass
class KernelCost:
    flops: int
    transcendentals: int
    bytes_accessed: int
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """A line to paste into the ``pallas_call``."""
        return (
            f"cost_estimate=pl.CostEstimate(flops={self.flops}, "
            f"transcendentals={self.transcendentals}, bytes_accessed={self.bytes_accessed})"
        )


@dataclass
class Footprint:
    platform: str  # 'tpu' or 'gpu'
    bytes: int
    parts: list[tuple[str, int, int]]  # (operand, buffers, bytes each)
    limit: int
    limit_text: str
    rule: str

    @property
    def fits(self) -> bool:
        return self.bytes <= self.limit


@dataclass
class PallasKernel:
    """One ``pallas_call`` of a program: grid, BlockSpecs evaluated, kernel jaxpr."""

    name: str
    source: str  # 'kernel_fn at file.py:12'
    grid: tuple[int, ...]
    blocks: list[BlockAccess]
    scratch: list[tuple[tuple[int, ...], str, int]]
    kernel_jaxpr: Any
    cost_estimate: dict[str, int] | None  # the one the call was given
    interpret: bool
    programs_evaluated: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def dynamic_grid(self) -> bool:
        """True when a grid size is only known at run time (then nothing is evaluated)."""
        return any(g < 0 for g in self.grid)

    @property
    def num_programs(self) -> int:
        """Programs in the grid (0 for a dynamic grid)."""
        if self.dynamic_grid:
            return 0
        return int(np.prod(self.grid, dtype=np.int64)) if self.grid else 1

    @property
    def inputs(self) -> list[BlockAccess]:
        return [b for b in self.blocks if b.role == "input"]

    @property
    def outputs(self) -> list[BlockAccess]:
        return [b for b in self.blocks if b.role == "output"]

    def program_index(self, program_id: tuple[int, ...]) -> int:
        """Position of a program id in grid order (row-major: the last axis varies fastest)."""
        if len(program_id) != len(self.grid):
            raise ValueError(
                f"program id {program_id} has {len(program_id)} axes; the grid {self.grid} "
                f"has {len(self.grid)}"
            )
        for i, n in zip(program_id, self.grid, strict=True):
            if not 0 <= i < n:
                raise ValueError(f"program id {program_id} is outside the grid {self.grid}")
        return int(np.ravel_multi_index(program_id, self.grid)) if self.grid else 0

    def program_id(self, index: int) -> tuple[int, ...]:
        return tuple(int(v) for v in np.unravel_index(index, self.grid)) if self.grid else ()

    def blocks_of(self, program_id: tuple[int, ...]) -> dict[str, tuple[int, ...] | None]:
        """The block index of each operand and output that program reads or writes."""
        index = self.program_index(program_id)
        return {b.name: b.block_of(index) for b in self.blocks}

    @property
    def out_of_bounds(self) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
        """(operand, program id, block index) of every block outside its array."""
        out = []
        for b in self.blocks:
            for p in b.bad_programs:
                out.append((b.name, self.program_id(p), b.block_of(p) or ()))
        return out

    @property
    def kernel_jaxpr_text(self) -> str:
        return str(self.kernel_jaxpr)

    def footprint(self, platform: str = "tpu") -> Footprint:
        """On-chip bytes one grid step holds, by the rule in ``FOOTPRINT_RULES``."""
        kind = "tpu" if platform == "tpu" else "gpu"
        parts = []
        for b in self.blocks:
            if kind == "tpu" and not b.in_vmem:
                continue
            buffers = (b.buffers or 2) if kind == "tpu" else 1
            parts.append((b.name, buffers, b.block_bytes))
        for i, (shape, dtype, itemsize) in enumerate(self.scratch):
            parts.append(
                (
                    f"scratch[{i}] {dtype}{list(shape)}",
                    1,
                    int(np.prod(shape, dtype=np.int64)) * itemsize,
                )
            )
        total = sum(n * size for _, n, size in parts)
        limit, text = LIMITS[kind]
        return Footprint(kind, total, parts, limit, text, FOOTPRINT_RULES[kind])

    @property
    def cost(self) -> KernelCost:
        """FLOPs and transcendentals counted from the kernel jaxpr per program × programs;
        bytes = blocks moved (see ``BlockAccess.fetches``) × block bytes."""
        notes: list[str] = []
        flops, trans = _count(self.kernel_jaxpr, notes)
        steps = self.num_programs
        if self.dynamic_grid:
            steps = 1
            notes.append("the grid size is dynamic: figures are for one program")
        moved = sum(b.fetches * b.block_bytes for b in self.blocks if b.indices is not None)
        if any(b.indices is None for b in self.blocks):
            moved += sum(steps * b.block_bytes for b in self.blocks if b.indices is None)
            notes.append("index maps not evaluated: every block counted once per program")
        return KernelCost(int(flops * steps), int(trans * steps), int(moved), notes)


def pallas_kernels(closed_jaxpr: Any) -> list[PallasKernel]:
    """Every ``pallas_call`` of a program's jaxpr (nested calls included), evaluated."""
    out: list[PallasKernel] = []
    for eqn in _walk(getattr(closed_jaxpr, "jaxpr", closed_jaxpr)):
        if eqn.primitive.name != "pallas_call":
            continue
        info = _compat.pallas_call_info(eqn)
        if info is not None:
            out.append(build_kernel(info))
    return out


def _walk(jaxpr: Any):
    for eqn in jaxpr.eqns:
        yield eqn
        if eqn.primitive.name == "pallas_call":
            continue
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", None)
                if inner is not None and hasattr(inner, "eqns"):
                    yield from _walk(inner)
                elif hasattr(sub, "eqns"):
                    yield from _walk(sub)


def build_kernel(info: dict[str, Any]) -> PallasKernel:
    grid = tuple(info["grid"])
    counts = {"input": 0, "output": 0}
    blocks = []
    for spec in info["blocks"]:
        role = spec["role"]
        blocks.append(
            BlockAccess(
                role=role,
                position=counts[role],
                origin=spec["origin"],
                block_shape=tuple(size for _, size in spec["dims"]),
                dim_kinds=tuple(kind for kind, _ in spec["dims"]),
                array_shape=spec["array_shape"],
                dtype=spec["dtype"],
                itemsize=spec["itemsize"],
                memory_space=spec["memory_space"],
                buffers=spec["buffers"],
            )
        )
        counts[role] += 1
    kernel = PallasKernel(
        name=info["name"],
        source=info["source"],
        grid=grid,
        blocks=blocks,
        scratch=info["scratch"],
        kernel_jaxpr=info["kernel_jaxpr"],
        cost_estimate=info["cost_estimate"],
        interpret=info["interpret"],
    )
    if any(g < 0 for g in grid):
        kernel.notes.append("the grid has dynamic sizes: index maps not evaluated")
        for b in blocks:
            b.error = "dynamic grid"
        return kernel
    programs = min(kernel.num_programs, MAX_PROGRAMS)
    if programs < kernel.num_programs:
        kernel.notes.append(
            f"the grid has {kernel.num_programs:,} programs; the first {programs:,} evaluated"
        )
    kernel.programs_evaluated = programs
    ids = np.array(
        list(itertools.islice(itertools.product(*map(range, grid)), programs)), dtype=np.int32
    ).reshape(programs, len(grid))
    for b, spec in zip(blocks, info["blocks"], strict=True):
        if info["num_index_operands"]:
            b.error = "the index map reads scalar-prefetch operands, whose values are not known"
            continue
        b.indices, b.error = evaluate_index_map(spec["index_map"], ids, len(b.block_shape))
    return kernel


def evaluate_index_map(index_map: Any, ids: np.ndarray, ndim: int) -> tuple[np.ndarray | None, str]:
    """Block indices [programs, ndim] of an index map (a ``ClosedJaxpr`` of the program ids)
    for every row of `ids`, or (None, why)."""
    import jax
    import jax.extend as jex

    try:
        fn = jex.core.jaxpr_as_fun(index_map)
        cpu = jax.devices("cpu")[0]
        columns = [ids[:, k] for k in range(ids.shape[1])]
        with jax.default_device(cpu):
            if columns:
                result = jax.jit(jax.vmap(lambda *a: fn(*a)))(*columns)
            else:
                result = [np.reshape(np.asarray(v), (1,)) for v in fn()]
        arr = (
            np.stack([np.asarray(r).reshape(-1) for r in result], axis=1)
            if result
            else (np.zeros((len(ids), 0), np.int64))
        )
        if arr.shape != (len(ids), ndim):
            if arr.shape[0] == 1 and len(ids) != 1:
                arr = np.repeat(arr, len(ids), axis=0)
            else:
                return None, f"index map returned shape {arr.shape}, expected {ndim} indices"
        return arr.astype(np.int64), ""
    except Exception as exc:
        return None, f"index map could not be evaluated ({type(exc).__name__}: {exc})"


def _size(aval: Any) -> int:
    shape = getattr(aval, "shape", ())
    return int(np.prod(shape, dtype=np.int64)) if shape else 1


def _count(jaxpr: Any, notes: list[str]) -> tuple[int, int]:
    """(FLOPs, transcendentals) of one run of a jaxpr."""
    inner = getattr(jaxpr, "jaxpr", jaxpr)
    flops = trans = 0
    for eqn in inner.eqns:
        name = eqn.primitive.name
        subs = [
            getattr(s, "jaxpr", s)
            for v in eqn.params.values()
            for s in (v if isinstance(v, (tuple, list)) else (v,))
            if hasattr(getattr(s, "jaxpr", s), "eqns")
        ]
        if subs:
            counted = [_count(s, notes) for s in subs]
            if name == "cond":
                f, t = max(counted)
            else:
                f, t = sum(c[0] for c in counted), sum(c[1] for c in counted)
            times = int(eqn.params.get("length", 1)) if name == "scan" else 1
            if name == "while":
                notes.append("a while loop's trip count is unknown: its body is counted once")
            flops += f * times
            trans += t * times
            continue
        out = sum(_size(v.aval) for v in eqn.outvars)
        if name == "dot_general":
            (lhs_contract, _), _ = eqn.params["dimension_numbers"]
            shape = eqn.invars[0].aval.shape
            k = int(np.prod([shape[d] for d in lhs_contract], dtype=np.int64)) or 1
            flops += 2 * out * k
        elif name.startswith("reduce_") or name in ("argmax", "argmin", "cumsum", "cumprod"):
            flops += sum(_size(v.aval) for v in eqn.invars)
        elif name in _TRANSCENDENTAL:
            trans += out
        elif name not in _FREE:
            flops += out
    return flops, trans
