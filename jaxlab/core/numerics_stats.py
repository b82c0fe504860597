"""Statistics of one array reduced on the device, how two of them combine (loop iterations,
devices), and how the host decodes them into `ir.numerics.Stats`.

A record is a tuple of small arrays, each with a leading device axis ``D`` (1 outside
``shard_map``):

- ``counts`` int[D, 2]: elements observed and executions (``C_COUNT``, ``C_EXEC``);
- ``first`` int[D, MAX_LOOPS + 3]: loop indices of the first iteration holding NaN/Inf (-1:
  none), then that iteration's NaN, +Inf and -Inf counts;
- ``keys`` uint[D, 3]: min, max and non-zero |x| min as order-preserving bit keys, so the
  values are exact (subnormals included: XLA:CPU flushes them in arithmetic, not in bits);
  |x| max is the larger magnitude of min and max;
- ``total`` float[D]: the sum of the finite elements (for the mean);
- ``buckets`` int[D, NBUCKETS]: every element counted once, in the bin of its binade (the
  exponent histogram) or in one of the buckets after it (``B_*``): NaN, +Inf, -Inf, zero, and
  the part of a cast threshold's binade beyond the threshold. Every count of a row (NaN,
  zeros, subnormals, the cast figures) is a sum of buckets, so the device measures a value
  with one reduction (the keys and the sum) and one histogram. A batch of values measured
  together counts them in the narrowest unsigned type its length allows (they are most of
  a run's output); loops, branches and the host widen them.

Integers are 64-bit when JAX runs with ``jax_enable_x64`` and 32-bit otherwise.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax import lax
from jax.sharding import PartitionSpec

from jaxlab.ir.numerics import (
    HISTOGRAM_BINS,
    HISTOGRAM_HIGH,
    HISTOGRAM_LOW,
    OVERFLOW_THRESHOLD,
    UNDERFLOW_THRESHOLD,
)

C_COUNT, C_EXEC = range(2)  # columns of `counts`
MAX_LOOPS = 4  # loop levels whose indices are kept for the first NaN/Inf
K_MIN, K_MAX, K_ABSMIN = range(3)  # columns of `keys`

# the buckets after the histogram's bins
B_NAN = HISTOGRAM_BINS
B_POSINF = B_NAN + 1
B_NEGINF = B_NAN + 2  # follows B_POSINF (the device adds the sign)
B_ZERO = B_NAN + 3
# (target, "over"/"under") -> bucket of the elements of the threshold's binade beyond it
B_SPLIT = {
    ("bf16", "over"): B_NAN + 4,
    ("f16", "over"): B_NAN + 5,
    ("fp8_e4m3", "over"): B_NAN + 6,
    ("f16", "under"): B_NAN + 7,
    ("fp8_e4m3", "under"): B_NAN + 8,
}
B_SUBNORMAL_LOW = B_NAN + 9  # subnormals below the first bin's binade (float64)
B_PAD = B_NAN + 10  # padding of values measured together (not counted)
NBUCKETS = B_PAD + 1

Record = tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]


def _wide() -> bool:
    return bool(jax.config.jax_enable_x64)


def int_dtype() -> Any:
    return jnp.int64 if _wide() else jnp.int32


def key_dtype() -> Any:
    return jnp.uint64 if _wide() else jnp.uint32


def _key_max() -> int:
    return int(np.iinfo(np.dtype(key_dtype())).max)


def _uint_of_width(bits: int) -> Any:
    return {8: jnp.uint8, 16: jnp.uint16, 32: jnp.uint32, 64: jnp.uint64}[bits]


def is_float(dtype: Any) -> bool:
    return jnp.issubdtype(dtype, jnp.floating)


def observable(aval: Any) -> bool:
    """Whether the engine records statistics of a value of this type: arrays of floats,
    integers or booleans (not tokens, keys, or complex numbers)."""
    dtype = getattr(aval, "dtype", None)
    if dtype is None or not hasattr(aval, "shape"):
        return False
    try:
        return _observable_dtype(dtype)
    except TypeError:  # an unhashable dtype
        return _observable_dtype.__wrapped__(dtype)


@functools.cache
def _observable_dtype(dtype: Any) -> bool:
    """`observable` for one dtype (decided once: a program has thousands of values of a few
    types)."""
    try:
        return bool(
            jnp.issubdtype(dtype, jnp.floating)
            or jnp.issubdtype(dtype, jnp.integer)
            or jnp.issubdtype(dtype, jnp.bool_)
        )
    except TypeError:
        return False


def empty(devices: int = 1) -> Record:
    """The record of nothing observed (the identity of `combine`)."""
    kmax = _key_max()
    keys = jnp.array([kmax, 0, kmax], dtype=key_dtype())
    return (
        jnp.zeros((devices, 2), int_dtype()),
        jnp.concatenate(
            [
                jnp.full((devices, MAX_LOOPS), -1, int_dtype()),
                jnp.zeros((devices, 3), int_dtype()),
            ],
            axis=1,
        ),
        jnp.broadcast_to(keys, (devices, 3)),
        jnp.zeros((devices,), _float_acc()),
        jnp.zeros((devices, NBUCKETS), int_dtype()),
    )


def _float_acc() -> Any:
    return jnp.float64 if _wide() else jnp.float32


def measure(x: jax.Array, per_device: bool = True) -> Record:
    """The record of one execution producing `x`. A value sharded over explicit mesh axes
    (its type says how) is measured on each device: D is the mesh's device count, in the
    mesh's device order; otherwise D = 1. With `per_device` False such a value is measured
    whole (XLA partitions the reductions)."""
    mesh = _explicit_mesh(x)
    if mesh is None:
        return _measure(x)
    spec = jax.typeof(x).sharding.spec
    if per_device:
        axes = tuple(mesh.axis_names)
        fn = jax.shard_map(
            _measure,
            mesh=mesh,
            in_specs=spec,
            out_specs=PartitionSpec(axes),
            check_vma=False,
        )
        return fn(x)
    with jax.sharding.use_abstract_mesh(mesh):
        return jax.sharding.auto_axes(_measure, out_sharding=PartitionSpec())(x)


def sharded_over(x: Any) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
    """(axis names, sizes) of the explicit mesh a value is sharded over, else None."""
    mesh = _explicit_mesh(x)
    if mesh is None:
        return None
    return tuple(mesh.axis_names), tuple(int(n) for n in mesh.axis_sizes)


def _measure_rows(x: jax.Array, sizes: tuple[int, ...] | None = None) -> Record:
    """The records of the rows of `x` [G, L], each one value (D = 1: fields [G, 1, ...]).
    With `sizes`, row g holds a value of sizes[g] elements, then padding."""
    valid = None
    if sizes is not None:
        lengths = np.asarray(sizes, np.int32)[:, None]
        valid = lax.lt(
            lax.broadcasted_iota(jnp.int32, x.shape, 1),
            lax.broadcast_in_dim(lengths, x.shape, (0, 1)),
        )
    if is_float(x.dtype):
        return _measure_float(x, valid)
    return _measure_int(x, valid)


def _measure_traced(x: jax.Array) -> Record:
    rows = _measure_rows(jnp.reshape(x, (1, x.size)))
    return _widened(tuple(f[0] for f in rows))  # type: ignore[arg-type]


def _widened(rec: Record) -> Record:
    """`rec` with its buckets counted in `int_dtype` (as loops and branches carry them)."""
    return (*rec[:4], rec[4].astype(int_dtype()))  # type: ignore[return-value]


# traced once per type: a large program measures thousands of values of a few types, and
# JAX's tracing cache makes each later one a lookup (XLA inlines the calls)
_measure = jax.jit(_measure_traced)
_measure_batch = jax.jit(_measure_rows, static_argnums=1)

GROUP_SIZE = 1 << 16  # larger values are measured alone (padding them together costs memory)
GROUP = 8  # values measured together, in one batched reduction ...
GROUP_MAX = 64  # ... or more, as many as fit in GROUP_ELEMENTS, for small values
GROUP_ELEMENTS = 1 << 16


def length_class(size: int) -> int:
    """The padded length of a value of `size` elements measured in a group: the next power
    of two (values of one class are measured together)."""
    return 1 << max(int(size) - 1, 0).bit_length()


def group_size(length: int) -> int:
    """How many values of `length` (padded) elements are measured together: every kernel
    costs compile time, every value waiting for its group costs memory."""
    return max(GROUP, min(GROUP_MAX, GROUP_ELEMENTS // max(length, 1)))


class Member:
    """One value's record inside a batch measured together (the batch's fields have a
    leading axis of the values); kept whole until a loop or branch needs the record alone,
    so that the program's outputs take the batch as it is. `size`: the value's elements, for
    a batch of one execution (a loop's records have none); `zeros_only`: integers or booleans,
    whose only bucket counted is the zeros'."""

    __slots__ = ("batch", "index", "size", "zeros_only")

    def __init__(
        self, batch: Record, index: int, size: int | None = None, zeros_only: bool = False
    ) -> None:
        self.batch = batch
        self.index = index
        self.size = size
        self.zeros_only = zeros_only

    def record(self) -> Record:
        # lax, not jax.numpy's indexing: the same slice, without its Python on every field
        fields = (lax.index_in_dim(f, self.index, 0, keepdims=False) for f in self.batch)
        return tuple(fields)  # type: ignore[return-value]


def alone(records: dict[str, Any]) -> dict[str, Record]:
    """Records with batch members taken out of their batches (for loop carries, branches)."""
    return {k: _widened(v.record()) if isinstance(v, Member) else v for k, v in records.items()}


def pack(records: dict[str, Any]) -> tuple[dict[int, list[str]], dict[int, tuple], list[int]]:
    """The records as few arrays: per device count, each small field stacked over the
    records, and the keys in the order of the stacked rows. The buckets stay in their
    batches (a list, in the same order; `unpack` joins them on the host): stacking them on
    the device would copy the largest field, and hold both copies at the end of the run.
    Values measured once, in batches, come last (one device) and leave their counts and
    first NaN/Inf on the device: the host knows both (their sizes, returned, one execution,
    and the buckets' NaN and ±Inf), and they are most of the records; integers and booleans
    among them keep only their zeros' bucket."""
    layout: dict[int, list[str]] = {}
    pieces: dict[int, list[Record]] = {}
    members: dict[int, list[str]] = {}
    batches: dict[int, Record] = {}
    for key, rec in records.items():
        if isinstance(rec, Member):
            members.setdefault(id(rec.batch), []).append(key)
            batches[id(rec.batch)] = rec.batch
            continue
        devices = rec[0].shape[0]
        layout.setdefault(devices, []).append(key)
        pieces.setdefault(devices, []).append(tuple(f[None] for f in rec))
    once: list[tuple[list[str], Record]] = []
    for ident, keys in members.items():
        batch = batches[ident]
        order = sorted(keys, key=lambda k: records[k].index)
        if [records[k].index for k in order] != list(range(batch[0].shape[0])):
            batch = tuple(jnp.stack([f[records[k].index] for k in order]) for f in batch)
        if records[order[0]].size is None:
            layout.setdefault(1, []).extend(order)
            pieces.setdefault(1, []).append(batch)
        else:
            once.append((order, batch))
    sizes = [records[k].size for order, _ in once for k in order]
    packed = {
        d: (
            *(jnp.concatenate([p[f] for p in parts]) for f in range(4)),
            [p[4] for p in parts],
        )
        for d, parts in pieces.items()
    }
    if once:
        counts, first, keys, total, buckets = packed.get(1, (None, None, None, None, []))
        tail = [(records[order[0]].zeros_only, batch) for order, batch in once]
        packed[1] = (
            counts,
            first,
            jnp.concatenate(([] if keys is None else [keys]) + [b[2] for _, b in tail]),
            jnp.concatenate(([] if total is None else [total]) + [b[3] for _, b in tail]),
            buckets + [b[4][..., B_ZERO : B_ZERO + 1] if z else b[4] for z, b in tail],
        )
        layout.setdefault(1, []).extend(k for order, _ in once for k in order)
    return layout, packed, sizes  # type: ignore[return-value]


def _all_buckets(buckets: np.ndarray) -> np.ndarray:
    """Buckets [G, D, NBUCKETS] from `pack`'s, where integers' and booleans' are their zeros'
    alone [G, D, 1] (the others are empty)."""
    if buckets.shape[-1] == NBUCKETS:
        return buckets
    out = np.zeros((*buckets.shape[:-1], NBUCKETS), buckets.dtype)
    out[..., B_ZERO] = buckets[..., 0]
    return out


def unpack(packed: dict[int, tuple], sizes: list[int]) -> dict[int, tuple[np.ndarray, ...]]:
    """`pack`'s arrays on the host, the buckets joined; the counts and first NaN/Inf of the
    values measured once (the last `len(sizes)` of one device) made from their sizes and
    buckets."""
    out = {}
    for d, (counts, first, keys, total, buckets) in packed.items():
        hist = np.concatenate([_all_buckets(np.asarray(a)) for a in buckets])
        counts = np.zeros((0, d, 2), np.int64) if counts is None else np.asarray(counts)
        first = np.zeros((0, d, MAX_LOOPS + 3), np.int64) if first is None else np.asarray(first)
        if d == 1 and sizes:
            once = hist[len(hist) - len(sizes) :].astype(np.int64)
            made = np.ones((len(sizes), 1, 2), counts.dtype)
            made[:, 0, C_COUNT] = sizes
            loops = np.full((len(sizes), 1, MAX_LOOPS), -1, np.int64)
            nonfinite = once[:, :, B_NAN : B_NEGINF + 1]
            counts = np.concatenate([counts, made])
            first = np.concatenate([first, np.concatenate([loops, nonfinite], axis=2)])
            first = first.astype(np.int64)
        out[d] = (counts, first, np.asarray(keys), np.asarray(total), hist)
    return out


def measure_group(values: list[jax.Array]) -> list[Any]:
    """The records of several values of one dtype (each D = 1), measured in one batched
    reduction over the values stacked (padded to the longest when their sizes differ): XLA
    compiles a separate kernel for every separate reduction, and compile time grows with
    their number."""
    if len(values) == 1:
        return [_measure(values[0])]
    # in an order that makes the same types of values a group's usual make-up: a repeated
    # make-up is a lookup in JAX's tracing cache, its rows are not traced again
    order = sorted(range(len(values)), key=lambda i: tuple(values[i].shape))
    batch = _measure_values(*(values[i] for i in order))
    row = {i: r for r, i in enumerate(order)}
    zeros_only = not is_float(values[0].dtype)
    return [Member(batch, row[i], math.prod(v.shape), zeros_only) for i, v in enumerate(values)]


def measure_arguments(values: list[jax.Array]) -> tuple[Record, list[int]]:
    """The records of a program's arguments, each measured whole (all devices together),
    stacked [A, 1, ...], and the row of each argument. Unsharded arguments of one dtype and
    length class are measured in groups, as the program's own values are, and their groups
    are stacked whole (the host puts the rows in the arguments' order): a model's parameters
    are hundreds of values of a few shapes, and every separate measurement or slice is
    kernels of its own to compile (XLA:CPU compiles every histogram's scatter separately)."""
    parts: list[Record] = []  # [n, 1, ...] each, in the order of the rows
    order: list[int] = []  # the argument of each row
    kinds: dict[tuple[str, int], list[int]] = {}
    for i, v in enumerate(values):
        if v.size > GROUP_SIZE or _explicit_mesh(v) is not None:
            parts.append(tuple(f[None] for f in measure(v, per_device=False)))  # type: ignore[arg-type]
            order.append(i)
        else:
            kinds.setdefault((str(v.dtype), length_class(v.size)), []).append(i)
    for (_, length), members in kinds.items():
        size = group_size(length)
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            records = measure_group([values[i] for i in chunk])
            if isinstance(records[0], Member):
                parts.append(_widened(records[0].batch))
                order.extend(
                    i for _, i in sorted(zip([r.index for r in records], chunk, strict=True))
                )
            else:
                parts.append(tuple(f[None] for f in records[0]))  # type: ignore[arg-type]
                order.append(chunk[0])
    stacked = tuple(lax.concatenate([p[f] for p in parts], 0) for f in range(5))
    rows = [0] * len(values)
    for row, i in enumerate(order):
        rows[i] = row
    return stacked, rows  # type: ignore[return-value]


def _measure_values_traced(*values: jax.Array) -> Record:
    """`_measure_rows` of several values of one dtype, each flattened into a row (padded to
    the longest). Traced once per make-up of the group; the measurement itself, once per
    shape of the rows (a call XLA inlines)."""
    sizes = tuple(math.prod(v.shape) for v in values)
    longest = max(sizes)
    zero = np.zeros((), values[0].dtype)
    rows = [
        lax.pad(lax.reshape(v, (1, n)), zero, ((0, 0, 0), (0, longest - n, 0)))
        if n < longest
        else lax.reshape(v, (1, n))
        for v, n in zip(values, sizes, strict=True)
    ]
    return _measure_batch(lax.concatenate(rows, 0), None if min(sizes) == longest else sizes)


_measure_values = jax.jit(_measure_values_traced)


def _explicit_mesh(x: Any) -> Any:
    """The abstract mesh of a value typed with explicit sharding, else None."""
    try:
        sharding = jax.typeof(x).sharding
        mesh = sharding.mesh
        explicit = any(t == jax.sharding.AxisType.Explicit for t in mesh.axis_types)
    except Exception:
        return None
    if not explicit or not any(p is not None for p in sharding.spec):
        return None
    return mesh


def _reduce_rows(operands: tuple, inits: tuple, kinds: str) -> tuple:
    """One variadic reduction over axis 1 of [G, L] operands: `kinds` says, per operand,
    'm' (maximum) or 's' (sum). One kernel per batch (XLA compiles every separate reduction
    as its own loop, and compile time grows with their number)."""

    def combine(a: tuple, b: tuple) -> tuple:
        return tuple(
            lax.max(p, q) if k == "m" else lax.add(p, q)
            for p, q, k in zip(a, b, kinds, strict=True)
        )

    return lax.reduce(operands, inits, combine, (1,))


def _count_dtype(length: int) -> Any:
    """The narrowest integer type that counts up to `length` elements (the buckets of values
    measured together are the largest part of a run's output)."""
    if length < 1 << 8:
        return jnp.uint8
    if length < 1 << 16:
        return jnp.uint16
    return int_dtype()


def _histogram(buckets: jax.Array) -> jax.Array:
    """Per row of `buckets` [G, L] (bucket indices), the count of each bucket: [G, NBUCKETS],
    in `_count_dtype(L)`. One scatter over the flattened rows, each row offset to its own
    NBUCKETS counts; its indices and updates are as narrow as they can be (XLA
    materialises both, one element each per element measured)."""
    g, length = buckets.shape
    ctype = _count_dtype(length)
    itype = jnp.uint16 if g * NBUCKETS < 1 << 16 else int_dtype()
    index = lax.add(
        lax.convert_element_type(buckets, itype),
        lax.mul(
            lax.broadcasted_iota(itype, buckets.shape, 0), lax.full(buckets.shape, NBUCKETS, itype)
        ),
    )
    dims = lax.ScatterDimensionNumbers(
        update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,)
    )
    counts = lax.scatter_add(
        lax.full((g * NBUCKETS,), 0, ctype),
        lax.reshape(index, (g * length, 1)),
        lax.full((g * length,), 1, ctype),
        dims,
        mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )
    return lax.reshape(counts, (g, NBUCKETS))


def _binade(threshold: float) -> int:
    return math.frexp(threshold)[1] - 1


@functools.cache
def _split_limit(target: str, kind: str, dtype: str) -> int | None:
    """The magnitude bits, in `dtype`, of the last value on the threshold's side: the
    smallest value of `dtype` at or above an overflow threshold, the largest at or below an
    underflow one; None when no value of `dtype` in the threshold's binade is beyond it."""
    dt = np.dtype(dtype)
    ubits = np.dtype(f"uint{dt.itemsize * 8}")
    threshold = (OVERFLOW_THRESHOLD if kind == "over" else UNDERFLOW_THRESHOLD)[target]
    info = ml_dtypes.finfo(dt)
    if kind == "over" and threshold > float(info.max):
        return None
    if kind == "under" and threshold < float(info.smallest_subnormal):
        return None
    bits = int(np.array(threshold, np.float64).astype(dt).view(ubits))
    value = float(np.array(bits, ubits).view(dt))
    if kind == "over" and value < threshold:
        bits += 1
    if kind == "under" and value > threshold:
        bits -= 1
    value = float(np.array(bits, ubits).view(dt))
    if value == 0 or _binade(value) != _binade(threshold):
        return None
    return bits


@functools.cache
def _split_span(target: str, kind: str, dtype: str) -> tuple[int, int] | None:
    """(first, count): the magnitude bits, in `dtype`, of the values in the threshold's
    binade beyond it are first, first + 1, ..., first + count - 1 (bits grow with the
    magnitude); None when there are none."""
    limit = _split_limit(target, kind, dtype)
    if limit is None:
        return None
    dt = np.dtype(dtype)
    ubits = np.dtype(f"uint{dt.itemsize * 8}")
    threshold = (OVERFLOW_THRESHOLD if kind == "over" else UNDERFLOW_THRESHOLD)[target]
    binade = _binade(threshold)

    def start(e: int) -> int:  # the bits of 2**e; past the largest binade, every magnitude
        if e >= int(ml_dtypes.finfo(dt).maxexp):
            return 1 << (dt.itemsize * 8 - 1)
        return int(np.array(2.0**e, np.float64).astype(dt).view(ubits))

    if kind == "over":
        return limit, start(binade + 1) - limit
    return start(binade), limit - start(binade) + 1


def _measure_float(x: jax.Array, valid: jax.Array | None) -> Record:
    # lax, not jax.numpy: this is traced once per batch shape, and jax.numpy's functions are
    # jitted functions of their own, each traced in turn
    info = jnp.finfo(x.dtype)
    width = info.bits
    utype = _uint_of_width(width)
    ktype = key_dtype()
    shape = x.shape
    i32 = jnp.int32

    def full(value: Any, dtype: Any) -> jax.Array:
        return lax.full(shape, value, dtype)

    def both(a: jax.Array, b: jax.Array) -> jax.Array:
        return lax.bitwise_and(a, b)

    bits = lax.bitcast_convert_type(x, utype)
    sign = full(1 << (width - 1), utype)
    mag = both(bits, full((1 << (width - 1)) - 1, utype))
    negative = lax.ge(bits, sign)
    isnan = lax.ne(x, x)
    if _has_inf(x.dtype):
        isinf = lax.eq(mag, full(((1 << int(info.nexp)) - 1) << int(info.nmant), utype))
    else:
        isinf = full(False, bool)
    finite = lax.bitwise_not(lax.bitwise_or(isnan, isinf))
    zero = lax.eq(mag, full(0, utype))
    if valid is not None:  # padding left out
        finite = both(finite, valid)
    nonzero = both(finite, lax.bitwise_not(zero))
    # order-preserving keys: negative values reversed below positive ones
    order = lax.convert_element_type(
        lax.select(negative, lax.bitwise_not(bits), lax.bitwise_or(bits, sign)), ktype
    )
    acc = jnp.float64 if width == 64 else jnp.float32
    k0 = full(0, ktype)
    low, high, small, total = _reduce_rows(
        (
            lax.select(finite, lax.bitwise_not(order), k0),
            lax.select(finite, order, k0),
            lax.select(nonzero, lax.bitwise_not(lax.convert_element_type(mag, ktype)), k0),
            lax.convert_element_type(
                lax.select(finite, lax.convert_element_type(x, acc), full(0, acc)), _float_acc()
            ),
        ),
        (ktype(0), ktype(0), ktype(0), _float_acc()(0)),
        "mmms",
    )
    keys = _columns([lax.bitwise_not(low), high, lax.bitwise_not(small)])
    # bin of |x|: its binade from the exponent field (normal numbers) or from the leading
    # bit of the mantissa (subnormals), less the first bin's; every binade of the narrower
    # types has a bin (float64's are clamped)
    nmant = int(info.nmant)
    bias = (1 << (int(info.nexp) - 1)) - 1
    emin = 1 - bias
    exp_field = lax.convert_element_type(lax.shift_right_logical(mag, full(nmant, utype)), i32)
    subnormal = lax.eq(exp_field, full(0, i32))
    lowest = width - 1 + emin - nmant - HISTOGRAM_LOW  # bin of the leading bit's position 0
    bucket = lax.select(
        subnormal,
        lax.sub(full(lowest, i32), lax.convert_element_type(lax.clz(mag), i32)),
        lax.add(exp_field, full(-bias - HISTOGRAM_LOW, i32)),
    )
    if emin - nmant < HISTOGRAM_LOW or int(info.maxexp) - 1 > HISTOGRAM_HIGH:
        bucket = lax.clamp(i32(0), bucket, i32(HISTOGRAM_BINS - 1))

    def put(where: jax.Array, index: int, bucket: jax.Array) -> jax.Array:
        return lax.select(where, full(index, i32), bucket)

    # the part of a threshold's binade beyond it: a range of magnitudes (one unsigned
    # comparison; NaN and Inf in it are put in their own buckets after)
    for (target, kind), split in B_SPLIT.items():
        span = _split_span(target, kind, np.dtype(x.dtype).name)
        if span is not None:
            first, count = span
            beyond = lax.lt(lax.sub(mag, full(first, utype)), full(count, utype))
            bucket = put(beyond, split, bucket)
    if emin - nmant < HISTOGRAM_LOW:  # subnormals below the first bin (float64)
        bucket = put(both(subnormal, lax.bitwise_not(zero)), B_SUBNORMAL_LOW, bucket)
    bucket = put(zero, B_ZERO, bucket)
    if _has_inf(x.dtype):  # -Inf's bucket follows +Inf's
        signed = lax.add(full(B_POSINF, i32), lax.convert_element_type(negative, i32))
        bucket = lax.select(isinf, signed, bucket)
    bucket = put(isnan, B_NAN, bucket)
    if valid is not None:
        bucket = put(lax.bitwise_not(valid), B_PAD, bucket)
    return _one_device(x, valid, keys, total, _histogram(bucket))


def _columns(vectors: list[jax.Array]) -> jax.Array:
    """[G] vectors side by side: [G, len(vectors)]."""
    return lax.concatenate([lax.broadcast_in_dim(v, (v.shape[0], 1), (0,)) for v in vectors], 1)


def _has_inf(dtype: Any) -> bool:
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.isinf(np.array(np.inf).astype(dtype)))


def _measure_int(x: jax.Array, valid: jax.Array | None) -> Record:
    ktype = key_dtype()
    wide = jnp.dtype(x.dtype).itemsize == 8
    if jnp.issubdtype(x.dtype, jnp.signedinteger):
        s = x.astype(jnp.int64 if wide else jnp.int32)
        u = lax.bitcast_convert_type(s, jnp.uint64 if wide else jnp.uint32)
        top = (jnp.uint64 if wide else jnp.uint32)(1 << (63 if wide else 31))
        order = (u ^ top).astype(ktype)
        mag = jnp.where(s < 0, ~u + u.dtype.type(1), u).astype(ktype)
    else:  # unsigned and bool
        order = x.astype(jnp.uint64 if wide else jnp.uint32).astype(ktype)
        mag = order
    everywhere = jnp.ones(x.shape, bool) if valid is None else valid
    nonzero = (x != 0) & everywhere
    itype = int_dtype()
    k0 = ktype(0)
    low, high, small, total, zeros = _reduce_rows(
        (
            jnp.where(everywhere, ~order, k0),
            jnp.where(everywhere, order, k0),
            jnp.where(nonzero, ~mag, k0),
            jnp.where(everywhere, x.astype(_float_acc()), 0),
            (~nonzero & everywhere).astype(itype),
        ),
        (k0, k0, k0, _float_acc()(0), itype(0)),
        "mmmss",
    )
    keys = jnp.stack([~low, high, ~small], axis=1)
    buckets = jnp.where(jnp.arange(NBUCKETS) == B_ZERO, zeros[:, None], itype(0))
    buckets = buckets.astype(_count_dtype(x.shape[1]))
    return _one_device(x, valid, keys, total, buckets)


def _one_device(
    x: jax.Array, valid: jax.Array | None, keys: jax.Array, total: jax.Array, buckets: jax.Array
) -> Record:
    """The record fields of the rows of `x`, each with a device axis of 1."""
    itype = int_dtype()
    g = x.shape[0]
    if valid is None:
        observed = lax.full((g,), x.shape[1], itype)
    else:
        observed = lax.reduce(lax.convert_element_type(valid, itype), itype(0), lax.add, (1,))
    counts = _columns([observed, lax.full((g,), 1, itype)])
    loops = lax.full((g, MAX_LOOPS), -1, itype)
    nonfinite = lax.convert_element_type(buckets[:, B_NAN : B_NEGINF + 1], itype)
    first = lax.concatenate([loops, nonfinite], 1)
    return tuple(
        lax.broadcast_in_dim(f, (g, 1, *f.shape[1:]), (0, *range(2, f.ndim + 1)))
        for f in (counts, first, keys, total, buckets)
    )  # type: ignore[return-value]


def nonfinite(buckets: Any) -> Any:
    """NaN and ±Inf elements of records' buckets [..., NBUCKETS] (device or host arrays)."""
    return buckets[..., B_NAN] + buckets[..., B_POSINF] + buckets[..., B_NEGINF]


def combine(acc: Record, new: Record, level: int | None = None, index: Any = None) -> Record:
    """`acc` and `new` together. With `level` (a loop level) and `index` (that loop's
    iteration), `new` is iteration `index`: where `acc` had no NaN/Inf yet and `new` has,
    `new`'s first-iteration indices (inner loops' already filled) are kept with `index` at
    `level`."""
    ac, af, ak, at, ah = acc
    nc, nf, nk, nt, nh = new
    keys = jnp.stack(
        [
            jnp.minimum(ak[:, K_MIN], nk[:, K_MIN]),
            jnp.maximum(ak[:, K_MAX], nk[:, K_MAX]),
            jnp.minimum(ak[:, K_ABSMIN], nk[:, K_ABSMIN]),
        ],
        axis=1,
    )
    if level is not None and level < MAX_LOOPS:
        had = nonfinite(ah) > 0
        has = nonfinite(nh) > 0
        stamped = nf.at[:, level].set(jnp.asarray(index, nf.dtype))
        first = jnp.where((~had & has)[:, None], stamped, af)
    else:
        first = af
    return ac + nc, first, keys, at + nt, ah + nh


def branch_record(b: int, devices: int) -> Record:
    """The record counting one execution of branch `b` of a cond (in bucket `b`)."""
    counts, first, keys, total, buckets = empty(devices)
    return counts, first, keys, total, buckets.at[:, b].set(1)


def branch_counts(buckets: np.ndarray) -> tuple[int, ...]:
    """How often each branch was taken, from a branch record's buckets [D, NBUCKETS]."""
    used = [int(v) for v in buckets.sum(axis=0)]
    while used and used[-1] == 0:
        used.pop()
    return tuple(used)


# -- the host side ---------------------------------------------------------------------------


def _decode_key(key: int, dtype: np.dtype, which: int) -> float | int:
    """A value from its order-preserving key (`which`: K_MIN/K_MAX) or its magnitude bits
    (K_ABSMIN)."""
    width = dtype.itemsize * 8
    ubits = np.dtype(f"uint{width}") if width in (8, 16, 32, 64) else np.dtype("uint32")
    if is_float(dtype):
        if which in (K_MIN, K_MAX):
            sign = 1 << (width - 1)
            bits = (key & ~sign) if key & sign else (~key & ((1 << width) - 1))
        else:
            bits = key
        return float(np.array(bits, dtype=ubits).view(dtype))
    if dtype.kind == "i":
        kw = 64 if dtype.itemsize == 8 else 32
        if which in (K_MIN, K_MAX):
            return int(np.array(key ^ (1 << (kw - 1)), dtype=f"uint{kw}").view(f"int{kw}"))
        return int(key)
    if dtype.kind == "b":
        return bool(key) if which in (K_MIN, K_MAX) else int(key)
    return int(key)


def _bin(binade: int) -> int:
    return min(max(binade - HISTOGRAM_LOW, 0), HISTOGRAM_BINS - 1)


def _key_values(keys: np.ndarray, dtype: np.dtype, which: int) -> list[Any]:
    """Values of one dtype from their keys [N]: order-preserving keys (`which`: K_MIN/K_MAX)
    or magnitude bits (K_ABSMIN)."""
    if not is_float(dtype):
        return [_decode_key(int(k), dtype, which) for k in keys]
    width = dtype.itemsize * 8
    ubits = np.dtype(f"uint{width}")
    k = keys.astype(np.uint64)
    if which in (K_MIN, K_MAX):
        sign = np.uint64(1 << (width - 1))
        full = np.uint64((1 << width) - 1)
        k = np.where((k & sign) != 0, k & ~sign, ~k & full)
    return k.astype(ubits).view(dtype).astype(np.float64).tolist()


def decode_all(
    counts: np.ndarray,
    keys: np.ndarray,
    total: np.ndarray,
    buckets: np.ndarray,
    dtypes: list[str],
    shapes: list[tuple[int, ...]],
) -> list[dict[str, Any]]:
    """The `Stats` fields of records [N, ...] (each one device, or several already merged),
    decoded together: every count a sum of buckets (cumulative sums over the histogram)."""
    n = counts[:, C_COUNT].astype(np.int64)
    b = buckets.astype(np.int64)
    nan, posinf, neginf = b[:, B_NAN], b[:, B_POSINF], b[:, B_NEGINF]
    finite = n - nan - posinf - neginf
    hist = b[:, :HISTOGRAM_BINS].copy()
    for (target, kind), split in B_SPLIT.items():
        threshold = (OVERFLOW_THRESHOLD if kind == "over" else UNDERFLOW_THRESHOLD)[target]
        hist[:, _bin(_binade(threshold))] += b[:, split]
    hist[:, 0] += b[:, B_SUBNORMAL_LOW]
    below = np.concatenate([np.zeros((len(b), 1), np.int64), np.cumsum(hist, axis=1)], axis=1)
    figures: dict[str, np.ndarray] = {}  # below[:, i]: elements in the bins before bin i
    for (target, kind), split in B_SPLIT.items():
        if kind == "over":
            t = _bin(_binade(OVERFLOW_THRESHOLD[target]))
            figures[f"overflow_{target}"] = b[:, split] + below[:, -1] - below[:, t + 1]
        else:
            t = _bin(_binade(UNDERFLOW_THRESHOLD[target]))
            figures[f"underflow_{target}"] = b[:, split] + below[:, t]
    kinds = {name: _dtype_kind(name) for name in set(dtypes)}
    normal_bin = np.array([kinds[d][2] for d in dtypes], dtype=np.int64)
    figures["subnormal"] = below[np.arange(len(b)), normal_bin] + b[:, B_SUBNORMAL_LOW]
    as_lists = {name: v.tolist() for name, v in figures.items()}
    hists = hist.tolist()
    zeros = b[:, B_ZERO].tolist()
    # the keys' values, decoded per dtype
    values: dict[int, list[Any]] = {K_MIN: [None] * len(b), K_MAX: [None] * len(b)}
    values[K_ABSMIN] = [None] * len(b)
    kmax = int(np.iinfo(keys.dtype).max)
    for name in kinds:
        rows = [i for i, d in enumerate(dtypes) if d == name]
        dt = np.dtype(name)
        for which in (K_MIN, K_MAX, K_ABSMIN):
            for i, v in zip(rows, _key_values(keys[rows, which], dt, which), strict=True):
                values[which][i] = v
    n_, nan_, posinf_, neginf_, finite_ = (v.tolist() for v in (n, nan, posinf, neginf, finite))
    totals = total.astype(np.float64).tolist()
    has_absmin = (keys[:, K_ABSMIN] != kmax).tolist()
    casts = [as_lists[f] for f in CAST_FIGURES]
    out = []
    for i, (name, shape) in enumerate(zip(dtypes, shapes, strict=True)):
        text, is_f, _ = kinds[name]
        count = n_[i]
        none_observed = count == 0
        has_values = finite_[i] > 0 and not none_observed
        vmin = vmax = absmin = absmax = mean = None
        if has_values:
            vmin, vmax = values[K_MIN][i], values[K_MAX][i]
            absmin = values[K_ABSMIN][i] if has_absmin[i] else None
            absmax = max(abs(vmin), abs(vmax))  # type: ignore[arg-type]
            mean = totals[i] / finite_[i]
        fractions = not none_observed and is_f
        out.append(
            {
                "dtype": text,
                "shape": tuple(shape),
                "size": math.prod(shape),
                "count": count,
                "nan": nan_[i],
                "posinf": posinf_[i],
                "neginf": neginf_[i],
                "min": _plain(vmin),
                "max": _plain(vmax),
                "mean": mean,
                "absmax": _plain(absmax),
                "absmin_nonzero": _plain(absmin),
                "zero_frac": None if none_observed else zeros[i] / count,
                "subnormal_frac": as_lists["subnormal"][i] / count if fractions else None,
                "overflow_bf16": casts[0][i] / count if fractions else None,
                "overflow_f16": casts[1][i] / count if fractions else None,
                "underflow_f16": casts[2][i] / count if fractions else None,
                "overflow_fp8_e4m3": casts[3][i] / count if fractions else None,
                "underflow_fp8_e4m3": casts[4][i] / count if fractions else None,
                "histogram": tuple(hists[i]) if is_f else (),
            }
        )
    return out


# the cast figures of a row, in the order `Stats` lists them
CAST_FIGURES = (
    "overflow_bf16",
    "overflow_f16",
    "underflow_f16",
    "overflow_fp8_e4m3",
    "underflow_fp8_e4m3",
)


@functools.cache
def _dtype_kind(name: str) -> tuple[str, bool, int]:
    """A dtype's name as rows spell it, whether it is a float, and the histogram bin of its
    smallest normal binade (0 for other types)."""
    dt = np.dtype(name)
    is_f = is_float(dt)
    return str(dt), is_f, _bin(int(ml_dtypes.finfo(dt).minexp)) if is_f else 0


def decode(
    counts: np.ndarray,
    keys: np.ndarray,
    total: float,
    buckets: np.ndarray,
    dtype: str,
    shape: tuple[int, ...],
) -> dict[str, Any]:
    """The `Stats` fields of one record (one device, or several already merged)."""
    (out,) = decode_all(
        np.asarray(counts)[None],
        np.asarray(keys)[None],
        np.asarray([total]),
        np.asarray(buckets)[None],
        [dtype],
        [tuple(shape)],
    )
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    return v


def mirrored(
    first: np.ndarray,
    keys: np.ndarray,
    total: np.ndarray,
    buckets: np.ndarray,
    negated: np.ndarray,
    widths: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Float records [N, D, ...] of values where `negated` [N] is set replaced by the records
    of those values negated (`widths` [N]: their dtypes' bits): the minimum is the maximum
    negated and the other way round (an order key negated is its complement within the
    dtype's width), +Inf and -Inf swap, the sum changes sign; the magnitudes, hence the
    histogram, the zeros and the cast figures, stay."""
    first, keys, total, buckets = (a.copy() for a in (first, keys, total, buckets))
    rows = np.flatnonzero(negated)
    mask = ((np.uint64(1) << widths[rows].astype(np.uint64)) - np.uint64(1))[:, None]
    low = keys[rows, :, K_MIN].astype(np.uint64)
    high = keys[rows, :, K_MAX].astype(np.uint64)
    kmax = np.uint64(np.iinfo(keys.dtype).max)
    # a device that saw no finite value keeps the identities (min kmax, max 0)
    none = low > high
    keys[rows, :, K_MIN] = np.where(none, kmax, ~high & mask).astype(keys.dtype)
    keys[rows, :, K_MAX] = np.where(none, 0, ~low & mask).astype(keys.dtype)
    for a, p, n in ((buckets, B_POSINF, B_NEGINF), (first, MAX_LOOPS + 1, MAX_LOOPS + 2)):
        a[rows, :, p], a[rows, :, n] = a[rows, :, n].copy(), a[rows, :, p].copy()
    total[rows] = -total[rows]
    return first, keys, total, buckets


def merge_devices(counts: np.ndarray, keys: np.ndarray, total: np.ndarray, buckets: np.ndarray):
    """Records [N, D, ...] as one record each [N, ...], their devices merged."""
    merged = np.stack(
        [
            keys[:, :, K_MIN].min(axis=1),
            keys[:, :, K_MAX].max(axis=1),
            keys[:, :, K_ABSMIN].min(axis=1),
        ],
        axis=1,
    )
    return counts.sum(axis=1), merged, total.sum(axis=1), buckets.sum(axis=1)


def first_kind(first: np.ndarray) -> str | None:
    """'NaN', '+Inf' or '-Inf': what the first execution holding a non-finite value held
    (NaN first when it held several kinds)."""
    nan, posinf, neginf = (int(v) for v in first[MAX_LOOPS : MAX_LOOPS + 3])
    if nan:
        return "NaN"
    if posinf:
        return "+Inf"
    return "-Inf" if neginf else None


def first_iteration(first: np.ndarray, loops: int) -> tuple[int, ...] | None:
    """The loop indices of the first NaN/Inf of one device's record (None: never)."""
    depth = min(loops, MAX_LOOPS)
    if depth == 0:
        return ()
    idx = tuple(int(v) for v in first[:depth])
    return None if idx[0] < 0 else idx
