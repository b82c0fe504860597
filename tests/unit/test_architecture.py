"""The package's shape: imports between jaxlab modules point down the layers and form no
cycle, and only ``jaxlab.base.compat`` reads ``jax._src``.

Every import statement counts, wherever it sits (module level, function body, under
``TYPE_CHECKING``), with relative imports resolved. ARCHITECTURE.md describes the layers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "jaxlab"

# layer of each top-level folder or root module; a module may import modules of its own
# layer or of a lower one (peers of one rank, e.g. benchmarking and guards, not each other)
RANKS = {
    "base": 0,
    "ir": 1,
    "core": 2,
    "benchmarking": 3,
    "guards": 3,
    "api": 4,
    "views": 5,
    "root": 6,  # jaxlab/__init__.py (public names), __main__.py, cli.py, preload.py
    "magics": 7,
}
ROOT_MODULES = {"jaxlab", "jaxlab.__main__", "jaxlab.cli", "jaxlab.preload"}
# IPython enters through the package root (``%load_ext jaxlab`` calls
# ``jaxlab.load_ipython_extension``), which hands over to the magics: the one upward import
ENTRY_POINTS = {("jaxlab", "jaxlab.magics")}
COMPAT = "jaxlab.base.compat"


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported jaxlab module
    line: int

    def where(self) -> str:
        return f"{self.source} (jaxlab/{module_path(self.source)}:{self.line})"


def module_path(name: str) -> str:
    parts = name.split(".")[1:]
    path = PACKAGE.joinpath(*parts)
    if path.is_dir():
        return "/".join([*parts, "__init__.py"])
    return "/".join(parts) + ".py"


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1] or parts
        names[".".join(parts) if parts != ("jaxlab",) else "jaxlab"] = path
    return names


MODULES = module_names()


def layer(module: str) -> str:
    return "root" if module in ROOT_MODULES else module.split(".")[1]


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def nearest_module(name: str) -> str | None:
    """The jaxlab module `name` (a dotted name, maybe ending in an attribute) lands in."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, tree: ast.AST) -> list[Import]:
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            origin = resolve(module, node)
            names = [f"{origin}.{alias.name}" for alias in node.names] or [origin]
        for name in names:
            if name == "jaxlab" or name.startswith("jaxlab."):
                target = nearest_module(name)
                if target is not None and target != module:
                    found.append(Import(module, target, node.lineno))
    return found


def is_jax_src(name: str) -> bool:
    return name == "jax._src" or name.startswith("jax._src.")


def touches_jax_src(tree: ast.AST) -> list[int]:
    """Lines importing ``jax._src`` (or a module of it) or reading ``jax._src.<name>``."""
    lines = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [f"{node.value.id}.{node.attr}"]
        if any(is_jax_src(name) for name in names):
            lines.append(node.lineno)
    return lines


TREES = {name: ast.parse(path.read_text(), str(path)) for name, path in MODULES.items()}
IMPORTS = [imp for name, tree in TREES.items() for imp in imports_of(name, tree)]


def test_the_walk_sees_the_package():
    assert len(MODULES) > 80
    assert set(RANKS) >= {layer(m) for m in MODULES} - {"static"}
    # function-local imports are seen: the root loads the views inside a function
    assert any(i.source == "jaxlab" and i.target == "jaxlab.views" for i in IMPORTS)


def test_every_layer_is_known():
    unknown = sorted(m for m in MODULES if layer(m) not in RANKS)
    assert not unknown, f"modules outside the known layers (add them to RANKS): {unknown}"


def upward(imp: Import) -> bool:
    src, dst = layer(imp.source), layer(imp.target)
    if src == dst or (imp.source, imp.target) in ENTRY_POINTS:
        return False
    return RANKS[dst] >= RANKS[src]


def test_imports_point_down_the_layers():
    bad = [
        f"{imp.where()} imports {imp.target} ({layer(imp.target)} is not below {layer(imp.source)})"
        for imp in IMPORTS
        if upward(imp)
    ]
    assert not bad, "imports pointing up the layers:\n  " + "\n  ".join(bad)


def find_cycles(edges: list[Import]) -> list[list[Import]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    graph: dict[str, list[Import]] = {}
    for imp in edges:
        graph.setdefault(imp.source, []).append(imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for imp in graph.get(v, []):
            w = imp.target
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [cycle_in(graph, component) for component in components]


def cycle_in(graph: dict[str, list[Import]], component: set[str]) -> list[Import]:
    """A shortest cycle through the first module of `component`, as its import statements."""
    start = min(component)
    paths = {start: []}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for imp in graph.get(v, []):
                if imp.target == start:
                    return [*paths[v], imp]
                if imp.target in component and imp.target not in paths:
                    paths[imp.target] = [*paths[v], imp]
                    nxt.append(imp.target)
        frontier = nxt
    raise AssertionError("unreachable: a strongly connected component has a cycle")


def test_no_import_cycles():
    cycles = find_cycles(IMPORTS)
    text = [" -> ".join(f"{imp.where()} imports {imp.target}" for imp in c) for c in cycles]
    assert not cycles, "import cycles between jaxlab modules:\n  " + "\n  ".join(text)


def test_views_are_imported_from_above_only():
    below = [imp.where() for imp in IMPORTS if layer(imp.target) == "views" and upward(imp)]
    assert not below, f"modules below views/ importing views: {below}"


def test_only_compat_reads_jax_src():
    bad = [
        f"{name} (jaxlab/{module_path(name)}:{line})"
        for name, tree in TREES.items()
        if name != COMPAT
        for line in touches_jax_src(tree)
    ]
    assert not bad, "only jaxlab/base/compat.py may touch jax._src; also found in:\n  " + (
        "\n  ".join(bad)
    )


# -- the checker itself ------------------------------------------------------------------


def parse_as(module: str, source: str) -> list[Import]:
    return imports_of(module, ast.parse(source))


def test_relative_and_local_imports_resolve():
    found = parse_as(
        "jaxlab.guards._warning",
        "def f():\n    from ..views import guards\n    from . import _recompiles\n",
    )
    assert [(i.target, i.line) for i in found] == [
        ("jaxlab.views.guards", 2),
        ("jaxlab.guards._recompiles", 3),
    ]
    assert upward(found[0]) and not upward(found[1])


@pytest.mark.parametrize(
    ("source", "target", "bad"),
    [
        ("jaxlab.benchmarking.result", "jaxlab.guards._warning", True),  # peers
        ("jaxlab.ir.hlo", "jaxlab.core.stages", True),
        ("jaxlab.api.inspection", "jaxlab.views.inspector", True),
        ("jaxlab.magics._ir", "jaxlab.views.irtext", False),
        ("jaxlab", "jaxlab.views", False),
        ("jaxlab", "jaxlab.magics", False),  # the IPython extension's entry point
        ("jaxlab", "jaxlab.magics._guards", True),
        ("jaxlab.__main__", "jaxlab.cli", False),
        ("jaxlab.cli", "jaxlab.magics", True),
        ("jaxlab.views.bench", "jaxlab.benchmarking.compare", False),
    ],
)
def test_layer_rule(source, target, bad):
    assert upward(Import(source, target, 1)) is bad


def test_a_cycle_is_reported_with_its_lines():
    edges = [Import("a", "b", 3), Import("b", "c", 5), Import("c", "a", 7), Import("c", "d", 1)]
    (cycle,) = find_cycles(edges)
    assert [(i.source, i.line) for i in cycle] == [("a", 3), ("b", 5), ("c", 7)]


def test_jax_src_is_spotted():
    tree = ast.parse("import jax._src.core\nfrom jax import _src\nx = jax._src.dtypes\n")
    assert touches_jax_src(tree) == [1, 2, 3]
