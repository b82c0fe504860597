"""Wall time to a result: ``%bench`` against ``%timeit`` with its defaults, on a jitted function
of about 1 ms.

Each round runs, in one IPython shell:
  A  %timeit jf(x).block_until_ready()       (IPython's defaults: autorange, 7 repeats)
  B  %bench jf(x)                            (defaults: jit, eager and NumPy, interleaved)
  C  %bench jf(x) --variants jit             (the same question %timeit answers)
and prints the wall time of each, the medians they report and the uncertainty %bench states.
The first %bench of a session also measures the peak memory bandwidth (once); that one-off
cost is printed apart.

    .venv/bin/python benchmarks/bench_vs_timeit.py [--rounds 5] [--target-ms 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
from IPython.core.interactiveshell import InteractiveShell

from jaxlab.benchmarking.machine import describe, environment
from jaxlab.benchmarking.roofline import peak_bandwidth


def fn(x):
    return jnp.tanh(x) + x * x + x * x * x


def pick_size(target_s: float) -> int:
    """The side of a square float32 input for which jit(fn) takes about target_s."""
    jf = jax.jit(fn)
    side = 256
    while True:
        x = jnp.ones((side, side))
        jf(x).block_until_ready()
        t0 = time.perf_counter()
        for _ in range(20):
            jf(x).block_until_ready()
        per_call = (time.perf_counter() - t0) / 20
        if per_call >= target_s or side >= 8192:
            return side
        side = int(side * 1.25)


def wall(fn_, *args):
    t0 = time.perf_counter()
    out = fn_(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target-ms", type=float, default=1.0)
    args = parser.parse_args()

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jaxlab")
    side = pick_size(args.target_ms / 1e3)
    ip.user_ns.update(jf=jax.jit(fn), fn=fn, x=jnp.ones((side, side)))
    print(f"machine: {describe(environment())}")
    print(f"function: jax.jit(tanh(x) + x*x + x*x*x) on float32[{side},{side}]")

    peak_s, peak = wall(peak_bandwidth)
    print(
        f"one-off, first %bench of a session: peak bandwidth measured in {peak_s:.2f} s "
        f"({peak.gbps:.1f} GB/s), then cached\n"
    )
    rows = {"A": [], "B": [], "C": []}
    for i in range(args.rounds):
        ta, res = wall(ip.run_line_magic, "timeit", "-o -q jf(x).block_until_ready()")
        tb, rb = wall(ip.run_line_magic, "bench", "jf(x)")
        tc, rc = wall(ip.run_line_magic, "bench", "jf(x) --variants jit")
        rows["A"].append(ta)
        rows["B"].append(tb)
        rows["C"].append(tc)
        jit_b, jit_c = rb.timing("jit"), rc.timing("jit")
        print(
            f"round {i + 1}: %timeit {ta:5.2f} s -> {res.average * 1e3:.3f} ms ± "
            f"{res.stdev * 1e3:.3f} ms (mean ± std of {res.repeat} runs, {res.loops} loops) | "
            f"%bench {tb:5.2f} s -> jit {jit_b.median_s * 1e3:.3f} ms ±"
            f"{100 * jit_b.summary.rel_half_width:.1f} % (95 % CI, {jit_b.runs} runs), "
            f"eager {rb.median_s('eager') * 1e3:.3f} ms, "
            f"numpy {rb.median_s('numpy') * 1e3:.3f} ms | "
            f"%bench --variants jit {tc:5.2f} s -> {jit_c.median_s * 1e3:.3f} ms "
            f"±{100 * jit_c.summary.rel_half_width:.1f} % ({jit_c.runs} runs)"
        )
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(
        f"\nmedian wall time over {args.rounds} rounds: %timeit {med['A']:.2f} s, "
        f"%bench (3 variants) {med['B']:.2f} s ({med['A'] / med['B']:.1f}× less), "
        f"%bench --variants jit {med['C']:.2f} s ({med['A'] / med['C']:.1f}× less)"
    )


if __name__ == "__main__":
    main()
