"""Fusions (XLA's kernels) of an optimized HLO module, as plain data, with estimated work.

FLOPs and bytes are estimated from shapes, the way a roofline estimate is: one FLOP per output
element of elementwise arithmetic, ``2·M·N·K`` for a dot, one per input element of a reduce;
bytes are what the kernel reads (its operands) plus what it writes (its output). XLA's own
totals (``Compiled.cost_analysis()``) are shown beside them, labelled as XLA's estimates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jaxlab.ir.hlo import ArrayShape, HloInstruction, HloModule
from jaxlab.ir.sources import is_library

KIND_NAMES = {"kLoop": "loop", "kInput": "input", "kOutput": "output", "kCustom": "custom"}

# XLA:GPU emits most fusions as ``kind=kCustom`` and says which emitter in the backend config
_GPU_EMITTERS = {
    "__triton": "triton",
    "__triton_gemm": "triton gemm",
    "__triton_nested_gemm_fusion": "triton gemm",
    "__triton_scaled_dot_fusion": "triton gemm",
    "__cudnn$fusion": "cudnn",
    "__custom_fusion": "custom",
    "__dynamic_memcpy": "memcpy",
}
_EMITTER = re.compile(r'"fusion_backend_config":\{.*?"kind":"([^"]+)"')

# opcodes that are plumbing inside a fused computation, not work
_PLUMBING = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}

# instructions outside fusions that are control or plumbing, not kernels of their own
_NOT_KERNELS = _PLUMBING | {
    "fusion", "call", "while", "conditional", "after-all", "partition-id", "replica-id",
}  # fmt: skip

TRANSCENDENTAL = {
    "exponential", "exponential-minus-one", "log", "log-plus-one", "tanh", "logistic",
    "sine", "cosine", "tan", "atan2", "rsqrt", "sqrt", "cbrt", "power", "erf",
}  # fmt: skip
ARITHMETIC = {
    "add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "negate",
    "abs", "compare", "select", "clamp", "sign", "floor", "ceil", "round-nearest-afz",
    "round-nearest-even", "and", "or", "xor", "not", "shift-left", "shift-right-logical",
    "shift-right-arithmetic", "is-finite", "real", "imag", "complex",
}  # fmt: skip

_CONTRACTING = re.compile(r"lhs_contracting_dims=\{([0-9,]*)\}")


@dataclass(slots=True)
class Fusion:
    """One kernel: a fusion instruction and the ops it fused (or one unfused op)."""

    name: str
    kind: str  # loop | input | output | custom | unfused | <raw kind>
    instruction: HloInstruction
    ops: list[HloInstruction] = field(default_factory=list)
    source_lines: list[tuple[str, int]] = field(default_factory=list)  # (file, line), sorted
    # per op the innermost frame in the user's code (not a library's), sorted
    user_lines: list[tuple[str, int]] = field(default_factory=list)
    flops: int = 0  # estimated from shapes
    transcendentals: int = 0
    bytes: int = 0  # operands read + output written, estimated from shapes
    # (file, line, column, primitive) of the jaxpr equations it came from; see `equations`
    equation_keys: list[tuple] = field(default_factory=list)
    equation_index: dict[tuple, list[int]] = field(default_factory=dict, repr=False)

    @property
    def shape(self) -> str:
        return self.instruction.shape

    @property
    def output(self) -> list[ArrayShape]:
        return self.instruction.shapes

    @property
    def dtype(self) -> str:
        shapes = self.output
        return ",".join(sorted({s.dtype for s in shapes})) if shapes else ""

    @property
    def equations(self) -> list[int]:
        """Indices of the jaxpr equations it came from (filled in by the inspection's links).

        Equations made at the same source position with the same primitive cannot be told
        apart by location (an unrolled Python loop makes one per iteration): all are listed."""
        out: set[int] = set()
        for key in self.equation_keys:
            out.update(self.equation_index.get(key, ()))
        return sorted(out)

    @property
    def opcodes(self) -> list[str]:
        """Opcodes of the fused work (parameters, constants and plumbing left out)."""
        return [op.opcode for op in self.ops if op.opcode not in _PLUMBING]

    @property
    def root_opcode(self) -> str:
        for op in self.ops:
            if op.is_root:
                return op.opcode
        return self.ops[-1].opcode if self.ops else ""

    def __repr__(self) -> str:
        return (
            f"<Fusion {self.name} ({self.kind}) {len(self.opcodes)} ops {self.shape} "
            f"~{self.flops:,} FLOPs ~{self.bytes:,} B>"
        )


def fusion_kind(instr: HloInstruction) -> str:
    """loop / input / output, or on GPU the emitter of a ``kCustom`` fusion (triton, triton
    gemm, cudnn...) read from its backend config."""
    if instr.fusion_kind == "kCustom" and "fusion_backend_config" in instr.attributes:
        emitter = _EMITTER.search(instr.attributes)
        if emitter:
            return _GPU_EMITTERS.get(emitter.group(1), emitter.group(1).strip("_"))
    return KIND_NAMES.get(instr.fusion_kind, instr.fusion_kind or "?")


def fusions_of(module: HloModule, *, unfused: bool = False) -> list[Fusion]:
    """Every fusion of the module, in text order, with its fused ops, sources and estimates.

    With `unfused`, instructions that run as kernels of their own (a ``dot`` or ``copy``
    outside any fusion, ``custom-call``, ``sort``...) are included with kind ``unfused``.
    """
    out: list[Fusion] = []
    for instr in module:
        if instr.opcode == "fusion":
            comp = module.called_computation(instr)
            ops = list(comp.instructions) if comp else []
            kind = fusion_kind(instr)
        elif unfused and instr.opcode not in _NOT_KERNELS and not _is_fused(module, instr):
            ops = [instr]
            kind = "unfused"
        else:
            continue
        lines: set[tuple[str, int]] = set()
        user: set[tuple[str, int]] = set()
        flops = transcendentals = 0
        for op in (instr, *ops):
            frames = module.frames_of(op)
            if frames and frames[0][1]:
                lines.add((frames[0][0], frames[0][1]))
                mine = next((f for f in frames if f[1] and not is_library(f[0])), None)
                if mine is not None:
                    user.add((mine[0], mine[1]))
        for op in ops:
            f, t = op_flops(module, op)
            flops += f
            transcendentals += t
        read = sum(s.nbytes for s in module.operand_shapes(instr))
        out.append(
            Fusion(
                name=instr.name,
                kind=kind,
                instruction=instr,
                ops=ops,
                source_lines=sorted(lines),
                user_lines=sorted(user),
                flops=flops,
                transcendentals=transcendentals,
                bytes=read + instr.output_bytes,
            )
        )
    return out


def _is_fused(module: HloModule, instr: HloInstruction) -> bool:
    """True for instructions inside a fused computation (or a computation applied by a
    reduce/map/sort, which runs inside the instruction that calls it)."""
    comp = module.computations.get(instr.computation)
    return comp is None or comp.kind != "control"


def op_flops(module: HloModule, op: HloInstruction) -> tuple[int, int]:
    """(FLOPs, transcendentals) of one HLO op, estimated from its shapes."""
    code = op.opcode
    if code in _PLUMBING:
        return 0, 0
    if code in ARITHMETIC:
        return _elements(op.shapes), 0
    if code in TRANSCENDENTAL:
        n = _elements(op.shapes)
        return n, n
    if code == "dot":
        operands = module.operand_shapes(op)
        m = _CONTRACTING.search(op.attributes)
        if not operands or not m:
            return 2 * _elements(op.shapes), 0
        dims = [int(d) for d in m.group(1).split(",") if d]
        k = 1
        for d in dims:
            if d < len(operands[0].dims):
                k *= operands[0].dims[d]
        return 2 * _elements(op.shapes) * k, 0
    if code in ("reduce", "reduce-window"):
        operands = module.operand_shapes(op)
        half = max(len(operands) // 2, 1)  # inputs, then init values
        return sum(s.size for s in operands[:half]), 0
    if code == "convolution":
        operands = module.operand_shapes(op)
        out = op.shapes
        if len(operands) >= 2 and out and out[0].dims:
            kernel = operands[1].size // max(out[0].dims[-1], 1)
            return 2 * out[0].size * max(kernel, 1), 0
        return 0, 0
    return 0, 0


def _elements(shapes: list[ArrayShape]) -> int:
    return sum(s.size for s in shapes)
