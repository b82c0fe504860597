"""The Python source shown beside the IRs: the inspected function and every function whose lines
the program's ops came from (helpers, lambdas, methods), read through ``linecache`` so notebook
cells work too."""

from __future__ import annotations

import ast
import contextlib
import inspect as pyinspect
import linecache
import os
import sys
import sysconfig
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MAX_BLOCK_LINES = 400  # a function longer than this is shown around its linked lines only


@dataclass(slots=True)
class SourceBlock:
    """A contiguous range of one file's lines."""

    file: str
    function: str
    first_line: int  # 1-based line number in the file
    lines: list[str]
    library: bool = False  # installed code (site-packages, JAX, the standard library)

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.lines) - 1

    def __contains__(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError, TypeError):
            roots.add(os.path.normcase(os.path.abspath(sysconfig.get_path(key))))
    # jaxlab's own code is never the user's
    roots.add(os.path.normcase(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    for name in ("jax", "jaxlib"):
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if where:
            roots.add(os.path.normcase(os.path.dirname(os.path.abspath(where))))
    return tuple(sorted(roots))


@lru_cache(maxsize=4096)
def is_library(file: str) -> bool:
    """True for installed code: site-packages (Flax, Optax, Equinox…), JAX itself, the
    standard library, jaxlab. Notebook cells and the user's own files are not."""
    if not file or file.startswith("<"):
        return False
    path = os.path.normcase(os.path.abspath(file))
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return any(path.startswith(root + os.sep) for root in _library_roots())


_OWN_ROOT = os.path.normcase(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@lru_cache(maxsize=4096)
def is_own(file: str) -> bool:
    """True for jaxlab's own code (its staging and magics are on the stack of every trace it
    makes): never a line to show the user."""
    if not file or file.startswith("<"):
        return False
    return os.path.normcase(os.path.abspath(file)).startswith(_OWN_ROOT + os.sep)


# code without a file that the user wrote: IPython's cells of old and the terminal's, and
# code given to exec()/compile() as a string (``<string>``); other ``<...>`` names are code
# that tools generate (``<frozen importlib._bootstrap>``, IPython's ``<decorator-gen-12>``,
# NumPy's ``<__array_function__ internals>``, attrs' ``<attrs generated init ...>``)
USERS_UNFILED = ("<ipython-input", "<stdin>", "<cell", "<string>")


@lru_cache(maxsize=4096)
def is_users(file: str) -> bool:
    """True for the user's own code: a notebook cell, code the user exec'd (``<string>``),
    or a file that is neither installed (:func:`is_library`) nor jaxlab's (:func:`is_own`).
    The one rule for "the user's code" of every view, guard and error message."""
    if not file:
        return False
    if file.startswith("<"):
        return file.startswith(USERS_UNFILED)
    return not is_library(file) and not is_own(file)


Frame = tuple[Any, ...]  # (file, line, ...)


class StagedCall:
    """Where the staged function's own source lies (found once), to cut stacks at it."""

    def __init__(self, fn: Any):
        main = function_source(fn) if fn is not None else None
        self.span = (main[0], main[1], main[1] + len(main[2]) - 1) if main else None

    def inside(self, frames: tuple[Frame, ...]) -> tuple[Frame, ...]:
        """The frames of a stack (innermost first) that run inside the staged call: up to the
        function's own frame. Its callers (jaxlab's staging, IPython, the cell or loop that
        called it) are dropped; when its source is unknown, everything from jaxlab's first
        frame out."""
        if self.span is not None:
            file, first, last = self.span
            ends = [k for k, f in enumerate(frames) if f[0] == file and first <= f[1] <= last]
            if ends:
                return frames[: ends[-1] + 1]
        mine = next((k for k, f in enumerate(frames) if is_own(f[0])), len(frames))
        return frames[:mine]

    def user_line(self, frames: tuple[Frame, ...]) -> tuple[str, int] | None:
        """The innermost line of the user's own code inside the call, or None."""
        return next(((f[0], f[1]) for f in self.inside(frames) if f[1] and is_users(f[0])), None)


def inside_call(frames: tuple[Frame, ...], fn: Any) -> tuple[Frame, ...]:
    """:meth:`StagedCall.inside` for one stack."""
    return StagedCall(fn).inside(frames)


Line = tuple[str, int]


def source_pair(frames: Sequence[tuple]) -> tuple[Line, Line] | None:
    """(the user's calling line, the innermost line) of an op's frames (innermost first):
    the innermost frame that is not library code, or the innermost line itself when every
    frame is library code."""
    if not frames or not frames[0][1]:
        return None
    inner = (frames[0][0], frames[0][1])
    user = next(((f[0], f[1]) for f in frames if f[1] and not is_library(f[0])), inner)
    return user, inner


def user_first(lines: Iterable[Line]) -> tuple[list[Line], list[Line]]:
    """(file, line) pairs split into the user's and the libraries', each in order."""
    user: list[Line] = []
    library: list[Line] = []
    for item in lines:
        (library if is_library(item[0]) else user).append(item)
    return user, library


def function_source(fn: Any) -> tuple[str, int, list[str]] | None:
    """(file, first line, lines) of a Python function, unwrapping ``jax.jit`` and partials."""
    seen = 0
    while seen < 10:
        seen += 1
        inner = getattr(fn, "__wrapped__", None) or getattr(fn, "func", None)
        if inner is None or inner is fn:
            break
        fn = inner
    try:
        file = pyinspect.getsourcefile(fn) or pyinspect.getfile(fn)
        lines, first = pyinspect.getsourcelines(fn)
    except (TypeError, OSError):
        return None
    return file, max(first, 1), [line.rstrip("\n") for line in lines]


@lru_cache(maxsize=64)
def _tree(text: str) -> ast.Module | None:
    """A file's text parsed (cached by the text itself: a file edited on disk is parsed
    again), or None when it is not Python."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


@lru_cache(maxsize=64)
def _definitions(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, name) of every function defined in a file's text, outermost first."""
    tree = _tree(text)
    out = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            out.append((start, node.end_lineno or node.lineno, node.name))
    return tuple(out)


@lru_cache(maxsize=64)
def _loops(text: str) -> tuple[tuple[int, int, int, str], ...]:
    """(first line, last line of the body, loop line, 'for' | 'while') of every loop."""
    tree = _tree(text)
    out = []
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and node.body:
            end = max(n.end_lineno or n.lineno for n in node.body)
            kind = "while" if isinstance(node, ast.While) else "for"
            out.append((node.body[0].lineno, end, node.lineno, kind))
    return tuple(out)


def enclosing_loop(file: str, line: int) -> tuple[int, str] | None:
    """The innermost Python loop in `file` whose body (or header) holds `line`, within the
    function that holds `line` (a loop around a function's definition does not repeat its
    body): (the loop's line, 'for' | 'while')."""
    text = "".join(linecache.getlines(file))
    defs = [(start, end) for start, end, _ in _definitions(text) if start <= line <= end]
    floor = max((start for start, _ in defs), default=0)
    best = None
    for first, last, loop_line, kind in _loops(text):
        inside = first <= line <= last or line == loop_line
        if inside and loop_line > floor and (best is None or loop_line > best[0]):
            best = (loop_line, kind)
    return best


def enclosing_function(file: str, line: int) -> tuple[int, int, str] | None:
    """The outermost function definition in `file` that contains `line`."""
    lines = linecache.getlines(file)
    if not lines:
        return None
    best = None
    for start, end, name in _definitions("".join(lines)):
        if start <= line <= end and (best is None or start < best[0]):
            best = (start, end, name)
    return best


def source_blocks(
    fn: Any, innermost: Iterable[tuple[str, int]], *, max_lines: int = 3000
) -> list[SourceBlock]:
    """Blocks to show: `fn`'s source first, then each other function of the user's that holds
    an innermost frame of some op, in file and line order, then the libraries' (marked
    ``library``, for the views to fold). Overlapping ranges are merged."""
    ranges: dict[str, list[tuple[int, int, str]]] = {}
    order: list[str] = []
    main = function_source(fn)
    if main is not None:
        file, first, lines = main
        ranges.setdefault(file, []).append((first, first + len(lines) - 1, ""))
        order.append(file)
    linked = sorted(set(innermost))
    for file, line in linked:
        if not file or line <= 0:
            continue
        if any(a <= line <= b for a, b, _ in ranges.get(file, ())):
            continue
        found = enclosing_function(file, line)
        if found is None:
            if not linecache.getline(file, line):
                continue
            found = (line, line, "")
        start, end, name = found
        if end - start + 1 > MAX_BLOCK_LINES:
            near = [n for f, n in linked if f == file and start <= n <= end]
            start, end = max(start, min(near) - 3), min(end, max(near) + 3)
        if file not in ranges:
            order.append(file)
        ranges.setdefault(file, []).append((start, end, name))
    blocks: list[SourceBlock] = []
    total = 0
    order.sort(key=is_library)  # stable: the user's files (`fn`'s first), then libraries'
    for file in order:
        all_lines = linecache.getlines(file)
        merged: list[list[Any]] = []
        for start, end, name in sorted(ranges[file]):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end, name])
        for start, end, name in merged:
            if all_lines:
                text = [line.rstrip("\n") for line in all_lines[start - 1 : end]]
            elif main is not None and main[0] == file:
                text = main[2]
            else:
                continue
            if total + len(text) > max_lines:
                return blocks
            total += len(text)
            blocks.append(SourceBlock(file, name, start, text, is_library(file)))
    if main is not None:  # the inspected function first, before its file's other functions
        first = next((k for k, b in enumerate(blocks) if b.file == main[0] and main[1] in b), 0)
        blocks.insert(0, blocks.pop(first))
    return blocks
