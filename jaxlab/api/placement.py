"""`jaxlab.placement`: where each array of a pytree lives — its sharding, devices and shards.

Shards come from the array's own sharding (``devices_indices_map``), so arrays that span
several processes list every shard, and the ones this process holds are checked against
``addressable_shards`` (device, index and replica id).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.table import Table, data_frame
from jaxlab.core.errors import describe_value
from jaxlab.ir.shardings import describe_sharding

# the axis name JAX gives the mesh of a pmap's output
PMAP_AXIS = "_internal_pmap_axis_name"
PMAP_LABEL = "<pmap axis>"  # what it is shown as


class PlacementError(TypeError):
    """The value has no device placement to show (not an array, deleted, or a tracer)."""


@dataclass(frozen=True, slots=True)
class Shard:
    """One device's piece of an array: the box of the global array it holds."""

    device_id: int
    process_index: int
    index: tuple[tuple[int, int], ...]  # (start, stop) per dimension
    replica_id: int
    addressable: bool

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(stop - start for start, stop in self.index)

    @property
    def index_text(self) -> str:
        """The index as slices, e.g. ``[0:2, 4:8]`` (``[]`` for a scalar)."""
        return "[" + ", ".join(f"{a}:{b}" for a, b in self.index) + "]"


@dataclass(slots=True)
class Tile:
    """A distinct box of the array and every device holding a copy of it."""

    index: tuple[tuple[int, int], ...]
    devices: list[int]
    replicas: list[int]


@dataclass
class ArrayPlacement:
    """Placement of one array (or a ``jax.ShapeDtypeStruct`` with a sharding)."""

    path: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    committed: bool | None  # None for abstract values
    sharding: Any
    sharding_type: str
    spec: str  # PartitionSpec, device, or XLA's sharding text
    mesh: dict[str, int] | None
    memory_kind: str | None
    shards: list[Shard]
    fully_replicated: bool
    fully_addressable: bool
    abstract: bool = False
    note: str = ""

    @property
    def devices(self) -> list[int]:
        """Device ids holding a shard, in the sharding's order."""
        seen: dict[int, None] = {}
        for shard in self.shards:
            seen.setdefault(shard.device_id, None)
        return list(seen)

    @property
    def shard_shape(self) -> tuple[int, ...]:
        return self.shards[0].shape if self.shards else self.shape

    @property
    def shard_nbytes(self) -> int:
        size = 1
        for d in self.shard_shape:
            size *= d
        total = 1
        for d in self.shape:
            total *= d
        return self.nbytes * size // total if total else 0

    @property
    def replication(self) -> int:
        """How many devices hold each piece (1: no replication)."""
        tiles = self.tiles()
        return max((len(t.devices) for t in tiles), default=1)

    @property
    def type_text(self) -> str:
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"

    def tiles(self) -> list[Tile]:
        """Distinct boxes in first-seen order, with the devices (and replica ids) holding each."""
        tiles: dict[tuple, Tile] = {}
        for shard in self.shards:
            tile = tiles.setdefault(shard.index, Tile(shard.index, [], []))
            tile.devices.append(shard.device_id)
            tile.replicas.append(shard.replica_id)
        return list(tiles.values())

    def boundaries(self) -> list[list[int]]:
        """Per dimension, the sorted cut points of the shards (0 and the size included)."""
        cuts: list[set[int]] = [{0, d} for d in self.shape]
        for shard in self.shards:
            for dim, (start, stop) in enumerate(shard.index):
                cuts[dim].update((start, stop))
        return [sorted(c) for c in cuts]


@dataclass
class ArrayGroup:
    """Arrays that share shape, dtype and sharding (the same pieces on the same devices): a
    model's 48 ``wq`` matrices are one group."""

    arrays: list[ArrayPlacement]

    @property
    def first(self) -> ArrayPlacement:
        return self.arrays[0]

    @property
    def count(self) -> int:
        return len(self.arrays)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays)

    @property
    def paths(self) -> str:
        """The paths collapsed: ``params[*]['wq']`` when they differ only in list indices,
        else the first ones and how many more."""
        return collapse_paths([a.path for a in self.arrays])

    @property
    def distributed(self) -> bool:
        """Sharded or replicated over more than one device (worth a grid)."""
        return len(self.first.devices) > 1


def group_key(a: ArrayPlacement) -> tuple:
    """What makes two arrays' placement the same: shape, dtype and every piece's devices."""
    pieces = tuple((t.index, tuple(t.devices)) for t in a.tiles())
    return (a.shape, a.dtype, a.sharding_type, a.spec, a.memory_kind, a.abstract, pieces)


_INDEX = re.compile(r"\[(\d+)\]")


def collapse_paths(paths: list[str], shown: int = 4) -> str:
    """``["p[0]['w']", "p[1]['w']"]`` -> ``p[*]['w']``: paths that differ only in list
    indices collapse to one with ``[*]``; more than two such patterns keep what they share
    around an ellipsis (``state…['bias'].value``), else the first ones and ``… (+n)``."""
    by_template: dict[str, list[str]] = {}
    for path in paths:
        by_template.setdefault(_INDEX.sub("[*]", path), []).append(path)
    parts = [_collapse_one(group) for group in by_template.values()]
    if len(parts) <= 2:
        return ", ".join(parts)
    tokens = [_TOKEN.findall(p) for p in parts]
    head = _common(tokens)
    tail = _common([t[len(head) :][::-1] for t in tokens])[::-1]
    if tail:  # ``state…['bias'].value``: what they share, around what differs
        return "".join(head) + "…" + "".join(tail)
    if len(parts) <= shown:
        return ", ".join(parts)
    return ", ".join(parts[: shown - 1]) + f", … (+{len(parts) - shown + 1})"


_TOKEN = re.compile(r"\[[^\]]*\]|\.[^.\[]+|[^.\[]+")


def _common(seqs: list[list[str]]) -> list[str]:
    out: list[str] = []
    for items in zip(*seqs, strict=False):
        if len(set(items)) != 1:
            break
        out.append(items[0])
    return out


def _collapse_one(paths: list[str]) -> str:
    if len(paths) == 1:
        return paths[0]
    numbers = [_INDEX.findall(p) for p in paths]
    vary = [len({n[i] for n in numbers}) > 1 for i in range(len(numbers[0]))]
    slots = iter(vary)
    return _INDEX.sub(lambda m: "[*]" if next(slots) else m.group(0), paths[0])


def placed_as(a: ArrayPlacement) -> str:
    """How an array is laid out, as one comparable text: its spec and mesh, or its devices."""
    if a.mesh:
        return f"{a.spec} over {a.mesh}"
    return f"{a.spec} on {', '.join(map(str, a.devices))}"


@dataclass(frozen=True, slots=True)
class PlacementChange:
    """One array laid out otherwise than before: `before` and `after` as :func:`placed_as`."""

    path: str
    before: str
    after: str


@dataclass(repr=False)
class Placement(Displayed):
    """Placement of every array in a pytree. ``to_pandas()`` gives one row per shard."""

    arrays: list[ArrayPlacement]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, what it is)
    device_order: dict[int, int] = field(default_factory=dict)  # device id -> colour slot
    name: str = ""
    title: str = ""  # what was passed: the expression, else its type
    # arrays placed otherwise than in an earlier placement of the same value (``%where`` fills
    # it from its last look at the same expression): see :meth:`changes_since`
    changes: list[PlacementChange] = field(default_factory=list)

    def changes_since(self, before: Placement) -> list[PlacementChange]:
        """The arrays (by path) whose sharding differs from `before`'s: a step that returned
        its state with other shardings than it was given (``P()`` became ``P('model',)``)."""
        old = {a.path: a for a in before.arrays}
        out = []
        for a in self.arrays:
            b = old.get(a.path)
            if b is not None and placed_as(a) != placed_as(b):
                out.append(PlacementChange(a.path, placed_as(b), placed_as(a)))
        return out

    def __len__(self) -> int:
        return len(self.arrays)

    def __iter__(self) -> Iterator[ArrayPlacement]:
        return iter(self.arrays)

    def __getitem__(self, key: int | str) -> ArrayPlacement:
        if isinstance(key, str):
            for array in self.arrays:
                if array.path == key:
                    return array
            raise KeyError(key)
        return self.arrays[key]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per shard: array path, device, process, index, replica id, shard shape."""
        return [
            {
                "array": a.path,
                "device": s.device_id,
                "process": s.process_index,
                "index": s.index_text,
                "replica_id": s.replica_id,
                "shard_shape": s.shape,
                "addressable": s.addressable,
            }
            for a in self.arrays
            for s in a.shards
        ]

    def groups(self) -> list[ArrayGroup]:
        """The arrays grouped by shape, dtype and sharding, in first-seen order."""
        groups: dict[tuple, ArrayGroup] = {}
        for a in self.arrays:
            groups.setdefault(group_key(a), ArrayGroup([])).arrays.append(a)
        return list(groups.values())

    @property
    def single_device(self) -> int | None:
        """The one device holding every array whole, or None."""
        devices = {d for a in self.arrays for d in a.devices}
        if len(devices) == 1 and all(len(a.shards) == 1 for a in self.arrays):
            return next(iter(devices))
        return None

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays)

    def summary_rows(self) -> Table:
        """One row per group of arrays that share shape, dtype and sharding."""
        from jaxlab.base.format import short_dtype

        rows = [
            {
                "arrays": g.paths,
                "count": g.count,
                "shape": g.first.shape,
                "dtype": short_dtype(g.first.dtype),
                "bytes": g.nbytes,
                "sharding": g.first.sharding_type,
                "spec": g.first.spec,
                "shard_shape": g.first.shard_shape,
                "devices": len(g.first.devices),
            }
            for g in self.groups()
        ]
        columns = ["arrays", "count", "shape", "dtype", "bytes", "sharding", "spec"]
        return Table(rows, [*columns, "shard_shape", "devices"], "Placement.summary_rows()")

    def summary(self) -> Any:
        """The groups as a ``pandas.DataFrame``: one row per (shape, dtype, sharding), with the
        paths collapsed, how many arrays, their bytes, spec and devices."""
        return self.summary_rows().to_pandas()

    def to_pandas(self) -> Any:
        """The shards as a ``pandas.DataFrame`` (one row per shard)."""
        columns = ["array", "device", "process", "index", "replica_id", "shard_shape"]
        return data_frame(self.rows(), "Placement", [*columns, "addressable"])


def placement(tree: Any, name: str = "") -> Placement:
    """Where each array of `tree` lives: sharding, devices and one entry per shard.

    `tree` may be a ``jax.Array``, a ``jax.ShapeDtypeStruct`` with a sharding, or any pytree
    of them; other leaves are listed as skipped. `name` prefixes the paths (``%where`` passes
    the expression). Raises :class:`PlacementError` with the fix when there is nothing to
    place: no arrays, a deleted (donated) array, or a tracer.
    """
    import jax

    label = name or _type_name(tree)
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    if not leaves:
        raise PlacementError(
            f"`{label}` holds no arrays ({describe_value(tree)}); pass a jax.Array or a "
            "pytree of them."
        )
    arrays: list[ArrayPlacement] = []
    skipped: list[tuple[str, str]] = []
    for path, leaf in leaves:
        text = name + jax.tree_util.keystr(path) if path else label
        _check_leaf(leaf, text)
        if isinstance(leaf, jax.Array):
            arrays.append(_array_placement(leaf, text))
        elif isinstance(leaf, jax.ShapeDtypeStruct) and leaf.sharding is not None:
            arrays.append(_array_placement(leaf, text, abstract=True))
        else:
            skipped.append((text, _not_placed(leaf)))
    if not arrays:
        what = skipped[0][1] if len(skipped) == 1 else f"{len(skipped)} leaves, none an array"
        fix = f"place it with `jax.device_put({name or 'x'})`, or pass a jax.Array"
        if all(isinstance(leaf, jax.ShapeDtypeStruct) for _, leaf in leaves):
            fix = "give it one: `jax.ShapeDtypeStruct(shape, dtype, sharding=...)`"
        raise PlacementError(f"`{label}` is not on any device: {what}.\n  fix: {fix}.")
    return Placement(arrays, skipped, _device_order(arrays), name, label)


def _type_name(value: Any) -> str:
    """What a Python caller passed, when no expression names it: ``jax.Array``, ``list``,
    ``State``."""
    import jax

    if isinstance(value, jax.Array):
        return "jax.Array"
    if isinstance(value, jax.ShapeDtypeStruct):
        return "jax.ShapeDtypeStruct"
    return type(value).__name__


def _check_leaf(leaf: Any, path: str) -> None:
    import jax

    if isinstance(leaf, jax.core.Tracer):
        try:
            typ = str(jax.typeof(leaf))
        except Exception:
            typ = "an abstract value"
        raise PlacementError(
            f"`{path}` is a tracer ({typ}) inside a jit, vmap, grad or shard_map trace: it has "
            "no devices yet.\n  fix: ask for the placement of the result outside the "
            "transformed function, or use `jax.debug.inspect_array_sharding` inside it."
        )
    if isinstance(leaf, jax.Array) and _is_deleted(leaf):
        raise PlacementError(
            f"`{path}` ({leaf.dtype}{list(leaf.shape)}) has been deleted: it was donated to a "
            "jitted call (donate_argnums) or freed with `.delete()`.\n"
            "  fix: use the array that call returned, or recompute it; donate only arrays "
            "you no longer need."
        )


def _is_deleted(array: Any) -> bool:
    try:
        return bool(array.is_deleted())
    except Exception:
        return False


def _not_placed(leaf: Any) -> str:
    import numpy as np

    if isinstance(leaf, np.ndarray):
        return f"a NumPy array {leaf.dtype}{list(leaf.shape)} in host memory"
    if type(leaf).__name__ == "ShapeDtypeStruct":
        return "a jax.ShapeDtypeStruct without a sharding"
    return describe_value(leaf)


def _array_placement(value: Any, path: str, *, abstract: bool = False) -> ArrayPlacement:
    import numpy as np

    sharding = value.sharding
    shape = tuple(int(d) for d in value.shape)
    dtype = np.dtype(value.dtype)
    size = int(np.prod(shape)) if shape else 1
    kind, spec, mesh = describe_sharding(sharding)
    shards = _shards(value, sharding, shape, abstract)
    note = ""
    if mesh and PMAP_AXIS in mesh:  # JAX's internal name is nothing the user can write
        note = "pmap output"
        spec = spec.replace(repr(PMAP_AXIS), PMAP_LABEL)
        mesh = {PMAP_LABEL if k == PMAP_AXIS else k: v for k, v in mesh.items()}
    return ArrayPlacement(
        path=path,
        shape=shape,
        dtype=str(dtype),
        nbytes=size * dtype.itemsize,
        committed=None if abstract else bool(getattr(value, "committed", True)),
        sharding=sharding,
        sharding_type=kind,
        spec=spec,
        mesh=mesh,
        memory_kind=getattr(sharding, "memory_kind", None),
        shards=shards,
        fully_replicated=bool(getattr(sharding, "is_fully_replicated", False)),
        fully_addressable=bool(getattr(sharding, "is_fully_addressable", True)),
        abstract=abstract,
        note=note,
    )


def _shards(value: Any, sharding: Any, shape: tuple[int, ...], abstract: bool) -> list[Shard]:
    import jax

    this_process = jax.process_index()
    counts: dict[tuple, int] = {}
    shards: dict[int, Shard] = {}
    for device, index in sharding.devices_indices_map(shape).items():
        box = normalize_index(index, shape)
        replica = counts.get(box, 0)
        counts[box] = replica + 1
        process = int(getattr(device, "process_index", 0))
        shards[device.id] = Shard(device.id, process, box, replica, process == this_process)
    if not abstract:
        # The shards this process holds are authoritative for replica ids.
        for held in value.addressable_shards:
            shards[held.device.id] = Shard(
                held.device.id,
                int(getattr(held.device, "process_index", this_process)),
                normalize_index(held.index, shape),
                int(held.replica_id),
                True,
            )
    return list(shards.values())


def normalize_index(index: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """A shard index (slices, possibly open or integer) as (start, stop) per dimension."""
    if not isinstance(index, tuple):
        index = (index,)
    out: list[tuple[int, int]] = []
    for dim, size in enumerate(shape):
        item = index[dim] if dim < len(index) else slice(None)
        if isinstance(item, slice):
            start, stop, _ = item.indices(size)
            out.append((start, stop))
        else:
            i = int(item)
            out.append((i, i + 1))
    return tuple(out)


def _device_order(arrays: list[ArrayPlacement]) -> dict[int, int]:
    """A stable colour slot per device: its position among ``jax.devices()``."""
    import jax

    try:
        order = {d.id: i for i, d in enumerate(jax.devices())}
    except Exception:
        order = {}
    for array in arrays:
        for device in array.devices:
            order.setdefault(device, len(order))
    return order
