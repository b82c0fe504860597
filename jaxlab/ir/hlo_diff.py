"""Diffs of two programs' IR text that ignore what renumbering changes.

XLA and JAX number names as they make them (``%add.12``, ``%3``, jaxpr variables ``bq``), and
number stack frames in metadata; two compilations of the same program can differ in every one
of them. Lines are compared by a key with those numbers and the metadata taken out, and shown
as they were. Changes are also grouped by the source line the instructions came from.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from jaxlab.base.format import source_location
from jaxlab.ir.hlo import HloModule
from jaxlab.ir.hlo_text import TABLES, strip_metadata

_HLO_META = re.compile(r',?\s*metadata=\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}')
_HLO_NUMBERED = re.compile(r"(%?[A-Za-z_][\w\-]*?)(?:\.\d+)+\b")
_MLIR_SSA = re.compile(r"%(?:arg)?\d+(?::\d+)?(?:#\d+)?")
_MLIR_LOC = re.compile(r"\s*loc\(.*\)\s*$")
_JAXPR_DECL = re.compile(r"\b([a-z]+):(?=[a-z]+\d*\[)")
_SHAPE_LAYOUT = re.compile(r"\{[0-9,]*(?::[^}]*)?\}")


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: `kind` is ``same``, ``removed``, ``added`` or
    ``changed`` (a removed line paired with the added line that replaced it)."""

    kind: str
    a: str | None
    b: str | None
    a_line: int = 0  # 1-based line in the first text (0: none)
    b_line: int = 0


@dataclass
class TextDiff:
    """A diff of two IR texts, row by row."""

    what: str
    rows: list[DiffRow] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.kind != "same" for r in self.rows)

    @property
    def added(self) -> int:
        return sum(r.kind in ("added", "changed") for r in self.rows)

    @property
    def removed(self) -> int:
        return sum(r.kind in ("removed", "changed") for r in self.rows)

    def unified(self, context: int = 2) -> str:
        """The changes as ``-``/``+`` lines with `context` unchanged lines around each."""
        keep = _near_changes(self.rows, context)
        out: list[str] = []
        last = -2
        for i, row in enumerate(self.rows):
            if i not in keep:
                continue
            if i != last + 1:
                out.append(f"@@ line {row.a_line or '?'} / {row.b_line or '?'} @@")
            last = i
            if row.kind == "same":
                out.append(f"  {row.a}")
            if row.kind in ("removed", "changed"):
                out.append(f"- {row.a}")
            if row.kind in ("added", "changed"):
                out.append(f"+ {row.b}")
        return "\n".join(out)


def _near_changes(rows: list[DiffRow], context: int) -> set[int]:
    keep: set[int] = set()
    for i, row in enumerate(rows):
        if row.kind != "same":
            keep.update(range(max(0, i - context), min(len(rows), i + context + 1)))
    return keep


def hlo_key(line: str) -> str:
    """An HLO line without metadata, layouts and name numbers."""
    line = _HLO_META.sub("", line)
    line = _SHAPE_LAYOUT.sub("", line)
    return _HLO_NUMBERED.sub(r"\1", line).strip()


def mlir_key(line: str) -> str:
    """A StableHLO line without its location and SSA numbers."""
    return _MLIR_SSA.sub("%_", _MLIR_LOC.sub("", line)).strip()


def jaxpr_keys(lines: list[str]) -> list[str]:
    """Jaxpr lines with variable names replaced (they are renamed in order of appearance)."""
    names = {m.group(1) for line in lines for m in _JAXPR_DECL.finditer(line)}
    if not names:
        return [line.strip() for line in lines]
    pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b(?!\[)")
    return [pattern.sub("_", line).strip() for line in lines]


def hlo_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of an HLO module's text without its stack-frame tables, blank
    lines and instructions' metadata (as every view shows HLO)."""
    out: list[tuple[int, str]] = []
    in_table = False
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped in TABLES:
            in_table = True
            continue
        if in_table:
            if stripped:
                continue
            in_table = False
            continue
        if stripped:
            out.append((n, strip_metadata(line).rstrip()))
    return out


def text_diff(what: str, a: str, b: str, kind: str = "hlo") -> TextDiff:
    """Diff two texts of one IR (`kind`: ``hlo``, ``stablehlo``, ``jaxpr`` or ``text``)."""
    if kind == "hlo":
        la, lb = hlo_lines(a), hlo_lines(b)
    else:
        la = [(n, s.rstrip()) for n, s in enumerate(a.splitlines(), 1) if s.strip()]
        lb = [(n, s.rstrip()) for n, s in enumerate(b.splitlines(), 1) if s.strip()]
    ka, kb = _keys(kind, [s for _, s in la]), _keys(kind, [s for _, s in lb])
    diff = TextDiff(what)
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                diff.rows.append(DiffRow("same", la[i][1], lb[j][1], la[i][0], lb[j][0]))
            continue
        paired = i2 - i1 if tag == "replace" and i2 - i1 == j2 - j1 else 0
        for k in range(paired):
            i, j = i1 + k, j1 + k
            diff.rows.append(DiffRow("changed", la[i][1], lb[j][1], la[i][0], lb[j][0]))
        for i in range(i1 + paired, i2):
            diff.rows.append(DiffRow("removed", la[i][1], None, la[i][0], 0))
        for j in range(j1 + paired, j2):
            diff.rows.append(DiffRow("added", None, lb[j][1], 0, lb[j][0]))
    return diff


def _keys(kind: str, lines: list[str]) -> list[str]:
    if kind == "hlo":
        return [hlo_key(s) for s in lines]
    if kind == "stablehlo":
        return [mlir_key(s) for s in lines]
    if kind == "jaxpr":
        return jaxpr_keys(lines)
    return [s.strip() for s in lines]


@dataclass
class LineChange:
    """What one source line made in each program, where that differs."""

    file: str
    line: int
    removed: list[str] = field(default_factory=list)  # keys only in the first program
    added: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """ "In [7], line 2" for a notebook cell's line, "model.py:12" for a file's."""
        return source_location(self.file, self.line)


@dataclass
class SourceAlignment:
    """Instructions grouped by source line in two programs, and the lines whose output
    changed. `common` counts the source lines found in both (0: nothing aligns)."""

    changes: list[LineChange] = field(default_factory=list)
    common: int = 0
    only_a: list[tuple[str, int]] = field(default_factory=list)
    only_b: list[tuple[str, int]] = field(default_factory=list)
    by_function: bool = False  # places are (function, line), not (file, line)


def hlo_by_line(module: HloModule, by_function: bool = False) -> dict[tuple[str, int], Counter]:
    """Normalized instruction keys per innermost source line: (file, line), or (function,
    line) with `by_function` (to align programs whose files differ, such as the cells of two
    notebook sessions)."""
    out: dict[tuple[str, int], Counter] = {}
    for instr in module:
        frames = module.frames_of(instr)
        if not frames or not frames[0][1]:
            continue
        key = f"{instr.opcode} {_SHAPE_LAYOUT.sub('', instr.shape)}"
        place = (frames[0][3] if by_function else frames[0][0], frames[0][1])
        out.setdefault(place, Counter())[key] += 1
    return out


def align_by_line(
    a: dict[tuple[str, int], Counter], b: dict[tuple[str, int], Counter]
) -> SourceAlignment:
    """Compare what each source line made in two programs."""
    result = SourceAlignment()
    for place in sorted(set(a) | set(b)):
        ca, cb = a.get(place, Counter()), b.get(place, Counter())
        if place in a and place in b:
            result.common += 1
        elif place in a:
            result.only_a.append(place)
        else:
            result.only_b.append(place)
        if ca == cb:
            continue
        removed, added = ca - cb, cb - ca
        result.changes.append(
            LineChange(
                place[0],
                place[1],
                [f"{k} ×{n}" if n > 1 else k for k, n in sorted(removed.items())],
                [f"{k} ×{n}" if n > 1 else k for k, n in sorted(added.items())],
            )
        )
    return result
