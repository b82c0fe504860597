"""Wall time of each notebook in notebooks/, executed top to bottom in the jaxlab kernel.

Goal: each runs in at most 2 minutes on a 2-core CPU machine.

    .venv/bin/python benchmarks/notebook_times.py [--kernel jaxlab] [NAME.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="jaxlab", help="kernelspec to run them in")
    parser.add_argument("names", nargs="*", help="only these notebooks (default: all)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; kernel {args.kernel!r}; one run each")
    worst = 0.0
    paths = [NOTEBOOKS / n for n in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        resources = {"metadata": {"path": str(NOTEBOOKS)}}
        client = NotebookClient(nb, kernel_name=args.kernel, timeout=600, resources=resources)
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
        worst = max(worst, seconds)
        errors = sum(
            o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs
        )
        cells = len(nb.cells)
        print(f"  {path.name:34s} {seconds:6.1f} s  ({cells} cells, {errors} expected errors)")
    print(f"slowest: {worst:.1f} s (goal: at most 120 s each)")


if __name__ == "__main__":
    main()
