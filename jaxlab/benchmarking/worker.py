"""A fresh worker process of ``jaxlab.bench``:

    python -m jaxlab.benchmarking.worker CALL.pkl RESULT

reads the pickled call (function, arguments, options, JAX settings) and either runs
:func:`jaxlab.bench` once in this process and writes the result as JSON (``processes=N``), or,
for a call holding a ``point``, times the allocating variants of one point and writes their
outcome pickled (see :mod:`jaxlab.benchmarking.apart`). A failure exits non-zero with the
reason on the last line of stderr.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m jaxlab.benchmarking.worker CALL.pkl RESULT", file=sys.stderr)
        return 2
    source, target = argv
    import pickle

    with open(source, "rb") as f:
        call = pickle.load(f)
    import jax

    for name, value in call.get("jax_options", {}).items():
        try:
            jax.config.update(name, value)
        except Exception as exc:
            print(f"could not set {name}={value!r}: {exc}", file=sys.stderr)
    from jaxlab.benchmarking import apart

    # this process is fresh and thrown away: the compiled variants timed first are enough
    apart.ENABLED = False
    if "point" in call:
        import cloudpickle

        try:
            outcome = apart.time_point(call)
        except Exception as exc:
            print(f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        with open(target, "wb") as f:
            cloudpickle.dump(outcome, f)
        return 0
    from jaxlab.benchmarking.runner import bench

    try:
        result = bench(call["fn"], *call["args"], **call["options"], kwargs=call["kwargs"])
    except Exception as exc:
        print(f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    result.save(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
