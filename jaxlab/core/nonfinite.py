"""Does a value hold NaN or Inf? Counted on the device where its arrays live (one small
compiled reduction over every floating leaf; only the counts come back to the host), so the
magics can say so after a call without copying its result."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from jaxlab.base.pytrees import is_array


@dataclass(frozen=True)
class NonFinite:
    """The NaN and ±Inf elements of a value (a pytree), and the leaves holding them."""

    nan: int
    posinf: int
    neginf: int
    leaves: tuple[str, ...]  # paths of the leaves that hold any ("" for a bare array)

    def counts_text(self) -> str:
        """``3 NaN and 1 +Inf``."""
        parts = [
            f"{n:,} {name}"
            for n, name in ((self.nan, "NaN"), (self.posinf, "+Inf"), (self.neginf, "-Inf"))
            if n
        ]
        return " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"

    def where_text(self, limit: int = 3) -> str:
        """`` in ['w'], ['b']``, or nothing for a bare array."""
        named = [leaf for leaf in self.leaves if leaf]
        if not named:
            return ""
        shown = ", ".join(named[:limit])
        more = f" and {len(named) - limit} more" if len(named) > limit else ""
        return f" in {shown}{more}"


def _inexact(dtype: Any) -> bool:
    """Floating or complex, bfloat16 and the fp8 types included."""
    import jax.numpy as jnp

    try:
        return bool(jnp.issubdtype(dtype, jnp.inexact))
    except TypeError:
        return False


@cache
def _device_counts() -> Any:
    import jax
    import jax.numpy as jnp

    def counts(leaves: list[Any]) -> Any:
        rows = []
        for x in leaves:
            if jnp.iscomplexobj(x):
                x = jnp.stack([jnp.real(x), jnp.imag(x)])
            rows.append(
                jnp.stack(
                    [
                        jnp.count_nonzero(jnp.isnan(x)),
                        jnp.count_nonzero(jnp.isposinf(x)),
                        jnp.count_nonzero(jnp.isneginf(x)),
                    ]
                )
            )
        return jnp.stack(rows)

    return jax.jit(counts)


def _host_counts(x: np.ndarray) -> tuple[int, int, int]:
    if np.iscomplexobj(x):
        x = np.stack([x.real, x.imag])
    return (
        int(np.count_nonzero(np.isnan(x))),
        int(np.count_nonzero(np.isposinf(x))),
        int(np.count_nonzero(np.isneginf(x))),
    )


def nonfinite(value: Any) -> NonFinite | None:
    """The NaN and ±Inf a value holds (None when every float in it is finite, or when it holds
    no floats). JAX arrays are counted on their device; NumPy arrays and Python floats on the
    host. Never raises: a value it cannot read counts as finite."""
    import jax

    try:
        flat, _ = jax.tree_util.tree_flatten_with_path(value)
    except Exception:
        return None
    device: list[tuple[str, Any]] = []
    found: list[tuple[str, tuple[int, int, int]]] = []
    for path, leaf in flat:
        name = jax.tree_util.keystr(path)
        try:
            if isinstance(leaf, jax.Array):
                if _inexact(leaf.dtype) and leaf.size:
                    device.append((name, leaf))
            elif isinstance(leaf, (float, complex, np.floating, np.complexfloating)) or (
                is_array(leaf) and isinstance(leaf, np.ndarray) and _inexact(leaf.dtype)
            ):
                found.append((name, _host_counts(np.asarray(leaf))))
        except Exception:
            continue
    if device:
        found.extend(_on_device(device))
    bad = [(name, c) for name, c in found if any(c)]
    if not bad:
        return None
    return NonFinite(
        nan=sum(c[0] for _, c in bad),
        posinf=sum(c[1] for _, c in bad),
        neginf=sum(c[2] for _, c in bad),
        leaves=tuple(name for name, _ in bad),
    )


def _on_device(leaves: list[tuple[str, Any]]) -> list[tuple[str, tuple[int, int, int]]]:
    """Counts of device arrays: one reduction for all of them, or one per array when they
    live on devices one program cannot take together."""
    counts = _device_counts()
    try:
        table = np.asarray(counts([leaf for _, leaf in leaves]))
        return [
            (name, tuple(int(v) for v in row)) for (name, _), row in zip(leaves, table, strict=True)
        ]
    except Exception:
        pass
    out = []
    for name, leaf in leaves:
        try:
            row = np.asarray(counts([leaf]))[0]
        except Exception:
            continue
        out.append((name, (int(row[0]), int(row[1]), int(row[2]))))
    return out
