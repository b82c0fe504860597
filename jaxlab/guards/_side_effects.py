"""Side effects at trace time: what a jitted function does in Python runs once, while JAX traces
it, not at each call.

The function's source (and that of the user helpers it calls) is read with ``ast``; names are
resolved with Python's scoping rules against the function's real globals and closure, so
``print`` means the builtin, ``time.time`` the clock and ``history.append`` a global list.
Found: ``print()``, assignments to globals and nonlocals, mutation of global (or enclosing)
containers and objects, attribute writes on ``self`` in a method, and calls into the ``time``,
``datetime.now``, ``random`` and ``numpy.random`` modules.
"""

from __future__ import annotations

import ast
import builtins
import collections
import datetime
import inspect
import random
import textwrap
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType, ModuleType
from typing import Any

import numpy as np

from jaxlab.core.errors import describe_frame
from jaxlab.guards._functions import reachable_functions
from jaxlab.guards._warning import GuardWarning

MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "popitem",
        "appendleft",
        "extendleft",
        "popleft",
        "sort",
        "reverse",
    }
)
MUTABLE = (list, dict, set, bytearray, collections.deque)
_RANDOM_OWNERS = (random.Random, np.random.RandomState, np.random.Generator)
_UNKNOWN = object()
_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)


@dataclass(frozen=True)
class SideEffect:
    """One side effect in a traced function: `kind` (print, global-write, nonlocal-write,
    mutation, time, random), where it is, and what it touches or calls (`name`)."""

    kind: str
    function: str
    filename: str
    line: int
    source: str
    name: str
    # where `name` lives: "global", "closure" (an enclosing function) or "object" (`self`)
    scope: str = "global"

    @property
    def site(self) -> tuple[str, str, str]:
        """Identifies the site across re-runs of the same cell."""
        return self.function, self.kind, self.source or f"line {self.line}"


# -- scopes --------------------------------------------------------------------------------


def _children_in_scope(nodes: list[ast.AST]) -> list[ast.AST]:
    """All nodes under `nodes` that belong to the same scope (nested scopes are listed but not
    entered)."""
    out: list[ast.AST] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, _SCOPES):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return out


class _Scope:
    """Names bound in one function (or comprehension) scope, and those it declares global or
    nonlocal."""

    def __init__(self, node: ast.AST):
        self.bound: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
                if arg is not None:
                    self.bound.add(arg.arg)
            body = node.body if isinstance(node.body, list) else [node.body]
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            body = [g.target for g in node.generators]
        else:
            body = []
        for child in _children_in_scope(body):
            if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                self.bound.add(child.id)
            elif isinstance(child, ast.Global):
                self.globals.update(child.names)
            elif isinstance(child, ast.Nonlocal):
                self.nonlocals.update(child.names)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for alias in child.names:
                    self.bound.add(alias.asname or alias.name.split(".")[0])
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or (
                isinstance(child, ast.ExceptHandler) and child.name
            ):
                self.bound.add(child.name)
        self.bound -= self.globals | self.nonlocals


# -- what a call or a name refers to -------------------------------------------------------------


def _time_call(obj: Any) -> bool:
    if getattr(obj, "__module__", None) == "time" and callable(obj):
        return True
    owner = getattr(obj, "__self__", None)
    return owner in (datetime.datetime, datetime.date) and getattr(obj, "__name__", "") in (
        "now",
        "utcnow",
        "today",
    )


def _random_call(obj: Any) -> bool:
    if isinstance(getattr(obj, "__self__", None), _RANDOM_OWNERS):
        return True
    module = getattr(obj, "__module__", None) or ""
    return callable(obj) and (module == "random" or module.startswith("numpy.random"))


def _is_jax_array(value: Any) -> bool:
    import jax

    return isinstance(value, jax.Array)


def _may_getattr(obj: Any) -> bool:
    """Attribute access that cannot run user code: modules, classes, random generators."""
    return isinstance(obj, (ModuleType, type, *_RANDOM_OWNERS))


class _Analysis(ast.NodeVisitor):
    def __init__(self, fn: FunctionType, lines: list[str], start: int):
        self.fn = fn
        self.lines = lines
        self.start = start
        self.scopes: list[_Scope] = []
        self.found: dict[tuple[int, str], SideEffect] = {}
        freevars = fn.__code__.co_freevars
        self.closure: dict[str, Any] = {}
        for name, cell in zip(freevars, fn.__closure__ or (), strict=False):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:
                continue

    # names

    def resolve(self, name: str) -> tuple[str, Any]:
        """('local' | 'global' | 'closure' | 'builtin' | 'unknown', value)."""
        declared_nonlocal = False
        for scope in reversed(self.scopes):
            if name in scope.globals:
                return self._global(name)
            if name in scope.nonlocals:
                declared_nonlocal = True
                continue
            if name in scope.bound:
                return "local", _UNKNOWN
        if name in self.closure:
            return "closure", self.closure[name]
        if declared_nonlocal:
            return "unknown", _UNKNOWN
        return self._global(name)

    def _outside(self, name: str) -> bool:
        """A nonlocal of a nested function that lives outside the traced function."""
        return not any(name in scope.bound for scope in self.scopes[:-1])

    def _global(self, name: str) -> tuple[str, Any]:
        namespace = self.fn.__globals__
        if name in namespace:
            return "global", namespace[name]
        if hasattr(builtins, name):
            return "builtin", getattr(builtins, name)
        return "unknown", _UNKNOWN

    def value_of(self, node: ast.expr) -> Any:
        """The object an expression like `np.random.randn` refers to, without running user
        code; _UNKNOWN when that cannot be known."""
        if isinstance(node, ast.Name):
            kind, value = self.resolve(node.id)
            return value if kind in ("global", "closure", "builtin") else _UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.value_of(node.value)
            if base is _UNKNOWN or not _may_getattr(base):
                return _UNKNOWN
            try:
                return getattr(base, node.attr)
            except Exception:
                return _UNKNOWN
        return _UNKNOWN

    def outer(self, node: ast.expr) -> tuple[str, Any, str] | None:
        """For `a.b[c].d`: the global or enclosing variable `a` it starts from, its value and
        'global' or 'closure'; None for locals."""
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        kind, value = self.resolve(node.id)
        if kind not in ("global", "closure"):
            return None
        return node.id, value, kind

    def receiver(self, node: ast.expr) -> Any:
        """The object `a.b["k"]` refers to, read without running user code (instance
        attributes statically, items of dicts and lists by constant keys); _UNKNOWN otherwise."""
        if isinstance(node, ast.Name):
            kind, value = self.resolve(node.id)
            return value if kind in ("global", "closure") else _UNKNOWN
        if isinstance(node, ast.Attribute):
            base = self.receiver(node.value)
            if base is _UNKNOWN:
                return _UNKNOWN
            try:
                return inspect.getattr_static(base, node.attr)
            except AttributeError:
                return _UNKNOWN
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            base = self.receiver(node.value)
            if isinstance(base, (dict, list)):
                try:
                    return base[node.slice.value]
                except (KeyError, IndexError, TypeError):
                    return _UNKNOWN
        return _UNKNOWN

    # reporting

    def add(self, node: ast.AST, kind: str, name: str, scope: str = "global") -> None:
        lineno = getattr(node, "lineno", 1)
        text = self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""
        line = self.start + lineno - 1
        self.found.setdefault(
            (line, kind),
            SideEffect(
                kind, self.fn.__name__, self.fn.__code__.co_filename, line, text, name, scope
            ),
        )

    # visitors

    def visit_scope(self, node: ast.AST) -> None:
        self.scopes.append(_Scope(node))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_scope
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_scope

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        callee = self.value_of(func)
        if callee is builtins.print:
            self.add(node, "print", "print")
        elif callee is not _UNKNOWN and _time_call(callee):
            self.add(node, "time", ast.unparse(func))
        elif callee is not _UNKNOWN and _random_call(callee):
            self.add(node, "random", ast.unparse(func))
        elif isinstance(func, ast.Attribute) and func.attr in MUTATORS:
            self._mutated_by_method(node, func.value)
        self.generic_visit(node)

    def _mutated_by_method(self, node: ast.Call, receiver: ast.expr) -> None:
        """`history.append(x)`, `state["log"].extend(...)` on a global or enclosing container."""
        if not isinstance(self.receiver(receiver), MUTABLE):
            return
        found = self.outer(receiver)
        if found is not None:
            self.add(node, "mutation", found[0], found[2])

    def _assigned(self, node: ast.AST, target: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._assigned(node, elt)
        elif isinstance(target, ast.Starred):
            self._assigned(node, target.value)
        elif isinstance(target, ast.Name) and self.scopes:
            scope = self.scopes[-1]
            if target.id in scope.globals:
                self.add(node, "global-write", target.id, "global")
            elif target.id in scope.nonlocals and self._outside(target.id):
                self.add(node, "nonlocal-write", target.id, "closure")
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            # `cache[k] = v`, `state.step += 1`; a global jax.Array raises on its own
            found = self.outer(target.value)
            if found is not None and not _is_jax_array(found[1]):
                self.add(node, "mutation", found[0], found[2])
            elif found is None and self._on_self(target):
                # `self.count += 1` in a jitted method: runs once, stores a tracer on the object
                self.add(node, "mutation", "self", "object")

    def _on_self(self, target: ast.expr) -> bool:
        """`self.a = ...` / `self.a[k] = ...` in the method itself (not a nested function)."""
        node = target
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        code = self.fn.__code__
        first = code.co_varnames[0] if code.co_argcount else None
        return (
            isinstance(node, ast.Name)
            and node.id == first == "self"
            and len(self.scopes) == 1
            and self.fn.__code__.co_name != "__init__"
        )

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(node, target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned(node, node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node, node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._assigned(node, target)
        self.generic_visit(node)


def _definition(tree: ast.AST, fn: FunctionType) -> ast.AST | None:
    name = fn.__code__.co_name
    for node in ast.walk(tree):
        if name == "<lambda>" and isinstance(node, ast.Lambda):
            return node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


_cache: weakref.WeakKeyDictionary[FunctionType, tuple[SideEffect, ...]] = (
    weakref.WeakKeyDictionary()
)


def forget_analyses() -> None:
    """Drop the analyses kept per function (they are redone on demand)."""
    _cache.clear()


def function_side_effects(fn: FunctionType) -> tuple[SideEffect, ...]:
    """Side effects in the body of `fn` itself (not its helpers); () when its source is not
    available."""
    cached = _cache.get(fn)
    if cached is not None:
        return cached
    try:
        lines, start = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError, ValueError):
        lines, start, tree = [], 0, None
    node = _definition(tree, fn) if tree is not None else None
    found: tuple[SideEffect, ...] = ()
    if node is not None:
        analysis = _Analysis(fn, lines, max(start, 1))
        analysis.visit(node)
        found = tuple(sorted(analysis.found.values(), key=lambda e: e.line))
    _cache[fn] = found
    return found


def side_effects(root: FunctionType) -> list[SideEffect]:
    """Side effects of `root` and of the user functions it calls, in call-graph order."""
    found: list[SideEffect] = []
    for fn in reachable_functions(root):
        found.extend(function_side_effects(fn))
    return found


def _explain(effect: SideEffect, label: str) -> tuple[str, str]:
    """(what happens, the JAX way) for one side effect in the function bound to `label`."""
    name = effect.name
    holder = {"global": "global", "object": "object"}.get(effect.scope, "enclosing variable")
    if effect.kind == "print":
        return (
            f"`print()` in `{label}` runs only while JAX traces it (once per compilation, "
            "showing tracers), not at each call.",
            'use `jax.debug.print("x = {}", x)`, which prints the values at every call.',
        )
    if effect.kind in ("global-write", "nonlocal-write"):
        return (
            f"`{label}` assigns the {holder} `{name}` while it is traced: that happens once, "
            "at trace time, and stores a tracer instead of each call's value.",
            f"return the value from `{label}` and assign `{name}` outside it.",
        )
    if effect.kind == "mutation":
        return (
            f"`{label}` changes the {holder} `{name}` while it is traced: that happens once, "
            "at trace time (with tracers), not at each call.",
            f"return the new values from `{label}` and update `{name}` outside it.",
        )
    if effect.kind == "time":
        return (
            f"`{name}()` in `{label}` runs once, while JAX traces it: the compiled function "
            "keeps that one value.",
            f"read it outside and pass it to `{label}` as an argument.",
        )
    return (
        f"`{name}()` in `{label}` draws once, while JAX traces it: every call of the compiled "
        "function reuses the same numbers.",
        f"use jax.random with an explicit key passed to `{label}` as an argument, a new one per "
        "call: `key, sub = jax.random.split(key)`.",
    )


def effect_warning(
    effect: SideEffect,
    label: str,
    cell: int | None,
    cell_label: Callable[[str], str | None] | None = None,
) -> GuardWarning:
    """The warning for one side effect of the jitted function bound to `label`."""
    summary, fix = _explain(effect, label)
    frame = (effect.filename, effect.line, effect.function, effect.source)
    return GuardWarning(
        guard="side-effect",
        summary=summary,
        fix=fix,
        function=label,
        variable=effect.name
        if effect.kind in ("global-write", "nonlocal-write", "mutation")
        else None,
        cell=cell,
        where=describe_frame(frame, cell_label),
        kind=effect.kind,
    )
