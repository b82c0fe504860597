"""Size sweeps: the sizes, the arguments at each size, and where one variant overtakes another."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

import jax
import numpy as np

from jaxlab.benchmarking.convert import CONVERTERS, is_array, to_host
from jaxlab.benchmarking.result import BenchError

SIZES_EXAMPLE = "e.g. sizes=[1e3, 1e4, 1e5] or --sizes 1e3,1e4,1e5"


def parse_sizes(sizes: str | Iterable[Any]) -> list[int]:
    """Sizes as sorted, distinct positive integers; '1e3, 1e4' and [1000, 1e4] both work."""
    if isinstance(sizes, str):
        parts = [p for p in re.split(r"[,\s]+", sizes.strip()) if p]
        values: list[Any] = []
        for p in parts:
            try:
                values.append(float(p))
            except ValueError:
                raise BenchError(f"size {p!r} is not a number ({SIZES_EXAMPLE})") from None
    else:
        try:
            values = list(sizes)
        except TypeError:
            raise BenchError(f"sizes must be a list of numbers ({SIZES_EXAMPLE})") from None
    if not values:
        raise BenchError(f"no sizes given: pass at least one ({SIZES_EXAMPLE})")
    out = set()
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise BenchError(f"size {v!r} is not a number ({SIZES_EXAMPLE})") from None
        if not math.isfinite(f) or f < 1:
            raise BenchError(f"size {v!r} must be a positive whole number ({SIZES_EXAMPLE})")
        if abs(f - round(f)) > 1e-9 * f:
            raise BenchError(f"size {v!r} is not a whole number ({SIZES_EXAMPLE})")
        out.add(round(f))
    return sorted(out)


def element_count(args: tuple, kwargs: dict) -> int | None:
    """Elements of the first array argument: the size of a single-point benchmark."""
    for leaf in jax.tree_util.tree_leaves((args, kwargs)):
        if is_array(leaf) and getattr(leaf, "ndim", 0) > 0:
            return int(np.prod(leaf.shape))
    return None


def scaled_shape(shape: tuple[int, ...], n: int) -> tuple[int, ...]:
    """A shape with about `n` elements and the aspect ratio of `shape`."""
    if len(shape) == 1:
        return (n,)
    total = math.prod(shape) or 1
    factor = (n / total) ** (1 / len(shape))
    return tuple(max(1, round(d * factor)) for d in shape)


def default_make(
    args: tuple, kwargs: dict, static_argnums: tuple[int, ...] = ()
) -> tuple[Callable[[int], tuple[tuple, dict]], str]:
    """An argument factory that rescales the first array argument (and every argument of the
    same shape) to n elements, keeping the aspect ratio, dtype and values (repeated)."""
    first = None
    for i, a in enumerate(args):
        if i not in static_argnums and is_array(a) and getattr(a, "ndim", 0) > 0:
            first = i
            break
    if first is None:
        raise BenchError(
            "nothing to scale: no positional argument is an array. Give an argument factory "
            "(make=lambda n: (jnp.ones(n),) or --make 'lambda n: (jnp.ones(n),)')"
        )
    shape = tuple(args[first].shape)
    scaled = [
        i
        for i, a in enumerate(args)
        if i not in static_argnums and is_array(a) and tuple(getattr(a, "shape", ())) == shape
    ]

    def make(n: int) -> tuple[tuple, dict]:
        new_shape = scaled_shape(shape, n)
        new_args = list(args)
        for i in scaled:
            new_args[i] = _resized(args[i], new_shape)
        return tuple(new_args), dict(kwargs)

    which = ", ".join(f"argument {i}" for i in scaled)
    return make, f"{which} ({'×'.join(map(str, shape))}) rescaled to n elements"


def _resized(value: Any, shape: tuple[int, ...]) -> Any:
    host = np.resize(np.asarray(to_host(value)), shape)
    if isinstance(value, jax.Array):
        return jax.device_put(host, next(iter(value.devices())))
    if isinstance(value, np.ndarray):
        return host

    return CONVERTERS["torch"](host)


def user_make(make: Callable[[int], Any]) -> Callable[[int], tuple[tuple, dict]]:
    """A user's factory as one returning (args, kwargs): a tuple it returns is the argument
    list, anything else the single argument."""
    if not callable(make):
        raise BenchError(
            f"the argument factory must be a function of the size, like lambda n: "
            f"(jnp.ones(n),); got {type(make).__name__}"
        )

    def factory(n: int) -> tuple[tuple, dict]:
        made = make(n)
        return (made if isinstance(made, tuple) else (made,)), {}

    return factory
