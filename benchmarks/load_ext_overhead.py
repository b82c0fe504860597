"""How much `%load_ext jaxlab` adds on top of `import jax`, in fresh processes.

Each repeat starts three fresh Pythons, interleaved:
  A  import jax
  B  %load_ext jaxlab in a new IPython shell, nothing imported before (includes importing jax)
  C  import jax, then %load_ext jaxlab (the extension's own cost)
and reports medians. Goal: B - A (equivalently C) at most 150 ms.

jaxlab's modules are byte-compiled first, as `pip install` leaves an installed package: where
PYTHONDONTWRITEBYTECODE is set, an editable checkout would otherwise compile every module from
source in every process (about 120 ms here), which no installed copy pays.

    .venv/bin/python benchmarks/load_ext_overhead.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SHELL = "from IPython.core.interactiveshell import InteractiveShell as S; ip = S.instance()"
SCRIPTS = {
    "A": "import time; t = time.perf_counter(); import jax; dt = time.perf_counter() - t",
    "B": (
        f"{SHELL}\n"
        "import time; t = time.perf_counter(); ip.run_line_magic('load_ext', 'jaxlab'); "
        "dt = time.perf_counter() - t"
    ),
    "C": (
        f"{SHELL}\nimport jax\n"
        "import time; t = time.perf_counter(); ip.run_line_magic('load_ext', 'jaxlab'); "
        "dt = time.perf_counter() - t"
    ),
}


def once(key: str) -> float:
    code = SCRIPTS[key] + "\nimport json; print(json.dumps(dt))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    package = Path(__file__).resolve().parent.parent / "jaxlab"
    compileall.compile_dir(package, quiet=1)
    times: dict[str, list[float]] = {k: [] for k in SCRIPTS}
    for _ in range(args.repeats):
        for key in SCRIPTS:
            times[key].append(once(key))
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f"python {sys.version.split()[0]}, {args.repeats} fresh processes each (medians)")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("  (PYTHONDONTWRITEBYTECODE is set: jaxlab was byte-compiled up front, as installed)")
    print(f"  A  import jax                          {med['A']:8.1f} ms")
    print(f"  B  %load_ext jaxlab (imports jax too)  {med['B']:8.1f} ms")
    print(f"  C  %load_ext jaxlab after import jax   {med['C']:8.1f} ms")
    print(
        f"  added on top of import jax: B - A = {med['B'] - med['A']:.1f} ms, "
        f"C = {med['C']:.1f} ms (goal: at most 150 ms)"
    )


if __name__ == "__main__":
    main()
