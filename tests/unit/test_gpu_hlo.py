"""Optimized HLO that XLA:GPU produced on an H200 (JAX 0.11, the gradient of a 4-layer tanh
MLP, saved as text): the parser, the fusion explorer and the links read it on a CPU-only
machine."""

import gzip
from collections import Counter
from pathlib import Path

from jaxlab.ir.fusions import fusions_of
from jaxlab.ir.hlo import HloModule

TEXT = gzip.decompress((Path(__file__).parent / "data" / "h200_mlp_grad.hlo.gz").read_bytes())


def module() -> HloModule:
    return HloModule.parse(TEXT.decode())


def test_gpu_fusions_are_named_by_their_emitter_not_kcustom():
    kinds = Counter(f.kind for f in fusions_of(module()))
    # XLA:GPU marks every fusion kCustom; the backend config says Triton did each one
    assert kinds == {"triton gemm": 11, "triton": 7}


def test_gpu_fusions_keep_their_source_lines_and_ops():
    fusions = fusions_of(module())
    gemms = [f for f in fusions if f.kind == "triton gemm"]
    assert all(any(op.opcode == "dot" for op in f.ops) for f in gemms)
    assert all(f.source_lines for f in fusions)
