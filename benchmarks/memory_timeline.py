"""The memory timeline's peak against XLA's memory analysis, on real programs.

For each program: XLA's argument, output, alias and temp sizes, their total
(arguments + outputs + temp - alias), the timeline's peak of live bytes and where it peaks,
and peak / total. Buffers alive at the same step never share memory, so the peak is at most
XLA's total; the tolerance line says how close it came. Also times the timeline itself.

    .venv/bin/python benchmarks/memory_timeline.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import jax

jax.config.update("jax_num_cpu_devices", 8)

import jax.numpy as jnp  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import jaxlab  # noqa: E402
from jaxlab.base.format import format_bytes  # noqa: E402
from jaxlab.ir.memory_timeline import memory_timeline  # noqa: E402

TOLERANCE = 0.20  # the peak must lie within 20 % below XLA's total, never above


def mlp_loss(params, x):
    for w, b in params:
        x = jax.nn.gelu(x @ w + b)
    return jnp.mean(x**2)


def mlp_step(params, x):
    grads = jax.grad(mlp_loss)(params, x)
    return jax.tree.map(lambda p, g: p - 1e-3 * g, params, grads)


def rnn(h, xs, w, u):
    def cell(h, x):
        h = jnp.tanh(h @ w + x @ u)
        return h, h

    return jax.lax.scan(cell, h, xs)


def attention(q, k, v):
    s = jax.nn.softmax(q @ k.swapaxes(-1, -2) / q.shape[-1] ** 0.5, axis=-1)
    return (s @ v).sum()


def programs():
    width, batch = 1024, 256
    params = [(jnp.ones((width, width)) * 1e-3, jnp.zeros(width)) for _ in range(4)]
    x = jnp.ones((batch, width))
    mesh = jax.make_mesh((8,), ("data",), axis_types=(AxisType.Auto,))
    x_sharded = jax.device_put(x, NamedSharding(mesh, P("data")))
    qkv = [jnp.ones((8, 512, 64))] * 3
    return [
        ("MLP training step (4 x 1024^2, batch 256)", mlp_step, (params, x)),
        (
            "RNN scan, 32 steps (batch 64, hidden 512)",
            rnn,
            (
                jnp.zeros((64, 512)),
                jnp.ones((32, 64, 256)),
                jnp.ones((512, 512)),
                jnp.ones((256, 512)),
            ),
        ),
        ("attention grad (8 heads, 512 x 64)", jax.grad(attention, argnums=(0, 1, 2)), tuple(qkv)),
        ("MLP step, batch sharded over 8 devices (per device)", mlp_step, (params, x_sharded)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timings of the timeline")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}; "
        f"jax {jax.__version__}, backend {jax.default_backend()}, {jax.device_count()} devices"
    )
    ratios = []
    for name, fn, fn_args in programs():
        insp = jaxlab.inspect(jax.jit(fn), *fn_args, run=False)
        memory = insp.memory or {}
        t = insp.memory_timeline
        comparison = t.compare(memory)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            memory_timeline(insp.hlo_module)
            times.append(time.perf_counter() - start)
        print(f"\n{name}")
        print(
            "  XLA memory analysis: "
            + ", ".join(
                f"{key} {format_bytes(memory.get(key + '_size', 0))}"
                for key in ("argument", "output", "alias", "temp")
            )
        )
        if comparison is None:
            print("  XLA gives no memory analysis on this backend")
            continue
        ratios.append(comparison.ratio)
        print(
            f"  XLA arguments + outputs + temp - alias: {comparison.xla_bytes:,} B"
            f" ({format_bytes(comparison.xla_bytes)})"
        )
        print(
            f"  timeline peak: {comparison.peak_bytes:,} B ({format_bytes(comparison.peak_bytes)})"
            f" at {t.peak_instruction} (step {t.peak_step.index} of {len(t.steps)})"
        )
        print(f"  peak / XLA total: {comparison.ratio:.4f}")
        print(
            f"  timeline of {len(t.steps)} steps computed in "
            f"{statistics.median(times) * 1e3:.1f} ms (median of {args.repeats})"
        )
    low, high = min(ratios), max(ratios)
    met = all(1 - TOLERANCE <= r <= 1.0 for r in ratios)
    print(
        f"\npeak / XLA total over {len(ratios)} programs: {low:.4f} .. {high:.4f}; "
        f"tolerance (peak within {TOLERANCE:.0%} below XLA's total, never above): "
        f"{'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
