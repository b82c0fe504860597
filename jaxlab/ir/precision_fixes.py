"""What to do about an equation that creates error under a lower-precision configuration: one
concrete change, by primitive and configuration."""

from __future__ import annotations

from typing import Any

REDUCTIONS = {"reduce_sum", "cumsum", "reduce_prod", "cumprod", "reduce_precision"}
MATMULS = {"dot_general", "conv_general_dilated", "ragged_dot", "ragged_dot_general"}
CANCELLING = {"sub", "add"}
LOOPS = {"while", "scan"}
LOW = {"bfloat16", "float16"}


def fix_for(row: dict[str, Any], compare: str) -> str:
    """One sentence: the change that removes most of the error `row`'s equation makes."""
    prim = row["primitive"]
    dtype = row["dtype"]
    params = row.get("_params") or {}
    low = dtype in LOW
    if compare == "eager":
        return (
            "XLA fused this operation with its producer (on CPU a multiply and an add become "
            "one fused multiply-add, rounded once instead of twice): both results are valid "
            f"{dtype}; compare jit and eager with a tolerance of a few ulps, or put "
            "`jax.lax.optimization_barrier` on the product to keep the two roundings."
        )
    if row.get("_carried") and low and row.get("_loop") in LOOPS:
        return (
            f"this loop carries a {dtype} accumulator (this {prim} feeds the next "
            "iteration): carry it in float32 (`init_val=jnp.zeros((), jnp.float32)`, "
            f"add `x.astype(jnp.float32)`) and cast the result down after the loop."
        )
    if prim in MATMULS:
        if compare.startswith("precision="):
            return (
                "pass `precision=jax.lax.Precision.HIGHEST` to this matmul (or run the "
                "call under `jax.default_matmul_precision('highest')`): the default lets "
                "GPUs use TF32 and TPUs bf16 passes."
            )
        if low and str(params.get("preferred_element_type")) in LOW | {"None"}:
            return (
                "accumulate in float32: `jnp.matmul(a, b, preferred_element_type=jnp.float32)` "
                "(or `lax.dot_general(..., preferred_element_type=jnp.float32)`), then cast the "
                "result down."
            )
        return "compute this matmul in float32 (cast its operands up) and cast the result down."
    if prim in REDUCTIONS and not low:
        if compare == "x64":
            return (
                "sum in float64 where it matters (`jnp.sum(x, dtype=jnp.float64)` under x64), "
                "or scale and center the terms before summing."
            )
        return (
            f"this sum already runs in {dtype}: its error is its inputs' rounding; keep the "
            "values it reads in float32 and cast after the reduction."
        )
    if prim in REDUCTIONS:
        return (
            f"accumulate in float32: `jnp.sum(x, dtype=jnp.float32)` (or "
            f"`x.astype(jnp.float32).sum()`) instead of summing in {dtype}."
        )
    if prim in LOOPS and low:
        return (
            f"this loop carries a {dtype} accumulator: carry it in float32 "
            "(`init_val=jnp.zeros((), jnp.float32)`, add `x.astype(jnp.float32)`) and cast "
            "the result down after the loop."
        )
    if prim in CANCELLING:
        return (
            "cancellation: the difference of nearly equal values keeps only their rounding "
            "error. For a variance written as E[x²]−E[x]² use `jnp.var` (it subtracts the "
            "mean first); otherwise subtract in a wider dtype "
            "(`a.astype(jnp.float32) - b.astype(jnp.float32)`) or reformulate."
        )
    if prim == "exp":
        return (
            "subtract the max before exp (`jnp.exp(x - x.max(axis, keepdims=True))`, as "
            "`jax.nn.softmax` does) or use `jax.nn.logsumexp`; or compute the exp in float32."
        )
    if prim in {"log", "log1p"}:
        return (
            "use a stable formula: `jax.nn.logsumexp` for log(sum(exp)), `jnp.log1p(x)` for "
            "log(1 + x), or compute the log in float32."
        )
    if prim == "convert_element_type":
        return (
            f"scale before the cast: the values do not fit {dtype} well (divide by a power of "
            "two, cast, multiply back after), or keep this tensor in float32."
        )
    return (
        f"compute this one operation in a wider dtype: cast its inputs to float32 (float64 "
        f"under x64) and the result back to {dtype}."
    )
