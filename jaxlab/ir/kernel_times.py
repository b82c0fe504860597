"""Measured kernel times attributed to a compiled program: each kernel event of a trace →
the HLO instruction or fusion it ran → the source lines and named scopes it came from.

A kernel made from several source lines is split between them by the share of its estimated
work (FLOPs of the fused ops) that each line's equations made, and every such split is
recorded. A kernel event whose ``hlo_op`` names no kernel of the program is kept
as *unattributed*, with its time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from jaxlab.ir.collectives import kind_of as _collective_kind
from jaxlab.ir.fusions import Fusion, op_flops
from jaxlab.ir.hlo import HloModule
from jaxlab.ir.sources import source_pair
from jaxlab.ir.trace_events import KernelEvent

SourceLine = tuple[str, int]
NO_SOURCE: SourceLine = ("", 0)
NO_SCOPE = ""
_PLUMBING = frozenset({"parameter", "constant", "tuple", "get-tuple-element", "bitcast"})

FUSION_KINDS = {
    "loop": "loop fusion",
    "input": "input fusion",
    "output": "output fusion",
    "custom": "custom fusion",
}
CONTROL = {"while", "conditional", "call"}
# op_name parts that are transformations or the jit itself, not a user's named scope
_TRANSFORMS = frozenset(
    {
        "jit", "pjit", "jvp", "transpose", "vmap", "pmap", "xmap", "shard_map", "remat",
        "checkpoint", "custom_jvp_call", "custom_vjp_call", "cond", "while", "scan", "body",
        "closed_call", "core_call",
    }
)  # fmt: skip


@dataclass(slots=True)
class KernelTime:
    """The measured time of one kernel on one device, over every profiled call."""

    kernel: str  # HLO instruction name
    kind: str
    device: int
    calls: int = 0
    total_s: float = 0.0
    lines: list[tuple[SourceLine, float]] = field(default_factory=list)  # (line, share)
    # (the user's calling line, the innermost line, share): library lines folded into the
    # line of the user's code that called them (`ir.sources.is_library`)
    folded: list[tuple[SourceLine, SourceLine, float]] = field(default_factory=list)
    scopes: list[tuple[str, float]] = field(default_factory=list)  # (scope, share)
    bytes: int = 0  # estimated from shapes
    flops: int = 0
    collective: bool = False
    attributed: bool = True

    @property
    def mean_s(self) -> float:
        return self.total_s / self.calls if self.calls else 0.0

    @property
    def split(self) -> bool:
        """True when the kernel's time is shared between several source lines."""
        return len(self.lines) > 1


@dataclass(slots=True)
class CallTime:
    """One profiled call: wall time (measured around the call, waited on) and its kernels."""

    run: int
    wall_s: float
    kernels: int = 0
    kernel_s: float = 0.0  # sum of kernel durations
    busy_s: float = 0.0  # time when at least one kernel ran (overlaps counted once)
    span_s: float = 0.0  # first kernel start to last kernel end
    start_us: float = 0.0

    @property
    def gaps_s(self) -> float:
        """Idle time between the first and the last kernel (dispatch between kernels)."""
        return max(self.span_s - self.busy_s, 0.0)

    @property
    def host_s(self) -> float:
        """Wall time outside the kernels' span: Python, dispatch, argument handling, waiting."""
        return max(self.wall_s - self.span_s, 0.0)


@dataclass(slots=True)
class TimelineEvent:
    track: int
    start_us: float  # from the call's first kernel
    dur_us: float
    kernel: str
    device: int


@dataclass
class KernelProfile:
    kernels: list[KernelTime]
    calls: list[CallTime]
    timeline: list[TimelineEvent]  # one call (the median by wall time)
    timeline_call: int
    tracks: list[str]
    devices: list[int]


def kernel_kind(fusion: Fusion | None, module: HloModule, op: str) -> tuple[str, bool]:
    """(kind, is collective) of the kernel named `op`."""
    instr = fusion.instruction if fusion is not None else module.instructions.get(op)
    if instr is None:
        return "unattributed", False
    coll = _collective_kind(instr, module)
    if coll is None and fusion is not None:
        for fused in fusion.ops:
            if fused.opcode in ("all-reduce", "all-gather", "reduce-scatter", "all-to-all"):
                coll = (fused.opcode, False)
                break
    if coll is not None:
        return f"collective ({coll[0]})", True
    if fusion is not None and fusion.kind in FUSION_KINDS:
        return FUSION_KINDS[fusion.kind], False
    if fusion is not None and fusion.kind != "unfused":
        return f"{fusion.kind} fusion", False  # a GPU emitter: triton, triton gemm, cudnn
    code = instr.opcode
    if code.startswith("copy"):
        return "copy", False
    if code == "custom-call":
        return "custom call", False
    if code.endswith("-done") and code[: -len("-done")] in (
        "all-reduce", "all-gather", "collective-permute", "all-to-all", "reduce-scatter",
    ):  # fmt: skip
        return f"collective ({code[: -len('-done')]})", True
    if code in CONTROL:
        return code, False
    return code, False


@lru_cache(maxsize=65536)
def scope_of(op_name: str) -> str:
    """The user's named scopes in an op_name: 'jit(f)/jvp(g)/attn/dot_general' gives 'attn'."""
    if not op_name:
        return NO_SCOPE
    parts = op_name.split(";")[0].split("/")[:-1]
    return "/".join(p for p in parts if p and not _is_transform(p))


def _is_transform(part: str) -> bool:
    """'jit(f)', 'jvp(block)', 'transpose(jvp(f))', 'while', 'branch_1_fun'... are made by
    JAX's transformations, not by ``jax.named_scope``."""
    head = part.split("(", 1)[0]
    return head in _TRANSFORMS or head.startswith("branch_") or part.endswith(")")


def _shares(fusion: Fusion, module: HloModule) -> tuple[list, list, list]:
    """(line, share), (scope, share) and (user's line, line, share) of a kernel. Each source
    line's share is the estimated work (FLOPs, at least 1 per op) of the fused ops its jaxpr
    equations became, so a dot fused with the reduction of its result goes mostly to the dot's
    line."""
    pairs: dict[tuple[SourceLine, SourceLine], float] = defaultdict(float)
    scopes: dict[str, float] = defaultdict(float)
    work = [op for op in fusion.ops if op.opcode not in _PLUMBING] or [fusion.instruction]
    for op in work:
        weight = float(max(op_flops(module, op)[0], 1))
        scopes[scope_of(op.op_name or fusion.instruction.op_name)] += weight
        pair = source_pair(module.frames_of(op))
        if pair is not None:
            pairs[pair] += weight
    if not pairs:
        for key in fusion.equation_keys:
            if len(key) == 4:  # (file, line, column, primitive)
                pairs[((key[0], key[1]), (key[0], key[1]))] += 1.0
    if not pairs:
        for line in fusion.source_lines:
            pairs[(line, line)] += 1.0
    lines: dict[SourceLine, float] = defaultdict(float)
    for (_, inner), weight in pairs.items():
        lines[inner] += weight
    folded = [(user, inner, share) for (user, inner), share in _normalise(pairs)]
    return _normalise(lines), _normalise(scopes), folded


def _normalise(weights: dict) -> list:
    total = sum(weights.values())
    if not total:
        return []
    return sorted(((k, w / total) for k, w in weights.items()), key=lambda kv: -kv[1])


def _union(intervals: list[tuple[float, float]]) -> float:
    intervals.sort()
    total = 0.0
    cur_start = cur_end = None
    for start, end in intervals:
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                total += cur_end - cur_start  # type: ignore[operator]
            cur_start, cur_end = start, end
        elif end > cur_end:
            cur_end = end
    if cur_end is not None:
        total += cur_end - cur_start  # type: ignore[operator]
    return total


def attribute(
    events: list[KernelEvent],
    fusions: list[Fusion],
    module: HloModule,
    walls: list[float],
    tracks: list[str],
) -> KernelProfile:
    """Kernel times per (kernel, device), per call, and the timeline of the median call.

    A ``while``, ``conditional`` or ``call`` runs the kernels of its body inside its own
    event: it is counted with its self time (its duration less the kernels inside it), so no
    time is counted twice."""
    by_name = {f.name: f for f in fusions}
    rows: dict[tuple[str, int], KernelTime] = {}
    runs: dict[str, list[KernelEvent]] = {}
    memo: dict[str, tuple] = {}
    for ev in events:
        runs.setdefault(ev.run_id, []).append(ev)
    control = {
        op
        for op in {ev.op for ev in events}
        if op in module.instructions and module.instructions[op].opcode in CONTROL
    }
    self_us = _self_times(runs, control) if control else {}
    for ev in events:
        op = ev.op or ev.name
        key = (op, ev.device)
        row = rows.get(key)
        if row is None:
            info = memo.get(op)
            if info is None:
                fusion = by_name.get(op)
                kind, coll = kernel_kind(fusion, module, op)
                if fusion is not None:
                    lines, scopes, folded = _shares(fusion, module)
                    info = (kind, coll, lines, scopes, folded, fusion.bytes, fusion.flops, True)
                else:
                    instr = module.instructions.get(op)
                    known = instr is not None and kind != "unattributed"
                    pair = source_pair(module.frames_of(instr)) if instr is not None else None
                    lines = [(pair[1], 1.0)] if pair else []
                    folded = [(*pair, 1.0)] if pair else []
                    scopes = [(scope_of(instr.op_name), 1.0)] if instr is not None else []
                    info = (kind, coll, lines, scopes, folded, 0, 0, known)
                memo[op] = info
            kind, coll, lines, scopes, folded, nbytes, flops, known = info
            row = rows[key] = KernelTime(
                kernel=op or "(unnamed)",
                kind=kind,
                device=ev.device,
                lines=lines,
                folded=folded,
                scopes=scopes,
                bytes=nbytes,
                flops=flops,
                collective=coll,
                attributed=known,
            )
        row.calls += 1
        row.total_s += self_us.get(id(ev), ev.dur_us) * 1e-6
    # calls: runs ordered by their first kernel, matched to the measured walls in order
    ordered = sorted(runs.values(), key=lambda evs: evs[0].start_us)
    calls: list[CallTime] = []
    for i, evs in enumerate(ordered):
        start = min(e.start_us for e in evs)
        end = max(e.end_us for e in evs)
        calls.append(
            CallTime(
                run=i,
                wall_s=walls[i] if i < len(walls) else 0.0,
                kernels=sum(1 for e in evs if e.op not in control),
                kernel_s=sum(self_us.get(id(e), e.dur_us) for e in evs) * 1e-6,
                busy_s=_union([(e.start_us, e.end_us) for e in evs]) * 1e-6,
                span_s=(end - start) * 1e-6,
                start_us=start,
            )
        )
    for i in range(len(calls), len(walls)):  # calls whose kernels the trace did not name
        calls.append(CallTime(run=i, wall_s=walls[i]))
    timeline: list[TimelineEvent] = []
    chosen = 0
    if ordered:  # the median of the calls with kernels
        with_kernels = range(len(ordered))
        by_wall = sorted(with_kernels, key=lambda i: calls[i].wall_s or calls[i].span_s)
        chosen = by_wall[len(by_wall) // 2]
        t0 = calls[chosen].start_us
        timeline = [
            TimelineEvent(e.track, e.start_us - t0, e.dur_us, e.op or e.name, e.device)
            for e in ordered[chosen]
            if e.op not in control  # its body's kernels are drawn instead
        ]
    kernels = sorted(rows.values(), key=lambda r: (-r.total_s, r.device, r.kernel))
    return KernelProfile(
        kernels=kernels,
        calls=calls,
        timeline=timeline,
        timeline_call=chosen,
        tracks=tracks,
        devices=sorted({r.device for r in kernels}),
    )


def _self_times(runs: dict[str, list[KernelEvent]], control: set[str]) -> dict[int, float]:
    """id(event) -> self time (µs) of each control-flow event: its duration less the
    durations of the events inside it on its track (nested loops count once, in the
    innermost)."""
    out: dict[int, float] = {}
    for evs in runs.values():
        by_track: dict[int, list[KernelEvent]] = defaultdict(list)
        for e in evs:
            by_track[e.track].append(e)
        for track_events in by_track.values():
            track_events.sort(key=lambda e: (e.start_us, -e.dur_us))
            open_: list[KernelEvent] = []  # enclosing control events, innermost last
            for e in track_events:
                while open_ and e.start_us >= open_[-1].end_us:
                    open_.pop()
                if open_:
                    parent = open_[-1]
                    out[id(parent)] = out.get(id(parent), parent.dur_us) - e.dur_us
                if e.op in control:
                    out.setdefault(id(e), e.dur_us)
                    open_.append(e)
    return {k: max(v, 0.0) for k, v in out.items()}
