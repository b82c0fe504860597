"""Dataflow graphs of a jaxpr and of optimized HLO, as nodes in nested groups, rendered to DOT
one view at a time.

Groups are what the views collapse: sub-jaxprs (jit, scan, while, cond, custom_jvp/vjp,
remat, shard_map), named scopes and transforms (the equations' name stacks), fusions and
control-flow bodies of HLO, and, where a group holds too many items, runs of consecutive items.
A view is a set of expanded groups; every other group is one box. Only the view is laid out, so
a program of any size starts as a small graph and each expansion lays out one more level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from jaxlab.ir.hlo import HloInstruction, HloModule
from jaxlab.ir.jaxpr import JaxprModel

MAX_CHILDREN = 40  # items per group before runs of consecutive items are grouped
FIRST_VIEW_NODES = 300  # the first view shows at most this many boxes
QUICK_LAYOUT_ABOVE = 80  # views with more boxes get Graphviz's quick settings


@dataclass(slots=True)
class Node:
    id: int
    label: str
    kind: str  # eqn | input | output | op | param
    group: int
    sources: tuple[tuple[str, int], ...] = ()  # source lines it came from, innermost first


@dataclass(slots=True)
class Group:
    id: int
    label: str
    kind: str  # root | call | scope | chunk | fusion | computation | inputs
    parent: int  # -1 for the root
    items: list[tuple[str, int]] = field(default_factory=list)  # ('n', node) / ('g', group)
    size: int = 0  # leaf nodes inside, at any depth


@dataclass
class Graph:
    title: str
    nodes: list[Node]
    groups: list[Group]
    edges: list[tuple[int, int]]
    closed_kinds: frozenset[str] = frozenset()  # groups the first view leaves as boxes

    # -- views ------------------------------------------------------------------------------
    def first_view(self, max_nodes: int = FIRST_VIEW_NODES) -> set[int]:
        """Groups to expand first: breadth-first from the root while at most `max_nodes` boxes
        are visible (groups of `closed_kinds`, such as fusions, stay boxes)."""
        expanded = {0}
        visible = len(self.groups[0].items)
        queue = [g for kind, g in self.groups[0].items if kind == "g"]
        while queue:
            gid = queue.pop(0)
            extra = len(self.groups[gid].items) - 1
            if visible + extra > max_nodes or self.groups[gid].kind in self.closed_kinds:
                continue
            expanded.add(gid)
            visible += extra
            queue.extend(g for kind, g in self.groups[gid].items if kind == "g")
        return expanded

    def visible(self, expanded: Iterable[int]) -> tuple[list[int], list[int]]:
        """(visible nodes, collapsed groups shown as boxes) of a view."""
        open_ = set(expanded) | {0}
        nodes: list[int] = []
        boxes: list[int] = []
        todo = [0]
        while todo:
            gid = todo.pop()
            for kind, item in self.groups[gid].items:
                if kind == "n":
                    nodes.append(item)
                elif item in open_:
                    todo.append(item)
                else:
                    boxes.append(item)
        return nodes, boxes

    def to_dot(self, expanded: Iterable[int], *, line_classes: dict | None = None) -> str:
        """The DOT source of one view. Every label is escaped for DOT; nodes carry classes
        (``jl-n<id>`` / ``jl-g<id>`` for expansion, ``jl-s<k>`` for linked source lines)."""
        open_ = set(expanded) | {0}
        line_classes = line_classes or {}
        nodes, boxes = self.visible(open_)
        # Graphviz's crossing minimisation and spline routing grow fast with size (a minute
        # for 300 boxes); above a few dozen boxes, bound them: straight edges, short searches.
        quick = (
            " mclimit=0.05, nslimit=1, nslimit1=1, searchsize=5, remincross=false, splines=line,"
            if len(nodes) + len(boxes) > QUICK_LAYOUT_ABOVE
            else ""
        )
        out = [
            "digraph G {",
            '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.25, '
            f"ranksep=0.3,{quick} compound=true];",
            '  node [shape=box, style="rounded,filled", fillcolor="#f6f8fa", color="#8c959f", '
            'fontname="Helvetica", fontsize=10, height=0.3];',
            '  edge [color="#8c959f", arrowsize=0.6];',
        ]
        rep: dict[int, str] = {}

        def emit(gid: int, indent: str) -> None:
            for kind, item in self.groups[gid].items:
                if kind == "n":
                    node = self.nodes[item]
                    rep[item] = f"n{item}"
                    classes = " ".join(
                        dict.fromkeys(
                            f"jl-s{line_classes[s]}" for s in node.sources if s in line_classes
                        )
                    )
                    shape = ', shape=ellipse, fillcolor="#ffffff"' if node.kind in (
                        "input", "output", "param"
                    ) else ""  # fmt: skip
                    out.append(
                        f'{indent}n{item} [label="{dot_escape(node.label)}", '
                        f'class="jl-node jl-{node.kind} {classes}"{shape}];'
                    )
                    continue
                group = self.groups[item]
                label = f"{group.label} ({group.size})" if group.kind != "call" else group.label
                if item in open_:
                    out.append(f"{indent}subgraph cluster_g{item} {{")
                    out.append(
                        f'{indent}  label="{dot_escape(group.label)}"; class="jl-cluster '
                        f'jl-g{item}"; style="rounded,dashed"; color="#8c959f"; fontsize=10;'
                    )
                    emit(item, indent + "  ")
                    out.append(f"{indent}}}")
                else:
                    out.append(
                        f'{indent}g{item} [label="{dot_escape("+ " + label)}", '
                        f'class="jl-box jl-g{item}", fillcolor="#ddf4ff", color="#54aeff", '
                        "penwidth=1.4];"
                    )
                    self._mark(item, f"g{item}", rep)

        emit(0, "  ")
        seen: set[tuple[str, str]] = set()
        for a, b in self.edges:
            ra, rb = rep.get(a), rep.get(b)
            if ra is None or rb is None or ra == rb or (ra, rb) in seen:
                continue
            seen.add((ra, rb))
            out.append(f"  {ra} -> {rb};")
        out.append("}")
        return "\n".join(out) + "\n"

    def _mark(self, gid: int, name: str, rep: dict[int, str]) -> None:
        todo = [gid]
        while todo:
            for kind, item in self.groups[todo.pop()].items:
                if kind == "n":
                    rep[item] = name
                else:
                    todo.append(item)


def dot_escape(text: str) -> str:
    """Text for a double-quoted DOT string: backslashes and quotes escaped, one line, so no
    Graphviz escape (``\\N``, ``\\l``) or HTML-like label can come from user text."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\r\n]+", " ", text)


class _Builder:
    def __init__(self, title: str):
        self.nodes: list[Node] = []
        self.groups: list[Group] = [Group(0, title, "root", -1)]
        self.edges: list[tuple[int, int]] = []

    def group(self, label: str, kind: str, parent: int) -> int:
        gid = len(self.groups)
        self.groups.append(Group(gid, label, kind, parent))
        self.groups[parent].items.append(("g", gid))
        return gid

    def node(self, label: str, kind: str, group: int, sources=()) -> int:
        nid = len(self.nodes)
        self.nodes.append(Node(nid, label, kind, group, tuple(sources)))
        self.groups[group].items.append(("n", nid))
        return nid

    def finish(self, title: str, closed_kinds: frozenset[str] = frozenset()) -> Graph:
        for gid in range(len(self.groups) - 1, -1, -1):
            self._chunk(gid)
        sizes = [0] * len(self.groups)
        for node in self.nodes:
            sizes[node.group] += 1
        for gid in range(len(self.groups) - 1, 0, -1):
            sizes[self.groups[gid].parent] += sizes[gid]
        for group, size in zip(self.groups, sizes, strict=True):
            group.size = size
        return Graph(title, self.nodes, self.groups, self.edges, closed_kinds)

    def _chunk(self, gid: int) -> None:
        """Split a group's items into runs of consecutive items until each level is small."""
        items = self.groups[gid].items
        while len(items) > MAX_CHILDREN:
            per = -(-len(items) // MAX_CHILDREN)
            per = max(per, MAX_CHILDREN // 2) if len(items) > MAX_CHILDREN * MAX_CHILDREN else per
            runs = [items[i : i + per] for i in range(0, len(items), per)]
            new_items: list[tuple[str, int]] = []
            for run in runs:
                chunk = len(self.groups)
                self.groups.append(Group(chunk, self._run_label(run), "chunk", gid, list(run)))
                for kind, item in run:
                    if kind == "n":
                        self.nodes[item].group = chunk
                    else:
                        self.groups[item].parent = chunk
                new_items.append(("g", chunk))
            items = new_items
        self.groups[gid].items = items

    def _run_label(self, run: list[tuple[str, int]]) -> str:
        lines = sorted(
            {s[1] for kind, item in run if kind == "n" for s in self.nodes[item].sources[:1]}
        )
        where = ""
        if lines:
            where = f", line {lines[0]}" if len(lines) == 1 else f", lines {lines[0]}–{lines[-1]}"
        return f"{len(run)} items{where}"


def _producer(value: Any, producer: dict, alias: dict) -> int | None:
    """The node producing a value, following aliases (a call's output is its body's output; a
    body's input is the call's operand)."""
    seen = 0
    while value not in producer and value in alias and seen < 1000:
        value = alias[value]
        seen += 1
    return producer.get(value)


def jaxpr_graph(
    model: JaxprModel, title: str = "jaxpr", input_names: list[str] | None = None
) -> Graph:
    """The jaxpr's dataflow: one node per equation, sub-jaxprs and named scopes as groups."""
    b = _Builder(title)
    producer: dict[int, int] = {}
    alias: dict[int, int] = {}
    eqn_node: dict[int, int] = {}
    eqns = model.equations

    def scope_group(parent: int, stack: str, cache: dict[str, int]) -> int:
        if not stack:
            return parent
        gid = cache.get(stack)
        if gid is None:
            head, _, last = stack.rpartition("/")
            gid = b.group(last, "scope", scope_group(parent, head, cache))
            cache[stack] = gid
        return gid

    def add(indices: list[int], parent: int) -> None:
        scopes: dict[str, int] = {}
        for i in indices:
            eq = eqns[i]
            where = scope_group(parent, eq.name_stack, scopes)
            if eq.subjaxprs:
                gid = b.group(eq.title, "call", where)
                for sub in eq.subjaxprs:
                    inner = gid
                    if len(eq.subjaxprs) > 1:
                        inner = b.group(sub.label, "scope", gid)
                    # a sub-jaxpr's inputs are the last inputs of its equation (after the
                    # predicate of cond or the other body's constants of while)
                    ins = eq.invars
                    for k, v in enumerate(reversed(sub.invars)):
                        if k < len(ins) and v >= 0 and ins[-1 - k] >= 0:
                            alias[v] = ins[-1 - k]
                    for v, inner_v in zip(eq.outvars, sub.outvars, strict=False):
                        if v >= 0 and inner_v >= 0:
                            alias.setdefault(v, inner_v)
                    add(sub.equations, inner)
            else:
                label = (
                    f"{eq.primitive} → {', '.join(eq.out_types)}" if eq.out_types else eq.primitive
                )
                nid = eqn_node[i] = b.node(label, "eqn", where, eq.source_lines)
                for v in eq.outvars:
                    if v >= 0:
                        producer[v] = nid

    inputs = b.group("inputs", "inputs", 0) if len(model.invars) > 8 else 0
    names = input_names if input_names and len(input_names) == len(model.invars) else None
    for k, v in enumerate(model.invars):
        producer[v] = b.node(names[k] if names else f"in {k}", "input", inputs)
    add(model.top, 0)

    def source(v: int) -> int | None:
        return _producer(v, producer, alias)

    for eq_index, nid in eqn_node.items():
        for v in eqns[eq_index].invars:
            if v >= 0:
                src = source(v)
                if src is not None:
                    b.edges.append((src, nid))
    outputs = b.group("outputs", "inputs", 0) if len(model.outvars) > 8 else 0
    for k, v in enumerate(model.outvars):
        nid = b.node(f"out {k}", "output", outputs)
        src = source(v) if v >= 0 else None
        if src is not None:
            b.edges.append((src, nid))
    return b.finish(title)


_PARAM_INDEX = re.compile(r"parameter\((\d+)\)")


def hlo_graph(module: HloModule, title: str = "optimized HLO") -> Graph:
    """The entry computation's dataflow; each fusion is a group holding its fused ops, and
    while/call/conditional bodies are groups too."""
    b = _Builder(title)
    if module.entry is None:
        return b.finish(title)
    lines = module.text.splitlines()
    producer: dict[str, int] = {}
    alias: dict[str, str] = {}
    consumers: list[tuple[HloInstruction, int]] = []

    def label(instr: HloInstruction) -> str:
        shapes = instr.shapes
        shape = str(shapes[0]) if len(shapes) == 1 else f"({len(shapes)} arrays)"
        if instr.opcode == "parameter" and instr.op_name:  # the argument JAX named it after
            name = instr.op_name.replace("\\'", "'").replace('\\"', '"')
            return f"{name}: {shape}"
        return f"{instr.opcode} {shape}"

    def add(comp_name: str, parent: int, operands: list[str], visited: set[str]) -> None:
        comp = module.computations.get(comp_name)
        if comp is None or comp_name in visited:
            return
        visited = visited | {comp_name}
        for instr in comp.instructions:
            if instr.opcode == "parameter" and comp is not module.entry:
                m = _PARAM_INDEX.search(lines[instr.line - 1]) if instr.line else None
                k = int(m.group(1)) if m else 0
                if k < len(operands):
                    alias[instr.name] = operands[k]
                continue
            sources = tuple((f[0], f[1]) for f in module.frames_of(instr))
            if instr.called and instr.opcode in ("fusion", "while", "call", "conditional"):
                kind = "fusion" if instr.opcode == "fusion" else "call"
                text = instr.name if kind == "fusion" else f"{instr.opcode} {instr.name}"
                gid = b.group(text, kind, parent)
                called = [c for c in instr.called if c in module.computations]
                for name in called:
                    inner = gid if len(called) == 1 else b.group(name, "computation", gid)
                    ops = instr.operands
                    if instr.opcode == "conditional":
                        ops = instr.operands[1 + called.index(name) :][:1]
                    add(name, inner, ops, visited)
                root = module.computations[called[-1]].root if called else None
                if root is not None:
                    alias[instr.name] = root.name
                continue
            nid = b.node(
                label(instr), "param" if instr.opcode == "parameter" else "op", parent, sources
            )
            producer[instr.name] = nid
            consumers.append((instr, nid))

    add(module.entry.name, 0, [], set())

    def source(name: str) -> int | None:
        return _producer(name, producer, alias)

    for instr, nid in consumers:
        for operand in instr.operands:
            src = source(operand)
            if src is not None and src != nid:
                b.edges.append((src, nid))
    return b.finish(title, frozenset({"fusion"}))
