"""Kernel modules that Pallas embeds in a lowered program, read with jaxlib's MLIR bindings.

A ``pallas_call`` lowered for TPU is a ``tpu_custom_call`` whose backend config carries the
Mosaic module (MLIR bytecode, base64 in JSON); for CUDA/ROCm it is a Triton custom call
(``__gpu$xla.gpu.triton``, bytecode in ``mhlo.backend_config.ir``) or a Mosaic GPU one
(``mosaic_gpu_v2``, bytecode in ``mhlo.backend_config.module``). Each module is printed with
its ``loc(...)`` locations and parsed like StableHLO, so its ops link to the kernel's source.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base import compat as _compat
from jaxlab.ir.stablehlo import StableHloModule, StableHloOp

# custom-call target -> kind of kernel module
TARGETS = {
    "tpu_custom_call": "mosaic_tpu",
    "__gpu$xla.gpu.triton": "triton",
    "mosaic_gpu_v2": "mosaic_gpu",
    "mosaic_gpu": "mosaic_gpu",
}
KIND_TITLES = {"mosaic_tpu": "Mosaic (TPU)", "triton": "Triton (GPU)", "mosaic_gpu": "Mosaic GPU"}
# passes that turn the serialized (versioned) form back into the current dialects
_DESERIALIZE = {
    "mosaic_tpu": "builtin.module(mosaic-serde{serialize=false})",
    "mosaic_gpu": "builtin.module(mosaic_gpu-serde{serialize=false})",
}


@dataclass
class KernelModule:
    """One kernel's module as the backend receives it, with ops linked to source lines."""

    platform: str
    kind: str  # 'mosaic_tpu', 'triton' or 'mosaic_gpu'
    name: str
    target: str
    module: StableHloModule | None
    attributes: dict[str, str] = field(default_factory=dict)  # e.g. num_warps, grid_x
    error: str = ""  # why the payload could not be read

    @property
    def title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    @property
    def text(self) -> str:
        return self.module.text if self.module is not None else ""

    @property
    def ops(self) -> list[StableHloOp]:
        return self.module.ops if self.module is not None else []

    @property
    def source_lines(self) -> list[tuple[str, int]]:
        """(file, line) of every source line some op of the module came from."""
        seen: dict[tuple[str, int], None] = {}
        for op in self.ops:
            if op.frames:
                seen[(op.frames[0][0], op.frames[0][1])] = None
        return sorted(seen)

    def ops_for_line(self, line: int, file: str | None = None) -> list[StableHloOp]:
        return [
            op
            for op in self.ops
            if op.frames and op.frames[0][1] == line and (file is None or op.frames[0][0] == file)
        ]

    def __repr__(self) -> str:
        state = f"{len(self.ops)} ops" if not self.error else f"error: {self.error}"
        return f"<KernelModule {self.title} {self.name!r} for {self.platform}: {state}>"


def kernel_modules(module: Any, platform: str) -> list[KernelModule]:
    """Every kernel custom call of a lowered MLIR module (``Lowered.compiler_ir()``), decoded.

    A payload that cannot be read gives a KernelModule with `error` set; nothing raises."""
    if module is None:
        return []
    calls: list[Any] = []
    _collect(module.operation, calls)
    if not calls:
        return []
    try:
        ctx = _compat.kernel_mlir_context()
    except Exception as exc:  # jaxlib without the MLIR bindings
        ctx, why = None, f"jaxlib's MLIR bindings are unavailable ({exc})"
    out = []
    for op in calls:
        target = _string(op.attributes["call_target_name"])
        kind = TARGETS[target]
        if ctx is None:
            out.append(KernelModule(platform, kind, _kernel_name(op), target, None, error=why))
            continue
        out.append(_decode(op, target, kind, platform, ctx))
    return out


def _collect(operation: Any, out: list[Any]) -> None:
    for region in operation.regions:
        for block in region.blocks:
            for op in block.operations:
                if op.name == "stablehlo.custom_call":
                    try:
                        target = _string(op.attributes["call_target_name"])
                    except Exception:
                        target = ""
                    if target in TARGETS:
                        out.append(op)
                _collect(op.operation, out)


def _string(attr: Any) -> str:
    from jaxlib.mlir import ir

    return ir.StringAttr(attr).value


def _kernel_name(op: Any) -> str:
    from jaxlib.mlir import ir

    attrs = op.attributes
    if "kernel_name" in attrs:
        return ir.StringAttr(attrs["kernel_name"]).value
    if "mhlo.backend_config" in attrs:
        config = ir.DictAttr(attrs["mhlo.backend_config"])
        if "name" in config:
            return ir.StringAttr(config["name"]).value
    return ""


def _decode(op: Any, target: str, kind: str, platform: str, ctx: Any) -> KernelModule:
    from jaxlib.mlir import ir, passmanager

    name = _kernel_name(op)
    attributes: dict[str, str] = {}
    try:
        if kind == "mosaic_tpu":
            raw = ir.StringAttr(op.attributes["backend_config"]).value_bytes
            config = json.loads(raw)["custom_call_config"]
            payload = base64.b64decode(config["body"])
            attributes = {k: str(v) for k, v in config.items() if k != "body"}
        else:
            config = ir.DictAttr(op.attributes["mhlo.backend_config"])
            key = "ir" if kind == "triton" else "module"
            payload = ir.StringAttr(config[key]).value_bytes
            for i in range(len(config)):
                named = config[i]
                if named.name not in (key, "kernel_hash"):
                    attributes[named.name] = str(named.attr)
        with ctx:
            kernel = ir.Module.parse(payload)
            if kind in _DESERIALIZE:
                passmanager.PassManager.parse(_DESERIALIZE[kind]).run(kernel.operation)
            text = kernel.operation.get_asm(enable_debug_info=True)
        if not name:
            name = _symbol_name(kernel)
    except Exception as exc:
        return KernelModule(
            platform, kind, name, target, None, attributes, f"{type(exc).__name__}: {exc}"
        )
    return KernelModule(platform, kind, name, target, StableHloModule.parse(text), attributes)


def _symbol_name(kernel: Any) -> str:
    try:
        from jaxlib.mlir import ir

        return ir.StringAttr(kernel.operation.attributes["sym_name"]).value
    except Exception:
        return ""
