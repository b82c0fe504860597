"""Live device memory over the scheduled optimized HLO: what each step keeps alive, the peak,
and the instruction where it peaks.

It is an estimate from the program text (one device's program), not a measurement:

- Steps are the entry computation's instructions in XLA's schedule (``is_scheduled=true``
  modules print them in execution order).
- A buffer lives from the instruction that defines it to its last use. Arguments live for the
  whole run; outputs from their definition to the end. Constants sit in read-only memory and
  are reported apart.
- ``bitcast``, ``get-tuple-element``, ``tuple`` and ``while`` reuse their operands' buffers
  (a tuple adds its pointer table); an output donated to an argument lives in that argument.
- A result may take over an operand buffer of the same shape that dies there, as XLA's buffer
  assignment allows: elementwise ops, fusions that read that operand element by element,
  in-place updates (dynamic-update-slice, scatter) and sorts.
- Loops, calls and conditionals add their body's own peak of temporaries while they run; a
  loop body's results live in the loop state, which a temporary may use once the matching
  input is dead.

XLA packs these buffers into allocations (``memory_analysis()``: argument + output + temp
bytes). Buffers alive at the same step never share memory there, so the peak found here is a
lower bound of that total; the gap is packing slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jaxlab.base.display import Displayed
from jaxlab.ir.hlo import (
    HloComputation,
    HloInstruction,
    HloModule,
    leaf_shapes,
    parse_shape,
    tuple_elements,
)

POINTER_BYTES = 8  # one entry of a tuple's pointer table

ARGUMENT, OUTPUT, TEMP = "argument", "output", "temp"

# opcodes whose result is (a view of) their operand's buffer
_ALIASING = {"bitcast", "get-tuple-element", "tuple", "while", "opt-barrier", "domain"}
# results written element by element: may reuse an operand buffer that dies at them
_ELEMENTWISE = {
    "abs", "add", "and", "atan2", "cbrt", "ceil", "clamp", "compare", "complex", "convert",
    "cosine", "divide", "exponential", "exponential-minus-one", "floor", "imag", "is-finite",
    "log", "log-plus-one", "logistic", "maximum", "minimum", "multiply", "negate", "not", "or",
    "popcnt", "power", "real", "remainder", "round-nearest-afz", "round-nearest-even", "rsqrt",
    "select", "shift-left", "shift-right-arithmetic", "shift-right-logical", "sign", "sine",
    "sqrt", "subtract", "tan", "tanh", "xor",
}  # fmt: skip
_IN_PLACE = {"dynamic-update-slice", "scatter"}  # update operand 0 in place
_SHARING_FUSIONS = {"kLoop", "kInput", "kOutput", "kCustom"}
_CALLS = {"while", "call", "conditional", "async-start"}


@dataclass(slots=True)
class Buffer:
    """One logical buffer: who defines it, its size and its live range in steps."""

    id: int
    instruction: str  # defining instruction
    nbytes: int
    kind: str  # argument | output | temp
    start: int
    end: int
    shape: str = ""


@dataclass(slots=True)
class Step:
    """Live bytes while one instruction of the schedule runs."""

    index: int
    instruction: str
    opcode: str
    argument: int
    output: int
    temp: int  # temporaries, including a loop or call body's own peak

    @property
    def total(self) -> int:
        return self.argument + self.output + self.temp


@dataclass(repr=False)
class MemoryTimeline(Displayed):
    """Live-buffer estimate of one device's program over its schedule."""

    steps: list[Step]
    buffers: list[Buffer]
    constant_bytes: int = 0
    scheduled: bool = True
    computation: str = ""
    notes: list[str] = field(default_factory=list)
    # XLA's memory analysis of the same program, when known (for display and `compare`)
    xla_memory: dict[str, int] | None = field(default=None, repr=False)

    @property
    def peak_bytes(self) -> int:
        return max((s.total for s in self.steps), default=0)

    @property
    def peak_step(self) -> Step | None:
        """The first step at the peak."""
        peak = self.peak_bytes
        return next((s for s in self.steps if s.total == peak), None)

    @property
    def peak_instruction(self) -> str:
        step = self.peak_step
        return step.instruction if step else ""

    @property
    def argument_bytes(self) -> int:
        return sum(b.nbytes for b in self.buffers if b.kind == ARGUMENT)

    @property
    def output_bytes(self) -> int:
        return sum(b.nbytes for b in self.buffers if b.kind == OUTPUT)

    def live_at(self, index: int) -> list[Buffer]:
        """Buffers alive at a step, largest first."""
        live = [b for b in self.buffers if b.start <= index <= b.end and b.nbytes]
        return sorted(live, key=lambda b: -b.nbytes)

    def compare(self, memory: dict[str, int] | None) -> MemoryComparison | None:
        """This estimate against XLA's memory analysis (None when XLA gives none)."""
        if not memory or "temp_size" not in memory:
            return None
        xla_total = (
            memory.get("argument_size", 0)
            + memory.get("output_size", 0)
            + memory.get("temp_size", 0)
            - memory.get("alias_size", 0)
        )
        return MemoryComparison(self.peak_bytes, xla_total)


@dataclass(frozen=True, slots=True)
class MemoryComparison:
    peak_bytes: int  # the timeline's peak
    xla_bytes: int  # argument + output + temp - alias, from XLA's memory analysis

    @property
    def ratio(self) -> float:
        """peak / XLA total (1.0 when both are 0)."""
        if self.xla_bytes == 0:
            return 1.0 if self.peak_bytes == 0 else float("inf")
        return self.peak_bytes / self.xla_bytes


def memory_timeline(module: HloModule) -> MemoryTimeline:
    """The live-buffer timeline of the module's entry computation."""
    if module.entry is None:
        return MemoryTimeline([], [], scheduled=module.is_scheduled)
    tracker = _Tracker(module, module.entry, entry=True)
    timeline = tracker.run()
    timeline.scheduled = module.is_scheduled
    timeline.computation = module.entry.name
    if not module.is_scheduled:
        timeline.notes.append("the module is not scheduled: instructions are taken in text order")
    return timeline


def _leaf_bytes(shape: str) -> list[int]:
    return [s.nbytes for s in parse_shape(shape)]


class _Tracker:
    """Assigns buffers to one computation's values and sweeps its schedule."""

    def __init__(
        self, module: HloModule, comp: HloComputation, *, entry: bool, loop_body: bool = False
    ):
        self.module = module
        self.comp = comp
        self.entry = entry
        self.loop_body = loop_body
        self.buffers: list[Buffer] = []
        self.values: dict[str, list[int]] = {}  # instruction -> buffer id per array leaf
        self.constant_bytes = 0
        self.transient: dict[int, int] = {}
        self.tables: dict[str, int] = {}  # tuple-shaped value -> its pointer table buffer

    def new(self, instr: HloInstruction, nbytes: int, kind: str, step: int) -> int:
        buf = Buffer(len(self.buffers), instr.name, nbytes, kind, step, step, instr.shape)
        self.buffers.append(buf)
        return buf.id

    def run(self) -> MemoryTimeline:
        instrs = self.comp.instructions
        last = len(instrs) - 1
        for step, instr in enumerate(instrs):
            self._define(instr, step)
            for name in instr.operands:
                for bid in self.values.get(name, ()):
                    self.buffers[bid].end = max(self.buffers[bid].end, step)
            if instr.opcode in _CALLS:
                self.transient[step] = self._callee_peak(instr)
        self._share_dying_operands()
        for buf in self.buffers:  # arguments live for the whole run
            if buf.kind == ARGUMENT:
                buf.start, buf.end = 0, last
        self._mark_outputs(last)
        live = [b for b in self.buffers if b.nbytes]
        # live bytes per step and kind: +size where a buffer starts, -size after its end
        change = {kind: [0] * (len(instrs) + 1) for kind in (ARGUMENT, OUTPUT, TEMP)}
        for buf in live:
            if buf.start <= buf.end:
                change[buf.kind][max(buf.start, 0)] += buf.nbytes
                change[buf.kind][min(buf.end, last) + 1] -= buf.nbytes
        totals = {ARGUMENT: 0, OUTPUT: 0, TEMP: 0}
        steps = []
        for step, instr in enumerate(instrs):
            for kind in totals:
                totals[kind] += change[kind][step]
            steps.append(
                Step(
                    step,
                    instr.name,
                    instr.opcode,
                    totals[ARGUMENT],
                    totals[OUTPUT],
                    totals[TEMP] + self.transient.get(step, 0),
                )
            )
        return MemoryTimeline(steps, live, self.constant_bytes)

    def _define(self, instr: HloInstruction, step: int) -> None:
        opcode = instr.opcode
        if opcode == "parameter":
            # A called computation's parameters are its caller's buffers.
            self.values[instr.name] = [
                self.new(instr, n if self.entry else 0, ARGUMENT, step)
                for n in _leaf_bytes(instr.shape)
            ]
        elif opcode == "constant":
            self.constant_bytes += instr.output_bytes
            self.values[instr.name] = []
        elif opcode in _ALIASING:
            self.values[instr.name] = self._alias(instr, step)
        else:
            leaves = _leaf_bytes(instr.shape)
            self.values[instr.name] = [self.new(instr, n, TEMP, step) for n in leaves]
            if len(leaves) > 1:  # a tuple-shaped result also has a pointer table
                table = POINTER_BYTES * len(tuple_elements(instr.shape))
                self.tables[instr.name] = self.new(instr, table, TEMP, step)

    def _alias(self, instr: HloInstruction, step: int) -> list[int]:
        operands = [self.values.get(name, []) for name in instr.operands]
        if instr.opcode == "get-tuple-element":
            ids = operands[0] if operands else []
            source = self.module.instructions.get(instr.operands[0]) if instr.operands else None
            if source is None:
                return ids
            index = int(instr.attribute("index") or 0)
            sizes = [len(parse_shape(e)) for e in tuple_elements(source.shape)]
            begin = sum(sizes[:index])
            return ids[begin : begin + (sizes[index] if index < len(sizes) else 0)]
        if instr.opcode == "tuple":
            table = POINTER_BYTES * len(instr.operands)
            self.tables[instr.name] = self.new(instr, table, TEMP, step)
            return [bid for ids in operands for bid in ids]
        return operands[0] if operands else []

    def _share_dying_operands(self) -> None:
        """Let a result take over an operand buffer of its shape whose last use it is."""
        taken_until = self._caller_slots()
        holders: dict[int, set[str]] = {}  # buffer -> values that hold it
        for value, held in self.values.items():
            for bid in held:
                holders.setdefault(bid, set()).add(value)
        for step, instr in enumerate(self.comp.instructions):
            result = self.values.get(instr.name, [])
            leaves = leaf_shapes(instr.shape)
            if len(result) != len(leaves):
                continue
            for leaf, candidates in _sharing_candidates(self.module, instr).items():
                out = self.buffers[result[leaf]]
                if out.start != step:
                    continue
                for k in candidates:
                    buf = self._dying_operand(instr, k, leaves[leaf], step)
                    if buf is None or buf.start <= taken_until.get(out.id, -1):
                        continue
                    buf.end = max(buf.end, out.end)
                    out.nbytes = 0
                    moved = holders.pop(out.id, set())
                    for value in moved:
                        self.values[value] = [
                            buf.id if b == out.id else b for b in self.values[value]
                        ]
                    holders.setdefault(buf.id, set()).update(moved)
                    taken_until = {
                        (buf.id if b == out.id else b): t for b, t in taken_until.items()
                    }
                    break

    def _caller_slots(self) -> dict[int, int]:
        """For a called computation, its results' buffers (they are the caller's) and the
        last step at which each is still busy: in a loop body, a result slot holds the
        matching loop-state input until that input's last use."""
        root = self.comp.root
        if self.entry or root is None:
            return {}
        results = self.values.get(root.name, [])
        params = [i for i in self.comp.instructions if i.opcode == "parameter"]
        state = self.values.get(params[0].name, []) if self.loop_body and params else []
        busy: dict[int, int] = {}
        for index, bid in enumerate(results):
            busy[bid] = self.buffers[state[index]].end if index < len(state) else -1
        return busy

    def _dying_operand(self, instr: HloInstruction, k: int, shape: str, step: int) -> Buffer | None:
        if k >= len(instr.operands):
            return None
        name = instr.operands[k]
        ids = self.values.get(name, [])
        operand = self.module.instructions.get(name)
        if len(ids) != 1 or operand is None or leaf_shapes(operand.shape) != [shape]:
            return None
        buf = self.buffers[ids[0]]
        if buf.kind != TEMP or buf.end != step or buf.nbytes == 0:
            return None
        return buf

    def _mark_outputs(self, last: int) -> None:
        root = self.comp.root
        if root is None:
            return
        donated = _donated_outputs(self.module) if self.entry else set()
        if root.name in self.tables:
            table = self.buffers[self.tables[root.name]]
            table.kind, table.end = OUTPUT, last
        for index, bid in enumerate(self.values.get(root.name, ())):
            buf = self.buffers[bid]
            if buf.kind == ARGUMENT:
                continue
            buf.kind = OUTPUT
            buf.end = last
            if index in donated:
                buf.nbytes = 0  # written into the donated argument's memory

    def _callee_peak(self, instr: HloInstruction) -> int:
        """The largest peak of temporaries among the computations an instruction runs."""
        peak = 0
        body = instr.attribute("body") if instr.opcode == "while" else None
        for name in instr.called:
            comp = self.module.computations.get(name)
            if comp is None or not comp.instructions:
                continue
            loop_body = body is not None and body.lstrip("%") == name
            inner = _Tracker(self.module, comp, entry=False, loop_body=loop_body).run()
            peak = max(peak, max((s.temp for s in inner.steps), default=0))
        return peak


def _sharing_candidates(module: HloModule, instr: HloInstruction) -> dict[int, list[int]]:
    """Result leaf -> operand indices whose buffer that leaf may reuse, as XLA allows."""
    opcode = instr.opcode
    aliasing = instr.attribute("output_to_operand_aliasing")
    if aliasing:
        pairs = re.findall(r"\{([\d,\s]*)\}:\s*\((\d+)", aliasing)
        return {int(i.split(",")[0] or 0): [int(k)] for i, k in pairs}
    if opcode in _IN_PLACE:
        return {0: [0]}
    if opcode == "sort":
        return {i: [i] for i in range(len(instr.operands))}
    if opcode in _ELEMENTWISE:
        return {0: list(range(len(instr.operands)))}
    if opcode == "fusion" and instr.fusion_kind in _SHARING_FUSIONS:
        fused = module.called_computation(instr)
        if fused is None:
            return {}
        return {0: [k for k in range(len(instr.operands)) if _fused_use_shares(fused, k)]}
    return {}


def _fused_use_shares(fused: HloComputation, k: int) -> bool:
    """True when fused parameter `k` is only read element by element on its way to the root,
    or is the buffer an in-place update at the root writes into."""
    param = next((i for i in fused.instructions if i.parameter_number == k), None)
    root = fused.root
    if param is None or root is None:
        return False
    target = root
    while target.opcode == "bitcast" and target.operands:
        target = next((i for i in fused.instructions if i.name == target.operands[0]), target)
        if target.opcode != "bitcast":
            break
    if target.opcode in _IN_PLACE and target.operands and target.operands[0] == param.name:
        return True
    users: dict[str, list[HloInstruction]] = {}
    for op in fused.instructions:
        for name in op.operands:
            users.setdefault(name, []).append(op)
    pending = [param.name]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        for user in users.get(name, ()):
            if user.opcode not in _ELEMENTWISE or user.name in seen:
                if user.opcode not in _ELEMENTWISE:
                    return False
                continue
            seen.add(user.name)
            pending.append(user.name)
    return True


def _donated_outputs(module: HloModule) -> set[int]:
    """Indices of entry outputs that XLA writes into a donated argument's buffer."""
    text = module.attribute("input_output_alias")
    if not text:
        return set()
    out: set[int] = set()
    # ``{ {0}: (0, {}, may-alias), {1}: (2, {}, must-alias) }``
    for index, _param in re.findall(r"\{([\d,\s]*)\}:\s*\((\d+)", text):
        parts = [p for p in index.replace(" ", "").split(",") if p]
        out.add(int(parts[0]) if parts else 0)
    return out
