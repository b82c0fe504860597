"""`jaxlab.memory`: the device memory held now — by array, by the notebook variable that
references it, and by the cell and line that created it — and diffs between two snapshots.

Arrays come from ``jax.live_arrays()``; who created each from the traceback JAX records with
it (``jax.Array.traceback``), else from JAX's device memory profile
(``jax.profiler.device_memory_profile()``, a pprof profile whose samples carry the Python
frames of each allocation, matched to arrays by device and size). References are looked up
in the namespace passed in (the notebook's variables) and in IPython's output history
(``Out[n]``, ``_``, ``__``, ``___``, ``_n``): an array held only by the history stays alive
until the history lets go of it. An array no name reaches as a pytree leaf is looked for
inside the variables' objects, closures and the last error's traceback.
"""

from __future__ import annotations

import functools
import re
import time
import types
import weakref
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.format import source_location
from jaxlab.base.table import data_frame
from jaxlab.core import profiler as _profiler
from jaxlab.ir.pprof import ProtobufError, parse_pprof
from jaxlab.ir.sources import is_users

COLUMNS = [
    "array", "shape", "dtype", "bytes", "devices", "referenced_by", "held_via", "only_history",
    "created_at", "cell", "line",
]  # fmt: skip
DIFF_COLUMNS = ["change", "shape", "dtype", "bytes", "referenced_by", "created_at", "cell", "line"]
_NOT_CONTAINERS = (
    type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
    str, bytes, int, float, complex, bool,
)  # fmt: skip
HISTORY = re.compile(r"^(_|__|___|_\d+)$")
MAX_LEAVES = 10_000  # leaves looked at per variable (a huge list of arrays is cut short)


@dataclass(slots=True)
class Creator:
    """Where a buffer was allocated: the innermost frame in the user's code."""

    file: str
    line: int
    function: str
    cell: str | None = None  # "In [5]" for a notebook cell
    via: str = ""  # the outermost user frame (the cell that ran), when it is another one

    @property
    def where(self) -> str:
        """``In [5], line 2 (make)``: as every view names code (a file as ``model.py:12``)."""
        place = (
            f"{self.cell}, line {self.line}" if self.cell else source_location(self.file, self.line)
        )
        text = place + (
            f" ({self.function})" if self.function and self.function != "<module>" else ""
        )
        return f"{text} ← {self.via}" if self.via else text


@dataclass(slots=True)
class ArrayMemory:
    """One live array."""

    key: int  # id() of the array when the snapshot was taken
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    devices: list[str]
    referenced_by: list[str] = field(default_factory=list)
    held_via: str = ""  # what holds it when no name reaches it as a pytree leaf
    creators: list[Creator] = field(default_factory=list)  # several: it is one of these
    ref: Any = field(default=None, repr=False)  # weak reference to the array

    @property
    def only_history(self) -> bool:
        """Held only by IPython's output history (``Out[n]``, ``_``...)."""
        return bool(self.referenced_by) and all(_is_history(r) for r in self.referenced_by)

    @property
    def created_at(self) -> str:
        if not self.creators:
            return ""
        if len(self.creators) == 1:
            return self.creators[0].where
        return " or ".join(dict.fromkeys(c.where for c in self.creators))

    @property
    def label(self) -> str:
        return (
            self.referenced_by[0]
            if self.referenced_by
            else f"<unnamed {self.dtype}{list(self.shape)}>"
        )

    def row(self) -> dict[str, Any]:
        c = self.creators[0] if len(self.creators) == 1 else None
        return {
            "array": self.label,
            "shape": self.shape,
            "dtype": self.dtype,
            "bytes": self.nbytes,
            "devices": ", ".join(self.devices),
            "referenced_by": ", ".join(self.referenced_by),
            "held_via": self.held_via,
            "only_history": self.only_history,
            "created_at": self.created_at,
            "cell": c.cell if c else None,
            "line": c.line if c else None,
        }


def _is_history(name: str) -> bool:
    return name.startswith("Out[") or bool(HISTORY.match(name.split("[", 1)[0].split(".", 1)[0]))


@dataclass(repr=False)
class MemorySnapshot(Displayed):
    """Device memory held at one moment, array by array. Build it with :func:`jaxlab.memory`."""

    arrays: list[ArrayMemory]
    by_device: dict[str, int]  # bytes held per device (every live buffer)
    taken_at: float
    other_bytes: int = 0  # buffers no live array accounts for (e.g. donated, in flight)
    profile_error: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(self.by_device.values())

    @property
    def held_only_by_history(self) -> list[ArrayMemory]:
        return [a for a in self.arrays if a.only_history]

    def rows(self) -> list[dict[str, Any]]:
        return [a.row() for a in self.arrays]

    def to_pandas(self):
        return data_frame(self.rows(), "MemorySnapshot", COLUMNS)

    def find(self, name: str) -> list[ArrayMemory]:
        """Arrays a name (``x``, ``Out[3]``, ``params[0]['w']``) references."""
        return [a for a in self.arrays if name in a.referenced_by]


@dataclass(repr=False)
class MemoryDiff(Displayed):
    """Arrays created and freed between two snapshots, with where the new ones were made."""

    created: list[ArrayMemory]
    freed: list[ArrayMemory]
    delta_by_device: dict[str, int]

    @property
    def delta_bytes(self) -> int:
        return sum(self.delta_by_device.values())

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for change, arrays in (("created", self.created), ("freed", self.freed)):
            for a in arrays:
                row = a.row()
                out.append({"change": change, **{k: row[k] for k in DIFF_COLUMNS[1:]}})
        return out

    def to_pandas(self):
        return data_frame(self.rows(), "MemoryDiff", DIFF_COLUMNS)


# -- references -----------------------------------------------------------------------------


def _references(namespace: Mapping[str, Any] | None) -> dict[int, list[str]]:
    """id(array) -> names that reach it in the namespace (variables, then output history)."""
    import jax

    out: dict[int, list[str]] = defaultdict(list)
    if not namespace:
        return out
    history: list[tuple[str, Any]] = []
    variables: list[tuple[str, Any]] = []
    for name, value in list(namespace.items()):
        if name == "Out" and isinstance(value, dict):
            history.extend((f"Out[{n}]", v) for n, v in sorted(value.items()) if _is_int(n))
        elif HISTORY.match(name):
            history.append((name, value))
        elif name.startswith("_") or name in ("In", "exit", "quit", "get_ipython"):
            continue
        else:
            variables.append((name, value))
    for name, value in variables + history:
        if isinstance(value, jax.Array):
            out[id(value)].append(name)
            continue
        if isinstance(value, _NOT_CONTAINERS):
            continue
        try:
            leaves, _ = jax.tree_util.tree_flatten_with_path(value)
        except Exception:
            continue
        for path, leaf in leaves[:MAX_LEAVES]:
            if isinstance(leaf, jax.Array):
                label = name + jax.tree_util.keystr(path)
                if label not in out[id(leaf)]:
                    out[id(leaf)].append(label)
    return out


_WALK_BUDGET = 50_000  # objects looked at to find what holds the arrays no name reaches
_WALK_DEPTH = 6
_WALK_ITEMS = 1_000  # items of one container looked at


def _holders(namespace: Mapping[str, Any] | None, wanted: set[int]) -> dict[int, str]:
    """id(array) -> what holds it, for arrays no variable reaches as a pytree leaf: the
    attribute path from a variable (``model.layers[0].w``); ``inside cubic (Inspection)`` when
    the path goes through an object's private attributes (jaxlab's results keep their call's
    outputs); ``captured by f`` for a function's closure; ``a local of f() in the last error's
    traceback`` for frames an exception keeps alive. Breadth first, so each array gets the
    shortest path; bounded in objects and depth."""
    import sys

    import jax

    found: dict[int, str] = {}
    if not wanted:
        return found
    queue: list[tuple[Any, str, str, int]] = []  # (object, label, private owner, depth)
    for name, value in (namespace or {}).items():
        if name in ("In", "exit", "quit", "get_ipython"):
            continue
        if not name.startswith("_") or HISTORY.match(name):
            queue.append((value, name, "", 0))
    tb = getattr(sys, "last_traceback", None)
    while tb is not None:
        frame = tb.tb_frame
        if is_users(frame.f_code.co_filename):
            where = f"a local of {frame.f_code.co_name}() in the last error's traceback"
            queue.extend((v, f"{k} ({where})", "", 1) for k, v in frame.f_locals.items())
        tb = tb.tb_next
    seen: set[int] = set()
    head = 0
    while head < len(queue) and len(seen) < _WALK_BUDGET and len(found) < len(wanted):
        obj, label, owner, depth = queue[head]
        head += 1
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, jax.Array):
            if id(obj) in wanted and id(obj) not in found:
                found[id(obj)] = owner or label
            continue
        if depth >= _WALK_DEPTH or _is_foreign(obj):
            continue
        if isinstance(obj, _NOT_CONTAINERS) and not isinstance(obj, types.FunctionType):
            continue
        for child, child_label, private in _children(obj, label):
            queue.append((child, child_label, owner or private, depth + 1))
    return found


def _children(obj: Any, label: str) -> list[tuple[Any, str, str]]:
    """(child, its label, "inside <label> (Type)" when reached through a private attribute)."""
    out: list[tuple[Any, str, str]] = []
    if isinstance(obj, dict):
        for k, v in list(obj.items())[:_WALK_ITEMS]:
            out.append((v, f"{label}[{k!r}]", ""))
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for i, v in enumerate(list(obj)[:_WALK_ITEMS]):
            out.append((v, f"{label}[{i}]", ""))
    elif isinstance(obj, types.FunctionType):
        names = obj.__code__.co_freevars
        for name, cell in zip(names, obj.__closure__ or (), strict=False):
            try:
                out.append((cell.cell_contents, f"{name} (captured by {label})", ""))
            except ValueError:  # an empty cell
                continue
        wrapped = obj.__dict__.get("__wrapped__")  # functools.wraps
        if wrapped is not None:
            out.append((wrapped, label, ""))
    elif isinstance(obj, functools.partial):
        out.append((obj.func, label, ""))
        out.extend((v, f"{label}.args[{i}]", "") for i, v in enumerate(obj.args))
        out.extend((v, f"{label}.keywords[{k!r}]", "") for k, v in obj.keywords.items())
    else:
        if type(obj).__module__.split(".", 1)[0] in ("jax", "jaxlib", "jaxlab"):
            wrapped = getattr(obj, "__wrapped__", None)  # jax.jit's function
            if wrapped is not None:
                out.append((wrapped, label, ""))
        try:  # the instance's own attributes, never a class's __getattr__
            attributes = object.__getattribute__(obj, "__dict__")
        except (AttributeError, TypeError):
            attributes = None
        if isinstance(attributes, dict):
            inside = f"inside {label} ({type(obj).__name__})"
            for k, v in list(attributes.items())[:_WALK_ITEMS]:
                private = isinstance(k, str) and k.startswith("_")
                out.append((v, f"{label}.{k}", inside if private else ""))
    return out


# objects whose insides hold no user array worth naming (NumPy's buffers) or lead back to the
# notebook itself (IPython's shell holds the namespace)
_FOREIGN = ("numpy", "IPython", "ipykernel", "ipywidgets", "traitlets", "zmq", "tornado")


def _is_foreign(obj: Any) -> bool:
    return type(obj).__module__.split(".", 1)[0] in _FOREIGN


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- creators -------------------------------------------------------------------------------


def _creator(frames: list, cell_label: Callable[[str], str | None] | None) -> Creator | None:
    """The innermost user frame of an allocation, and the outermost one it was called from."""
    user = [f for f in frames if f[0] and is_users(f[0])]
    if not user:
        return None

    def label(file: str) -> str | None:
        if cell_label is None:
            return None
        try:
            return cell_label(file)
        except Exception:
            return None

    file, line, function = user[0]
    creator = Creator(file, line, function, label(file))
    if len(user) > 1:
        outer = user[-1]
        cell = label(outer[0])
        creator.via = f"{cell}, line {outer[1]}" if cell else source_location(outer[0], outer[1])
    return creator


def _traceback_creator(arr: Any, cell_label: Callable[[str], str | None] | None) -> Creator | None:
    """Where JAX created `arr`, from the traceback every array carries (``jax.Array.traceback``):
    the one line, not a guess."""
    try:
        tb = arr.traceback
        frames = [(f.file_name, f.line_num, f.function_name) for f in tb.frames] if tb else []
    except Exception:
        return None
    return _creator(frames, cell_label) if frames else None


def _device_key(device: Any) -> str:
    return f"{device.platform}:{device.id}"


def memory(
    namespace: Mapping[str, Any] | None = None,
    *,
    backend: str | None = None,
    cell_label: Callable[[str], str | None] | None = None,
) -> MemorySnapshot:
    """The device memory held now: every live array with its shape, bytes and devices, the
    names in `namespace` (e.g. ``globals()``; the ``%memory`` magic passes the notebook's,
    output history included) that reference it, and the user code line that created it.

    `cell_label` turns a cell's file name into a label such as ``In [5]`` (the magic passes
    IPython's)."""
    import jax

    if namespace is not None and not isinstance(namespace, Mapping):
        raise TypeError(
            f"`jaxlab.memory(namespace)` takes a mapping of names to values such as "
            f"globals(), not {type(namespace).__name__}."
        )
    refs = _references(namespace)
    arrays: list[ArrayMemory] = []
    need: dict[tuple[str, int], list[ArrayMemory]] = defaultdict(list)
    for arr in jax.live_arrays(backend) if backend else jax.live_arrays():
        try:
            if arr.is_deleted():
                continue
            shards = arr.addressable_shards
            devices = [_device_key(s.device) for s in shards]
            item = ArrayMemory(
                key=id(arr),
                shape=tuple(arr.shape),
                dtype=str(arr.dtype),
                nbytes=int(arr.nbytes),
                devices=list(dict.fromkeys(devices)),
                referenced_by=list(refs.get(id(arr), ())),
            )
            try:
                item.ref = weakref.ref(arr)
            except TypeError:
                item.ref = None
            creator = _traceback_creator(arr, cell_label)
            if creator is not None:
                item.creators.append(creator)
            for s in shards:
                need[(_device_key(s.device), int(s.data.nbytes))].append(item)
        except Exception:
            continue
        arrays.append(item)
    by_device: dict[str, int] = defaultdict(int)
    error = None
    other = 0
    try:
        prof = parse_pprof(_profiler.device_memory_profile(backend))
        space = prof.value_index("space")
        space = 1 if space is None else space
        samples: dict[tuple[str, int], list[Creator | None]] = defaultdict(list)
        for sample in prof.samples:
            if sample.labels.get("kind") != "buffer":
                continue
            nbytes = sample.values[space] if space < len(sample.values) else 0
            device = str(sample.labels.get("device", ""))
            by_device[device] += nbytes
            samples[(device, nbytes)].append(_creator(sample.frames, cell_label))
        for key, items in need.items():
            found = samples.get(key, [])
            # buffers of one device and size cannot be told apart: each array of the group
            # gets every distinct creator of the group (usually one)
            distinct = list({_ck(c): c for c in found if c is not None}.values())
            for item in items:
                if not item.creators:  # an array without a traceback: JAX's allocation sites
                    item.creators.extend(distinct)
            other += max(len(found) - len(items), 0) * key[1]
        for key, found in samples.items():
            if key not in need:
                other += len(found) * key[1]
    except (ProtobufError, RuntimeError, ValueError) as exc:
        error = f"device memory profile unavailable ({exc})"
        for a in arrays:
            for d in a.devices:
                by_device[d] += a.nbytes // max(len(a.devices), 1)
    holders = _holders(namespace, {a.key for a in arrays if not a.referenced_by})
    for a in arrays:
        a.held_via = holders.get(a.key, "")
    arrays.sort(key=lambda a: -a.nbytes)
    return MemorySnapshot(arrays, dict(by_device), time.time(), other, error)


def _ck(c: Creator | None) -> tuple | None:
    return None if c is None else (c.file, c.line, c.function)


def memory_diff(before: MemorySnapshot, after: MemorySnapshot) -> MemoryDiff:
    """Arrays in `after` that `before` did not hold (created, with their cell and line) and
    arrays of `before` that are gone (freed)."""
    for name, snap in (("before", before), ("after", after)):
        if not isinstance(snap, MemorySnapshot):
            raise TypeError(
                f"`jaxlab.memory_diff` compares two MemorySnapshots; `{name}` is "
                f"{type(snap).__name__}. Take them with `jaxlab.memory()` or `%memory`."
            )

    def same(a: ArrayMemory, b: ArrayMemory) -> bool:
        if a.ref is not None and b.ref is not None:
            return a.ref() is not None and a.ref() is b.ref()
        return a.key == b.key and a.shape == b.shape and a.dtype == b.dtype

    old = {a.key: a for a in before.arrays}
    new = {a.key: a for a in after.arrays}
    created = [b for k, b in new.items() if k not in old or not same(old[k], b)]
    freed = [a for k, a in old.items() if k not in new or not same(a, new[k])]
    devices = set(before.by_device) | set(after.by_device)
    delta = {d: after.by_device.get(d, 0) - before.by_device.get(d, 0) for d in sorted(devices)}
    return MemoryDiff(created, freed, {d: v for d, v in delta.items() if v})
