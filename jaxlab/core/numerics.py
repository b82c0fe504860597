"""The instrumented program: a jaxpr interpreter that rebuilds the user's program, equation by
equation, with the statistics of every equation output as extra outputs, reduced on the device
(``core/numerics_stats``), and compiles it with ``jax.jit`` once.

Sub-programs are rebuilt so their statistics come out too:

- ``jit``, ``custom_jvp_call``, ``custom_vjp_call``, ``remat``/``checkpoint``, ``closed_call``
  are inlined (as XLA inlines them);
- ``scan`` and ``while`` carry accumulators through their iterations, with the first
  iteration holding a NaN/Inf; a ``while``'s condition is measured at each evaluation (the
  one before iteration k is its iteration k), its body after;
- ``cond``/``switch`` branches return empty statistics for the branches not taken and count
  the branch taken;
- ``shard_map`` returns its body's statistics per device (a leading device axis).

Other primitives with sub-programs (``pallas_call``, ``custom_linear_solve``, ...) run as they
are; only their outputs are measured (the result's notes say so).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import PartitionSpec

from jaxlab.base import compat as _compat
from jaxlab.base.format import source_location
from jaxlab.core import numerics_stats as _stats
from jaxlab.ir._bulk import gc_paused
from jaxlab.ir.jaxpr import sub_jaxprs
from jaxlab.ir.numerics import ArgumentStats, DeviceStats, Row

# call-like primitives whose sub-jaxpr takes the equation's operands and gives its results
INLINED = {
    "jit": "jaxpr",
    "pjit": "jaxpr",
    "closed_call": "call_jaxpr",
    "core_call": "call_jaxpr",
    "remat2": "jaxpr",
    "checkpoint": "jaxpr",
    "custom_jvp_call": "call_jaxpr",
    "custom_vjp_call": "call_jaxpr",
    "custom_vjp_call_jaxpr": "fun_jaxpr",
}
CALLBACKS = ("debug_callback", "io_callback", "pure_callback")
# primitives whose output holds each element of their input the same number of times: its
# statistics follow from the input's (counts and sum times that number), so it is not measured
DERIVED = {"reshape", "transpose", "squeeze", "expand_dims", "copy", "copy_p", "rev"}
DERIVED_REPEATING = {"broadcast_in_dim"}
# primitives whose outputs are their inputs, element for element, when the type stays the same
# (a conversion to the same dtype, a rounding to the dtype's own format)
IDENTITY = {"stop_gradient", "optimization_barrier", "convert_element_type", "reduce_precision"}
# primitives whose output is its input negated: the record mirrored (extremes swapped and
# negated, +Inf and -Inf swapped, the sum negated; the histogram of |x| is the same)
MIRRORED = {"neg"}
# primitives that make a constant from a literal: a second equal constant of the same execution
# follows from the first one's record
FROM_LITERAL = {"broadcast_in_dim", "convert_element_type"}
ITERATION = -1  # marks a loop-iteration slot in a row's execution-order path
AFTER_LOOP = 1 << 30  # a loop's own outputs come after all of its iterations


@dataclass
class Spec:
    """What the host needs to know about one recorded output (static, made while tracing)."""

    key: str
    eqn_path: str
    output: int
    equation: int
    primitive: str
    name_stack: str
    frames: list[tuple[str, int, int, str]]
    dtype: str
    shape: tuple[int, ...]
    loops: int
    order: tuple[int, ...]  # execution-order path; ITERATION marks loop-index slots
    devices: tuple[int, ...] = ()  # device ids under shard_map (record rows in this order)
    inputs: tuple[Any, ...] = ()  # ('row', key) | ('arg', name) | ('lit', text) | Carried | None
    backward: bool = False
    scopes: tuple[str, ...] = ()  # the named scopes around the equation, outermost first
    links: tuple[Any, ...] = ()  # sources of the sub-program result this output is
    branch_of: str | None = None  # for '#branches' records: the cond's path


@dataclass
class Program:
    """Everything the tracing of the instrumented program learnt: the specs of the records
    and which parts ran uninstrumented."""

    specs: dict[str, Spec] = field(default_factory=dict)
    equations: dict[str, int] = field(default_factory=dict)  # eqn path -> execution number
    opaque: set[str] = field(default_factory=set)  # primitives run without looking inside
    # axis names of the meshes with automatic axes that values are sharded over
    auto_axes: set[str] = field(default_factory=set)
    twin: Any = None  # the explicit mesh standing in for a mesh with automatic axes
    callbacks: set[str] = field(default_factory=set)
    skipped: int = 0  # outputs left out by `only`
    keep: Callable[[tuple, list, str], bool] | None = None  # (scopes, frames, path) -> keep?
    # (axis names, sizes) of a mesh -> its device ids in order (from the arguments' shardings)
    meshes: dict[tuple, tuple[int, ...]] = field(default_factory=dict)
    # eqn path of a call, loop or branch -> per output, the sources of the sub-program's
    # results that it returns
    links: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    outputs: list[Any] = field(default_factory=list)  # sources of the program's outputs
    # key of an output not measured -> (key of the measured record it follows from, how many
    # times the output holds each element of that record's value, whether it holds them
    # negated)
    derived: dict[str, tuple[str, int, bool]] = field(default_factory=dict)
    # a constant made from a literal (its primitive, the literal's dtype and bytes, the
    # output's dtype) -> the keys of the measured records holding it
    constants: dict[tuple, list[str]] = field(default_factory=dict)

    def device_ids(self, mesh: tuple[tuple[str, ...], tuple[int, ...]]) -> tuple[int, ...]:
        found = self.meshes.get(mesh)
        if found is not None:
            return found
        return tuple(range(int(np.prod(mesh[1]))))

    def equation_number(self, path: str) -> int:
        return self.equations.setdefault(path, len(self.equations))


@dataclass
class Region:
    """One jaxpr being interpreted: where it sits and the records of one execution of it."""

    program: Program
    prefix: str  # eqn path prefix
    order: tuple[int, ...]
    loops: int
    name_stack: str = ""
    scopes: tuple[str, ...] = ()
    backward: bool = False
    frames: list = field(default_factory=list)
    devices: tuple[int, ...] = ()
    # under grad: the equations (positions) the function's value depends on, with the
    # outputs it needs; the others only serve the gradient (None: not a gradient program)
    forward: dict[int, set[int]] | None = None
    records: dict[str, _stats.Record] = field(default_factory=dict)
    queue: Queue = None  # type: ignore[assignment]  # set in __post_init__ unless shared

    def __post_init__(self) -> None:
        if self.queue is None:
            self.queue = Queue(self)

    def holds(self, key: str) -> bool:
        """Whether `key`'s record is (or will be) among this execution's records."""
        return key in self.records or key in self.queue.owner.records or key in self.queue.keys

    def child(self, prefix: str, order: tuple[int, ...], **changes: Any) -> Region:
        values = {
            "program": self.program,
            "prefix": prefix,
            "order": order,
            "loops": self.loops,
            "name_stack": self.name_stack,
            "scopes": self.scopes,
            "backward": self.backward,
            "frames": self.frames,
            "devices": self.devices,
        }
        values.update(changes)
        return Region(**values)


# -- the interpreter -------------------------------------------------------------------------


def interpret(
    jaxpr: Any,
    consts: Sequence[Any],
    args: Sequence[Any],
    region: Region,
    sources: Sequence[Any] | None = None,
    out_sources: list[Any] | None = None,
) -> list[Any]:
    """Evaluate `jaxpr` (open) on `args`, recording statistics into `region.records`.
    `sources` names where each argument came from (for the rows' ``inputs``); `out_sources`,
    when given, receives where each of the jaxpr's results came from."""
    env: dict[Any, Any] = {}
    src: dict[Any, Any] = {}
    sources = list(sources) if sources is not None else [None] * len(args)
    constants: set[Any] = set(jaxpr.constvars)  # variables computed from constants alone
    for var, value in zip(jaxpr.constvars, consts, strict=True):
        env[var] = value
        src[var] = ("lit", constant_text(value))
    for var, value, source in zip(jaxpr.invars, args, sources, strict=True):
        env[var] = value
        src[var] = source

    def read(v: Any) -> Any:
        return v.val if _is_literal(v) else env[v]

    def origin_of(v: Any) -> Any:
        if _is_literal(v):
            return ("lit", _literal_text(v.val))
        return src.get(v)

    for position, eqn in enumerate(jaxpr.eqns):
        invals = [read(v) for v in eqn.invars]
        insrc = [origin_of(v) for v in eqn.invars]
        path = f"{region.prefix}{position}"
        name_stack = _join_stack(region.name_stack, _compat.eqn_name_stack(eqn))
        scopes = (*region.scopes, *_compat.eqn_scopes(eqn))
        backward = (
            region.backward
            or "transpose(" in name_stack
            or (region.forward is not None and position not in region.forward)
        )
        # a row names its innermost user frame; `only` with a line range reads them all
        frames = _compat.eqn_frames(eqn, 1 if region.program.keep is None else 10)
        frames = frames or region.frames
        common = {
            "name_stack": name_stack,
            "scopes": scopes,
            "backward": backward,
            "frames": frames,
        }
        outs = _evaluate(eqn, invals, insrc, path, position, region, common)
        program = region.program
        keep = program.keep is None or program.keep(scopes, frames, path)
        constant = all(_is_literal(v) or v in constants for v in eqn.invars)
        links = program.links.get(path, ())
        for i, (var, value) in enumerate(zip(eqn.outvars, outs, strict=True)):
            if type(var).__name__ == "DropVar":
                continue
            env[var] = value
            key = f"{path}:{i}"
            src[var] = ("row", key)
            if constant:
                constants.add(var)
            aval = var.aval
            if not _stats.observable(aval):
                continue
            if not keep:
                program.skipped += 1
                continue
            devices = region.devices
            over = None if devices else _stats.sharded_over(value)
            if over is not None:
                devices = program.device_ids(over)
            if key not in program.specs:
                program.specs[key] = Spec(
                    key=key,
                    eqn_path=path,
                    output=i,
                    equation=program.equation_number(path),
                    primitive=eqn.primitive.name,
                    name_stack=name_stack,
                    frames=frames,
                    dtype=_dtype_text(aval.dtype),
                    shape=tuple(int(d) for d in aval.shape),
                    loops=region.loops,
                    order=(*region.order, position, AFTER_LOOP),
                    devices=devices,
                    inputs=tuple(insrc),
                    backward=backward,
                    scopes=scopes,
                    links=links[i] if i < len(links) else (),
                )
            if not hasattr(value, "size"):
                # a primitive that folded to a Python scalar while tracing (JAX's typed
                # literals, as in a library's solver loop): measured as the array it stands for
                value = jnp.asarray(value, dtype=aval.dtype)
            if over is None and _derive(eqn, i, insrc, var, key, region, devices):
                continue
            if constant:
                # XLA would fold the statistics of a value made from constants alone at
                # compile time, element by element (slowly); measure it at run time
                value = lax.optimization_barrier(value)
            if over is None and not devices:
                region.queue.add(key, value)
            else:
                region.records[key] = _stats.measure(value, per_device=over is not None)
    if region.queue.owner is region:
        region.queue.flush()
    if out_sources is not None:
        out_sources[:] = [origin_of(v) for v in jaxpr.outvars]
    return [read(v) for v in jaxpr.outvars]


def _derive(
    eqn: Any, i: int, insrc: list, var: Any, key: str, region: Region, devices: tuple
) -> bool:
    """Record output `i` of `eqn` (`key`) as following from another record of the same
    execution (same loop iterations, same devices) instead of measuring it: when the equation
    only moves, repeats or negates its input's elements, passes them through unchanged, or is
    an inlined call whose result is a value measured inside it."""
    name = eqn.primitive.name
    program = region.program
    if name in FROM_LITERAL and eqn.invars and _is_literal(eqn.invars[0]):
        return _derive_constant(eqn, var, key, region, devices)
    if name in INLINED:
        links = program.links.get(key.rsplit(":", 1)[0], ())
        source = links[i][0] if i < len(links) and links[i] else None
    else:
        operand = _derived_operand(eqn, i, var)
        source = None if operand is None else insrc[operand]
    if not (isinstance(source, tuple) and source[0] == "row"):
        return False  # an argument, literal or loop-carried value: no record of this execution
    root, times, negated = program.derived.get(source[1], (source[1], 1, False))
    spec = program.specs.get(root)
    if spec is None or root in program.derived or not region.holds(root):
        return False
    if spec.loops != region.loops or spec.devices != devices or spec.dtype != _dtype_name(var):
        return False
    if name in INLINED:
        program.derived[key] = (root, times, negated)
        return True
    size_in = math.prod(eqn.invars[operand].aval.shape)
    size_out = math.prod(var.aval.shape)
    if (
        size_in == 0
        or size_out % size_in
        or (name not in DERIVED_REPEATING and size_out != size_in)
    ):
        return False
    program.derived[key] = (root, times * (size_out // size_in), negated ^ (name in MIRRORED))
    return True


def _derive_constant(eqn: Any, var: Any, key: str, region: Region, devices: tuple) -> bool:
    """Record `key`, a literal broadcast or converted, as following from an earlier record of
    the same execution holding the same constant (the same literal through the same
    primitive); the first one is measured."""
    program = region.program
    literal = np.asarray(eqn.invars[0].val)
    ident = (eqn.primitive.name, _dtype_text(literal.dtype), literal.tobytes(), _dtype_name(var))
    size = math.prod(var.aval.shape)
    earlier = program.constants.setdefault(ident, [])
    for root in reversed(earlier):
        if root == key:  # a loop body traced again
            break
        spec = program.specs[root]
        n = math.prod(spec.shape)
        same = spec.loops == region.loops and spec.devices == devices and region.holds(root)
        if same and n and size % n == 0:
            program.derived[key] = (root, size // n, False)
            return True
    if size and key not in earlier:
        earlier.append(key)
    return False


def _derived_operand(eqn: Any, i: int, var: Any) -> int | None:
    """The operand whose elements output `i` of `eqn` (`var`) holds unchanged (moved,
    repeated or negated), or None."""
    name = eqn.primitive.name
    if not eqn.invars:
        return None
    if name in DERIVED or name in DERIVED_REPEATING:
        return 0
    if name in MIRRORED:
        return 0 if _is_float(var) else None
    if name == "optimization_barrier":
        return i
    if name == "reduce_precision":
        if not _is_float(var):
            return None
        info = jnp.finfo(np.dtype(var.aval.dtype))
        own = (int(info.nexp), int(info.nmant))
        return (
            0 if (eqn.params.get("exponent_bits"), eqn.params.get("mantissa_bits")) == own else None
        )
    return 0 if name in IDENTITY else None


def _dtype_name(var: Any) -> str:
    return _dtype_text(var.aval.dtype)


def _is_float(var: Any) -> bool:
    return _stats.is_float(np.dtype(var.aval.dtype))


@dataclass(eq=False)
class Carried:
    """The source of a loop's carried operand inside its body: the value it starts with and
    the body result it comes back as on later iterations (known once the body is traced)."""

    initial: Any
    again: Any = None


def _carried(sources: Sequence[Any]) -> list[Carried]:
    return [Carried(s) for s in sources]


def _close_loop(carried: Sequence[Carried], results: Sequence[Any]) -> None:
    for c, s in zip(carried, results, strict=False):
        c.again = s


class Queue:
    """Values waiting to be measured, by (dtype, padded length): measured together once a
    group of a kind is waiting (`_stats.group_size`), and when the region that owns the
    queue ends (an inlined call shares its caller's queue)."""

    def __init__(self, owner: Region) -> None:
        self.owner = owner
        self.waiting: dict[tuple[str, int], list[tuple[str, Any]]] = {}
        self.keys: set[str] = set()  # every key added

    def add(self, key: str, value: Any) -> None:
        self.keys.add(key)
        if value.size > _stats.GROUP_SIZE:
            self.owner.records[key] = _stats.measure(value)
            return
        kind = (_dtype_text(value.dtype), _stats.length_class(value.size))
        group = self.waiting.setdefault(kind, [])
        group.append((key, value))
        if len(group) >= _stats.group_size(kind[1]):
            self._measure(self.waiting.pop(kind))

    def flush(self) -> None:
        for kind in list(self.waiting):
            self._measure(self.waiting.pop(kind))

    def _measure(self, group: list[tuple[str, Any]]) -> None:
        records = _stats.measure_group([value for _, value in group])
        for (key, _), record in zip(group, records, strict=True):
            self.owner.records[key] = record


def _evaluate(
    eqn: Any, invals: list, insrc: list, path: str, position: int, region: Region, common: dict
) -> list[Any]:
    name = eqn.primitive.name
    if name in CALLBACKS:
        region.program.callbacks.add(name)
    with _compat.equation_context(eqn):
        if name in INLINED and INLINED[name] in eqn.params:
            shardings = (*eqn.params.get("in_shardings", ()), *eqn.params.get("out_shardings", ()))
            region.program.auto_axes.update(auto_sharded_axes(shardings))
            label = INLINED[name]
            inner = eqn.params[label]
            jaxpr, consts = _open(inner)
            forward = None
            if region.forward is not None and position in region.forward:
                needed = {jaxpr.outvars[i] for i in region.forward[position]}
                forward = value_slice(jaxpr, needed)
            # the call's values wait in the caller's queue (measured with the caller's)
            sub = region.child(
                f"{path}/{label}/",
                (*region.order, position),
                forward=forward,
                queue=region.queue,
                **common,
            )
            results: list[Any] = []
            outs = interpret(jaxpr, consts, invals, sub, insrc, results)
            region.program.links[path] = [(r,) for r in results]
            region.records.update(sub.records)
            return outs
        if name == "scan":
            return _scan(eqn, invals, insrc, path, position, region, common)
        if name == "while":
            return _while(eqn, invals, insrc, path, position, region, common)
        if name == "cond":
            return _cond(eqn, invals, insrc, path, position, region, common)
        if name == "shard_map":
            return _shard_map(eqn, invals, insrc, path, position, region, common)
        if sub_jaxprs(eqn.params):
            region.program.opaque.add(name)
        if region.program.twin is not None:
            eqn = eqn.replace(params=_on_twin(eqn.params, region.program.twin))
        return _bind(eqn, invals)


def bind_equation(eqn: Any, invals: Sequence[Any]) -> list[Any]:
    """The outputs of one jaxpr equation applied to `invals` (a list, multiple results or
    not), under the equation's source location and named scopes."""
    with _compat.equation_context(eqn):
        return _bind(eqn, invals)


def _bind(eqn: Any, invals: Sequence[Any]) -> list[Any]:
    params = eqn.primitive.get_bind_params(eqn.params)
    if isinstance(params, tuple):  # JAX before 0.7: (subfuns, params)
        subfuns, params = params
        out = eqn.primitive.bind(*subfuns, *invals, **params)
    else:
        out = eqn.primitive.bind(*invals, **params)
    return list(out) if eqn.primitive.multiple_results else [out]


def value_slice(jaxpr: Any, needed: set[Any]) -> dict[int, set[int]]:
    """The equations (positions, with the outputs needed) that the variables `needed`
    depend on."""
    live = {v for v in needed if not _is_literal(v)}
    found: dict[int, set[int]] = {}
    for position in range(len(jaxpr.eqns) - 1, -1, -1):
        eqn = jaxpr.eqns[position]
        outs = {i for i, v in enumerate(eqn.outvars) if v in live}
        if outs:
            found[position] = outs
            live.update(v for v in eqn.invars if not _is_literal(v))
    return found


def _open(inner: Any) -> tuple[Any, list]:
    if hasattr(inner, "consts") and hasattr(inner, "jaxpr"):
        return inner.jaxpr, list(inner.consts)
    return inner, []


class Stack:
    """The records of one loop body as few arrays: per device count, every field of the
    records stacked along a leading axis, in the order of `layout`'s keys. A loop carries and
    combines them whole, not one record at a time: the instructions of a loop body (and
    XLA's compile time) then grow with the body's equations, not with its records times the
    instructions of a combination."""

    def __init__(self) -> None:
        self.layout: dict[int, list[str]] = {}

    def stack(self, records: dict[str, Any]) -> dict[int, _stats.Record]:
        """`records` (a body's, batches of values measured together kept whole) stacked;
        the same body gives the same layout each time it is traced."""
        layout: dict[int, list[str]] = {}
        parts: dict[int, list[tuple]] = {}
        batches: dict[int, tuple[Any, list[str]]] = {}
        for key, rec in records.items():
            if isinstance(rec, _stats.Member):
                batches.setdefault(id(rec.batch), (rec.batch, []))[1].append(key)
                continue
            devices = rec[0].shape[0]
            layout.setdefault(devices, []).append(key)
            parts.setdefault(devices, []).append(tuple(f[None] for f in rec))
        for batch, keys in batches.values():
            keys.sort(key=lambda k: records[k].index)
            indices = [records[k].index for k in keys]
            if indices != list(range(batch[0].shape[0])):
                batch = tuple(f[np.asarray(indices)] for f in batch)
            layout.setdefault(1, []).extend(keys)
            parts.setdefault(1, []).append(tuple(batch))
        self.layout = layout
        kinds = {d: _stats.empty(d) for d in parts}
        return {
            d: tuple(
                jnp.concatenate([p[f].astype(kinds[d][f].dtype) for p in pieces])
                for f in range(len(kinds[d]))
            )
            for d, pieces in parts.items()
        }

    def empty(self) -> dict[int, _stats.Record]:
        """Nothing observed yet, for every record of the layout."""
        return {d: _empties(len(keys), d) for d, keys in self.layout.items()}

    @staticmethod
    def combine(acc: dict, new: dict, level: int, index: Any) -> dict:
        """Every record of `acc` with its own of `new` (iteration `index` at loop `level`)."""
        return {
            d: jax.vmap(lambda a, n: _stats.combine(a, n, level, index))(acc[d], new[d])
            for d in acc
        }

    def records(self, stacked: dict[int, _stats.Record]) -> dict[str, Any]:
        """The stacked records by key again (one device: members of one batch)."""
        out: dict[str, Any] = {}
        for d, keys in self.layout.items():
            for j, key in enumerate(keys):
                out[key] = (
                    _stats.Member(stacked[d], j) if d == 1 else tuple(f[j] for f in stacked[d])
                )
        return out


def _empties(n: int, devices: int) -> _stats.Record:
    """`n` records of nothing observed, stacked."""
    return tuple(jnp.broadcast_to(f, (n, *f.shape)) for f in _stats.empty(devices))  # type: ignore[return-value]


def _scan(eqn, invals, insrc, path, position, region, common) -> list[Any]:
    p = eqn.params
    body_jaxpr, body_consts = _open(p["jaxpr"])
    nconst, ncarry = p["num_consts"], p["num_carry"]
    consts, init, xs = invals[:nconst], invals[nconst : nconst + ncarry], invals[nconst + ncarry :]
    level = region.loops
    length, reverse = p["length"], p["reverse"]
    carried = _carried(insrc[nconst : nconst + ncarry])
    body_src = [*insrc[:nconst], *carried, *insrc[nconst + ncarry :]]
    stack = Stack()

    def run_body(c, x):
        sub = region.child(
            f"{path}/jaxpr/", (*region.order, position, ITERATION), loops=level + 1, **common
        )
        results: list[Any] = []
        outs = interpret(body_jaxpr, body_consts, [*consts, *c, *(x or ())], sub, body_src, results)
        _close_loop(carried, results[:ncarry])
        region.program.links[path] = [(r,) for r in results]
        return outs, stack.stack(sub.records)

    jax.eval_shape(lambda c, x: run_body(c, x)[1], init, [_slice0(v) for v in xs])
    acc0 = stack.empty()

    def step(carry, x):
        c, acc, i = carry
        outs, recs = run_body(c, x)
        index = (length - 1 - i) if reverse else i
        acc = stack.combine(acc, recs, level, index)
        return (outs[:ncarry], acc, i + 1), outs[ncarry:]

    (carry, acc, _), ys = lax.scan(
        step,
        (list(init), acc0, jnp.asarray(0, _stats.int_dtype())),
        list(xs) if xs else None,
        length=length,
        reverse=reverse,
        unroll=p.get("unroll", 1),
    )
    region.records.update(stack.records(acc))
    return [*carry, *ys]


def _slice0(x: Any) -> Any:
    return jax.ShapeDtypeStruct(x.shape[1:], x.dtype)


def _while(eqn, invals, insrc, path, position, region, common) -> list[Any]:
    """The loop rebuilt with both its condition and its body measured: the condition's
    evaluation k (before iteration k; the last one ends the loop) is iteration k of its rows."""
    p = eqn.params
    cn, bn = p["cond_nconsts"], p["body_nconsts"]
    cond_consts, body_consts, init = invals[:cn], invals[cn : cn + bn], invals[cn + bn :]
    body_jaxpr, body_closed = _open(p["body_jaxpr"])
    cond_jaxpr, cond_closed = _open(p["cond_jaxpr"])
    level = region.loops
    carried = _carried(insrc[cn + bn :])
    cond_src = [*insrc[:cn], *carried]
    body_src = [*insrc[cn : cn + bn], *carried]
    decision: list[Any] = []  # where the condition's result comes from
    checks, steps = Stack(), Stack()

    def run_cond(vals):
        # the condition's rows come before the body's in each iteration
        order = (*region.order, position, ITERATION, 0)
        sub = region.child(f"{path}/cond_jaxpr/", order, loops=level + 1, **common)
        outs = interpret(cond_jaxpr, cond_closed, [*cond_consts, *vals], sub, cond_src, decision)
        return outs[0], checks.stack(sub.records)

    def run_body(vals):
        order = (*region.order, position, ITERATION, 1)
        sub = region.child(f"{path}/body_jaxpr/", order, loops=level + 1, **common)
        results: list[Any] = []
        outs = interpret(body_jaxpr, body_closed, [*body_consts, *vals], sub, body_src, results)
        _close_loop(carried, results)
        # the loop's results are the body's, after as many iterations as the condition says
        region.program.links[path] = [(r, *decision) for r in results]
        return outs, steps.stack(sub.records)

    jax.eval_shape(lambda v: run_cond(v)[1], init)
    jax.eval_shape(lambda v: run_body(v)[1], init)
    pred, first = run_cond(init)
    acc0 = (Stack.combine(checks.empty(), first, level, 0), steps.empty())

    def body(carry):
        vals, (checked, stepped), i, _ = carry
        outs, recs = run_body(vals)
        pred, more = run_cond(outs)
        stepped = Stack.combine(stepped, recs, level, i)
        checked = Stack.combine(checked, more, level, i + 1)
        return list(outs), (checked, stepped), i + 1, jnp.asarray(pred)

    def cond(carry):
        return carry[3]

    vals, (checked, stepped), _, _ = lax.while_loop(
        cond, body, (list(init), acc0, jnp.asarray(0, _stats.int_dtype()), jnp.asarray(pred))
    )
    region.records.update(checks.records(checked))
    region.records.update(steps.records(stepped))
    return list(vals)


def _cond(eqn, invals, insrc, path, position, region, common) -> list[Any]:
    branches = eqn.params["branches"]
    index, ops = invals[0], invals[1:]
    branch_key = f"{path}#branches"

    results: list[list[Any]] = [[] for _ in branches]

    def run_branch(b, *args):
        jaxpr, consts = _open(branches[b])
        sub = region.child(f"{path}/branches[{b}]/", (*region.order, position, b), **common)
        outs = interpret(jaxpr, consts, list(args), sub, insrc[1:], results[b])
        region.program.links[path] = [tuple(r) for r in zip(*results, strict=False)]
        return outs, stacks[b].stack(sub.records)

    # each branch's records stacked; every branch returns all of them, the others' empty
    stacks = [Stack() for _ in branches]
    for b in range(len(branches)):
        jax.eval_shape(lambda *a, b=b: run_branch(b, *a)[1], *ops)
    kinds = sorted({d for st in stacks for d in st.layout})
    union = Stack()
    union.layout = {d: [k for st in stacks for k in st.layout.get(d, [])] for d in kinds}
    devices = max([*kinds, 1])
    if branch_key not in region.program.specs:
        region.program.specs[branch_key] = Spec(
            key=branch_key,
            eqn_path=path,
            output=-1,
            equation=-1,
            primitive="cond",
            name_stack="",
            frames=[],
            dtype="int32",
            shape=(),
            loops=region.loops,
            order=(),
            devices=region.devices,
            branch_of=path,
        )

    def make(b):
        def fn(*args):
            outs, own = run_branch(b, *args)
            full = {}
            for d in kinds:
                blocks = [
                    own[d] if c == b else _empties(len(st.layout[d]), d)
                    for c, st in enumerate(stacks)
                    if st.layout.get(d)
                ]
                full[d] = tuple(jnp.concatenate(parts) for parts in zip(*blocks, strict=True))
            return outs, full, _stats.branch_record(b, devices)

        return fn

    outs, stacked, taken = lax.switch(index, [make(b) for b in range(len(branches))], *ops)
    region.records.update(union.records(stacked))
    region.records[branch_key] = taken
    return list(outs)


def _shard_map(eqn, invals, insrc, path, position, region, common) -> list[Any]:
    p = eqn.params
    mesh = p["mesh"]
    manual = p.get("newly_manual_axes") or p.get("axis_names") or frozenset(mesh.axis_names)
    axes = tuple(a for a in mesh.axis_names if a in manual)
    ids = _device_ids(mesh, axes)
    jaxpr, consts = _open(p["jaxpr"])

    def body(*args):
        sub = region.child(f"{path}/jaxpr/", (*region.order, position), devices=ids, **common)
        results: list[Any] = []
        outs = interpret(jaxpr, consts, list(args), sub, insrc, results)
        region.program.links[path] = [(r,) for r in results]
        return list(outs), _stats.alone(sub.records)

    in_specs = tuple(p["in_specs"])
    out_specs = list(p["out_specs"])
    fn = jax.shard_map(
        body,
        mesh=mesh,
        in_specs=in_specs,
        out_specs=(out_specs, PartitionSpec(axes)),
        axis_names=set(manual),
        check_vma=False,
    )
    outs, recs = fn(*invals)
    region.records.update(recs)
    return list(outs)


def _device_ids(mesh: Any, axes: tuple[str, ...]) -> tuple[int, ...]:
    """Ids of the devices along the manual axes, in the order of the records' device axis
    (the other axes at their first coordinate)."""
    devices = np.asarray(mesh.devices)
    names = list(mesh.axis_names)
    order = [names.index(a) for a in axes] + [i for i, a in enumerate(names) if a not in axes]
    moved = np.transpose(devices, order)
    picked = (
        moved[(Ellipsis,) + (0,) * (len(names) - len(axes))] if len(axes) < len(names) else moved
    )
    return tuple(int(d.id) for d in np.ravel(picked))


def _meshes(leaves: Sequence[Any]) -> dict[tuple, tuple[int, ...]]:
    """The meshes the arguments are sharded over, with their devices' ids in mesh order."""
    found: dict[tuple, tuple[int, ...]] = {}
    meshes = [getattr(getattr(leaf, "sharding", None), "mesh", None) for leaf in leaves]
    with contextlib.suppress(Exception):
        meshes.append(jax.sharding.get_mesh())
    for mesh in meshes:
        devices = getattr(mesh, "devices", None)
        if devices is None or not getattr(mesh, "axis_names", ()):
            continue
        key = (tuple(mesh.axis_names), tuple(int(n) for n in np.shape(devices)))
        found.setdefault(key, tuple(int(d.id) for d in np.ravel(devices)))
    return found


def auto_sharded_axes(shardings: Sequence[Any]) -> set[str]:
    """The mesh axes with automatic sharding (not explicit) that these shardings split
    values over."""
    found: set[str] = set()
    for sharding in shardings:
        mesh = getattr(sharding, "mesh", None)
        spec = getattr(sharding, "spec", None)
        if mesh is None or spec is None or getattr(mesh, "size", 1) <= 1:
            continue
        types = dict(zip(mesh.axis_names, getattr(mesh, "axis_types", ()), strict=False))
        for entry in spec:
            for axis in entry if isinstance(entry, tuple) else (entry,):
                if axis is not None and types.get(axis) != jax.sharding.AxisType.Explicit:
                    found.add(str(axis))
    return found


def _explicit_twin(arrays: Sequence[Any], given: Sequence[Any]) -> tuple[Any, list] | None:
    """The arguments placed on the explicit twin of the mesh with automatic axes that they,
    or the jit's `given` in_shardings (one per argument), split them over; None when none
    is."""
    shardings = [
        g if getattr(g, "spec", None) is not None else getattr(a, "sharding", None)
        for a, g in zip(arrays, list(given) + [None] * (len(arrays) - len(given)), strict=False)
    ]
    meshes = [s.mesh for s in shardings if auto_sharded_axes([s])]
    if not meshes:
        return None
    auto = meshes[0]
    mesh = jax.sharding.Mesh(
        auto.devices,
        auto.axis_names,
        axis_types=(jax.sharding.AxisType.Explicit,) * len(auto.axis_names),
    )
    placed = []
    for a, s in zip(arrays, shardings, strict=True):
        spec = s.spec if getattr(s, "mesh", None) is auto else PartitionSpec()
        placed.append(jax.device_put(a, jax.sharding.NamedSharding(mesh, spec)))
    return mesh, placed


def _on_twin(params: dict[str, Any], twin: Any) -> dict[str, Any]:
    """An equation's parameters with the shardings on the automatic mesh that `twin` stands
    for moved onto `twin` (JAX checks that they match the mesh of the values)."""

    def moved(value: Any) -> Any:
        mesh = getattr(value, "mesh", None)
        spec = getattr(value, "spec", None)
        if spec is None or getattr(mesh, "axis_names", None) != twin.axis_names:
            return value
        if not auto_sharded_axes([value]) and not any(
            t != jax.sharding.AxisType.Explicit for t in mesh.axis_types
        ):
            return value
        target = twin if isinstance(mesh, jax.sharding.Mesh) else twin.abstract_mesh
        return jax.sharding.NamedSharding(target, spec)

    return {k: moved(v) for k, v in params.items()}


@functools.cache
def _dtype_text(dtype: Any) -> str:
    return str(np.dtype(dtype))


def _is_literal(v: Any) -> bool:
    return type(v).__name__ == "Literal"


def _literal_text(value: Any) -> str:
    try:
        arr = np.asarray(value)
        return str(arr.item()) if arr.size == 1 else f"{arr.dtype}{list(arr.shape)}"
    except Exception:
        return repr(value)


def constant_text(value: Any) -> str:
    """A constant the program closes over, as a row's input names it: its value when it is
    one number ('inf', '0.5'), else its type, with the non-finite values it holds
    ('constant float32[2] holding NaN')."""
    shape = tuple(getattr(value, "shape", ()))
    dtype = getattr(value, "dtype", None)
    if dtype is None or int(np.prod(shape)) == 1:
        return _literal_text(value)
    text = f"constant {np.dtype(dtype)}{list(shape)}"
    if not jnp.issubdtype(dtype, jnp.floating):
        return text
    try:
        with jax.ensure_compile_time_eval():
            if bool(jnp.all(jnp.isfinite(value))):  # one reduction on the device
                return text
            x = np.asarray(value)
    except Exception:  # not a concrete array
        return text
    held = [
        kind
        for kind, test in (("NaN", np.isnan(x)), ("+Inf", x == np.inf), ("-Inf", x == -np.inf))
        if test.any()
    ]
    return f"{text} holding {', '.join(held)}"


def _join_stack(outer: str, inner: str) -> str:
    if not outer:
        return inner
    if not inner:
        return outer
    return f"{outer}/{inner}"


# -- building, compiling and running ---------------------------------------------------------


@dataclass
class Instrumented:
    """The compiled instrumented program and what its run gave."""

    program: Program
    layout: dict[int, list[str]]  # device count -> keys of the stacked records, in order
    arg_layout: list[int]  # indices of the argument leaves with statistics
    outputs: Any  # the function's outputs (flat)
    records: dict[int, tuple[np.ndarray, ...]]  # device count -> stacked record fields
    arg_records: tuple[np.ndarray, ...] | None
    instrument_s: float
    lower_s: float
    compile_s: float
    run_s: float
    compile_cpu_s: float = 0.0  # CPU seconds of XLA's compile, all threads (less load-bound)
    instrument_cpu_s: float = 0.0  # CPU seconds of the rebuilding (less load-bound)
    compiled: Any = None


def instrument(
    closed: Any,
    leaves: Sequence[Any],
    keep: Callable | None = None,
    leaf_sources: Sequence[Any] | None = None,
    value_outputs: int | None = None,
    twin: Any = None,
) -> Instrumented:
    """Rebuild `closed` (a ClosedJaxpr taking `leaves`) with statistics, compile it once
    with jax.jit and run it. With `value_outputs` (a gradient program whose first outputs are
    the function's value), equations the value does not depend on are the backward pass."""
    program = Program(keep=keep, meshes=_meshes(leaves), twin=twin)
    layout: dict[int, list[str]] = {}
    once: list[int] = []  # sizes of the values measured once in batches (`_stats.pack`)
    arg_layout = [i for i, v in enumerate(closed.in_avals) if _stats.observable(v)]
    arg_rows: list[int] = []  # the row of each argument's record

    def instrumented(*args):
        forward = None
        if value_outputs is not None:
            forward = value_slice(closed.jaxpr, set(closed.jaxpr.outvars[:value_outputs]))
        region = Region(program=program, prefix="", order=(), loops=0, forward=forward)
        sources = leaf_sources or [("arg", i) for i in range(len(args))]
        outs = interpret(closed.jaxpr, closed.consts, list(args), region, sources, program.outputs)
        groups, packed, sizes = _stats.pack(region.records)
        once[:] = sizes
        layout.clear()
        layout.update(groups)
        # arguments are measured whole (all devices together), as their rows show them
        arg_packed = None
        if arg_layout:
            arg_packed, rows = _stats.measure_arguments([jnp.asarray(args[i]) for i in arg_layout])
            arg_rows[:] = rows
        return outs, packed, arg_packed

    t0, c0 = time.perf_counter(), time.process_time()
    with gc_paused():  # the rebuilt program is tens of thousands of live objects
        traced = jax.jit(instrumented).trace(*leaves)
    t1, c1 = time.perf_counter(), time.process_time()
    lowered = traced.lower()
    t2, c2 = time.perf_counter(), time.process_time()
    compiled = lowered.compile()
    t3, c3 = time.perf_counter(), time.process_time()
    outs, packed, arg_packed = compiled(*leaves)
    jax.block_until_ready((outs, packed, arg_packed))
    t4 = time.perf_counter()
    records = _stats.unpack(packed, once)
    arg_records = None
    if arg_packed is not None:
        arg_records = tuple(np.asarray(a)[arg_rows] for a in arg_packed)
    return Instrumented(
        program=program,
        layout=dict(layout),
        arg_layout=arg_layout,
        outputs=outs,
        records=records,
        arg_records=arg_records,
        instrument_s=t1 - t0,
        lower_s=t2 - t1,
        compile_s=t3 - t2,
        run_s=t4 - t3,
        compile_cpu_s=c3 - c2,
        instrument_cpu_s=c1 - c0,
        compiled=compiled,
    )


# -- decoding --------------------------------------------------------------------------------


def decode_rows(inst: Instrumented) -> tuple[list[Row], dict[str, int]]:
    """The rows of an instrumented run, in execution order, and each record key's row index;
    cond equations' rows get their branch counts."""
    with gc_paused():  # a row per equation output, none of them garbage
        return _decode_rows(inst)


def _decode_rows(inst: Instrumented) -> tuple[list[Row], dict[str, int]]:
    program = inst.program
    decoded: list[tuple[Spec, dict[str, Any]]] = []
    branches: dict[str, tuple[int, ...]] = {}
    places: dict[tuple[str, int], str] = {}  # (file, line) -> how a row names it
    groups = [(inst.layout[d], inst.records[d]) for d in inst.layout]
    groups += _derived_records(inst)
    for keys, (counts, first, keyv, total, hist) in groups:
        specs = [program.specs[key] for key in keys]
        for j, spec in enumerate(specs):
            if spec.branch_of is not None:
                branches[spec.branch_of] = _stats.branch_counts(hist[j])
        rows = [j for j, spec in enumerate(specs) if spec.branch_of is None]
        merged = _stats.merge_devices(counts[rows], keyv[rows], total[rows], hist[rows])
        values = _stats.decode_all(
            *merged, [specs[j].dtype for j in rows], [specs[j].shape for j in rows]
        )
        executions = (
            counts[rows, :, _stats.C_EXEC].max(axis=1).tolist()
            if counts.shape[1]
            else [0] * len(rows)
        )
        for j, fields, runs in zip(rows, values, executions, strict=True):
            spec = specs[j]
            record = (counts[j], first[j], keyv[j], total[j], hist[j])
            decoded.append((spec, _row_fields(spec, fields, record, runs, places)))
    decoded.sort(key=lambda item: (item[0].equation, item[0].output))
    index = {spec.key: i for i, (spec, _) in enumerate(decoded)}
    rows = []
    for spec, values in decoded:
        inputs = tuple(_input_ref(s, index) for s in spec.inputs)
        also = [_again_refs(s, index) for s in spec.inputs]
        also += [[_input_ref(s, index)] for s in spec.links]
        flows = tuple(dict.fromkeys(r for refs in also for r in refs if r != "?"))
        rows.append(
            Row(
                **values,
                inputs=inputs,
                flows_from=flows,
                branches=branches.get(spec.eqn_path, ()),
            )
        )
    return rows, index


def _derived_records(inst: Instrumented) -> list[tuple[list[str], tuple[np.ndarray, ...]]]:
    """The records of the outputs not measured, made from the records they follow from:
    counts, histogram and sum times the repetition, extremes and first NaN/Inf as they are
    (negated: mirrored); grouped by device count as the measured ones."""
    where: dict[str, tuple[int, int]] = {}
    for d, keys in inst.layout.items():
        for j, key in enumerate(keys):
            where[key] = (d, j)
    grouped: dict[int, tuple[list[str], list[int], list[int], list[bool]]] = {}
    for key, (root, times, negated) in inst.program.derived.items():
        if key not in inst.program.specs or root not in where:
            continue
        d, j = where[root]
        keys, rows, repeats, mirrored = grouped.setdefault(d, ([], [], [], []))
        keys.append(key)
        rows.append(j)
        repeats.append(times)
        mirrored.append(negated)
    out = []
    for d, (keys, rows, repeats, mirrored) in grouped.items():
        counts, first, keyv, total, hist = inst.records[d]
        k = np.asarray(repeats, dtype=np.int64)
        c = counts[rows].astype(np.int64)
        c[..., _stats.C_COUNT] *= k[:, None]
        h = hist[rows].astype(np.int64) * k[:, None, None]
        t = total[rows].astype(np.float64) * k[:, None]
        f, kv = first[rows], keyv[rows]
        if any(mirrored):
            widths = [np.dtype(inst.program.specs[key].dtype).itemsize * 8 for key in keys]
            f, kv, t, h = _stats.mirrored(f, kv, t, h, np.asarray(mirrored), np.asarray(widths))
        out.append((keys, (c, f, kv, t, h)))
    return out


def output_refs(inst: Instrumented, index: dict[str, int]) -> tuple[int | str, ...]:
    """Where each output of the instrumented program comes from, as rows' inputs say it."""
    return tuple(_input_ref(s, index) for s in inst.program.outputs)


def _again_refs(source: Any, index: dict[str, int]) -> list[int | str]:
    """The body results a loop's carried operand comes back as (for a nested loop's carry,
    the outer loops' too)."""
    refs: list[int | str] = []
    seen: set[int] = set()
    todo = [source]
    while todo:
        s = todo.pop()
        if not isinstance(s, Carried) or id(s) in seen:
            continue
        seen.add(id(s))
        if s.again is not None:
            again = s.again
            refs.append(_input_ref(again, index))
            todo.append(again)
        todo.append(s.initial)
    return refs


def _input_ref(source: Any, index: dict[str, int]) -> int | str:
    while isinstance(source, Carried):
        source = source.initial
    if source is None:
        return "?"
    kind, value = source
    if kind == "row":
        return index.get(value, "?")
    if kind == "arg":
        return value if isinstance(value, str) else f"argument {value}"
    return str(value)


def _row_fields(
    spec: Spec, values: dict, record: tuple, executions: int, places: dict
) -> dict[str, Any]:
    """A row's fields: `values` (its statistics, devices merged) and where it comes from;
    `record` is its per-device fields, `places` names the places seen so far."""
    counts, first, keys, total, hist = record
    nonfinite = values["nan"] + values["posinf"] + values["neginf"]
    per_device: tuple[DeviceStats, ...] = ()
    devices = counts.shape[0]
    sharded = bool(spec.devices) and devices == len(spec.devices)
    firsts = []
    if nonfinite or sharded:
        firsts = [_stats.first_iteration(first[d], spec.loops) for d in range(devices)]
    if sharded:
        per_device = tuple(
            DeviceStats(
                **_stats.decode(
                    counts[d], keys[d], float(total[d]), hist[d], spec.dtype, spec.shape
                ),
                device=spec.devices[d],
                position=d,
                first_nonfinite=firsts[d] if _stats.nonfinite(hist[d]) else None,
            )
            for d in range(devices)
        )
    first_seen = None
    kind = None
    if nonfinite:
        seen = [
            (f, _stats.first_kind(first[d]))
            for d, f in enumerate(firsts)
            if _stats.nonfinite(hist[d]) and f is not None
        ]
        if seen:
            first_seen, kind = min(seen, key=lambda item: item[0])
        else:
            first_seen = ()
    frame = spec.frames[0] if spec.frames else None
    file, line = (frame[0], frame[1]) if frame else (None, None)
    where = ""
    if file:
        where = places.get((file, line))
        if where is None:
            where = places[(file, line)] = source_location(file, line)
    return dict(
        values,
        equation=spec.equation,
        output=spec.output,
        primitive=spec.primitive,
        phase="backward" if spec.backward else "forward",
        file=file,
        line=line,
        where=where,
        scope="/".join(spec.scopes),
        eqn_path=spec.eqn_path,
        executions=executions,
        loops=spec.loops,
        first_nonfinite=first_seen,
        first_kind=kind,
        per_device=per_device,
        time_key=_time_key(spec.order, first_seen) if first_seen is not None else (),
    )


def _time_key(order: tuple[int, ...], iteration: tuple[int, ...]) -> tuple[int, ...]:
    it = iter(iteration)
    return tuple(next(it, 0) if v == ITERATION else v for v in order)


def decode_arguments(
    inst: Instrumented, names: Sequence[str], avals: Sequence[Any]
) -> list[ArgumentStats]:
    if inst.arg_records is None:
        return []
    counts, _first, keys, total, hist = inst.arg_records
    shown = [avals[leaf] for leaf in inst.arg_layout]
    values = _stats.decode_all(
        counts[:, 0],
        keys[:, 0],
        total[:, 0].astype(np.float64),
        hist[:, 0],
        [_dtype_text(aval.dtype) for aval in shown],
        [tuple(aval.shape) for aval in shown],
    )
    return [
        ArgumentStats(**fields, name=names[leaf])
        for leaf, fields in zip(inst.arg_layout, values, strict=True)
    ]


# -- one call, end to end --------------------------------------------------------------------

MAX_OUTPUTS = 50_000  # equation outputs instrumented at most without `only`


class BadInput(ValueError):
    """A call the numerics explorer cannot run as given: what is wrong, then the fix."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}\n  fix: {fix}")


@dataclass
class Analysis:
    """What `analyze` found, for the public result."""

    fn_name: str
    rows: list[Row]
    arguments: list[ArgumentStats]
    output: Any
    notes: list[str]
    devices: tuple[int, ...]
    jaxpr: Any
    compile_s: float
    run_s: float
    process_s: float
    outputs: tuple[int | str, ...] = ()  # where each output comes from, as rows' inputs say


def analyze(
    fn: Callable,
    args: tuple,
    kwargs: dict,
    *,
    grad: bool = False,
    argnums: int | Sequence[int] = 0,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    only: str | None = None,
) -> Analysis:
    """Trace ``fn(*args, **kwargs)`` (or its ``value_and_grad``), run it instrumented and
    decode the statistics. Raises TypeError/ValueError with a message naming the fix for bad
    input."""
    from jaxlab.base.format import function_name
    from jaxlab.base.pytrees import argument_names
    from jaxlab.core.stages import prepare

    if not callable(fn):
        raise BadInput(
            f"expected a function, got {type(fn).__name__}.",
            "pass the function itself, e.g. `numerics(f, x)`.",
        )
    name = function_name(fn)
    target = jax.value_and_grad(fn, argnums=argnums) if grad else fn
    t0 = time.perf_counter()
    prepared = prepare(
        target, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    traced = prepared.trace()
    closed = traced.jaxpr
    nums, names = prepared.static_argnums, prepared.static_argnames
    call_args, call_kwargs = prepared.call_args, prepared.call_kwargs
    dyn_args = tuple(a for i, a in enumerate(call_args) if i not in nums)
    dyn_kwargs = {k: v for k, v in call_kwargs.items() if k not in names}
    leaves = jax.tree_util.tree_leaves((dyn_args, dyn_kwargs))
    if len(leaves) != len(closed.in_avals):
        raise BadInput(
            f"{name}'s arguments flatten to {len(leaves)} leaves but its program takes "
            f"{len(closed.in_avals)}.",
            "mark non-array arguments static (static_argnums / static_argnames).",
        )
    numbers = [i for i in range(len(call_args)) if i not in nums]
    leaf_names = leaf_paths(argument_names(fn, len(call_args)), numbers, dyn_args, dyn_kwargs)
    keep, notes = _only_filter(fn, only)
    total = count_outputs(closed.jaxpr)
    if keep is None and total > MAX_OUTPUTS:
        raise BadInput(
            f"{name} has {total:,} equation outputs, more than the {MAX_OUTPUTS:,} jaxlab "
            "instruments at once.",
            "measure part of it: only= (--only) a named scope such as 'block3' or a line "
            "range such as '12-40'.",
        )
    trace_s = time.perf_counter() - t0
    arrays = [jnp.asarray(v) if not isinstance(v, jax.Array) else v for v in leaves]
    given_in, given_out = _compat.traced_shardings(traced)
    options = {
        "keep": keep,
        "leaf_sources": [("arg", n) for n in leaf_names],
        "value_outputs": 1 if grad else None,
    }
    inst, explicit, refused = None, _explicit_twin(arrays, given_in), False
    if explicit is not None:
        # automatic axes made explicit: JAX then types every value inside with its
        # sharding while tracing, and each is measured on each device
        mesh, placed = explicit
        try:
            with jax.set_mesh(mesh):
                inst = instrument(closed, placed, **options, twin=mesh)
        except Exception:  # JAX's explicit sharding rules refuse the program
            refused = True
    if inst is None:
        inst = instrument(closed, arrays, **options)
    t1 = time.perf_counter()
    rows, index = decode_rows(inst)
    arguments = decode_arguments(inst, leaf_names, closed.in_avals)
    process_s = time.perf_counter() - t1 + inst.instrument_s + trace_s
    program = inst.program
    if keep is not None and not rows:
        raise BadInput(
            f"only={only!r} matched no equation of {name}.",
            "give a named scope of the program (jax.named_scope) or a line range of the "
            "function's file or cell, e.g. '12-30'.",
        )
    if program.skipped:
        notes.append(
            f"{program.skipped:,} equation outputs outside only={only!r} were not "
            "instrumented (they ran, unmeasured)."
        )
    if program.callbacks:
        kinds = ", ".join(sorted(program.callbacks))
        notes.append(f"the function's callbacks ({kinds}) ran once more, in the instrumented run.")
    if program.opaque:
        kinds = ", ".join(sorted(program.opaque))
        notes.append(f"equations inside {kinds} are not instrumented, only their outputs.")
    auto = program.auto_axes | auto_sharded_axes(
        [*given_in, *given_out, *(getattr(v, "sharding", None) for v in leaves)]
    )
    axes = ", ".join(repr(a) for a in sorted(auto))
    if auto and any(r.per_device for r in rows):
        notes.append(
            f"per-device figures: the mesh axes with automatic sharding ({axes}) were made "
            "explicit for the measured run, so each value is placed as JAX's sharding rules "
            "place it while tracing; XLA's automatic placement in your compiled program may "
            "split some values differently."
        )
    elif auto:
        why = " (JAX's sharding rules could not type it with explicit axes)" if refused else ""
        notes.append(
            f"values are sharded over mesh axes with automatic sharding ({axes}): XLA decides "
            "where each value inside the program lives only when it compiles, so every row "
            f"is of the whole value, all devices together, with no per-device figures{why}. "
            "For per-device statistics, make the axes explicit "
            "(`jax.make_mesh(..., axis_types=(AxisType.Explicit, ...))`) or use shard_map."
        )
    out_tree = jax.tree_util.tree_structure(traced.out_info)
    try:
        output = prepared.whole_output(jax.tree_util.tree_unflatten(out_tree, inst.outputs))
    except Exception:
        output = inst.outputs
    devices = tuple(sorted({d for r in rows for d in (x.device for x in r.per_device)}))
    return Analysis(
        fn_name=name,
        rows=rows,
        arguments=arguments,
        output=output,
        notes=notes,
        devices=devices,
        jaxpr=closed,
        compile_s=inst.lower_s + inst.compile_s,
        run_s=inst.run_s,
        process_s=process_s,
        outputs=output_refs(inst, index),
    )


def count_outputs(jaxpr: Any) -> int:
    """Equation outputs of a jaxpr and its sub-jaxprs."""
    total = 0
    for eqn in jaxpr.eqns:
        total += len(eqn.outvars)
        for _, inner in sub_jaxprs(eqn.params):
            total += count_outputs(inner)
    return total


_LINES = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def _only_filter(fn: Callable, only: str | None) -> tuple[Callable | None, list[str]]:
    """The `keep` predicate for ``only`` (a named scope or a line range of fn's file)."""
    if only is None:
        return None, []
    m = _LINES.match(only)
    if m:
        from jaxlab.ir.sources import function_source

        first = int(m.group(1))
        last = int(m.group(2) or first)
        source = function_source(fn)
        file = source[0] if source else None

        def in_lines(scopes: tuple[str, ...], frames: list, path: str) -> bool:
            return any((file is None or f[0] == file) and first <= f[1] <= last for f in frames)

        return in_lines, []
    wanted = [part for part in only.split("/") if part]

    def in_scope(scopes: tuple[str, ...], frames: list, path: str) -> bool:
        parts = "/".join(scopes).split("/")
        n = len(wanted)
        return any(parts[i : i + n] == wanted for i in range(len(parts) - n + 1))

    return in_scope, []


def leaf_paths(
    params: Sequence[str], numbers: Sequence[int], dyn_args: tuple, dyn_kwargs: dict
) -> list[str]:
    """The name of each traced argument leaf as the call writes it: 'params["w1"]', 'x'.
    `params` names the call's positional parameters, `numbers` the positions of `dyn_args`."""
    names = []
    flat, _ = jax.tree_util.tree_flatten_with_path((dyn_args, dyn_kwargs))
    for path, _leaf in flat:
        group, first, rest = path[0], path[1], path[2:]
        if getattr(group, "idx", 0) == 0:
            i = numbers[first.idx]
            base = params[i] if i < len(params) and params[i] else f"args[{i}]"
        else:
            base = str(first.key)
        names.append(base + jax.tree_util.keystr(tuple(rest)))
    return names
