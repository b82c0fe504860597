"""Per-call dispatch cost of a function rebound by ``%jit f`` against plain ``jax.jit(f)``.

A tiny function (``x + 1`` on 3 floats), so the time is JAX's dispatch, not compute. The two
are timed in interleaved rounds in one process (the load of a shared machine hits both
alike); each round is the best of 3 × `--number` calls; the figure is the median over the
rounds and the median of the per-round ratios (goal: ≤ 1.05×).

    .venv/bin/python benchmarks/jit_dispatch.py [--rounds 41] [--number 2000]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import jax
import jax.numpy as jnp
from IPython.core.interactiveshell import InteractiveShell


def tiny(x):
    return x + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jaxlab")
    ip.user_ns["tiny"] = tiny
    ip.run_line_magic("jit", "tiny --quiet")
    rebound = ip.user_ns["tiny"]
    plain = jax.jit(tiny)
    control = jax.jit(tiny)  # a second plain jax.jit: the noise floor of the comparison
    x = jnp.ones(3)
    for f in (rebound, plain, control):  # the rebound one compiles (and reports) first
        f(x).block_until_ready()
    print(f"rebound by %jit: {rebound!r}")

    def per_call(f) -> float:
        return min(timeit.repeat(lambda: f(x), number=args.number, repeat=3)) / args.number

    times: dict[str, list[float]] = {"jit": [], "control": [], "rebound": []}
    ratios: dict[str, list[float]] = {"control": [], "rebound": []}
    fns = {"jit": plain, "control": control, "rebound": rebound}
    for i in range(args.rounds):
        order = list(fns)[i % 3 :] + list(fns)[: i % 3]
        seen = {name: per_call(fns[name]) for name in order}
        for name, value in seen.items():
            times[name].append(value)
        for name in ratios:
            ratios[name].append(seen[name] / seen["jit"])
    med = {name: statistics.median(v) * 1e6 for name, v in times.items()}
    print(
        f"tiny(f32[3]), {args.rounds} interleaved rounds of best-of-3 × {args.number} calls:\n"
        f"  jax.jit(tiny)                  {med['jit']:6.2f} µs per call\n"
        f"  jax.jit(tiny) again (control)  {med['control']:6.2f} µs per call\n"
        f"  %jit tiny (rebound)            {med['rebound']:6.2f} µs per call\n"
        f"  median per-round ratio control / jax.jit: "
        f"{statistics.median(ratios['control']):.3f}× (the noise floor)\n"
        f"  median per-round ratio %jit / jax.jit:    "
        f"{statistics.median(ratios['rebound']):.3f}× (goal ≤ 1.05×)"
    )
    print(f"compilations reported: {len(rebound.compilations)}")


if __name__ == "__main__":
    main()
