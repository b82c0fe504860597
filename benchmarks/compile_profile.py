"""The compile explorer's figures.

1. A 100-step Python loop against the same computation with `jax.lax.fori_loop`: compile wall
   time of each (median of the repeats, each a fresh compilation), and what the compile profile
   of the loop says (kernels, the share of code generation its body line gets, the advice).
2. The 48-layer transformer training step (`benchmarks/transformer.py`): the share of the
   measured compile wall time that XLA's pass pipelines plus code generation account for
   (goal at least 70 %), and the compile profile's own processing time after XLA returns
   (reading and parsing the profiler trace, attributing kernels, advice; goal at most 1.0 s).

    .venv/bin/python benchmarks/compile_profile.py [--layers 48] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from transformer import shapes, step  # noqa: E402

import jaxlab  # noqa: E402
from jaxlab.core.compile_profile import fresh_options  # noqa: E402
from tests.unit._compile_programs import rolled, unrolled  # noqa: E402 - the tests' loops


def compile_wall(fn, *args) -> float:
    """Wall time of one fresh `lowered.compile()` (no executable reused)."""
    lowered = jax.jit(fn).lower(*args)
    t0 = time.perf_counter()
    lowered.compile(compiler_options=fresh_options())
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    opts = parser.parse_args()
    print(
        f"jax {jax.__version__} on {jax.default_backend()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; medians of {opts.repeats} fresh compilations"
    )
    jaxlab.compile_profile(lambda x: x + 1, jnp.ones(3))  # imports and profiler start-up

    x = w = jnp.ones((64, 64))
    loop = statistics.median(compile_wall(unrolled, x, w) for _ in range(opts.repeats))
    fori = statistics.median(compile_wall(rolled, x, w) for _ in range(opts.repeats))
    print("\n100-step loop, x = jnp.tanh(x @ w) + i, x and w f32[64,64]")
    print(f"  Python for loop (unrolled): compile {loop:.3f} s")
    print(f"  jax.lax.fori_loop:          compile {fori:.3f} s  ({loop / fori:.0f}x faster)")
    profile = jaxlab.compile_profile(unrolled, x, w)
    by_line = profile.by_line()
    if by_line:
        top, codegen = by_line[0], sum(r["time_s"] for r in by_line)
        print(
            f"  profile of the loop: {len(profile.codegen)} kernels; line {top['line']} "
            f"({top['code']}) gets {top['time_s']:.3f} s of {codegen:.3f} s code generation "
            f"({100 * top['time_s'] / codegen:.0f} %)"
        )
    for note in profile.notes:
        print(f"  note: {note}")
    for advice in profile.advice:
        print(f"  advice: {advice}")

    params, xs = shapes(opts.layers)
    shares, processing, walls, passes_s, codegen_s = [], [], [], [], []
    for _ in range(opts.repeats):
        p = jaxlab.compile_profile(step, params, xs)
        shares.append(p.explained_percent)
        processing.append(p.processing_s)
        walls.append(p.compile_s)
        passes_s.append(p.passes_s)
        codegen_s.append(p.codegen_s)
    med = statistics.median
    print(f"\n{opts.layers}-layer transformer training step (value_and_grad), f32")
    print(
        f"  compile wall {med(walls):.3f} s: XLA passes {med(passes_s):.3f} s + code "
        f"generation {med(codegen_s):.3f} s = {med(shares):.1f} % of it (goal >= 70 %)"
    )
    print(f"  compile profile's own processing: {med(processing):.3f} s (goal <= 1.0 s)")
    print(f"  {len(p.passes)} distinct passes, {len(p.codegen)} kernels; slowest passes:")
    for row in p.passes[:5]:
        print(f"    {row['time_s']:.3f} s  {row['pass']} ({row['pipeline']})")


if __name__ == "__main__":
    main()
