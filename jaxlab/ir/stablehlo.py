"""StableHLO text with source locations (``Lowered.as_text(debug_info=True)``) as plain data.

JAX writes MLIR locations: a ``#locN = loc(...)`` table after the module and ``loc(#locN)`` at
the end of each op. A location nests file locations (``"f.py":3:10 to :21``), name locations
(``"fn"(...)`` for a frame's function, ``"jit(f)/blk/mul"(...)`` for the op's name stack),
call sites (``callsite(callee at caller)``) and fused locations. This module resolves them to
an op name and a list of frames, innermost first, and gives the text without locations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jaxlab.base import scan

# one frame: (file, line, column, function)
Frame = tuple[str, int, int, str]

_ALIAS_DEF = re.compile(r"^(#loc\d*) = loc\((.*)\)\s*$")
_TRAILING_LOC = re.compile(
    r"\s+loc\((?:[^()\"]|\"(?:[^\"\\]|\\.)*\"|\((?:[^()\"]|\"(?:[^\"\\]|\\.)*\")*\))*\)\s*$"
)
_INLINE_LOC = re.compile(r" loc\((?:#loc\d*|unknown|\"(?:[^\"\\]|\\.)*\")\)")
_OP = re.compile(r"^\s*(?:(%[\w#:, %]+?) = )?\"?([a-z_]+\.[\w.]+|return)\b")
_FILE_LOC = re.compile(r'^"((?:[^"\\]|\\.)*)":(\d+):(\d+)')


@dataclass(frozen=True, slots=True)
class Location:
    op_name: str  # name stack and primitive, e.g. 'jit(fn)/blk/mul' ('' when none)
    frames: tuple[Frame, ...]  # innermost first

    @property
    def source_lines(self) -> list[tuple[str, int]]:
        return [(f[0], f[1]) for f in self.frames]


UNKNOWN = Location("", ())


@dataclass(slots=True)
class StableHloOp:
    line: int  # 1-based line in StableHloModule.text
    op: str  # e.g. 'stablehlo.multiply', 'func.call', 'return'
    results: str  # e.g. '%3', '%3:4'
    location: Location

    @property
    def frames(self) -> tuple[Frame, ...]:
        return self.location.frames

    @property
    def op_name(self) -> str:
        return self.location.op_name

    def __repr__(self) -> str:
        where = f" at line {self.frames[0][1]}" if self.frames else ""
        return f"<StableHloOp {self.op} (text line {self.line}){where}>"


@dataclass(slots=True)
class StableHloModule:
    text: str  # the module without location annotations; op lines refer to it
    ops: list[StableHloOp]

    @classmethod
    def parse(cls, debug_text: str) -> StableHloModule:
        return _parse(debug_text)

    def __len__(self) -> int:
        return len(self.ops)


def _parse(debug_text: str) -> StableHloModule:
    lines = debug_text.splitlines()
    aliases: dict[str, str] = {}
    body: list[str] = []
    for raw in lines:
        if raw.startswith("#loc"):
            m = _ALIAS_DEF.match(raw)
            if m:
                aliases[m.group(1)] = m.group(2)
                continue
        body.append(raw)
    while body and not body[-1].strip():
        body.pop()
    resolver = _Resolver(aliases)
    ops: list[StableHloOp] = []
    out_lines: list[str] = []
    for index, raw in enumerate(body):
        loc_text = ""
        line = raw
        m = _TRAILING_LOC.search(raw) if raw.endswith(")") else None
        if m:
            loc_text = m.group(0).strip()[4:-1]
            line = raw[: m.start()]
        if " loc(" in line:
            line = _INLINE_LOC.sub("", line)
        out_lines.append(line)
        op = _OP.match(line)
        if op and loc_text:
            ops.append(
                StableHloOp(
                    line=index + 1,
                    op=op.group(2),
                    results=(op.group(1) or "").strip(),
                    location=resolver.resolve(loc_text),
                )
            )
    return StableHloModule("\n".join(out_lines), ops)


class _Resolver:
    def __init__(self, aliases: dict[str, str]):
        self.aliases = aliases
        self.cache: dict[str, Location] = {}

    def resolve(self, text: str) -> Location:
        text = text.strip()
        hit = self.cache.get(text)
        if hit is not None:
            return hit
        self.cache[text] = UNKNOWN  # guards against cycles in malformed input
        loc = self._resolve(text)
        self.cache[text] = loc
        return loc

    def _resolve(self, text: str) -> Location:
        if text.startswith("#loc"):
            target = self.aliases.get(text)
            return self.resolve(target) if target is not None else UNKNOWN
        if text.startswith("callsite("):
            inner = text[len("callsite(") : -1]
            split = scan.find(inner, " at ", scan.MLIR)
            if split < 0:
                return UNKNOWN
            callee = self.resolve(inner[:split])
            caller = self.resolve(inner[split + 4 :])
            return Location(callee.op_name or caller.op_name, callee.frames + caller.frames)
        if text.startswith("fused"):
            start = text.find("[")
            parts = scan.split(text[start + 1 : -1], ", ", scan.MLIR) if start >= 0 else []
            resolved = [self.resolve(p) for p in parts]
            op_name = next((r.op_name for r in resolved if r.op_name), "")
            frames = next((r.frames for r in resolved if r.frames), ())
            return Location(op_name, frames)
        if text.startswith('"'):
            end = scan.string_end(text, 0, scan.MLIR)
            name = _unescape(text[1:end])
            rest = text[end + 1 :]
            if rest.startswith(":"):
                m = _FILE_LOC.match(text)
                if m:
                    return Location(
                        "", ((_unescape(m.group(1)), int(m.group(2)), int(m.group(3)), ""),)
                    )
                return UNKNOWN
            if rest.startswith("(") and rest.endswith(")"):
                child = self.resolve(rest[1:-1])
                if len(child.frames) == 1 and not child.op_name and not child.frames[0][3]:
                    file, line, col, _ = child.frames[0]
                    return Location("", ((file, line, col, name),))
                return Location(child.op_name or name, child.frames)
            return Location(name, ())
        return UNKNOWN


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\") if "\\" in text else text
