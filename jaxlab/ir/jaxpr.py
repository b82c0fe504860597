"""A jaxpr as plain data: every equation (nested sub-jaxprs included) with the
user frames it came from, its named scope, its variables, and its line in JAX's printed text.

Sub-jaxprs are found generically in equation parameters (``jit``, ``scan``, ``while``,
``cond`` branches, ``custom_jvp_call``, ``custom_vjp_call``, ``remat``, ``shard_map`` ...), so
primitives added by later JAX versions are walked too.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base import compat as _compat

# one user frame: (file, line, column, function)
Frame = tuple[str, int, int, str]


def jaxpr_text(closed: Any) -> str:
    """A jaxpr's text as JAX prints it, without terminal colours."""
    try:
        return closed.pretty_print(use_color=False)
    except Exception:
        return str(closed)


@dataclass(slots=True)
class SubJaxpr:
    """A jaxpr nested in an equation's parameters (``jaxpr``, ``body_jaxpr``, ``branches[1]``)."""

    label: str
    equations: list[int]  # indices into JaxprModel.equations, in order
    invars: list[int]
    outvars: list[int]


@dataclass(slots=True)
class Equation:
    index: int  # position in the program; a jaxpr's equations come before its sub-jaxprs' ones
    primitive: str
    parent: int  # index of the equation whose sub-jaxpr holds this one, -1 at top level
    depth: int
    name_stack: str  # named scopes and transforms, e.g. 'blk' or 'transpose(jvp(blk))'
    frames: list[Frame]  # user frames, innermost first
    invars: list[int]  # variable ids, -1 for a literal
    outvars: list[int]  # variable ids, -1 for a dropped output
    out_avals: list[Any]
    name: str = ""  # the 'name' parameter of calls (jit, custom_jvp_call), if any
    subjaxprs: list[SubJaxpr] = field(default_factory=list)
    text_line: int = 0  # 1-based line of the equation in JaxprModel.text (0: not found)
    # stable id: position in its jaxpr, after the parents' positions and the parameter holding
    # the sub-jaxpr ('4', '4/jaxpr/2', '7/branches[1]/0'); the numerics rows use the same ids
    path: str = ""

    @property
    def source(self) -> tuple[str, int] | None:
        """(file, line) of the innermost user frame."""
        return (self.frames[0][0], self.frames[0][1]) if self.frames else None

    @property
    def source_lines(self) -> list[tuple[str, int]]:
        return [(f[0], f[1]) for f in self.frames]

    @property
    def out_types(self) -> list[str]:
        """Types of the outputs, e.g. ['f32[8]']."""
        return [_aval_text(a) for a in self.out_avals]

    @property
    def title(self) -> str:
        return f"{self.primitive} {self.name}" if self.name else self.primitive

    def __repr__(self) -> str:
        where = f" at line {self.frames[0][1]}" if self.frames else ""
        return f"<Equation #{self.index} {self.title}{where}>"


@dataclass(slots=True)
class JaxprModel:
    text: str
    equations: list[Equation]
    invars: list[int]
    outvars: list[int]
    top: list[int]  # indices of the top-level equations

    @classmethod
    def build(cls, closed: Any, text: str | None = None) -> JaxprModel:
        jaxpr = getattr(closed, "jaxpr", closed)
        if text is None:
            text = jaxpr_text(closed)
        walker = _Walker()
        top = walker.walk(jaxpr, -1, 0, "")
        model = cls(
            text=text,
            equations=walker.equations,
            invars=walker.var_ids(jaxpr.invars),
            outvars=walker.var_ids(jaxpr.outvars),
            top=top,
        )
        _assign_text_lines(text, walker.blocks, model.equations)
        return model

    def __len__(self) -> int:
        return len(self.equations)

    def children(self, index: int) -> list[int]:
        return [i for sub in self.equations[index].subjaxprs for i in sub.equations]


def sub_jaxprs(params: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, jaxpr) of every jaxpr in an equation's parameters, in parameter-name order."""
    found = []
    for key, value in params.items():
        if isinstance(value, (tuple, list)):
            for i, item in enumerate(value):
                inner = _as_jaxpr(item)
                if inner is not None:
                    found.append((key, i, f"{key}[{i}]", inner))
        elif hasattr(value, "eqns") or hasattr(value, "jaxpr"):
            inner = _as_jaxpr(value)
            if inner is not None:
                found.append((key, 0, key, inner))
    if len(found) > 1:
        found.sort(key=lambda item: (item[0], item[1]))
    return [(label, inner) for _, _, label, inner in found]


def _as_jaxpr(value: Any) -> Any:
    inner = value if hasattr(value, "eqns") else getattr(value, "jaxpr", None)
    if inner is not None and hasattr(inner, "eqns") and hasattr(inner, "invars"):
        return inner
    return None


class _Walker:
    def __init__(self) -> None:
        self.equations: list[Equation] = []
        self._ids: dict[int, int] = {}
        # (jaxpr object id, indices of its equations that print an assignment) in pre-order
        self.blocks: list[tuple[int, list[int], tuple[str, ...]]] = []

    def var_ids(self, variables: Any) -> list[int]:
        out = []
        for v in variables:
            if type(v).__name__ in ("Literal", "DropVar"):
                out.append(-1)
                continue
            key = id(v)
            vid = self._ids.get(key)
            if vid is None:
                vid = self._ids[key] = len(self._ids)
            out.append(vid)
        return out

    def walk(self, jaxpr: Any, parent: int, depth: int, prefix: str) -> list[int]:
        indices: list[int] = []
        printed: list[int] = []
        for position, eqn in enumerate(jaxpr.eqns):
            params = eqn.params
            name = params.get("name", "")
            frames = _compat.eqn_frames(eqn)
            if parent >= 0:
                # JAX traces a sub-jaxpr (a jit's, say) on its own, so its equations' frames
                # stop at its function; the call site is the enclosing equation's, as the
                # call-site locations of StableHLO and HLO say.
                own = {(f[0], f[1]) for f in frames}
                frames += [f for f in self.equations[parent].frames if (f[0], f[1]) not in own]
            eq = Equation(
                index=len(self.equations),
                primitive=eqn.primitive.name,
                parent=parent,
                depth=depth,
                name_stack=_compat.eqn_name_stack(eqn),
                frames=frames,
                invars=self.var_ids(eqn.invars),
                outvars=self.var_ids(eqn.outvars),
                out_avals=[getattr(v, "aval", None) for v in eqn.outvars],
                name=name if isinstance(name, str) else "",
                path=f"{prefix}{position}",
            )
            self.equations.append(eq)
            indices.append(eq.index)
            if eqn.outvars:
                printed.append(eq.index)
        self.blocks.append(
            (id(jaxpr), printed, tuple(self.equations[i].primitive for i in printed))
        )
        # sub-jaxprs after the block so that blocks stay in one list per jaxpr
        for index, eqn in zip(indices, jaxpr.eqns, strict=True):
            for label, inner in sub_jaxprs(eqn.params):
                path = f"{self.equations[index].path}/{label}/"
                sub_indices = self.walk(inner, index, depth + 1, path)
                self.equations[index].subjaxprs.append(
                    SubJaxpr(label, sub_indices, self.var_ids(inner.invars), [])
                )
                self.equations[index].subjaxprs[-1].outvars = self.var_ids(inner.outvars)
        return indices


def _aval_text(aval: Any) -> str:
    try:
        return aval.str_short(short_dtypes=True)
    except Exception:
        return "?"


# `outvars = primitive` at a line start, or after `. let ` or `; ` in a jaxpr printed on one line
_HEAD = re.compile(r"(?:^[ \t]*|\. let |; )((?:[A-Za-z_]\w*:\S+ )+)= ([A-Za-z_][\w\-]*)", re.M)
_BRACE = re.compile(r"\{ lambda |[{}]")


def _assign_text_lines(text: str, blocks: list, equations: list[Equation]) -> None:
    """Find each equation's line in JAX's printed jaxpr.

    The printer writes each jaxpr as a ``{ lambda ... }`` block and prints a jaxpr shared by
    several equations once (``let name = { lambda ... } in``), so blocks of the text are matched
    to jaxpr objects by their sequence of primitives, in order; a jaxpr printed once for several
    calls gets the lines of that one block.
    """
    newlines = [m.start() for m in re.finditer("\n", text)]
    # text blocks: list of [primitive, line] heads, in order of the block's opening
    text_blocks: list[list[tuple[str, int]]] = []
    stack: list[int] = []  # index into text_blocks, or -1 for a non-lambda brace
    heads = [(m.start(2), m.group(2)) for m in _HEAD.finditer(text)]
    events = [(m.start(), m.group()) for m in _BRACE.finditer(text)]
    hi = 0
    top_heads: list[tuple[str, int]] = []
    for pos, token in [*events, (len(text) + 1, "")]:
        while hi < len(heads) and heads[hi][0] < pos:
            hpos, prim = heads[hi]
            owner = next((b for b in reversed(stack) if b >= 0), None)
            line = bisect_right(newlines, hpos) + 1
            (text_blocks[owner] if owner is not None else top_heads).append((prim, line))
            hi += 1
        if token.startswith("{ lambda"):
            stack.append(len(text_blocks))
            text_blocks.append([])
        elif token == "{":
            stack.append(-1)
        elif token == "}" and stack:
            stack.pop()
    by_signature: dict[tuple[str, ...], list[list[tuple[str, int]]]] = {}
    for block in text_blocks:
        by_signature.setdefault(tuple(p for p, _ in block), []).append(block)
    used: dict[tuple[str, ...], int] = {}
    seen_objects: dict[int, list[tuple[str, int]]] = {}
    for obj_id, printed, signature in blocks:
        if obj_id in seen_objects:
            block = seen_objects[obj_id]
        else:
            candidates = by_signature.get(signature, [])
            n = used.get(signature, 0)
            if n < len(candidates):
                block = candidates[n]
                used[signature] = n + 1
            elif candidates:
                block = candidates[0]
            else:
                continue
            seen_objects[obj_id] = block
        for index, (_, line) in zip(printed, block, strict=False):
            equations[index].text_line = line
