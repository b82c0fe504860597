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
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

FIGURES = ("rel_error", "max_rel_error", "ulps", "reference_nonfinite", "candidate_nonfinite")


def _format(dtype: Any) -> tuple[int, int, float]:
    """(mantissa bits, smallest normal exponent, smallest normal) of a float dtype."""
    info = jnp.finfo(dtype)
    return int(info.nmant), int(info.minexp), float(info.tiny)


def _wide(*dtypes: Any) -> Any:
    if jax.config.jax_enable_x64 and any(jnp.dtype(d).itemsize >= 8 for d in dtypes):
        return jnp.float64
    return jnp.float32


def _pair(r: jax.Array, c: jax.Array) -> jax.Array:
    nmant, minexp, tiny = _format(c.dtype)
    w = _wide(r.dtype, c.dtype)
    r = jnp.ravel(r).astype(w)
    c = jnp.ravel(c).astype(w)
    rbad = ~jnp.isfinite(r)
    cbad = ~jnp.isfinite(c)
    ok = ~rbad & ~cbad
    d = jnp.where(ok, jnp.abs(c - r), 0)
    ra = jnp.where(ok, jnp.abs(r), 0)
    scale = jnp.maximum(jnp.max(d, initial=0), jnp.max(ra, initial=0))
    scale = jnp.where(scale > 0, scale, 1)
    num = jnp.sqrt(jnp.sum(jnp.square(d / scale)))
    den = jnp.sqrt(jnp.sum(jnp.square(ra / scale)))
    created = jnp.sum(cbad & ~rbad)
    inf = jnp.asarray(jnp.inf, w)
    rel = jnp.where(den > 0, num / den, jnp.where(num > 0, inf, 0))
    rel = jnp.where(created > 0, inf, rel)
    maxrel = jnp.max(d / jnp.maximum(ra, jnp.asarray(tiny, w)), initial=0)
    maxrel = jnp.where(created > 0, inf, maxrel)
    _, ex = jnp.frexp(r)
    e = jnp.where(ra > 0, jnp.maximum(ex - 1, minexp), minexp)
    ulps = jnp.nanmedian(jnp.where(ok, jnp.ldexp(d, nmant - e), jnp.nan))
    return jnp.stack(
        [rel, maxrel, ulps.astype(w), jnp.sum(rbad).astype(w), jnp.sum(cbad).astype(w)]
    )


def _local(r: jax.Array, loc: jax.Array) -> jax.Array:
    return _pair(r, loc)[0]


def error_stats(triples: Sequence[tuple[Any, Any, Any]]) -> list[dict[str, Any]]:
    """The figures of each (reference, candidate, local or None) triple, in one compiled
    call."""
    if not triples:
        return []

    def figures(items):
        return [(_pair(r, c), None if loc is None else _local(r, loc)) for r, c, loc in items]

    got = jax.device_get(jax.jit(figures)(list(triples)))
    out = []
    for pair, loc in got:
        values = [float(v) for v in np.asarray(pair)]
        row = dict(zip(FIGURES, values, strict=True))
        row["reference_nonfinite"] = int(row["reference_nonfinite"])
        row["candidate_nonfinite"] = int(row["candidate_nonfinite"])
        if np.isnan(row["ulps"]):
            row["ulps"] = None
        row["local_error"] = None if loc is None else float(loc)
        out.append(row)
    return out
