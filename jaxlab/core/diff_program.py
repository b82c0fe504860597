"""The flat program the precision explorer runs and compares (``core/numerics_diff``): a
ClosedJaxpr's equations in execution order, values named by integer ids, calls such as ``jit``
and ``custom_jvp`` inlined (as XLA inlines them), and the bodies of loops and branches opened.

A value computed inside an opened ``scan`` or ``while`` body is kept *stacked*: one slice per
iteration of each loop around it, outermost first (``Flat.depth``), so that two configurations'
values compare iteration by iteration on the device, and an equation of a body re-runs on the
reference's values of every iteration at once (``vmap`` over the loop axes, `bind_stacked`).
A ``cond``'s branches are opened too: each branch's values are those of the iterations that
took it (zeros elsewhere; `branch_mask` says which). A ``while`` is opened at the top level
only, where a first run counts its iterations (`Counts`) so that it runs as a ``scan`` of that
length; a ``while`` inside another loop runs as one equation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxlab.base import compat as _compat
from jaxlab.core.numerics import INLINED, _is_literal, _open, bind_equation

TOP = -1  # the region of the program's own equations
LOOPS = ("scan", "while")
Counts = dict[int, Any]  # opened while's op index -> its iteration count


@dataclass
class Op:
    """One equation of a flattened program; values are named by integer ids."""

    index: int
    eqn: Any
    inputs: list[tuple[str, Any]]  # ('var', id) | ('lit', value)
    outputs: list[int]  # -1 for a dropped output
    file: str | None
    line: int | None
    key: tuple = ()  # (file, line, primitive, occurrence) for matching
    path: str = ""  # the equation's place in the jaxpr as the inspector numbers it ("3/jaxpr/1")
    region: int = TOP  # the region it runs in
    bodies: list[int] = field(default_factory=list)  # opened scan/while/cond: its regions
    carried: set[int] = field(default_factory=set)  # outputs its loop carries to the next step

    @property
    def primitive(self) -> str:
        return self.eqn.primitive.name


@dataclass
class Region:
    """The body of an opened loop, or one branch of an opened cond."""

    owner: Op
    parent: int  # the region the owner runs in
    branch: int = 0  # for a cond's branch
    ops: list[Op] = field(default_factory=list)
    invars: list[int] = field(default_factory=list)  # a loop body's carry and xs ids
    outputs: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Flat:
    ops: list[Op] = field(default_factory=list)  # every op, pre-order (a loop before its body)
    top: list[Op] = field(default_factory=list)  # the program's own ops
    args: list[int] = field(default_factory=list)
    consts: dict[int, Any] = field(default_factory=dict)
    outputs: list[tuple[str, Any]] = field(default_factory=list)
    avals: dict[int, Any] = field(default_factory=dict)  # per iteration
    producer: dict[int, Op] = field(default_factory=dict)
    regions: dict[int, Region] = field(default_factory=dict)
    home: dict[int, int] = field(default_factory=dict)  # value id -> region defining it
    closed: Any = None  # the ClosedJaxpr it was made from

    def loops(self, region: int) -> list[Op]:
        """The opened loops around `region`, outermost first."""
        out = []
        while region != TOP:
            r = self.regions[region]
            if r.owner.primitive in LOOPS:
                out.append(r.owner)
            region = r.parent
        return out[::-1]

    def depth(self, value: int) -> int:
        """How many loop axes lead the stacked value `value` (0 outside loops)."""
        return len(self.loops(self.home.get(value, TOP)))

    def lengths(self, region: int, counts: Counts) -> tuple[int, ...]:
        return tuple(loop_length(op, counts) for op in self.loops(region))

    def inside(self, region: int) -> list[int]:
        """The ids defined in `region` and the regions within it, in order."""
        found = []
        for i, home in self.home.items():
            r = home
            while r != TOP and r != region:
                r = self.regions[r].parent
            if r == region:
                found.append(i)
        return found

    def conds(self, region: int) -> list[tuple[Op, int]]:
        """The opened conds (with the branch) around `region`, outermost first."""
        out = []
        while region != TOP:
            r = self.regions[region]
            if r.owner.primitive == "cond":
                out.append((r.owner, r.branch))
            region = r.parent
        return out[::-1]


def stacked_bytes(flat: Flat, counts: Counts) -> list[tuple[Op, int]]:
    """The outermost opened loops with the bytes their stacked values take, largest first."""
    out = []
    for rid, region in flat.regions.items():
        if region.owner.primitive not in LOOPS or flat.loops(region.parent):
            continue
        total = 0
        for i in flat.inside(rid):
            aval = flat.avals[i]
            n = int(np.prod(flat.lengths(flat.home[i], counts))) * int(np.prod(aval.shape))
            total += n * np.dtype(aval.dtype).itemsize
        out.append((region.owner, total))
    return sorted(out, key=lambda item: -item[1])


def loop_length(op: Op, counts: Counts) -> int:
    if op.primitive == "scan":
        return int(op.eqn.params["length"])
    return int(counts[op.index])


def flatten(closed: Any, shut: frozenset[str] = frozenset()) -> Flat:
    """The equations of a ClosedJaxpr with call-like sub-programs inlined and loop bodies and
    branches opened (but those of the loops at the paths in `shut`), in order."""
    flat = Flat(closed=closed)
    counter = iter(range(1 << 62))

    def new(aval: Any, region: int) -> int:
        i = next(counter)
        flat.avals[i] = aval
        flat.home[i] = region
        return i

    def walk(
        jaxpr: Any,
        consts: Sequence[Any],
        inputs: list,
        prefix: str,
        region: int,
        outer: tuple[str | None, int | None] = (None, None),
    ) -> list:
        """`outer`: the (file, line) of the call or loop around `jaxpr`, for its equations
        that carry no location of their own (JAX's transposes inside a gradient)."""
        env: dict[Any, tuple[str, Any]] = {}
        for v, c in zip(jaxpr.constvars, consts, strict=True):
            i = new(v.aval, TOP)
            flat.consts[i] = c
            env[v] = ("var", i)
        env.update(zip(jaxpr.invars, inputs, strict=True))

        def ref(v: Any) -> tuple[str, Any]:
            return ("lit", v.val) if _is_literal(v) else env[v]

        ops = flat.top if region == TOP else flat.regions[region].ops
        for position, eqn in enumerate(jaxpr.eqns):
            ins = [ref(v) for v in eqn.invars]
            path = f"{prefix}{position}"
            label = INLINED.get(eqn.primitive.name)
            if label is not None and label in eqn.params:
                inner, inner_consts = _open(eqn.params[label])
                frames = _compat.eqn_frames(eqn, 1)
                here = (frames[0][0], frames[0][1]) if frames else outer
                outs = walk(inner, inner_consts, ins, f"{path}/{label}/", region, here)
                env.update(zip(eqn.outvars, outs, strict=True))
                continue
            outs = [
                -1 if type(v).__name__ == "DropVar" else new(v.aval, region) for v in eqn.outvars
            ]
            frames = _compat.eqn_frames(eqn, 1)
            file, line = (frames[0][0], frames[0][1]) if frames else outer
            op = Op(len(flat.ops), eqn, ins, outs, file, line, path=path, region=region)
            flat.ops.append(op)
            ops.append(op)
            for v, i in zip(eqn.outvars, outs, strict=True):
                if i >= 0:
                    env[v] = ("var", i)
                    flat.producer[i] = op
            _open_block(op, region, path)
        return [ref(v) for v in jaxpr.outvars]

    def _open_block(op: Op, region: int, path: str) -> None:
        name, p = op.primitive, op.eqn.params
        if path in shut:
            return
        if name == "scan":
            body, body_consts = _open(p["jaxpr"])
            nconst = p["num_consts"]
            rid = _region(op, region)
            inner = flat.regions[rid]
            own = [new(v.aval, rid) for v in body.invars[nconst:]]
            inner.invars = own
            inner.outputs = walk(
                body, body_consts, [*op.inputs[:nconst], *[("var", i) for i in own]],
                f"{path}/jaxpr/", rid, (op.file, op.line),
            )  # fmt: skip
            _mark_carried(rid, p["num_carry"])
        elif name == "while" and region == TOP:
            body, body_consts = _open(p["body_jaxpr"])
            cn, bn = p["cond_nconsts"], p["body_nconsts"]
            rid = _region(op, region)
            inner = flat.regions[rid]
            own = [new(v.aval, rid) for v in body.invars[bn:]]
            inner.invars = own
            inner.outputs = walk(
                body, body_consts, [*op.inputs[cn : cn + bn], *[("var", i) for i in own]],
                f"{path}/body_jaxpr/", rid, (op.file, op.line),
            )  # fmt: skip
            _mark_carried(rid, len(own))
        elif name == "cond":
            for b, branch in enumerate(p["branches"]):
                inner_jaxpr, inner_consts = _open(branch)
                rid = _region(op, region, b)
                flat.regions[rid].outputs = walk(
                    inner_jaxpr,
                    inner_consts,
                    op.inputs[1:],
                    f"{path}/branches[{b}]/",
                    rid,
                    (op.file, op.line),
                )

    def _region(op: Op, parent: int, branch: int = 0) -> int:
        rid = len(flat.regions)
        flat.regions[rid] = Region(op, parent, branch)
        op.bodies.append(rid)
        return rid

    def _mark_carried(rid: int, ncarry: int) -> None:
        for kind, x in flat.regions[rid].outputs[:ncarry]:
            op = flat.producer.get(x) if kind == "var" else None
            if op is not None and op.region == rid:
                op.carried.add(op.outputs.index(x))

    flat.args = [new(a, TOP) for a in closed.in_avals]
    flat.outputs = walk(closed.jaxpr, closed.consts, [("var", i) for i in flat.args], "", TOP)
    seen: dict[tuple, int] = {}
    for op in flat.ops:
        base = (op.file, op.line, op.primitive)
        seen[base] = seen.get(base, -1) + 1
        op.key = (*base, seen[base])
    return flat


def align(ref: Flat, cand: Flat) -> tuple[list[tuple[Op, Op]], dict[int, int]]:
    """Matched (reference, candidate) equations: same source line, primitive and order on
    that line, in matching regions, and outputs of the same shapes; and the candidate's loop
    body values matched to the reference's (the carries and slices of matched loops). Casts
    are not matched: a configuration adds and removes them, and a cast's rounding is measured
    where its value is used (the local inputs go through the candidate's casts)."""
    by_key = {op.key: op for op in ref.ops}
    regions = {TOP: TOP}
    invars: dict[int, int] = {}
    pairs = []
    for c in cand.ops:
        if c.primitive == "convert_element_type":
            continue
        r = by_key.get(c.key)
        if r is None or len(r.outputs) != len(c.outputs) or regions.get(c.region) != r.region:
            continue
        shapes_r = [getattr(ref.avals.get(i), "shape", None) for i in r.outputs]
        shapes_c = [getattr(cand.avals.get(i), "shape", None) for i in c.outputs]
        if shapes_r != shapes_c:
            continue
        pairs.append((r, c))
        if len(r.bodies) == len(c.bodies):
            for rb, cb in zip(r.bodies, c.bodies, strict=True):
                regions[cb] = rb
                ri, ci = ref.regions[rb].invars, cand.regions[cb].invars
                if len(ri) == len(ci):
                    invars.update(
                        (x, y)
                        for x, y in zip(ci, ri, strict=True)
                        if ref.avals[y].shape == cand.avals[x].shape
                    )
    return pairs, invars


# -- running it ------------------------------------------------------------------------------


def run_flat(
    flat: Flat, leaves: Sequence[Any], wanted: Sequence[int], counts: Counts | None = None
) -> list[Any]:
    """The values `wanted` (ids; stacked inside loops) of the program run on `leaves` (op by
    op outside jit). `counts`: the iterations of each opened while (`count_whiles`)."""
    env: dict[int, Any] = dict(flat.consts)
    env.update(zip(flat.args, leaves, strict=True))
    _run(flat, flat.top, env, set(wanted), counts or {}, None)
    return [env[i] for i in wanted]


def count_whiles(flat: Flat, leaves: Sequence[Any]) -> list[Any]:
    """The iteration count of every opened while (in `while_ops` order), from one run."""
    env: dict[int, Any] = dict(flat.consts)
    env.update(zip(flat.args, leaves, strict=True))
    found: dict[int, Any] = {}
    _run(flat, flat.top, env, set(), {}, found)
    return [found[op.index] for op in while_ops(flat)]


def while_ops(flat: Flat) -> list[Op]:
    return [op for op in flat.top if op.primitive == "while" and op.bodies]


def _value(env: dict, ref: tuple[str, Any]) -> Any:
    kind, x = ref
    return env[x] if kind == "var" else x


def _run(flat: Flat, ops: list[Op], env: dict, wanted: set, counts: Counts, found) -> None:
    for op in ops:
        vals = [_value(env, r) for r in op.inputs]
        if op.bodies and op.primitive == "scan":
            outs = _scan(flat, op, vals, env, wanted, counts, found)
        elif op.bodies and op.primitive == "while":
            outs = _while(flat, op, vals, env, wanted, counts, found)
        elif op.bodies and op.primitive == "cond":
            outs = _cond(flat, op, vals, env, wanted, counts, found)
        else:
            outs = bind_equation(op.eqn, vals)
        for i, out in zip(op.outputs, outs, strict=True):
            if i >= 0:
                env[i] = out


def _scan(flat, op, vals, env, wanted, counts, found) -> list[Any]:
    p = op.eqn.params
    nconst, ncarry = p["num_consts"], p["num_carry"]
    init, xs = vals[nconst : nconst + ncarry], vals[nconst + ncarry :]
    (rid,) = op.bodies
    region = flat.regions[rid]
    keep = [i for i in flat.inside(rid) if i in wanted]

    def step(carry, x):
        inner = dict(env)
        inner.update(zip(region.invars, [*carry, *(x or ())], strict=True))
        _run(flat, region.ops, inner, wanted, counts, found)
        outs = [_value(inner, r) for r in region.outputs]
        return outs[:ncarry], (outs[ncarry:], [inner[i] for i in keep])

    carry, (ys, stacked) = lax.scan(
        step, list(init), list(xs) if xs else None, length=p["length"], reverse=p["reverse"]
    )
    env.update(zip(keep, stacked, strict=True))
    return [*carry, *ys]


def _while(flat, op, vals, env, wanted, counts, found) -> list[Any]:
    p = op.eqn.params
    cn, bn = p["cond_nconsts"], p["body_nconsts"]
    cond_consts, init = vals[:cn], vals[cn + bn :]
    (rid,) = op.bodies
    region = flat.regions[rid]

    def body(carry):
        inner = dict(env)
        inner.update(zip(region.invars, carry, strict=True))
        _run(flat, region.ops, inner, wanted, counts, found)
        return [_value(inner, r) for r in region.outputs], inner

    if found is not None:  # counting: the loop as it is, with a counter
        cond_fun = jax.extend.core.jaxpr_as_fun(p["cond_jaxpr"])

        def counted(carry):
            vals_, n = carry
            return body(vals_)[0], n + 1

        out, n = lax.while_loop(
            lambda carry: cond_fun(*cond_consts, *carry[0])[0],
            counted,
            (list(init), jnp.asarray(0, jnp.int32)),
        )
        found[op.index] = n
        return list(out)
    keep = [i for i in flat.inside(rid) if i in wanted]

    def step(carry, _):
        outs, inner = body(carry)
        return outs, [inner[i] for i in keep]

    out, stacked = lax.scan(step, list(init), None, length=int(counts[op.index]))
    env.update(zip(keep, stacked, strict=True))
    return list(out)


def _cond(flat, op, vals, env, wanted, counts, found) -> list[Any]:
    index, operands = vals[0], vals[1:]
    keep = {rid: [i for i in flat.inside(rid) if i in wanted] for rid in op.bodies}
    every = [i for rid in op.bodies for i in keep[rid]]

    def zeros(i: int) -> Any:
        aval = flat.avals[i]
        shape = flat.lengths(flat.home[i], counts)[len(flat.loops(op.region)) :]
        return jnp.zeros((*shape, *aval.shape), aval.dtype)

    def branch(rid: int):
        def fn(*_operands):
            inner = dict(env)
            _run(flat, flat.regions[rid].ops, inner, wanted, counts, found)
            outs = [_value(inner, r) for r in flat.regions[rid].outputs]
            mine = set(keep[rid])
            return outs, [inner[i] if i in mine else zeros(i) for i in every]

        return fn

    outs, stacked = lax.switch(index, [branch(rid) for rid in op.bodies], *operands)
    env.update(zip(every, stacked, strict=True))
    return list(outs)


def bind_stacked(eqn: Any, values: Sequence[Any], depths: Sequence[int], depth: int) -> list:
    """The equation's outputs on inputs stacked over `depths` loop axes each (0: the same
    value in every iteration), for every iteration of its `depth` loops at once."""
    if depth == 0:
        return bind_equation(eqn, values)
    axes = [0 if d > 0 else None for d in depths]
    inner = [d - 1 if d > 0 else 0 for d in depths]
    return jax.vmap(lambda *vs: bind_stacked(eqn, vs, inner, depth - 1), in_axes=axes)(*values)


def branch_mask(flat: Flat, region: int, values: dict[int, Any], counts: Counts) -> Any | None:
    """Where (over the loop axes of `region`) the branches around `region` were taken, from
    the conds' index values in `values` (None: not inside a branch; False: an index unknown)."""
    mask = None
    lengths = flat.lengths(region, counts)
    for cond, branch in flat.conds(region):
        kind, x = cond.inputs[0]
        if kind == "lit":
            taken = jnp.asarray(int(x) == branch)
        elif x in values:
            index = jnp.asarray(values[x])
            depth = flat.depth(x)
            index = index.reshape(index.shape[:depth] + (1,) * (len(lengths) - depth))
            taken = index == branch
        else:
            return False
        taken = jnp.broadcast_to(taken, lengths)
        mask = taken if mask is None else mask & taken
    return mask
