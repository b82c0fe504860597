"""What differs between two lowerings of one program (e.g. CPU and TPU): custom calls, layouts,
sharding annotations, module attributes and op counts, read from the StableHLO text."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_CUSTOM_CALL = re.compile(r"stablehlo\.custom_call @([\w$.\-]+)")
_OP = re.compile(r"(?:= |^\s*)\"?((?:stablehlo|sdy|mhlo|chlo|func)\.[\w.]+)")
_SHARDING = re.compile(r"(sdy\.sharding = #sdy\.sharding<[^>]*>|mhlo\.sharding = \"[^\"]*\")")
_MESH = re.compile(r"sdy\.mesh @(\w+) = <([^>]*)>")
_LAYOUT = re.compile(r"((?:operand|result)_layouts = \[[^\]]*\]|mhlo\.layout_mode = \"[^\"]*\")")
_MODULE_ATTRS = re.compile(r"^module @\S+ attributes \{(.*)\}\s*\{?\s*$", re.M)


@dataclass
class LoweringSummary:
    custom_calls: Counter
    ops: Counter
    shardings: list[str]
    meshes: list[str]
    layouts: Counter
    module_attributes: str


def summarize(text: str) -> LoweringSummary:
    """Counts of the things that differ between platforms, from StableHLO text."""
    ops: Counter = Counter()
    for line in text.splitlines():
        m = _OP.search(line)
        if m:
            ops[m.group(1)] += 1
    attrs = _MODULE_ATTRS.search(text)
    return LoweringSummary(
        custom_calls=Counter(_CUSTOM_CALL.findall(text)),
        ops=ops,
        shardings=list(dict.fromkeys(_SHARDING.findall(text))),
        meshes=[f"@{name} = <{axes}>" for name, axes in _MESH.findall(text)],
        layouts=Counter(_LAYOUT.findall(text)),
        module_attributes=attrs.group(1) if attrs else "",
    )


@dataclass
class Difference:
    what: str  # 'custom call', 'op', 'sharding', 'layout', 'module'
    item: str
    base: str  # count or value in the base lowering ('' for none)
    other: str


def differences(base_text: str, other_text: str) -> list[Difference]:
    """What the `other` lowering has that `base` has not, and the reverse."""
    a, b = summarize(base_text), summarize(other_text)
    out: list[Difference] = []

    def counts(what: str, x: Counter, y: Counter) -> None:
        for key in sorted(set(x) | set(y)):
            if x.get(key, 0) != y.get(key, 0):
                out.append(Difference(what, key, str(x.get(key, 0)), str(y.get(key, 0))))

    counts("custom call", a.custom_calls, b.custom_calls)
    counts("layout", a.layouts, b.layouts)
    for what, xs, ys in (("sharding", a.shardings, b.shardings), ("mesh", a.meshes, b.meshes)):
        for item in [s for s in ys if s not in xs]:
            out.append(Difference(what, item, "", "present"))
        for item in [s for s in xs if s not in ys]:
            out.append(Difference(what, item, "present", ""))
    if a.module_attributes != b.module_attributes:
        out.append(Difference("module", "attributes", a.module_attributes, b.module_attributes))
    counts("op", a.ops, b.ops)
    return out
