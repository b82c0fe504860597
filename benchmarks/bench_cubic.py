"""The first benchmark of a widely read introduction to JAX: ``x + x*x + x*x*x`` on a 5000×5000
float32 array, against NumPy.

Runs ``%bench fn(x) --vs numpy`` in an IPython shell (jit, eager and NumPy with their ratios)
and, in the same process, an independent careful harness for the jitted function (timeit with
``block_until_ready``, warmed up, many repeats). The two alternate for several rounds, so the
load of a shared machine hits both alike; each round is weighted alike (the median of the
per-round medians, and the median of the per-round ratios).

    .venv/bin/python benchmarks/bench_cubic.py [--size 5000] [--rounds 10] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import jax
import numpy as np
from IPython.core.interactiveshell import InteractiveShell

from jaxlab.benchmarking.machine import describe, environment


def fn(x):
    return x + x * x + x * x * x


def careful_harness(x_host: np.ndarray, repeats: int) -> list[float]:
    """Seconds per call of jax.jit(fn), every call waited on, after warming up."""
    jf = jax.jit(fn)
    x = jax.device_put(x_host)
    jf(x).block_until_ready()  # compile
    for _ in range(5):
        jf(x).block_until_ready()
    return timeit.repeat(lambda: jf(x).block_until_ready(), number=1, repeat=repeats)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=20, help="timeit repeats per round")
    args = parser.parse_args()

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jaxlab")
    x = np.random.default_rng(0).standard_normal((args.size, args.size)).astype(np.float32)
    ip.user_ns.update(fn=fn, x=x)

    print(f"machine: {describe(environment())}")
    print(f"x: float32[{args.size},{args.size}]; {args.rounds} rounds of (harness, %bench)\n")
    harness: list[float] = []
    benched: list[float] = []
    results = []
    for i in range(args.rounds):
        h = statistics.median(careful_harness(x, args.repeats))
        r = ip.run_line_magic("bench", "fn(x) --vs numpy")
        jit = r.timing("jit")
        harness.append(h)
        benched.append(jit.median_s)
        results.append(r)
        print(
            f"round {i + 1:2}: careful harness jit {ms(h)} ({args.repeats} runs)   "
            f"%bench jit {ms(jit.median_s)} ({jit.runs} runs, "
            f"±{100 * jit.summary.rel_half_width:.1f} %)   ratio {jit.median_s / h:.3f}"
        )
    h_all, b_all = statistics.median(harness), statistics.median(benched)
    ratio = statistics.median(b / h for b, h in zip(benched, harness, strict=True))
    print(
        f"\njit, median over {args.rounds} rounds: careful harness {ms(h_all)}, %bench {ms(b_all)}"
        f" (difference {100 * (b_all - h_all) / h_all:+.1f} %); median per-round ratio "
        f"%bench / harness {ratio:.3f} ({100 * (ratio - 1):+.1f} %; goal: within 5 %)"
    )
    last = results[-1]
    print("\n%bench fn(x) --vs numpy (last round), per variant:")
    for t in last.timings:
        print(
            f"  {t.variant:6} median {ms(t.median_s)}  IQR {ms(t.iqr_s)}  "
            f"runs {t.runs:3} × {t.number}"
            f"  {t.median_s and last.speedup(t.variant):6.2f}× vs numpy"
            + (f"  (compile {ms(t.compile_s)})" if t.compile_s else "")
        )
    print(
        f"  jit is {last.speedup('jit', 'eager'):.1f}× faster than eager, "
        f"{last.speedup('jit'):.1f}× faster than NumPy"
    )
    print(f"  valid: {last.valid}; notes: {[n.text for n in last.notes]}")


if __name__ == "__main__":
    main()
