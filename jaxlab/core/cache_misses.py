"""JAX's explanations of tracing-cache misses, in the user's terms.

JAX explains why ``jax.jit`` traced again by comparing cache keys; when a static argument or a
pytree's metadata holds a new object at each call (a ``lambda`` or closure created inside the
function, as in ``ODETerm(lambda t, y, args: ...)``), its explanation is a page of pytree
metadata with two memory addresses. :func:`in_user_terms` rewrites such a bullet, while the
call's objects are still alive, as one line: which argument, which object, where it was
created, and the fix. :func:`summarize` and :func:`category` read any explanation, rewritten or
not, in one line; :func:`argument_types` labels a call's leaves the way JAX names arguments.
"""

from __future__ import annotations

import functools
import inspect as _inspect
import re
import sys
import types
from collections.abc import Iterator
from types import FunctionType
from typing import Any

from jaxlab.base.format import short_dtype, source_location
from jaxlab.ir.sources import is_library

# the words of a rewritten bullet: `category` knows it by them
NEW_OBJECT = "a new object at each call"
NEW_OBJECT_FIX = (
    "define it once, outside the function, or pass data instead of a closure "
    "(JAX compares such objects by identity)"
)

_METADATA = re.compile(
    r"^(?P<indent>\s*\*\s*)at input path (?P<path>\S+), now (?P<cls><class '[^']*'>) with pytree "
    r"metadata (?P<now>.*) and before (?P=cls) with pytree metadata (?P<before>.*), so the "
    r"pytree node metadata does not match$",
    re.M,
)
_ADDRESS = re.compile(r"<((?:[^<>]|<\w+>)*?) at (0x[0-9a-f]+)>")
_PATH_KEY = re.compile(r"\[(\d+)\]|\['([^']*)'\]|\.(\w+)")
_MAX_VISITS = 5000


def in_user_terms(reason: str, call: tuple[tuple, dict] | None, fn: Any = None) -> str:
    """`reason` (JAX's explanation) with each bullet about pytree metadata that holds a new
    object (one not in the previous key) replaced by one line in the user's terms. `call` is
    the (args, kwargs) being traced and `fn` the function JAX traces, both when known."""
    if "pytree metadata" not in reason:
        return reason

    def rewrite(m: re.Match) -> str:
        line = _new_object_line(m["path"], m["now"], m["before"], call, fn)
        return m["indent"] + line if line else m.group(0)

    return _METADATA.sub(rewrite, reason)


def _new_object_line(
    path: str, now: str, before: str, call: tuple[tuple, dict] | None, fn: Any
) -> str | None:
    old = {address for _, address in _ADDRESS.findall(before)}
    fresh = [(text, address) for text, address in _ADDRESS.findall(now) if address not in old]
    if not fresh:
        return None  # the metadata changed value, not identity: JAX's words say it
    text, address = fresh[0]
    found = _find(call, path, int(address, 16)) if call is not None else None
    argument = _argument(path, call, fn, found[1] if found else "")
    if not argument:
        argument = _wrapped_argument(int(address, 16))
    obj = found[0] if found else None
    who = f"`{argument}` is" if argument else "an argument holds"
    return f"{who} {NEW_OBJECT}: {_describe(obj, text)}; fix: {_fix(obj)}"


def _describe(obj: Any, text: str) -> str:
    """'the lambda created at In [3], line 4' from the object, else from its repr's text."""
    code = _code(obj)
    if code is not None:
        name = getattr(obj, "__qualname__", None) or code.co_name
        what = "the lambda" if code.co_name == "<lambda>" else f"the function `{_short(name)}`"
        inside = _enclosing(name)
        where = source_location(code.co_filename, code.co_firstlineno)
        return f"{what}{f' inside `{inside}`' if inside else ''} created at {where}"
    if obj is not None:
        return f"a `{type(obj).__name__}` object"
    if text.startswith("function "):
        name = text.split(" ", 1)[1]
        return "a lambda" if name.endswith("<lambda>") else f"the function `{_short(name)}`"
    return f"`{text.split(' ')[0].rsplit('.', 1)[-1]}` object"


def _fix(obj: Any) -> str:
    if obj is None or _code(obj) is not None:
        return NEW_OBJECT_FIX
    name = type(obj).__name__
    return f"create it once, outside the function, or give `{name}` __eq__ and __hash__"


def _short(qualname: str) -> str:
    return qualname.rsplit(".<locals>.", 1)[-1]


def _enclosing(qualname: str) -> str:
    parts = qualname.split(".<locals>.")
    return _short(".<locals>.".join(parts[:-1])) if len(parts) > 1 else ""


def _code(obj: Any) -> types.CodeType | None:
    for _ in range(5):
        if isinstance(obj, types.FunctionType):
            return obj.__code__
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        elif isinstance(obj, functools.partial) or type(obj).__name__ == "Partial":
            obj = getattr(obj, "func", None)
        else:
            return None
    return None


def _steps(path: str) -> list[int | str]:
    out: list[int | str] = []
    for m in _PATH_KEY.finditer(path):
        index, key, attr = m.groups()
        out.append(int(index) if index is not None else key if key is not None else attr)
    return out


def _find(call: tuple[tuple, dict], path: str, address: int) -> tuple[Any, str] | None:
    """(object, where inside the argument) for the object with that id, searched from the
    node at JAX's input path, else from the whole call."""
    node: Any = call
    for step in _steps(path):
        try:
            node = (
                node[step]
                if not isinstance(step, str) or isinstance(node, dict)
                else (getattr(node, step))
            )
        except Exception:
            break
    return _search(node, address) or _search(call, address)


def _search(root: Any, address: int) -> tuple[Any, str] | None:
    queue: list[tuple[Any, str]] = [(root, "")]
    seen: set[int] = set()
    while queue and len(seen) < _MAX_VISITS:
        obj, where = queue.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if id(obj) == address:
            return obj, where
        queue.extend(_children(obj, where))
    return None


def _children(obj: Any, where: str) -> list[tuple[Any, str]]:
    if isinstance(obj, (str, bytes, int, float, complex, bool, type, types.ModuleType)):
        return []
    if isinstance(obj, (tuple, list)):
        return [(x, f"{where}[{i}]") for i, x in enumerate(obj)]
    if isinstance(obj, dict):
        return [(v, f"{where}[{k!r}]") for k, v in obj.items()]
    if isinstance(obj, (set, frozenset)):
        return [(x, where) for x in obj]
    if isinstance(obj, functools.partial):
        return [(obj.func, where), *((a, where) for a in obj.args)]
    if _static(obj, "shape") is not None and _static(obj, "dtype") is not None:
        return []  # an array
    out = []
    fields = getattr(obj, "__dict__", None)
    if isinstance(fields, dict):
        out += [(v, f"{where}.{k}") for k, v in fields.items()]
    for name in getattr(type(obj), "__slots__", ()) or ():
        if isinstance(name, str) and hasattr(obj, name):
            out.append((getattr(obj, name), f"{where}.{name}"))
    if type(obj).__name__ == "Static" and not out:  # a static value wrapped by JAX
        out.append((getattr(obj, "val", None), where))
    return out


def _static(obj: Any, name: str) -> Any:
    """`obj.name` as stored (no property or ``__getattr__`` of the user's runs), or None."""
    try:
        return _inspect.getattr_static(obj, name)
    except AttributeError:
        return None


def _argument(path: str, call: tuple[tuple, dict] | None, fn: Any, inside: str) -> str:
    """The user's name for what sits at JAX's input path: the parameter (from `fn`'s
    signature) and the attributes below it. Empty when the traced function is a library's
    (a wrapper such as ``eqx.filter_jit``: its parameters are not the user's)."""
    steps = _steps(path)
    if len(steps) < 2 or steps[0] not in (0, 1):
        return ""
    code = _code(_inspect.unwrap(fn)) if fn is not None else None
    if code is None or is_library(code.co_filename):
        return ""
    if steps[0] == 1:
        name = str(steps[1])
    else:
        try:
            params = list(_inspect.signature(_inspect.unwrap(fn)).parameters.values())
        except (TypeError, ValueError):
            return ""
        index = int(steps[1])
        if index < len(params) and params[index].kind in (
            params[index].POSITIONAL_ONLY,
            params[index].POSITIONAL_OR_KEYWORD,
        ):
            name = params[index].name
        else:
            name = f"args[{index}]"
    return name + _tail(inside, path, call)


def _wrapper_frames(depth: int = 80) -> Iterator[tuple[dict, Any]]:
    """(locals, wrapper) of each frame of a library's on the stack that holds a wrapper of a
    function of the user's (``eqx.filter_jit``'s call holds the jitted wrapper), innermost
    first."""
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            return
        if is_library(frame.f_code.co_filename):
            local = frame.f_locals
            user = next(filter(None, map(_users_function, local.values())), None)
            if user is not None:
                yield local, user
        frame = frame.f_back


def _wrapped_argument(address: int) -> str:
    """The user's name for the object with that id when a library's wrapper staged the call
    (``eqx.filter_jit`` traces a function of its own): found in the ``args``/``kwargs`` of the
    wrapper's frame, named by the signature of the user's function it wraps."""
    for local, user in _wrapper_frames():
        args, kwargs = local.get("args"), local.get("kwargs")
        if isinstance(args, tuple) and isinstance(kwargs, dict):
            found = _search((args, kwargs), address)
            if found is not None:
                return _argument(found[1], (args, kwargs), user, "")
    return ""


def users_function(fn: Any) -> Any:
    """`fn`, the function JAX traces; or, when that is a library's (``eqx.filter_jit`` traces
    its own wrapper function), the user's function the library is staging, found on the
    stack. Call it while JAX traces."""
    code = _code(fn)
    if code is None or not is_library(code.co_filename):
        return fn
    for _, user in _wrapper_frames():
        return _inspect.unwrap(user)
    return fn


def _users_function(value: Any) -> Any:
    """`value` when it is a wrapper of a function of the user's (``functools.wraps`` style)."""
    if isinstance(value, (FunctionType, type)) or not callable(value):
        return None
    try:
        inner = _inspect.unwrap(value)
    except Exception:
        return None
    code = getattr(inner, "__code__", None)
    return value if inner is not value and code and not is_library(code.co_filename) else None


def _tail(inside: str, path: str, call: tuple[tuple, dict] | None) -> str:
    """Where below the argument the object sits: the attribute chain found by the search when
    it started at the argument itself, else JAX's own path below it."""
    if inside:
        return inside
    steps = _steps(path)[2:]
    return "".join(f".{s}" if isinstance(s, str) else f"[{s}]" for s in steps)


# -- any explanation in one line --------------------------------------------------------------

_BULLET = re.compile(r"^\s*\*\s*(.+)$", re.M)
_URL = re.compile(r"https?://\S+")
_STATIC = re.compile(
    r"at input path (\S+), now .*?Static\(val=(.*?)\) and before .*?Static\(val=(.*?)\), so"
)


_NEVER_SEEN = re.compile(
    r"^\s*(?P<name>\S+) id=\d+ defined at (?P<file>.+?):(?P<line>\d+)\s*$", re.M
)


def _clean(text: str) -> str:
    text = _URL.sub("", text).replace("({})", "")
    return " ".join(text.split())


def category(reason: str) -> str:
    """first | redefined | new-object | static | types | pytree | context | other."""
    if reason.startswith("never seen function"):
        return "redefined" if "re-defined repeatedly" in reason else "first"
    if NEW_OBJECT in reason:
        return "new-object"
    if "Static(val=" in reason:
        return "static"
    if "different input types" in reason:
        return "types"
    if "different input pytree" in reason:
        return "pytree"
    if "Tracing context" in reason:
        return "context"
    return "other"


def summarize(reason: str) -> str:
    """JAX's explanation of a tracing-cache miss in one line."""
    kind = category(reason)
    if kind == "first":
        return "first compilation"
    if kind == "redefined":
        m = _NEVER_SEEN.search(reason)
        if m is None:
            return "a new function object defined where an earlier one was (re-created each time?)"
        name, where = m["name"], source_location(m["file"], int(m["line"]))
        return f"`{name}` is a new function object at each call, defined at {where}"
    parts = []
    for bullet in _BULLET.findall(reason):
        m = _STATIC.search(bullet)
        if m:
            parts.append(f"static argument {m.group(1)} is now {m.group(2)}, was {m.group(3)}")
        else:
            parts.append(_clean(bullet))
    if parts:
        return "; ".join(parts)
    lines = [
        line.strip()
        for line in reason.splitlines()
        if line.strip() and not line.strip().startswith(("for ", "all previously"))
    ]
    return _clean(lines[0]) if lines else _clean(reason)


# -- a call's leaves, named as JAX names arguments ---------------------------------------------


def argument_types(fn: Any, call: tuple[tuple, dict]) -> dict[str, str]:
    """{'x': 'f32[6]', "params['w']": 'f32[3,3]', 'n': 'int 3'} for a call's leaves (arrays
    or ``jax.ShapeDtypeStruct`` by shape and dtype, anything else by value)."""
    import jax

    args, kwargs = call
    try:
        bound = _inspect.signature(getattr(fn, "__wrapped__", fn)).bind_partial(*args, **kwargs)
        named = dict(bound.arguments)
    except (TypeError, ValueError):
        named = {f"args[{i}]": a for i, a in enumerate(args)} | dict(kwargs)
    out: dict[str, str] = {}
    for name, value in named.items():
        leaves, _ = jax.tree_util.tree_flatten_with_path(value)
        for path, leaf in leaves:
            out[name + jax.tree_util.keystr(path)] = _leaf_type(leaf)
    return out


def argument_changes(
    fn: Any, first: tuple[tuple, dict], second: tuple[tuple, dict]
) -> list[tuple[str, str, str]]:
    """(argument, before, now) for each leaf of two calls whose shape, dtype or value differs."""
    la, lb = argument_types(fn, first), argument_types(fn, second)
    out = []
    for key in list(dict.fromkeys([*la, *lb])):
        va, vb = la.get(key, "(absent)"), lb.get(key, "(absent)")
        if va != vb:
            out.append((key, va, vb))
    return out


def _leaf_type(leaf: Any) -> str:
    shape, dtype = getattr(leaf, "shape", None), getattr(leaf, "dtype", None)
    if shape is not None and dtype is not None:
        weak = "{weak_type=True}" if getattr(leaf, "weak_type", False) else ""
        return f"{short_dtype(dtype)}[{','.join(map(str, shape))}]{weak}"
    return repr(leaf)[:80]
