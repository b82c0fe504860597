"""NumPy and PyTorch twins of a JAX function: the same computation run by the other library.

A twin is, in order of preference:
  * a function of ``jax.numpy`` (``jnp.sin``) → the library's function of the same name;
  * a function that uses only operators and array methods → the function itself, called with
    the other library's arrays;
  * a function that calls ``jnp.*`` / ``jax.numpy.*`` → a copy whose globals (and closure
    cells) are rebound: ``jnp`` → ``numpy``, ``jax.numpy`` → ``numpy``, JAX array constants →
    arrays of the library, helper functions of the user's → their twins (recursively).

Anything else from JAX (``jax.lax``, ``jax.nn``, ``jax.random``, ``x.at[...]``, transforms) has
no equivalent, and :class:`TwinError` names the call and its line. The agreement check on the
outputs catches what rebinding cannot see (a ``jnp`` function whose NumPy namesake differs).
"""

from __future__ import annotations

import dis
import functools
import importlib
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from jaxlab.base import compat as _compat
from jaxlab.benchmarking.convert import CONVERTERS
from jaxlab.ir.sources import is_users

LIBRARY = {"numpy": "NumPy", "torch": "PyTorch"}
MAX_DEPTH = 6


class TwinError(ValueError):
    """No twin can be made automatically; the message names the offending call."""


@dataclass
class Twin:
    fn: Callable
    framework: str
    how: str  # one line: how the twin was made


def make_twin(fn: Callable, framework: str) -> Twin:
    """The `framework` ('numpy' or 'torch') twin of the JAX function `fn`."""
    if framework not in LIBRARY:
        raise TwinError(f"no twins for {framework!r}: use 'numpy' or 'torch'")
    target = _target_module(framework)
    rewriter = _Rewriter(framework, target)
    name = _jnp_name(fn)
    if name is not None:
        return Twin(rewriter.namesake(name, f"jnp.{name}"), framework, f"{framework}.{name}")
    twin_fn, how = rewriter.twin_of_callable(fn)
    return Twin(twin_fn, framework, how)


def _target_module(framework: str) -> types.ModuleType:
    try:
        return importlib.import_module(framework)
    except ImportError:
        raise TwinError(
            f"{LIBRARY[framework]} is not installed: `pip install {framework}` "
            f"to compare against it"
        ) from None


def _jnp_name(fn: Any) -> str | None:
    """The name under which `fn` is a function of ``jax.numpy`` (or None)."""
    name = getattr(fn, "__name__", None)
    if isinstance(name, str) and getattr(jnp, name, None) is fn:
        return name
    return None


def _is_jax_object(value: Any) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__ == "jax" or value.__name__.startswith("jax.")
    if isinstance(value, jax.Array):
        return True
    # a user's function wrapped by jax.jit carries the user's module, so it is not one
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and (module == "jax" or module.startswith(("jax.", "jaxlib")))


@dataclass
class _Ref:
    """A name the code loads (a global or a closure cell) and the attributes read from it."""

    scope: str  # "global" or "free"
    name: str
    chain: list[str] = field(default_factory=list)
    line: int | None = None

    @property
    def text(self) -> str:
        return ".".join([self.name, *self.chain])


def _instructions(code: types.CodeType) -> Iterator[tuple[types.CodeType, dis.Instruction]]:
    yield from ((code, ins) for ins in dis.get_instructions(code))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _instructions(const)


def _line_of(ins: dis.Instruction) -> int | None:
    positions = getattr(ins, "positions", None)
    if positions is not None and positions.lineno is not None:
        return positions.lineno
    return ins.starts_line


def references(fn: types.FunctionType) -> tuple[list[_Ref], list[tuple[str, int | None]]]:
    """Globals and closure variables `fn` (and code nested in it) loads, with the attribute
    chains read from them, and the uses of ``.at`` (JAX's functional updates)."""
    refs: list[_Ref] = []
    at_uses: list[tuple[str, int | None]] = []
    current: _Ref | None = None
    last_line = None
    outer_free = set(fn.__code__.co_freevars)
    for code, ins in _instructions(fn.__code__):
        line = _line_of(ins) or last_line
        last_line = line
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            current = _Ref("global", str(ins.argval), line=line)
            refs.append(current)
            continue
        if (
            ins.opname in ("LOAD_DEREF", "LOAD_CLASSDEREF")
            and code is fn.__code__
            and ins.argval in outer_free
        ):
            current = _Ref("free", str(ins.argval), line=line)
            refs.append(current)
            continue
        if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            if ins.argval == "at":
                at_uses.append((".at[...]", line))
            if current is not None:
                current.chain.append(str(ins.argval))
                continue
        if ins.opname in ("CACHE", "EXTENDED_ARG", "PRECALL"):
            continue
        current = None
    return refs, at_uses


class _Rewriter:
    def __init__(self, framework: str, target: types.ModuleType):
        self.framework = framework
        self.target = target
        self.library = LIBRARY[framework]
        self.replaced: list[str] = []
        self.memo: dict[int, Callable] = {}

    # -- errors ---------------------------------------------------------------------------

    def _fail(self, fn_name: str, what: str, line: int | None, why: str) -> TwinError:
        where = f" (line {line})" if line else ""
        return TwinError(
            f"cannot make a {self.library} twin of `{fn_name}`: it uses `{what}`{where}, {why}. "
            f"Pass a twin yourself (`--vs {self.framework}:g` or "
            f"`vs={{'{self.framework}': g}}`)."
        )

    # -- values -------------------------------------------------------------------------------

    def namesake(self, name: str, shown: str, fn_name: str = "", line: int | None = None) -> Any:
        value = self._resolve(self.target, name.split("."))
        if value is None:
            raise self._fail(fn_name or shown, shown, line, f"and {self.library} has no `{name}`")
        return value

    @staticmethod
    def _resolve(root: Any, chain: list[str]) -> Any:
        value = root
        for attr in chain:
            value = getattr(value, attr, None)
            if value is None:
                return None
        return value

    def _array(self, value: jax.Array) -> Any:
        return CONVERTERS[self.framework](value)

    def translate(self, value: Any, ref: _Ref, fn_name: str) -> Any:
        """The twin's replacement for a JAX value the code loads."""
        if isinstance(value, jax.Array):
            return self._array(value)
        if isinstance(value, types.ModuleType):
            module = value.__name__
            if module == "jax.numpy" or module.startswith("jax.numpy."):
                sub = module[len("jax.numpy") :].lstrip(".")
                target = self._resolve(self.target, sub.split(".")) if sub else self.target
                shown = ref.text
                if target is None or (ref.chain and self._resolve(target, ref.chain) is None):
                    lib_name = ".".join(p for p in (self.framework, sub, ".".join(ref.chain)) if p)
                    raise self._fail(
                        fn_name, shown, ref.line, f"and {self.library} has no `{lib_name}`"
                    )
                return target
            if module == "jax" and ref.chain[:1] == ["numpy"]:
                rest = ref.chain[1:]
                if rest and self._resolve(self.target, rest) is None:
                    raise self._fail(
                        fn_name,
                        ref.text,
                        ref.line,
                        f"and {self.library} has no `{self.framework}.{'.'.join(rest)}`",
                    )
                return types.SimpleNamespace(numpy=self.target)
            raise self._fail(fn_name, ref.text, ref.line, f"which has no {self.library} equivalent")
        name = _jnp_name(value)
        if name is not None:
            return self.namesake(name, ref.text, fn_name, ref.line)
        raise self._fail(fn_name, ref.text, ref.line, f"which has no {self.library} equivalent")

    # -- functions ----------------------------------------------------------------------------

    def twin_of_callable(self, fn: Any) -> tuple[Callable, str]:
        if isinstance(fn, functools.partial):
            inner, how = self.twin_of_callable(fn.func)
            args = tuple(self._convert_tree(a) for a in fn.args)
            keywords = {k: self._convert_tree(v) for k, v in fn.keywords.items()}
            return functools.partial(inner, *args, **keywords), how
        while _compat.is_jitted(fn):
            fn = fn.__wrapped__
        if not isinstance(fn, types.FunctionType):
            raise TwinError(
                f"cannot make a {self.library} twin of {type(fn).__name__} objects: only "
                f"Python functions can be rewritten. Pass a twin yourself (`--vs "
                f"{self.framework}:g` or `vs={{'{self.framework}': g}}`)."
            )
        twin = self.rewrite(fn)
        name = fn.__name__
        if twin is fn:
            return fn, (
                f"`{name}` itself, called with {self.library} arrays (it uses only operators "
                "and array methods)"
            )
        shown = ", ".join(dict.fromkeys(self.replaced))
        return twin, f"`{name}` with {shown} rebound to {self.framework}"

    def _convert_tree(self, value: Any) -> Any:
        return jax.tree_util.tree_map(
            lambda leaf: self._array(leaf) if isinstance(leaf, jax.Array) else leaf, value
        )

    def rewrite(self, fn: types.FunctionType, depth: int = 0) -> Callable:
        """`fn`, or a copy of it whose JAX globals and cells are rebound."""
        key = id(fn)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = fn  # recursion resolves to the original until the copy exists
        refs, at_uses = references(fn)
        if at_uses:
            what, line = at_uses[0]
            raise self._fail(
                fn.__name__,
                what,
                line,
                f"JAX's functional update, which has no {self.library} equivalent",
            )
        cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False))
        new_globals: dict[str, Any] = {}
        new_cells: dict[str, Any] = {}
        for ref in refs:
            # every use is translated: the same name may be read with different attributes
            store = new_globals if ref.scope == "global" else new_cells
            value = self._load(fn, ref, cells)
            if value is _MISSING:
                continue
            replacement = self._replacement(value, ref, fn, depth)
            if replacement is _MISSING:
                continue
            store[ref.name] = replacement
            if isinstance(value, jax.Array):
                self.replaced.append(f"{ref.name} (a JAX array)")
            elif _is_jax_object(value):
                self.replaced.append(ref.text)
        defaults = fn.__defaults__
        if defaults and any(isinstance(d, jax.Array) for d in defaults):
            defaults = tuple(self._array(d) if isinstance(d, jax.Array) else d for d in defaults)
        if not new_globals and not new_cells and defaults is fn.__defaults__:
            return fn
        globals_ = dict(fn.__globals__)
        globals_.update(new_globals)
        closure = fn.__closure__
        self_cells: list[types.CellType] = []  # cells through which fn calls itself
        if closure is not None:
            cells_out = []
            for name, cell in zip(fn.__code__.co_freevars, closure, strict=True):
                if name in new_cells:
                    cell = types.CellType(new_cells[name])
                elif (
                    cells.get(name) is not None and self._load(fn, _Ref("free", name), cells) is fn
                ):
                    cell = types.CellType()
                    self_cells.append(cell)
                cells_out.append(cell)
            closure = tuple(cells_out)
        twin = types.FunctionType(fn.__code__, globals_, fn.__name__, defaults, closure)
        for cell in self_cells:
            cell.cell_contents = twin
        twin.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
        twin.__qualname__ = fn.__qualname__
        twin.__module__ = fn.__module__
        twin.__doc__ = fn.__doc__
        for name, value in list(new_globals.items()):
            if value is fn:
                globals_[name] = twin
        for name, value in fn.__globals__.items():
            if value is fn:
                globals_[name] = twin
        self.memo[key] = twin
        return twin

    def _load(self, fn: types.FunctionType, ref: _Ref, cells: dict[str, Any]) -> Any:
        if ref.scope == "free":
            cell = cells.get(ref.name)
            try:
                return cell.cell_contents if cell is not None else _MISSING
            except ValueError:  # empty cell
                return _MISSING
        # builtins are the same for every library
        return fn.__globals__.get(ref.name, _MISSING)

    def _replacement(self, value: Any, ref: _Ref, fn: types.FunctionType, depth: int) -> Any:
        inner = value
        while _compat.is_jitted(inner) and _jnp_name(inner) is None:
            inner = inner.__wrapped__
        if (
            isinstance(inner, types.FunctionType)
            and inner is not fn
            and is_users(inner.__code__.co_filename)
        ):
            if depth >= MAX_DEPTH:
                return _MISSING
            twin = self.rewrite(inner, depth + 1)
            return twin if (twin is not inner or inner is not value) else _MISSING
        if isinstance(inner, types.FunctionType) and inner is fn:
            return _MISSING
        if _is_jax_object(value):
            return self.translate(value, ref, fn.__name__)
        return _MISSING


_MISSING: Any = object()


def library_name(framework: str) -> str:
    return LIBRARY.get(framework, framework)


def torch_available() -> bool:
    if "torch" in sys.modules:
        return True
    import importlib.util

    return importlib.util.find_spec("torch") is not None
