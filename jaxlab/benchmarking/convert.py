"""Inputs for each framework (JAX on the device, NumPy on the host, PyTorch tensors) and
outputs back to NumPy for the agreement check. Leaves that are not arrays pass through."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from jaxlab.base import pytrees as _pytrees

FRAMEWORKS = ("jax", "numpy", "torch")


def is_host_array(leaf: Any) -> bool:
    return isinstance(leaf, (np.ndarray, np.generic))


def is_array(leaf: Any) -> bool:
    if isinstance(leaf, (jax.Array, np.ndarray, np.generic)):
        return True
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(leaf, torch.Tensor)


def to_host(leaf: Any) -> Any:
    """Any array leaf as a NumPy array (other leaves unchanged)."""
    if isinstance(leaf, jax.Array):
        return np.asarray(leaf)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(leaf, torch.Tensor):
        t = leaf.detach().cpu()
        if t.dtype == torch.bfloat16:
            import ml_dtypes

            return t.float().numpy().astype(ml_dtypes.bfloat16)
        return t.numpy()
    return leaf


def cast(leaf: Any, dtype: Any) -> Any:
    """Floating-point array leaves cast to `dtype`; others unchanged."""
    if dtype is None or not is_array(leaf):
        return leaf
    host = to_host(leaf)
    if np.issubdtype(np.asarray(host).dtype, np.floating) or str(host.dtype) == "bfloat16":
        return np.asarray(host).astype(dtype)
    return leaf


def _to_jax(leaf: Any) -> Any:
    if isinstance(leaf, jax.Array):
        return leaf
    if is_array(leaf):
        return jax.device_put(to_host(leaf))
    return leaf


def _to_numpy(leaf: Any) -> Any:
    return to_host(leaf) if is_array(leaf) else leaf


def _to_torch(leaf: Any) -> Any:
    import torch

    if isinstance(leaf, torch.Tensor) or not is_array(leaf):
        return leaf
    host = np.asarray(to_host(leaf))
    if str(host.dtype) == "bfloat16":
        return torch.from_numpy(host.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(host))  # a writable copy


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "jax": _to_jax,
    "numpy": _to_numpy,
    "torch": _to_torch,
}


@dataclass
class Inputs:
    """Arguments converted for one framework, and what it took."""

    args: tuple
    kwargs: dict
    transfer_s: float | None = None  # host→device seconds (JAX inputs that were NumPy)
    moved: tuple[str, ...] = ()  # which arguments were put on the device


def convert(
    framework: str,
    args: tuple,
    kwargs: dict,
    *,
    static_argnums: tuple[int, ...] = (),
    static_argnames: tuple[str, ...] = (),
    dtype: Any = None,
) -> Inputs:
    """The call's arguments for `framework`; static arguments are left as they are."""
    if framework not in CONVERTERS:
        return Inputs(tuple(args), dict(kwargs))
    leaf_fn = CONVERTERS[framework]

    def one(value: Any) -> Any:
        return jax.tree_util.tree_map(lambda leaf: leaf_fn(cast(leaf, dtype)), value)

    moved = []
    if framework == "jax":
        for i, a in enumerate(args):
            if i not in static_argnums and _has_host_leaf(a):
                moved.append(f"argument {i}")
        moved += [
            f"{k}=" for k, v in kwargs.items() if k not in static_argnames and _has_host_leaf(v)
        ]
    t0 = time.perf_counter()
    new_args = tuple(a if i in static_argnums else one(a) for i, a in enumerate(args))
    new_kwargs = {k: v if k in static_argnames else one(v) for k, v in kwargs.items()}
    transfer_s = None
    if moved:
        jax.block_until_ready((new_args, new_kwargs))
        transfer_s = time.perf_counter() - t0
    return Inputs(new_args, new_kwargs, transfer_s, tuple(moved))


def _has_host_leaf(value: Any) -> bool:
    torch = sys.modules.get("torch")
    for leaf in jax.tree_util.tree_leaves(value):
        if is_host_array(leaf) and not isinstance(leaf, np.generic):
            return True
        if torch is not None and isinstance(leaf, torch.Tensor):
            return True
    return False


def framework_of(output: Any) -> str:
    """Which framework produced an output: 'jax', 'torch', 'numpy' or 'python'."""
    leaves = jax.tree_util.tree_leaves(output)
    if any(isinstance(leaf, jax.Array) for leaf in leaves):
        return "jax"
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(leaf, torch.Tensor) for leaf in leaves):
        return "torch"
    if any(isinstance(leaf, (np.ndarray, np.generic)) for leaf in leaves):
        return "numpy"
    return "python"


def dtypes_of(value: Any) -> list[str]:
    """The dtype of each array leaf, in order."""
    out = []
    for leaf in jax.tree_util.tree_leaves(value):
        if is_array(leaf):
            out.append(str(leaf.dtype).removeprefix("torch."))
    return out


def signature(args: tuple, kwargs: dict, fn: Any = None) -> str:
    """A call's arguments as they are (``f64[1000]`` for a float64 NumPy array, whatever JAX
    would make of it), pytrees summarised, named from `fn`'s signature when given, e.g.
    ``x: f32[64,64], n: 3, params: dict{w,b: f32[64]}``."""
    return _pytrees.call_summary(fn, args, kwargs).text
