"""What cross-platform lowering and the Pallas kernel inspector cost: seconds to lower a tiled
Pallas matmul for TPU, CUDA and ROCm and read its kernel modules; seconds to evaluate the
index maps of a 65,536-program grid; size of the static HTML. Medians of --repeats runs.

    .venv/bin/python benchmarks/platform_lowering.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax
import jax.numpy as jnp

import jaxlab
from jaxlab.ir.pallas_grid import pallas_kernels
from tests.pallas_kernels import tiled_matmul


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    x = jax.ShapeDtypeStruct((512, 128), jnp.float32)
    y = jax.ShapeDtypeStruct((128, 512), jnp.float32)
    print(f"jax {jax.__version__}; medians of {args.repeats} runs")
    for platform in ("tpu", "cuda", "rocm"):

        def lower_and_read(platform=platform):
            pi = jaxlab.inspect(tiled_matmul, x, y, platforms=(platform,))
            return pi.kernel_modules(platform) or pi.errors.get(platform, "no module")

        t0 = time.perf_counter()
        mods = lower_and_read()
        first = time.perf_counter() - t0
        t = median_time(lower_and_read, args.repeats)
        what = (
            mods
            if isinstance(mods, str)
            else ", ".join(f"{m.title} {len(m.ops)} ops" for m in mods)
        )
        print(
            f"lower for {platform} + read kernel modules: first {first * 1e3:.0f} ms, "
            f"again {t * 1e3:.0f} ms (JAX's caches) ({what})"
        )
    pi = jaxlab.inspect(tiled_matmul, x, y, platforms=("tpu", "cuda"))
    t = median_time(lambda: pi.to_html(), args.repeats)
    html = pi.to_html()
    print(f"static HTML of tpu+cuda with the kernel: {len(html) / 1e3:.0f} kB in {t * 1e3:.0f} ms")
    big_x = jax.ShapeDtypeStruct((256 * 8, 128), jnp.float32)
    big_y = jax.ShapeDtypeStruct((128, 256 * 8), jnp.float32)
    closed = jax.make_jaxpr(lambda a, b: tiled_matmul(a, b, block=8))(big_x, big_y)
    t = median_time(lambda: pallas_kernels(closed), args.repeats)
    (kernel,) = pallas_kernels(closed)
    print(
        f"index maps of a {kernel.grid} grid ({kernel.num_programs:,} programs, "
        f"{len(kernel.blocks)} operands) evaluated in {t * 1e3:.0f} ms"
    )


if __name__ == "__main__":
    main()
