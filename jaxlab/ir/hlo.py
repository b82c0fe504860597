"""Parser of XLA's optimized HLO text (``Compiled.as_text()``).

It keeps what the views and analyses need: computations, instructions with their shapes,
operands, called computations, fusion kinds and metadata (op_name, stack frames), and the
module's stack-frame tables that map instructions back to source lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from jaxlab.base import scan

_HEADER = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s*\((.*)\)\s*->\s*(.*?)\s*\{\s*$")
_METADATA = re.compile(r'metadata=\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}')
_META_ITEM = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^\s}]+)')
_CALLED = re.compile(
    r"\b(calls|to_apply|condition|body|branch_computations|true_computation|false_computation)"
    r"=(\{[^}]*\}|%?[\w.\-]+)"
)
_KIND = re.compile(r"\bkind=(k\w+)")
_TABLE_ROW = re.compile(r"^(\d+)\s+(.*)$")
_FIELD = re.compile(r"(\w+)=(-?\d+)")
_ARRAY_SHAPE = re.compile(r"([a-z]+[0-9]*)\[([0-9,]*)\]")

DTYPE_BYTES = {
    "pred": 1, "s2": 1, "s4": 1, "s8": 1, "s16": 2, "s32": 4, "s64": 8,
    "u2": 1, "u4": 1, "u8": 1, "u16": 2, "u32": 4, "u64": 8,
    "f8e4m3fn": 1, "f8e5m2": 1, "f8e4m3": 1, "f8e4m3fnuz": 1, "f8e5m2fnuz": 1, "f8e3m4": 1,
    "f4e2m1fn": 1, "f8e8m0fnu": 1,
    "bf16": 2, "f16": 2, "f32": 4, "f64": 8, "c64": 8, "c128": 16, "token": 0,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArrayShape:
    dtype: str
    dims: tuple[int, ...]

    @property
    def size(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.size * DTYPE_BYTES.get(self.dtype, 4)

    def __str__(self) -> str:
        return f"{self.dtype}[{','.join(map(str, self.dims))}]"


def parse_shape(text: str) -> list[ArrayShape]:
    """The array shapes in an HLO shape string; a tuple shape gives several."""
    return [
        ArrayShape(dtype, tuple(map(int, dims.split(","))) if dims else ())
        for dtype, dims in _ARRAY_SHAPE.findall(text)
    ]


@dataclass(frozen=True, slots=True)
class StackFrame:
    id: int
    file: str
    function: str
    line: int
    column: int
    parent: int  # 0: none


@dataclass(slots=True)
class HloInstruction:
    name: str
    opcode: str
    shape: str
    operands: list[str]
    attributes: str
    computation: str
    line: int  # 1-based line in the module text
    is_root: bool = False
    op_name: str = ""
    stack_frame_id: int = 0
    source_file: str = ""
    source_line: int = 0
    called: list[str] = field(default_factory=list)
    fusion_kind: str = ""
    parameter_number: int = -1  # for ``parameter(N)``
    _shapes: list[ArrayShape] | None = None

    def __repr__(self) -> str:
        kind = f" ({self.fusion_kind})" if self.fusion_kind else ""
        return (
            f"<HloInstruction {self.name} = {self.opcode}{kind} {self.shape} in {self.computation}>"
        )

    @property
    def shapes(self) -> list[ArrayShape]:
        if self._shapes is None:
            self._shapes = parse_shape(self.shape)
        return self._shapes

    @property
    def output_bytes(self) -> int:
        return sum(s.nbytes for s in self.shapes)

    def attribute(self, key: str) -> str | None:
        """The raw text of one attribute (``replica_groups``, ``dimensions``, ...), or None."""
        if key + "=" not in self.attributes:
            return None
        return parse_attributes(self.attributes).get(key)


@dataclass(slots=True)
class HloComputation:
    name: str
    is_entry: bool
    line: int
    end_line: int = 0
    instructions: list[HloInstruction] = field(default_factory=list)
    # 'control': runs as a program of kernels (entry, while/call/conditional bodies);
    # 'fused': the body of a fusion; 'applied': applied per element (reduce's to_apply, ...)
    kind: str = "fused"

    @property
    def root(self) -> HloInstruction | None:
        for instr in self.instructions:
            if instr.is_root:
                return instr
        return self.instructions[-1] if self.instructions else None


@dataclass(slots=True)
class HloModule:
    name: str
    text: str
    computations: dict[str, HloComputation]
    entry: HloComputation | None
    frames: dict[int, StackFrame]
    instructions: dict[str, HloInstruction]
    header: str = ""  # the attributes on the ``HloModule`` line (num_partitions=, ...)
    _chains: dict[int, tuple[tuple[str, int, int, str], ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> HloModule:
        return _Parser(text).parse()

    def __iter__(self) -> Iterator[HloInstruction]:
        return iter(self.instructions.values())

    def __len__(self) -> int:
        return len(self.instructions)

    def frame_chain(self, frame_id: int) -> list[StackFrame]:
        """The stack of an instruction's frame, innermost first."""
        chain: list[StackFrame] = []
        seen: set[int] = set()
        while frame_id and frame_id in self.frames and frame_id not in seen:
            seen.add(frame_id)
            frame = self.frames[frame_id]
            chain.append(frame)
            frame_id = frame.parent
        return chain

    def source_of(self, instr: HloInstruction) -> list[StackFrame]:
        """Source frames of an instruction, innermost first ([] when XLA kept none)."""
        if instr.stack_frame_id:
            return self.frame_chain(instr.stack_frame_id)
        if instr.source_file:
            return [StackFrame(0, instr.source_file, "", instr.source_line, 0, 0)]
        return []

    def frames_of(self, instr: HloInstruction) -> tuple[tuple[str, int, int, str], ...]:
        """Source frames of an instruction as (file, line, column, function), innermost first.

        Cached per stack frame: instructions of one source line share their chain."""
        fid = instr.stack_frame_id
        if fid:
            chain = self._chains.get(fid)
            if chain is None:
                chain = self._chains[fid] = tuple(
                    (f.file, f.line, f.column, f.function) for f in self.frame_chain(fid)
                )
            return chain
        if instr.source_file:
            return ((instr.source_file, instr.source_line, 0, ""),)
        return ()

    def attribute(self, key: str) -> str | None:
        """A module attribute from the ``HloModule`` line (e.g. ``num_partitions``), or None."""
        return parse_attributes(self.header).get(key)

    @property
    def is_scheduled(self) -> bool:
        """True when each computation's instructions are printed in XLA's execution order."""
        return self.attribute("is_scheduled") == "true"

    @property
    def num_devices(self) -> int:
        """Devices one run of the program spans: partitions (SPMD) times replicas."""
        total = 1
        for key in ("num_partitions", "replica_count"):
            value = self.attribute(key)
            if value and value.isdigit():
                total *= int(value)
        return total

    def operand_shapes(self, instr: HloInstruction) -> list[ArrayShape]:
        """Shapes of an instruction's operands (one per array; tuples give several)."""
        out: list[ArrayShape] = []
        for name in instr.operands:
            operand = self.instructions.get(name)
            if operand is not None:
                out.extend(operand.shapes)
        return out

    def fusion_instructions(self) -> list[HloInstruction]:
        return [i for i in self.instructions.values() if i.opcode == "fusion"]

    def called_computation(self, instr: HloInstruction) -> HloComputation | None:
        for name in instr.called:
            comp = self.computations.get(name)
            if comp is not None:
                return comp
        return None


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.lines = text.splitlines()

    def parse(self) -> HloModule:
        name = ""
        module_attributes = ""
        computations: dict[str, HloComputation] = {}
        instructions: dict[str, HloInstruction] = {}
        entry = None
        tables: dict[str, dict[int, str]] = {}
        current_table: dict[int, str] | None = None
        current: HloComputation | None = None
        for index, raw in enumerate(self.lines):
            lineno = index + 1
            line = raw.strip()
            if current is not None:
                if line == "}":
                    current.end_line = lineno
                    current = None
                    continue
                if not line or line.startswith("//"):
                    continue
                instr = _parse_instruction(line, current.name, lineno)
                if instr is not None:
                    current.instructions.append(instr)
                    instructions[instr.name] = instr
                continue
            if not line:
                current_table = None
                continue
            if line.startswith("HloModule "):
                name, _, module_attributes = line[len("HloModule ") :].partition(",")
                name, module_attributes = name.strip(), module_attributes.strip()
                continue
            if line in ("FileNames", "FunctionNames", "FileLocations", "StackFrames"):
                current_table = tables.setdefault(line, {})
                continue
            if current_table is not None:
                row = _TABLE_ROW.match(line)
                if row:
                    current_table[int(row.group(1))] = row.group(2)
                    continue
                current_table = None
            header = _HEADER.match(line)
            if header:
                comp = HloComputation(
                    name=header.group(2), is_entry=bool(header.group(1)), line=lineno
                )
                computations[comp.name] = comp
                if comp.is_entry:
                    entry = comp
                current = comp
        frames = _frames(tables)
        _classify(computations, entry)
        return HloModule(
            name, self.text, computations, entry, frames, instructions, module_attributes
        )


def parse_attributes(text: str) -> dict[str, str]:
    """``key=value`` pairs of an attribute list, splitting only at top-level commas.

    Values keep their brackets (``{{0,1},{2,3}}``, ``[2,4]<=[8]``). A mesh-style replica
    group list (``mesh['x'=4], device_ids=(...) {'x'}``) stays one ``replica_groups`` value.
    """
    out: dict[str, str] = {}
    for piece in scan.split(text, ",", scan.HLO):
        key, eq, value = piece.strip().partition("=")
        if not eq or not key.replace("_", "").replace("-", "").isalnum():
            continue
        if key == "device_ids" and out.get("replica_groups", "").startswith("mesh["):
            out["replica_groups"] += f", {piece.strip()}"
            continue
        out[key] = value.strip()
    return out


def leaf_shapes(shape: str) -> list[str]:
    """The array shapes of a (possibly nested) tuple shape text, with their layouts."""
    elements = tuple_elements(shape)
    if len(elements) == 1 and elements[0] == shape.strip():
        return elements
    return [leaf for element in elements for leaf in leaf_shapes(element)]


def tuple_elements(shape: str) -> list[str]:
    """The top-level elements of a tuple shape text; a non-tuple shape gives itself."""
    shape = shape.strip()
    if not shape.startswith("("):
        return [shape]
    inner = shape[1 : scan.closing(shape, 0, scan.HLO)]
    return [part.strip() for part in scan.split(inner, ",", scan.HLO) if part.strip()]


_CONTROL_CALLERS = {"while", "call", "conditional", "async-start", "async-done"}


def _classify(computations: dict[str, HloComputation], entry: HloComputation | None) -> None:
    """Mark the computations that run as programs of kernels (reached from the entry through
    control flow) and those applied inside an instruction."""
    if entry is None:
        return
    todo = [entry]
    entry.kind = "control"
    while todo:
        comp = todo.pop()
        for instr in comp.instructions:
            if not instr.called:
                continue
            control = instr.opcode in _CONTROL_CALLERS
            for name in instr.called:
                callee = computations.get(name)
                if callee is None or callee.kind == "control":
                    continue
                if control:
                    callee.kind = "control"
                    todo.append(callee)
                elif instr.opcode != "fusion":
                    callee.kind = "applied"


def _frames(tables: dict[str, dict[int, str]]) -> dict[int, StackFrame]:
    files = {k: _unquote(v) for k, v in tables.get("FileNames", {}).items()}
    functions = {k: _unquote(v) for k, v in tables.get("FunctionNames", {}).items()}
    locations = {k: {a: int(b) for a, b in _FIELD.findall(v)}
                 for k, v in tables.get("FileLocations", {}).items()}  # fmt: skip
    frames: dict[int, StackFrame] = {}
    for fid, text in tables.get("StackFrames", {}).items():
        fields = {a: int(b) for a, b in _FIELD.findall(text)}
        loc = locations.get(fields.get("file_location_id", 0), {})
        # The printed parent id is one more than the parent's own id (0 and 1: no parent).
        parent = max(fields.get("parent_frame_id", 0) - 1, 0)
        frames[fid] = StackFrame(
            id=fid,
            file=files.get(loc.get("file_name_id", 0), ""),
            function=functions.get(loc.get("function_name_id", 0), ""),
            line=loc.get("line", 0),
            column=loc.get("column", 0),
            parent=parent if parent != fid else 0,
        )
    return frames


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        body = text[1:-1]
        return body.replace('\\"', '"').replace("\\\\", "\\") if "\\" in body else body
    return text


# the common instruction: an array shape without spaces, operands without nested brackets
_FAST = re.compile(r"(ROOT )?%?([^\s=]+) = ([^\s(]+) ([a-z][\w\-]*)\(([^()\"{]*)\)(?:, )?(.*)")
_OPERAND = re.compile(r"%([^\s,()]+)")
_OP_NAME = re.compile(r'\bop_name="((?:[^"\\]|\\.)*)"(?: stack_frame_id=(\d+))?')
_FRAME_ID = re.compile(r"\bstack_frame_id=(\d+)")


def _parse_instruction(line: str, computation: str, lineno: int) -> HloInstruction | None:
    fast = _FAST.fullmatch(line)
    if fast is not None:
        root, name, shape, opcode, inner, attributes = fast.groups()
        is_root = root is not None
    else:
        parsed = _parse_slow(line)
        if parsed is None:
            return None
        is_root, name, shape, opcode, inner, attributes = parsed
    operands = _OPERAND.findall(inner) if "%" in inner else []
    instr = HloInstruction(
        name=name,
        opcode=opcode,
        shape=shape,
        operands=operands,
        attributes=attributes,
        computation=computation,
        line=lineno,
        is_root=is_root,
    )
    if opcode == "parameter" and inner.isdigit():
        instr.parameter_number = int(inner)
    if not attributes:
        return instr
    pos = attributes.find("metadata={")
    if pos >= 0:
        if "\\" not in attributes and "source_" not in attributes:
            # op_name and stack_frame_id appear nowhere but in the metadata
            m = _OP_NAME.search(attributes, pos)
            if m:
                instr.op_name = m.group(1)
                if m.group(2):
                    instr.stack_frame_id = int(m.group(2))
                    return _called(instr, attributes)
            m = _FRAME_ID.search(attributes, pos)
            if m:
                instr.stack_frame_id = int(m.group(1))
        else:
            meta = _METADATA.search(attributes)
            for key, value in _META_ITEM.findall(meta.group(1) if meta else ""):
                if key == "op_name":
                    instr.op_name = _unquote(value)
                elif key == "stack_frame_id":
                    instr.stack_frame_id = int(value)
                elif key == "source_file":
                    instr.source_file = _unquote(value)
                elif key == "source_line":
                    instr.source_line = int(value)
    return _called(instr, attributes)


def _called(instr: HloInstruction, attributes: str) -> HloInstruction:
    """Fill in the computations an instruction calls and its fusion kind."""
    if "=%" in attributes or "={%" in attributes:
        for _, target in _CALLED.findall(attributes):
            instr.called.extend(
                t.strip().lstrip("%") for t in target.strip("{}").split(",") if t.strip()
            )
    if "kind=" in attributes:
        kind = _KIND.search(attributes)
        if kind:
            instr.fusion_kind = kind.group(1)
    return instr


def _parse_slow(line: str) -> tuple[bool, str, str, str, str, str] | None:
    """Instructions with tuple shapes or bracketed operands, matching brackets by hand."""
    is_root = line.startswith("ROOT ")
    if is_root:
        line = line[5:]
    eq = line.find(" = ")
    if eq < 0:
        return None
    name = line[:eq].strip().lstrip("%")
    rest = line[eq + 3 :]
    if rest.startswith("("):
        end = scan.closing(rest, 0, scan.HLO) + 1
    else:
        end = rest.find(" ")
        if end < 0:
            return None
    shape = rest[:end]
    rest = rest[end:].lstrip()
    paren = rest.find("(")
    if paren <= 0:
        return None
    opcode = rest[:paren]
    close = scan.closing(rest, paren, scan.HLO)
    inner = rest[paren + 1 : close]
    attributes = rest[close + 1 :].lstrip(", ")
    return is_root, name, shape, opcode, inner, attributes
