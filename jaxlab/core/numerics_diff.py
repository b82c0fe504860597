"""Two numerical configurations of one program, equation by equation: where precision is lost.

The reference and the candidate are staged separately (`jaxlab.core.stages.prepare`) and
flattened (calls such as ``jit`` and ``custom_jvp`` inlined, as XLA inlines them). Their
equations are matched by source line, primitive and order on that line, so a cast that adds
converts does not shift the rest. Each program runs once as the configuration says (compiled,
or op by op for ``eager``); the matched outputs stay on the device and are compared there
(`ir.numerics_diff.compare`): only a few figures per output come back to the host.

The error an equation *makes* (``local_error``) is the equation run in the candidate
configuration on the reference's inputs, cast as the candidate casts them, compared with the
reference's output: an equation that only carries error in has a small local error, one that
cancels or rounds has a large one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxlab.core.diff_program import (
    TOP,
    Counts,
    Flat,
    Op,
    align,
    bind_stacked,
    branch_mask,
    count_whiles,
    flatten,
    run_flat,
    stacked_bytes,
    while_ops,
)
from jaxlab.core.numerics import BadInput, leaf_paths

LOW = {"bf16": "bfloat16", "f16": "float16"}
PRECISIONS = ("default", "high", "highest")
MAX_SEPARATE = 400  # compare="eager": values compiled one program each, at most
MAX_STACKED_BYTES = 1 << 30  # a loop whose body's values over all iterations take more runs whole
COMPARES = ("bf16", "f16", "x64", "eager", *(f"precision={p}" for p in PRECISIONS), "numpy")


def is_float(aval: Any) -> bool:
    dtype = getattr(aval, "dtype", None)
    try:
        return dtype is not None and bool(jnp.issubdtype(dtype, jnp.floating))
    except TypeError:
        return False


# -- configurations --------------------------------------------------------------------------


@dataclass
class Side:
    """One configuration: its program, its argument leaves and how it runs."""

    label: str
    flat: Flat
    leaves: list[Any]
    context: Callable[[], Any] = contextlib.nullcontext
    eager: bool = False

    one_by_one: bool = False  # compile each wanted value on its own (as the program does)
    counts: Counts | None = None  # iterations of each opened while loop (a first run counts)

    def shut(self, paths: frozenset[str]) -> None:
        """Run the loops at `paths` as single equations (their bodies stay closed)."""
        self.flat = flatten(self.flat.closed, shut=paths)
        self.counts = None

    def iterations(self) -> Counts:
        """The iteration count of every opened while loop, counted by one run."""
        if self.counts is None:
            whiles = while_ops(self.flat)
            found: list[Any] = []
            if whiles:
                with self.context():
                    if self.eager:
                        found = count_whiles(self.flat, self.leaves)
                    else:
                        found = jax.jit(lambda v: count_whiles(self.flat, v))(self.leaves)
            self.counts = {op.index: int(n) for op, n in zip(whiles, found, strict=True)}
        return self.counts

    def run(self, wanted: Sequence[int]) -> list[Any]:
        counts = self.iterations()
        with self.context():
            if self.eager:
                return run_flat(self.flat, self.leaves, wanted, counts)
            if self.one_by_one and len(wanted) <= MAX_SEPARATE:
                # an intermediate returned as an output changes what XLA fuses: each value is
                # compiled as the last output of its own program, as the user's jit has it
                return [
                    jax.jit(lambda leaves, i=i: run_flat(self.flat, leaves, [i], counts)[0])(
                        self.leaves
                    )
                    for i in wanted
                ]
            return jax.jit(lambda leaves: run_flat(self.flat, leaves, wanted, counts))(self.leaves)


@dataclass
class Setup:
    compare: str
    reference: Side
    candidate: Side
    leaf_names: list[str]
    cast: list[str]  # leaves cast down (bf16/f16)
    notes: list[str]
    wide: Callable[[], Any] = contextlib.nullcontext  # context the comparison runs in
    reference_output: Any = None  # for numpy: the twin's output, host side
    given: str = "candidate"  # which side is the program as given (the one jaxlab.inspect sees)


def parse_compare(compare: str) -> str:
    text = str(compare).strip().lower().replace(" ", "")
    aliases = {"bfloat16": "bf16", "float16": "f16", "fp16": "f16", "float64": "x64", "f64": "x64"}
    text = aliases.get(text, text)
    if text == "precision":
        text = "precision=default"
    if text not in COMPARES:
        raise BadInput(
            f"compare={compare!r} is not a configuration jaxlab compares.",
            "use one of " + ", ".join(COMPARES) + ".",
        )
    return text


@contextlib.contextmanager
def _x64() -> Iterator[None]:
    with jax.enable_x64(True):
        yield


def _matmul(precision: str) -> Callable[[], Any]:
    return lambda: jax.default_matmul_precision(precision)


def _stage(fn: Callable, args: tuple, kwargs: dict, statics: dict) -> tuple[Any, list, Any]:
    from jaxlab.core.stages import prepare

    prepared = prepare(fn, args, kwargs, **statics)
    traced = prepared.trace()
    nums, names = prepared.static_argnums, prepared.static_argnames
    dyn_args = tuple(a for i, a in enumerate(prepared.call_args) if i not in nums)
    dyn_kwargs = {k: v for k, v in prepared.call_kwargs.items() if k not in names}
    leaves = jax.tree_util.tree_leaves((dyn_args, dyn_kwargs))
    if len(leaves) != len(traced.jaxpr.in_avals):
        raise BadInput(
            f"the arguments flatten to {len(leaves)} leaves but the program takes "
            f"{len(traced.jaxpr.in_avals)}.",
            "mark non-array arguments static (static_argnums / static_argnames).",
        )
    numbers = [i for i in range(len(prepared.call_args)) if i not in nums]
    return traced.jaxpr, [jnp.asarray(v) for v in leaves], (numbers, dyn_args, dyn_kwargs)


def _map_float_leaves(tree: Any, convert: Callable[[Any], Any], selected: Callable) -> Any:
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    out = []
    for path, leaf in flat:
        dtype = getattr(leaf, "dtype", None)
        if (
            dtype is not None
            and jnp.issubdtype(dtype, jnp.floating)
            and selected(jax.tree_util.keystr(path))
        ):
            leaf = convert(leaf)
        out.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, out)


def setup(
    fn: Callable,
    args: tuple,
    kwargs: dict,
    compare: str,
    *,
    grad: bool = False,
    argnums: int | Sequence[int] = 0,
    cast: str | None = None,
    statics: dict | None = None,
    twin: tuple[str, Any] | None = None,
) -> Setup:
    """Stage the reference and candidate programs of `compare` (already parsed); for
    ``numpy``, `twin` is (how the twin was made, its float64 output)."""
    from jaxlab.base.pytrees import argument_names

    statics = dict(statics or {})
    target = jax.value_and_grad(fn, argnums=argnums) if grad else fn
    notes: list[str] = []
    closed, leaves, (numbers, dyn_args, dyn_kwargs) = _stage(target, args, kwargs, statics)
    names = leaf_paths(argument_names(fn, len(args)), numbers, dyn_args, dyn_kwargs)
    given = Side("the program as given", flatten(closed), leaves)
    cast_leaves: list[str] = []
    wide: Callable[[], Any] = contextlib.nullcontext
    if compare in LOW:
        dtype = jnp.dtype(LOW[compare])
        params = argument_names(fn, len(args))
        if cast is not None and cast not in params and cast not in kwargs:
            raise BadInput(
                f"cast={cast!r} names no argument of the call.",
                "give an argument's name, e.g. cast='params' (or leave it out to cast every "
                "floating input).",
            )

        def chosen(index: int) -> Callable[[str], bool]:
            if cast is None:
                return lambda _path: True
            here = params[index] if index < len(params) else None
            return lambda _path: here == cast

        cast_args = tuple(
            _map_float_leaves(a, lambda x: jnp.asarray(x).astype(dtype), chosen(i))
            for i, a in enumerate(args)
        )
        cast_kwargs = {
            k: _map_float_leaves(
                v, lambda x: jnp.asarray(x).astype(dtype), lambda _p, k=k: cast in (None, k)
            )
            for k, v in kwargs.items()
        }
        cand_closed, cand_leaves, _ = _stage(target, cast_args, cast_kwargs, statics)
        cast_leaves = [
            n
            for n, a, b in zip(names, leaves, cand_leaves, strict=True)
            if getattr(a, "dtype", None) != getattr(b, "dtype", None)
        ]
        if not cast_leaves:
            raise BadInput(
                f"no floating-point input to cast to {LOW[compare]}"
                + (f" in {cast!r}." if cast else "."),
                "compare='bf16'/'f16' casts floating arguments; pass float arrays "
                "(or use compare='x64' / 'eager' for integer inputs).",
            )
        reference = given
        candidate = Side(f"{LOW[compare]} inputs", flatten(cand_closed), cand_leaves)
    elif compare == "x64":
        narrow = [n for n, v in zip(names, leaves, strict=True) if _is_32(v)]
        if narrow:
            notes.append(
                f"{_count(len(narrow), 'floating input')} held in 32-bit by JAX "
                f"({', '.join(narrow[:4])}{', …' if len(narrow) > 4 else ''}) "
                "were converted to float64 for the reference."
            )
        with _x64():
            wide_args = tuple(_map_float_leaves(a, _to64, lambda _p: True) for a in args)
            wide_kwargs = {
                k: _map_float_leaves(v, _to64, lambda _p: True) for k, v in kwargs.items()
            }
            ref_closed, ref_leaves, _ = _stage(target, wide_args, wide_kwargs, statics)
        reference = Side("float64", flatten(ref_closed), ref_leaves, context=_x64)
        candidate = given
        wide = _x64
    elif compare == "eager":
        reference = Side("compiled", given.flat, leaves, one_by_one=True)
        candidate = Side("op by op", given.flat, leaves, eager=True)
    elif compare.startswith("precision="):
        level = compare.split("=", 1)[1]
        with jax.default_matmul_precision("highest"):
            ref_closed, ref_leaves, _ = _stage(target, args, kwargs, statics)
        reference = Side("precision=highest", flatten(ref_closed), ref_leaves, _matmul("highest"))
        if level == "default":
            candidate = Side("the default precision", given.flat, leaves)
        else:
            candidate = Side(compare, given.flat, leaves, _matmul(level))
    else:  # numpy
        return _numpy_setup(given, names, notes, twin)
    given_side = "reference" if compare in LOW else "candidate"
    return Setup(compare, reference, candidate, names, cast_leaves, notes, wide, given=given_side)


def _numpy_setup(given: Side, names: list[str], notes: list[str], twin: Any) -> Setup:
    if twin is None:
        raise BadInput(
            "compare='numpy' needs the NumPy twin's outputs.",
            "call jaxlab.numerics_diff(f, x, compare='numpy'), which builds the twin.",
        )
    how, output = twin
    notes.append(
        f"the reference is the NumPy float64 twin ({how}): a different program, so only "
        "the final outputs are compared; compare='x64' compares every equation."
    )
    return Setup(
        "numpy", given, given, names, [], notes, reference_output=jax.tree_util.tree_leaves(output)
    )


def _is_32(v: Any) -> bool:
    dtype = getattr(v, "dtype", None)
    return (
        dtype is not None and jnp.issubdtype(dtype, jnp.floating) and jnp.dtype(dtype).itemsize < 8
    )


def _to64(x: Any) -> Any:
    return jnp.asarray(x, jnp.float64)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- local error -----------------------------------------------------------------------------


def local_inputs(
    cand: Op, cand_flat: Flat, ref_flat: Flat, matched: dict[int, int], ref_values: dict[int, Any]
) -> list[tuple[Any, int]] | None:
    """The candidate equation's inputs taken from the reference run, cast as the candidate
    casts them (through the candidate's own converts), each with its loop axes (stacked
    inside loops); None when one has no reference."""

    def resolve(kind: str, x: Any) -> tuple[Any, int] | None:
        if kind == "lit":
            return x, 0
        if x in cand_flat.consts:
            return cand_flat.consts[x], 0
        aval = cand_flat.avals[x]
        if x in matched:
            value, depth = ref_values[matched[x]], ref_flat.depth(matched[x])
        else:
            op = cand_flat.producer.get(x)
            if op is None or op.primitive != "convert_element_type":
                return None
            found = resolve(*op.inputs[0])
            if found is None:
                return None
            value, depth = found
        value = jnp.asarray(value)
        if tuple(value.shape[depth:]) != tuple(aval.shape):
            return None
        return rounded(value, aval.dtype), depth

    values = [resolve(kind, x) for kind, x in cand.inputs]
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def opened(op: Op) -> bool:
    """A loop or cond whose body's equations are compared one by one: the error is made
    there, not by the loop as one equation."""
    return bool(op.bodies)


# -- one comparison, end to end --------------------------------------------------------------


@dataclass
class Compared:
    """What `diff` found, for the public result."""

    setup: Setup
    rows: list[dict[str, Any]]  # one per matched floating output, in the candidate's order
    outputs: list[dict[str, Any]]  # one per floating leaf of the function's output
    aligned: int  # matched equations
    equations: tuple[int, int]  # (reference, candidate) equations
    run_s: float


def _cond_indices(flat: Flat, ops: Sequence[Op]) -> set[int]:
    """The index values of the conds around `ops` (for the masks of their branches)."""
    out = set()
    for op in ops:
        for cond, _ in flat.conds(op.region):
            kind, x = cond.inputs[0]
            if kind == "var":
                out.add(x)
    return out


def _common(r: Any, c: Any, loops: int, *others: Any) -> list[Any]:
    """`r`, `c` and `others` (None or stacked like `r` or `c`) cut to the iterations both runs
    made (a while loop may stop at different counts)."""
    if loops == 0 or tuple(r.shape[:loops]) == tuple(c.shape[:loops]):
        return [r, c, *others]
    n = tuple(min(a, b) for a, b in zip(r.shape[:loops], c.shape[:loops], strict=True))
    cut = tuple(slice(0, k) for k in n)
    return [None if x is None else jnp.asarray(x)[cut] for x in (r, c, *others)]


def diff(found: Setup) -> Compared:
    """Run both configurations, compare every matched floating output on the device."""
    import time

    from jaxlab.base.format import source_location
    from jaxlab.core.error_stats import Pair, error_stats

    t0 = time.perf_counter()
    ref, cand = found.reference, found.candidate
    if found.compare != "numpy":
        found.notes.extend(_shut_large_loops(ref, cand))
    pairs, body_invars = ([], {}) if found.compare == "numpy" else align(ref.flat, cand.flat)
    matched = dict(zip(cand.flat.args, ref.flat.args, strict=True))
    matched.update(body_invars)
    compared: list[tuple[Op, Op, int]] = []
    for r, c in pairs:
        for j, (ri, ci) in enumerate(zip(r.outputs, c.outputs, strict=True)):
            if ri >= 0 and ci >= 0:
                matched[ci] = ri
                if is_float(ref.flat.avals[ri]) and is_float(cand.flat.avals[ci]):
                    compared.append((r, c, j))
    ref_out = [x for kind, x in ref.flat.outputs if kind == "var"]
    cand_out = [x for kind, x in cand.flat.outputs if kind == "var"]
    ref_ids = sorted(
        set(matched.values()) | set(ref_out) | _cond_indices(ref.flat, [r for r, _ in pairs])
    )
    if ref.one_by_one and len(ref_ids) > MAX_SEPARATE:
        found.notes.append(
            f"the compiled program's {len(ref_ids):,} values were compiled as one program "
            f"(more than {MAX_SEPARATE} to compile one by one): XLA may fuse them differently "
            "from the program as given."
        )
    ref_values = dict(zip(ref_ids, ref.run(ref_ids), strict=True))
    cand_ids = sorted(
        {c.outputs[j] for _, c, j in compared}
        | set(cand_out)
        | _cond_indices(cand.flat, [c for _, c in pairs])
    )
    cand_values = dict(zip(cand_ids, cand.run(cand_ids), strict=True))
    ref_counts, cand_counts = ref.iterations(), cand.iterations()
    found.notes.extend(_loop_notes(found, pairs, ref_counts, cand_counts))

    def locals_of(values: dict[int, Any]) -> list[Any]:
        out = []
        for r, c, j in compared:
            inputs = None if opened(c) else local_inputs(c, cand.flat, ref.flat, matched, values)
            if inputs is None:
                out.append(None)
                continue
            depth = len(ref.flat.loops(r.region))
            vals, depths = [v for v, _ in inputs], [d for _, d in inputs]
            out.append(bind_stacked(c.eqn, vals, depths, depth)[j])
        return out

    with found.wide(), cand.context():
        if cand.eager:
            local = locals_of(ref_values)
        else:
            local = jax.jit(locals_of)(ref_values)
    items, kept = [], []
    for (r, c, j), loc in zip(compared, local, strict=True):
        loops = len(ref.flat.loops(r.region))
        mask_r = branch_mask(ref.flat, r.region, ref_values, ref_counts)
        mask_c = branch_mask(cand.flat, c.region, cand_values, cand_counts)
        if mask_r is False or mask_c is False:
            continue
        rv, cv = ref_values[r.outputs[j]], cand_values[c.outputs[j]]
        rv, cv, loc, mask_r, mask_c = _common(rv, cv, loops, loc, mask_r, mask_c)
        mask = mask_r if mask_c is None else mask_c if mask_r is None else mask_r & mask_c
        items.append(Pair(rv, cv, loc, loops, mask, j in c.carried))
        kept.append((r, c, j))
    finals = _final_pairs(found, ref_values, cand_values)
    with found.wide():
        figures = error_stats(items)
        final_figures = error_stats([Pair(a, b, None) for _, a, b in finals])
    rows = []
    for (r, c, j), fig in zip(kept, figures, strict=True):
        if fig["iterations"] == 0:  # a branch neither run took in any iteration
            continue
        rows.append(
            {
                "equation": c.index,
                "primitive": c.primitive,
                "file": c.file,
                "line": c.line,
                "where": source_location(c.file, c.line) if c.file else "",
                "output": j,
                "dtype": str(np.dtype(cand.flat.avals[c.outputs[j]].dtype)),
                "reference_dtype": str(np.dtype(ref.flat.avals[r.outputs[j]].dtype)),
                "shape": tuple(cand.flat.avals[c.outputs[j]].shape),
                **fig,
                "_params": c.eqn.params,
                "_path": (r if found.given == "reference" else c).path,
                "_carried": j in c.carried,
                "_loop": _loop_name(cand.flat, c),
            }
        )
    outputs = [
        {"output": name, "dtype": str(np.dtype(b.dtype)), **fig}
        for (name, _a, b), fig in zip(finals, final_figures, strict=True)
    ]
    for o in outputs:
        o.pop("iteration", None), o.pop("iterations", None)
    return Compared(
        setup=found,
        rows=rows,
        outputs=outputs,
        aligned=len(pairs),
        equations=(len(ref.flat.ops), len(cand.flat.ops)),
        run_s=time.perf_counter() - t0,
    )


def _shut_large_loops(ref: Side, cand: Side) -> list[str]:
    """Close the loops whose body values over all iterations would take more than
    `MAX_STACKED_BYTES` on the device (in either run): they are compared as one equation."""
    from jaxlab.base.format import format_bytes, source_location

    big: dict[str, tuple[Op, int]] = {}
    for side in (ref, cand):
        for op, size in stacked_bytes(side.flat, side.iterations()):
            if size > MAX_STACKED_BYTES and size > big.get(op.path, (op, 0))[1]:
                big[op.path] = (op, size)
    if not big:
        return []
    paths = frozenset(big)
    ref.shut(paths)
    if cand is not ref:
        cand.shut(paths)
    notes = []
    for op, size in big.values():
        where = source_location(op.file, op.line) if op.file else f"equation {op.index}"
        notes.append(
            f"the {op.primitive} loop at {where} would keep {format_bytes(size)} of its body's "
            f"values over its iterations (more than {format_bytes(MAX_STACKED_BYTES)}): it is "
            "compared as one equation."
        )
    return notes


def _loop_name(flat: Flat, op: Op) -> str | None:
    """The innermost opened loop or cond around `op` ("scan", "while", "cond"), if any."""
    if op.region == TOP:
        return None
    return flat.regions[op.region].owner.primitive


def _loop_notes(
    found: Setup, pairs: list[tuple[Op, Op]], ref_counts: Counts, cand_counts: Counts
) -> list[str]:
    """What the loops did that the reader should know: while loops that ran different
    iteration counts, while loops inside other loops compared as one equation."""
    from jaxlab.base.format import source_location

    notes = []
    if found.compare == "eager" and any(opened(c) and c.primitive != "cond" for _, c in pairs):
        notes.append(
            "op by op, JAX still compiles a loop's body as one program: inside loops the "
            "two runs differ only where XLA compiles the body differently."
        )
    for r, c in pairs:
        where = source_location(c.file, c.line) if c.file else f"equation {c.index}"
        if c.primitive == "while" and opened(c) and opened(r):
            nr, nc = ref_counts.get(r.index), cand_counts.get(c.index)
            if nr is not None and nc is not None and nr != nc:
                notes.append(
                    f"the while loop at {where} ran {nr:,} iterations in the reference and "
                    f"{nc:,} in the candidate: its body is compared over the first "
                    f"{min(nr, nc):,}."
                )
        elif c.primitive == "while" and c.region != TOP:
            notes.append(
                f"the while loop at {where} runs inside another loop or a branch: it is "
                "compared as one equation (its outputs), not equation by equation."
            )
    return notes


def _final_pairs(found: Setup, ref_values: dict, cand_values: dict) -> list[tuple[str, Any, Any]]:
    """(name, reference, candidate) of each floating output leaf."""
    cand = found.candidate.flat
    cand_leaves = [cand_values[x] if k == "var" else jnp.asarray(x) for k, x in cand.outputs]
    if found.reference_output is not None:
        ref_leaves = [jnp.asarray(np.asarray(v)) for v in found.reference_output]
    else:
        ref = found.reference.flat
        ref_leaves = [ref_values[x] if k == "var" else jnp.asarray(x) for k, x in ref.outputs]
    if len(ref_leaves) != len(cand_leaves):
        return []
    many = len(cand_leaves) > 1
    return [
        (f"output[{i}]" if many else "output", a, b)
        for i, (a, b) in enumerate(zip(ref_leaves, cand_leaves, strict=True))
        if is_float(a) and is_float(b) and tuple(np.shape(a)) == tuple(np.shape(b))
    ]


def rounded(value: Any, dtype: Any) -> Any:
    """`value` cast to `dtype`, rounded even where XLA would skip a round trip through a
    narrower float (its excess-precision rewrite removes f32→bf16→f32 pairs)."""
    dtype = jnp.dtype(dtype)
    source = jnp.dtype(value.dtype)
    if (
        jnp.issubdtype(dtype, jnp.floating)
        and jnp.issubdtype(source, jnp.floating)
        and jnp.finfo(dtype).nmant < jnp.finfo(source).nmant
    ):
        info = jnp.finfo(dtype)
        value = jax.lax.reduce_precision(value, int(info.nexp), int(info.nmant))
    return value.astype(dtype)
