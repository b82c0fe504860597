"""Statistics of one array reduced on the device, how two of them combine (loop iterations,
devices), and how the host decodes them into `ir.numerics.Stats`.

A record is a tuple of small arrays, each with a leading device axis ``D`` (1 outside
``shard_map``):

- ``counts`` int[D, NCOUNTS]: element counts (see ``C_*``), executions;
- ``first`` int[D, MAX_LOOPS + 3]: loop indices of the first iteration holding NaN/Inf (-1:
  none), then that iteration's NaN, +Inf and -Inf counts;
- ``keys`` uint[D, 4]: min, max, |x| max, non-zero |x| min as order-preserving bit keys, so
  the values are exact (subnormals included: XLA:CPU flushes them in arithmetic, not in bits);
- ``total`` float[D]: the sum of the finite elements (for the mean);
- ``hist`` int[D, HISTOGRAM_BINS]: the exponent histogram.

Integers are 64-bit when JAX runs with ``jax_enable_x64`` and 32-bit otherwise.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import PartitionSpec

from jaxlab.ir.numerics import (
    HISTOGRAM_BINS,
    HISTOGRAM_LOW,
    OVERFLOW_THRESHOLD,
    UNDERFLOW_THRESHOLD,
    Stats,
)

# columns of `counts`
(
    C_NAN,
    C_POSINF,
    C_NEGINF,
    C_ZERO,
    C_SUBNORMAL,
    C_OVF_BF16,
    C_OVF_F16,
    C_UNF_F16,
    C_OVF_FP8,
    C_UNF_FP8,
    C_FINITE,
    C_COUNT,
    C_EXEC,
) = range(13)
NCOUNTS = 13
MAX_LOOPS = 4  # loop levels whose indices are kept for the first NaN/Inf
K_MIN, K_MAX, K_ABSMAX, K_ABSMIN = range(4)

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
    keys = jnp.array([kmax, 0, 0, kmax], dtype=key_dtype())
    return (
        jnp.zeros((devices, NCOUNTS), int_dtype()),
        jnp.concatenate(
            [
                jnp.full((devices, MAX_LOOPS), -1, int_dtype()),
                jnp.zeros((devices, 3), int_dtype()),
            ],
            axis=1,
        ),
        jnp.broadcast_to(keys, (devices, 4)),
        jnp.zeros((devices,), _float_acc()),
        jnp.zeros((devices, HISTOGRAM_BINS), int_dtype()),
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


def _measure_traced(x: jax.Array) -> Record:
    if is_float(x.dtype):
        return _measure_float(x)
    return _measure_int(x)


# traced once per type: a large program measures thousands of values of a few types, and
# JAX's tracing cache makes each later one a lookup (XLA inlines the calls)
_measure = jax.jit(_measure_traced)

GROUP = 8  # values measured together, in one batched reduction
GROUP_SIZE = 1 << 16  # larger values are measured alone (padding them together costs memory)


def _measure_padded(x: jax.Array, n: jax.Array) -> Record:
    """The record of the first `n` elements of a flat array (the rest is padding)."""
    valid = jnp.arange(x.shape[0]) < n
    if is_float(x.dtype):
        return _measure_float(x, valid, n)
    return _measure_int(x, valid, n)


_measure_batch = jax.jit(jax.vmap(_measure_padded))


class Member:
    """One value's record inside a batch measured together (the batch's fields have a
    leading axis of the values); kept whole until a loop or branch needs the record alone,
    so that the program's outputs take the batch as it is."""

    __slots__ = ("batch", "index")

    def __init__(self, batch: Record, index: int) -> None:
        self.batch = batch
        self.index = index

    def record(self) -> Record:
        return tuple(f[self.index] for f in self.batch)  # type: ignore[return-value]


def alone(records: dict[str, Any]) -> dict[str, Record]:
    """Records with batch members taken out of their batches (for loop carries, branches)."""
    return {k: v.record() if isinstance(v, Member) else v for k, v in records.items()}


def pack(records: dict[str, Any]) -> tuple[dict[int, list[str]], dict[int, tuple]]:
    """The records as few arrays: per device count, each field stacked over the records (whole
    batches taken as they are), and the keys in the order of the stacked rows."""
    layout: dict[int, list[str]] = {}
    pieces: dict[int, list[Record]] = {}
    seen: set[int] = set()
    for key, rec in records.items():
        if isinstance(rec, Member):
            if id(rec.batch) in seen:
                continue
            seen.add(id(rec.batch))
            members = [
                k for k, r in records.items() if isinstance(r, Member) and r.batch is rec.batch
            ]
            order = sorted(members, key=lambda k: records[k].index)
            layout.setdefault(1, []).extend(order)
            if [records[k].index for k in order] != list(range(rec.batch[0].shape[0])):
                pieces.setdefault(1, []).append(
                    tuple(jnp.stack([f[records[k].index] for k in order]) for f in rec.batch)
                )
            else:
                pieces.setdefault(1, []).append(rec.batch)
            continue
        devices = rec[0].shape[0]
        layout.setdefault(devices, []).append(key)
        pieces.setdefault(devices, []).append(tuple(f[None] for f in rec))
    packed = {
        d: tuple(jnp.concatenate([p[f] for p in parts]) for f in range(5))
        for d, parts in pieces.items()
    }
    return layout, packed


def measure_group(values: list[jax.Array]) -> list[Any]:
    """The records of several values of one dtype (each D = 1), measured in one batched
    reduction over the values padded to the longest: XLA compiles a separate kernel for every
    separate reduction, and compile time grows with their number."""
    if len(values) == 1:
        return [_measure(values[0])]
    longest = max(v.size for v in values)
    flat = jnp.stack([jnp.pad(jnp.ravel(v), (0, longest - v.size)) for v in values])
    sizes = jnp.array([v.size for v in values], int_dtype())
    batch = _measure_batch(flat, sizes)
    return [Member(batch, i) for i in range(len(values))]


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


def _reduce(masks: list[jax.Array], keys: list[jax.Array], total: jax.Array) -> tuple:
    """The count of each mask, the maximum of each key and the sum of `total`, all in one
    variadic reduction: one kernel per measured value (XLA compiles every separate reduction
    as its own loop, and compile time grows with their number)."""
    itype, ktype = int_dtype(), key_dtype()
    operands = (
        *[m.astype(itype) for m in masks],
        *[k.astype(ktype) for k in keys],
        total,
    )
    inits = (
        *[itype(0)] * len(masks),
        *[ktype(0)] * len(keys),
        total.dtype.type(0),
    )
    nm, nk = len(masks), len(keys)

    def combine(a: tuple, b: tuple) -> tuple:
        return (
            *[a[i] + b[i] for i in range(nm)],
            *[jnp.maximum(a[i], b[i]) for i in range(nm, nm + nk)],
            a[-1] + b[-1],
        )

    dims = tuple(range(total.ndim))
    out = lax.reduce(operands, inits, combine, dims)
    return jnp.stack(out[:nm]), jnp.stack(out[nm : nm + nk]), out[-1]


def _key_operands(order, mag, finite, nonzero) -> list[jax.Array]:
    """Per-element keys whose maxima give: min and max of the order keys over finite
    elements, max |x| over finite elements and min non-zero |x| (a minimum is the complement
    of the maximum of complements)."""
    zero = key_dtype()(0)
    return [
        jnp.where(finite, ~order, zero),
        jnp.where(finite, order, zero),
        jnp.where(finite, mag, zero),
        jnp.where(nonzero, ~mag, zero),
    ]


def _unkey(top: jax.Array) -> jax.Array:
    return jnp.stack([~top[K_MIN], top[K_MAX], top[K_ABSMAX], ~top[K_ABSMIN]])


def _measure_float(x: jax.Array, valid: jax.Array | None = None, n: Any = None) -> Record:
    info = jnp.finfo(x.dtype)
    width = info.bits
    utype = _uint_of_width(width)
    ktype = key_dtype()
    bits = lax.bitcast_convert_type(x, utype)
    sign = utype(1 << (width - 1))
    mag = bits & ~sign
    nmant = int(info.nmant)
    exp_field = mag >> utype(nmant)
    isnan = jnp.isnan(x)
    isinf = jnp.isinf(x)
    finite = ~(isnan | isinf)
    zero = mag == 0
    subnormal = (exp_field == 0) & ~zero
    if valid is not None:  # padding left out
        isnan, isinf, finite = isnan & valid, isinf & valid, finite & valid
        zero, subnormal = zero & valid, subnormal & valid
    nonzero = finite & ~zero
    negative = (bits & sign) != 0
    # order-preserving keys: negative values reversed below positive ones
    order = jnp.where(negative, ~bits, bits | sign).astype(ktype)
    acc = jnp.float64 if width == 64 else jnp.float32
    ax = jnp.abs(x.astype(acc))

    def over(target: str) -> jax.Array:
        return finite & (ax >= acc(OVERFLOW_THRESHOLD[target]))

    def under(target: str) -> jax.Array:
        return nonzero & (ax <= acc(UNDERFLOW_THRESHOLD[target]))

    tallies, top, total = _reduce(
        [
            isnan,
            isinf & ~negative,
            isinf & negative,
            zero,
            subnormal,
            over("bf16"),
            over("f16"),
            under("f16"),
            over("fp8_e4m3"),
            under("fp8_e4m3"),
            finite,
        ],
        _key_operands(order, mag.astype(ktype), finite, nonzero),
        jnp.where(finite, x.astype(acc), acc(0)).astype(_float_acc()),
    )
    keys = _unkey(top)
    size = x.size if n is None else n
    counts = jnp.concatenate([tallies, jnp.stack([jnp.asarray(size, int_dtype()), int_dtype()(1)])])
    # binade of |x|: the exponent field for normal numbers; from the leading bit of the
    # mantissa for subnormals
    bias = (1 << (int(info.nexp) - 1)) - 1
    emin = 1 - bias
    exp_i = exp_field.astype(jnp.int32)
    lead = (width - 1) - lax.clz(mag).astype(jnp.int32)  # index of the highest set bit
    binade = jnp.where(exp_i == 0, lead + emin - nmant, exp_i - bias)
    bins = jnp.clip(binade - HISTOGRAM_LOW, 0, HISTOGRAM_BINS - 1)
    hist = (
        jnp.zeros((HISTOGRAM_BINS,), int_dtype())
        .at[bins.ravel()]
        .add(nonzero.ravel().astype(int_dtype()))
    )
    return _one_device(counts, keys, total, hist)


def _measure_int(x: jax.Array, valid: jax.Array | None = None, n: Any = None) -> Record:
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
    zeros, top, total = _reduce(
        [~nonzero & everywhere],
        _key_operands(order, mag, everywhere, nonzero),
        jnp.where(everywhere, x.astype(_float_acc()), 0),
    )
    keys = _unkey(top)
    n = x.size if n is None else n
    tallies = [0, 0, 0, zeros[0], 0, 0, 0, 0, 0, 0, n, n, 1]
    counts = jnp.stack([jnp.asarray(v, int_dtype()) for v in tallies])
    hist = jnp.zeros((HISTOGRAM_BINS,), int_dtype())
    return _one_device(counts, keys, total, hist)


def _one_device(counts: jax.Array, keys: jax.Array, total: jax.Array, hist: jax.Array) -> Record:
    loops = jnp.full((MAX_LOOPS,), -1, int_dtype())
    first = jnp.concatenate([loops, counts[C_NAN : C_NEGINF + 1]])[None]
    return counts[None], first, keys[None], total[None], hist[None]


def combine(acc: Record, new: Record, level: int | None = None, index: Any = None) -> Record:
    """`acc` and `new` together. With `level` (a loop level) and `index` (that loop's
    iteration), `new` is iteration `index`: where `acc` had no NaN/Inf yet and `new` has,
    `new`'s first-iteration indices (inner loops' already filled) are kept with `index` at
    `level`."""
    ac, af, ak, at, ah = acc
    nc, nf, nk, nt, nh = new
    counts = ac + nc
    keys = jnp.stack(
        [
            jnp.minimum(ak[:, K_MIN], nk[:, K_MIN]),
            jnp.maximum(ak[:, K_MAX], nk[:, K_MAX]),
            jnp.maximum(ak[:, K_ABSMAX], nk[:, K_ABSMAX]),
            jnp.minimum(ak[:, K_ABSMIN], nk[:, K_ABSMIN]),
        ],
        axis=1,
    )
    if level is not None and level < MAX_LOOPS:
        had = (ac[:, C_NAN] + ac[:, C_POSINF] + ac[:, C_NEGINF]) > 0
        has = (nc[:, C_NAN] + nc[:, C_POSINF] + nc[:, C_NEGINF]) > 0
        stamped = nf.at[:, level].set(jnp.asarray(index, nf.dtype))
        first = jnp.where((~had & has)[:, None], stamped, af)
    else:
        first = af
    return counts, first, keys, at + nt, ah + nh


def scale_executions(rec: Record, taken: jax.Array) -> Record:
    """`rec` if `taken`, else the empty record (a branch not taken)."""
    ident = empty(rec[0].shape[0])
    return tuple(jnp.where(_bcast(taken, r), r, e) for r, e in zip(rec, ident, strict=True))  # type: ignore[return-value]


def _bcast(flag: jax.Array, like: jax.Array) -> jax.Array:
    return jnp.reshape(flag, (1,) * like.ndim)


def empty_like(rec: Record) -> Record:
    return empty(rec[0].shape[0])


# -- the host side ---------------------------------------------------------------------------


def _decode_key(key: int, dtype: np.dtype, which: int) -> float | int:
    """A value from its order-preserving key (`which`: K_MIN/K_MAX) or its magnitude bits
    (K_ABSMAX/K_ABSMIN)."""
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


def decode(
    counts: np.ndarray,
    keys: np.ndarray,
    total: float,
    hist: np.ndarray,
    dtype: str,
    shape: tuple[int, ...],
) -> dict[str, Any]:
    """The `Stats` fields of one record (one device, or several already summed)."""
    dt = np.dtype(dtype)
    n = int(counts[C_COUNT])
    finite = int(counts[C_FINITE])
    kmax = int(np.iinfo(keys.dtype).max)
    is_f = is_float(dt)
    none_observed = n == 0
    out: dict[str, Any] = {
        "dtype": str(dt),
        "shape": tuple(shape),
        "size": int(np.prod(shape, dtype=np.int64)),
        "count": n,
        "nan": int(counts[C_NAN]),
        "posinf": int(counts[C_POSINF]),
        "neginf": int(counts[C_NEGINF]),
    }
    has_values = finite > 0 and not none_observed
    k = [int(v) for v in keys]
    vmin = _decode_key(k[K_MIN], dt, K_MIN) if has_values else None
    vmax = _decode_key(k[K_MAX], dt, K_MAX) if has_values else None
    absmax = _decode_key(k[K_ABSMAX], dt, K_ABSMAX) if has_values else None
    absmin = _decode_key(k[K_ABSMIN], dt, K_ABSMIN) if has_values and k[K_ABSMIN] != kmax else None
    if not is_f and has_values:
        absmax = max(abs(int(vmin)), abs(int(vmax)))  # type: ignore[arg-type]

    def frac(col: int) -> float | None:
        return None if none_observed or not is_f else int(counts[col]) / n

    out.update(
        min=_plain(vmin),
        max=_plain(vmax),
        mean=(float(total) / finite) if has_values else None,
        absmax=_plain(absmax),
        absmin_nonzero=_plain(absmin),
        zero_frac=None if none_observed else int(counts[C_ZERO]) / n,
        subnormal_frac=frac(C_SUBNORMAL),
        overflow_bf16=frac(C_OVF_BF16),
        overflow_f16=frac(C_OVF_F16),
        underflow_f16=frac(C_UNF_F16),
        overflow_fp8_e4m3=frac(C_OVF_FP8),
        underflow_fp8_e4m3=frac(C_UNF_FP8),
        histogram=tuple(int(v) for v in hist) if is_f else (),
    )
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    return v


def sum_devices(counts: np.ndarray, keys: np.ndarray, total: np.ndarray, hist: np.ndarray):
    """One record from a record's per-device rows [D, ...]."""
    merged = np.empty(4, dtype=keys.dtype)
    merged[K_MIN] = keys[:, K_MIN].min()
    merged[K_MAX] = keys[:, K_MAX].max()
    merged[K_ABSMAX] = keys[:, K_ABSMAX].max()
    merged[K_ABSMIN] = keys[:, K_ABSMIN].min()
    return counts.sum(axis=0), merged, float(total.sum()), hist.sum(axis=0)


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


def stats_from_fields(fields: dict[str, Any]) -> Stats:
    return Stats(**fields)
