"""The Hessian benchmark of a widely read introduction to JAX: the Hessian of a sum of squares
over 1,000 inputs, ``jax.jit(jax.jacfwd(jax.jacrev(f)))`` against
``torch.autograd.functional.hessian(f, X, vectorize=True)``.

Runs ``%bench hess(X) --vs torch:torch_hess`` in an IPython shell and prints both medians and
their ratio (the introduction reported JAX 36× faster on its machine).

    .venv/bin/python benchmarks/bench_hessian_torch.py [--n 1000] [--time 2]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
from IPython.core.interactiveshell import InteractiveShell

from jaxlab.benchmarking.machine import describe, environment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--time", type=float, default=2.0, help="seconds per variant")
    args = parser.parse_args()
    import torch

    def jax_fn(x):
        return jnp.sum(jnp.square(x))

    def torch_fn(x):
        return torch.sum(torch.mul(x, x))

    def torch_hess(x):
        return torch.autograd.functional.hessian(torch_fn, x, vectorize=True)

    hess = jax.jit(jax.jacfwd(jax.jacrev(jax_fn)))
    X = jnp.asarray(np.random.default_rng(0).standard_normal(args.n).astype(np.float32))

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "jaxlab")
    ip.user_ns.update(hess=hess, torch_hess=torch_hess, X=X)
    r = ip.run_line_magic(
        "bench", f"hess(X) --vs torch:torch_hess --variants jit,torch --time-budget {args.time}"
    )
    env = environment()
    print(f"machine: {describe(env)}")
    print(f"Hessian of sum(x**2) over {args.n} float32 inputs ({args.n}×{args.n} output)")
    for t in r.timings:
        s = t.summary
        print(
            f"  {t.variant:5} median {s.median_s * 1e3:9.3f} ms  "
            f"(95 % CI {s.ci_low_s * 1e3:.3f}–{s.ci_high_s * 1e3:.3f} ms, "
            f"IQR {s.iqr_s * 1e3:.3f} ms, "
            f"{s.runs} runs × {t.number})"
        )
    print(
        f"  jit(jacfwd(jacrev(f))) is {r.speedup('jit', 'torch'):.1f}× faster than "
        f"torch.autograd.functional.hessian(vectorize=True)"
        f"  (outputs agree: {not r.mismatches}; valid: {r.valid})"
    )


if __name__ == "__main__":
    main()
