"""Input and output shardings of a compiled program (``jax.stages.Compiled``), as plain rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def describe_sharding(sharding: Any) -> tuple[str, str, dict[str, int] | None]:
    """(type name, spec text, mesh axes) of a sharding, for any sharding class."""
    kind = type(sharding).__name__
    mesh = getattr(sharding, "mesh", None)
    spec = getattr(sharding, "spec", None)
    if mesh is not None and spec is not None:
        try:
            axes = {str(k): int(v) for k, v in dict(mesh.shape).items()}
        except Exception:
            axes = None
        return kind, str(spec), axes
    device_set = getattr(sharding, "device_set", None)
    if kind == "SingleDeviceSharding" and device_set:
        return kind, f"on {next(iter(device_set))}", None
    text = str(sharding)
    if text.startswith(kind + "("):
        text = text[len(kind) + 1 : -1]
    return kind, text, None


@dataclass(frozen=True, slots=True)
class ShardingEntry:
    """How one input or output of a compiled program is laid out over devices."""

    path: str  # args[0], args[1]['w'], kwargs['k'], out[0], ...
    type_text: str  # e.g. float32[8,8]
    shard_shape: tuple[int, ...] | None
    sharding_type: str
    spec: str
    mesh: dict[str, int] | None
    num_devices: int
    memory_kind: str | None
    donated: bool = False


@dataclass
class ProgramShardings:
    inputs: list[ShardingEntry]
    outputs: list[ShardingEntry]

    @property
    def num_devices(self) -> int:
        return max((e.num_devices for e in [*self.inputs, *self.outputs]), default=1)


def program_shardings(compiled: Any) -> ProgramShardings | None:
    """The shardings XLA chose for a compiled program's inputs and outputs (None when the
    compiled object does not expose them)."""
    import jax

    try:
        in_shardings = compiled.input_shardings
        out_shardings = compiled.output_shardings
    except Exception:
        return None
    try:
        args_info = compiled.args_info
        infos = dict(jax.tree_util.tree_flatten_with_path(args_info)[0])
    except Exception:
        infos = {}
    try:
        out_info = dict(jax.tree_util.tree_flatten_with_path(compiled.out_info)[0])
    except Exception:
        out_info = {}
    inputs = [
        _entry(_input_path(path), sharding, infos.get(path))
        for path, sharding in _leaves_with_path(in_shardings)
    ]
    outputs = [
        _entry("out" + jax.tree_util.keystr(path), sharding, out_info.get(path))
        for path, sharding in _leaves_with_path(out_shardings)
    ]
    return ProgramShardings(inputs, outputs)


def _leaves_with_path(tree: Any) -> list[tuple[tuple, Any]]:
    import jax

    return jax.tree_util.tree_flatten_with_path(
        tree, is_leaf=lambda x: isinstance(x, jax.sharding.Sharding)
    )[0]


def _input_path(path: tuple) -> str:
    """``(SequenceKey(0), SequenceKey(1), DictKey('w'))`` -> ``args[1]['w']``."""
    import jax

    if not path:
        return "args"
    head, rest = path[0], path[1:]
    group = "args" if getattr(head, "idx", 0) == 0 else "kwargs"
    return group + jax.tree_util.keystr(rest)


def _entry(path: str, sharding: Any, info: Any) -> ShardingEntry:
    kind, spec, mesh = describe_sharding(sharding)
    shape = tuple(getattr(info, "shape", ()) or ()) if info is not None else None
    dtype = getattr(info, "dtype", None) if info is not None else None
    type_text = f"{dtype}[{','.join(map(str, shape))}]" if shape is not None and dtype else "?"
    shard_shape = None
    if shape is not None:
        try:
            shard_shape = tuple(int(d) for d in sharding.shard_shape(shape))
        except Exception:
            shard_shape = None
    try:
        num_devices = len(sharding.device_set)
    except Exception:
        num_devices = 1
    return ShardingEntry(
        path=path,
        type_text=type_text,
        shard_shape=shard_shape,
        sharding_type=kind,
        spec=spec,
        mesh=mesh,
        num_devices=num_devices,
        memory_kind=getattr(sharding, "memory_kind", None),
        donated=bool(getattr(info, "donated", False)),
    )
