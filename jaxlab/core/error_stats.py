"""How far a candidate array is from a reference array, reduced on the device: a handful of
figures per pair, never the arrays themselves, come back to the host.

- ``rel_error``: norm-wise, ``‖c − r‖₂ / ‖r‖₂`` over the elements finite in both (∞ when the
  candidate holds NaN/Inf where the reference is finite);
- ``max_rel_error``: the largest element-wise ``|c − r| / max(|r|, tiny)``, `tiny` the smallest
  normal number of the candidate's dtype;
- ``ulps``: the median of ``|c − r|`` in units in the last place of the candidate's dtype at
  the reference value;
- ``local_error``: the norm-wise error of the equation re-run on the reference's inputs (None
  when it could not be re-run);
- ``reference_nonfinite`` / ``candidate_nonfinite``: elements holding NaN or ±Inf.

Inside loops the arrays are stacked, one slice per iteration (`Pair.loops` leading axes): the
figures cover every iteration, ``iteration`` is the one where the equation made the most error
(where its output was furthest off when it was not re-run), ``iterations`` how many were
compared (those where both runs took the equation's branch, `Pair.mask`). For an output the
loop carries to its next step (`Pair.carried`: an accumulator), the errors of the steps add
up: to first order the carried value is off by their sum, so its ``local_error`` is
``‖Σᵢ (ℓᵢ − rᵢ)‖₂ / maxᵢ ‖rᵢ‖₂`` over the innermost loop's iterations (the largest over the
outer ones): rounding that only jitters cancels, a stall or a bias adds up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

FIGURES = ("rel_error", "max_rel_error", "ulps", "reference_nonfinite", "candidate_nonfinite")


@dataclass
class Pair:
    """A reference value, the candidate's, and the equation's output on the reference's
    inputs (None: not re-run); stacked over `loops` leading loop axes, compared where `mask`
    (over the loop axes; None: everywhere) holds."""

    reference: Any
    candidate: Any
    local: Any = None
    loops: int = 0
    mask: Any = None
    carried: bool = False


def _format(dtype: Any) -> tuple[int, int, float]:
    """(mantissa bits, smallest normal exponent, smallest normal) of a float dtype."""
    info = jnp.finfo(dtype)
    return int(info.nmant), int(info.minexp), float(info.tiny)


def _wide(*dtypes: Any) -> Any:
    if jax.config.jax_enable_x64 and any(jnp.dtype(d).itemsize >= 8 for d in dtypes):
        return jnp.float64
    return jnp.float32


def _prepare(r: jax.Array, c: jax.Array, loops: int, mask: Any) -> tuple:
    """Both as (iterations, elements) in a wide dtype, with the mask of compared
    iterations."""
    w = _wide(r.dtype, c.dtype)
    iterations = int(np.prod(r.shape[:loops])) if loops else 1
    elements = int(np.prod(r.shape[loops:]))
    r = jnp.reshape(r, (iterations, elements)).astype(w)
    c = jnp.reshape(c, (iterations, elements)).astype(w)
    m = jnp.ones((iterations, 1), bool) if mask is None else jnp.reshape(mask, (iterations, 1))
    return r, c, m, w


def _norms(d: jax.Array, ra: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(‖d‖, ‖ra‖ over everything, and ‖d‖ᵢ, ‖ra‖ᵢ per iteration), scaled against overflow."""
    scale = jnp.maximum(jnp.max(d, initial=0), jnp.max(ra, initial=0))
    scale = jnp.where(scale > 0, scale, 1)
    dn, rn = jnp.square(d / scale), jnp.square(ra / scale)
    per_d, per_r = jnp.sqrt(jnp.sum(dn, axis=1)), jnp.sqrt(jnp.sum(rn, axis=1))
    return jnp.sqrt(jnp.sum(dn)), jnp.sqrt(jnp.sum(rn)), (per_d, per_r, scale)


def _ratio(num: jax.Array, den: jax.Array, w: Any) -> jax.Array:
    inf = jnp.asarray(jnp.inf, w)
    return jnp.where(den > 0, num / den, jnp.where(num > 0, inf, 0))


def _pair(r: jax.Array, c: jax.Array, loops: int, mask: Any) -> jax.Array:
    nmant, minexp, tiny = _format(c.dtype)
    r, c, m, w = _prepare(r, c, loops, mask)
    rbad = ~jnp.isfinite(r) & m
    cbad = ~jnp.isfinite(c) & m
    ok = m & ~rbad & ~cbad & jnp.isfinite(r) & jnp.isfinite(c)
    d = jnp.where(ok, jnp.abs(c - r), 0)
    ra = jnp.where(ok, jnp.abs(r), 0)
    num, den, (per_d, per_r, _) = _norms(d, ra)
    created = cbad & ~rbad
    inf = jnp.asarray(jnp.inf, w)
    rel = jnp.where(jnp.any(created), inf, _ratio(num, den, w))
    maxrel = jnp.max(d / jnp.maximum(ra, jnp.asarray(tiny, w)), initial=0)
    maxrel = jnp.where(jnp.any(created), inf, maxrel)
    _, ex = jnp.frexp(r)
    e = jnp.where(ra > 0, jnp.maximum(ex - 1, minexp), minexp)
    ulps = jnp.nanmedian(jnp.where(ok, jnp.ldexp(d, nmant - e), jnp.nan))
    compared = m[:, 0]
    per = jnp.where(jnp.any(created, axis=1), inf, _ratio(per_d, per_r, w))
    worst = jnp.argmax(jnp.where(compared, per, -1))
    return jnp.stack(
        [
            rel,
            maxrel,
            ulps.astype(w),
            jnp.sum(rbad).astype(w),
            jnp.sum(cbad).astype(w),
            worst.astype(w),
            jnp.sum(compared).astype(w),
        ]
    )


def _local(r: jax.Array, loc: jax.Array, loops: int, mask: Any, inner: int | None) -> jax.Array:
    """The error made (see the module's doc); `inner`: the innermost loop's length for a
    carried output (None otherwise)."""
    r, loc, m, w = _prepare(r, loc, loops, mask)
    ok = m & jnp.isfinite(r) & jnp.isfinite(loc)
    created = m & jnp.isfinite(r) & ~jnp.isfinite(loc)
    d = jnp.where(ok, jnp.abs(loc - r), 0)
    ra = jnp.where(ok, jnp.abs(r), 0)
    num, den, (per_d, per_r, scale) = _norms(d, ra)
    inf = jnp.asarray(jnp.inf, w)
    error = _ratio(num, den, w)
    compared = m[:, 0]
    if inner:
        # an accumulator: to first order its error is the sum of the errors each step makes
        # (rounding that only jitters cancels, a stall or a bias adds up)
        steps = jnp.where(ok, loc - r, 0) / scale
        made = jnp.sum(jnp.reshape(steps, (-1, inner, steps.shape[-1])), axis=1)
        made = jnp.sqrt(jnp.sum(jnp.square(made), axis=-1))
        held = jnp.max(jnp.reshape(jnp.where(compared, per_r, 0), (-1, inner)), axis=1)
        error = jnp.max(_ratio(made, held, w))
        worst = jnp.argmax(jnp.where(compared, per_d, -1))
    else:
        worst = jnp.argmax(jnp.where(compared, _ratio(per_d, per_r, w), -1))
    error = jnp.where(jnp.any(created), inf, error)
    return jnp.stack([error, worst.astype(w)])


def _figures(r: Any, c: Any, loc: Any, mask: Any, loops: int, inner: int | None) -> tuple:
    local = None if loc is None else _local(r, loc, loops, mask, inner)
    return _pair(r, c, loops, mask), local


# compiled once per kind of pair (shapes, dtypes, loops): a program's many outputs share a few
_compiled_figures = jax.jit(_figures, static_argnames=("loops", "inner"))


def error_stats(pairs: Sequence[Pair]) -> list[dict[str, Any]]:
    """The figures of each pair, computed on the device (one compiled reduction per kind of
    pair, all dispatched before any result is read back)."""
    if not pairs:
        return []
    lengths = [tuple(int(n) for n in np.shape(p.reference)[: p.loops]) for p in pairs]
    pending = [
        _compiled_figures(
            p.reference,
            p.candidate,
            p.local,
            p.mask,
            loops=p.loops,
            inner=n[-1] if p.carried and n else None,
        )
        for p, n in zip(pairs, lengths, strict=True)
    ]
    got = jax.device_get(pending)
    out = []
    for p, n, (pair, loc) in zip(pairs, lengths, got, strict=True):
        values = [float(v) for v in np.asarray(pair)]
        row = dict(zip(FIGURES, values[:5], strict=True))
        row["reference_nonfinite"] = int(row["reference_nonfinite"])
        row["candidate_nonfinite"] = int(row["candidate_nonfinite"])
        if np.isnan(row["ulps"]):
            row["ulps"] = None
        row["local_error"] = None if loc is None else float(np.asarray(loc)[0])
        worst = int(np.asarray(loc)[1]) if loc is not None else int(values[5])
        row["iterations"] = int(values[6]) if p.loops or p.mask is not None else None
        row["iteration"] = (
            tuple(int(i) for i in np.unravel_index(worst, n)) if p.loops and values[6] else None
        )
        out.append(row)
    return out
