"""The inspector at model scale: a 48-layer unrolled transformer-block training step.

Prints the program's size (jaxpr equations, StableHLO ops, optimized HLO instructions and
fusions), XLA's compile time, jaxlab's own processing time after compile returns (texts,
parsing, linking, view model, static HTML, widget payload; goal at most 1.0 s), the payload
sent to the browser (goal at most 3 MB), and, where Debian's chromium exists, the time from the
output arriving in a real JupyterLab until the widget answers a hover (goal at most 2 s).

Each repeat traces, lowers and compiles the program anew (nothing cached from the previous
repeat); a small program is inspected first so that imports are not counted.

    .venv/bin/python benchmarks/inspector_scale.py [--layers 48] [--repeats 3] [--no-browser]
"""

from __future__ import annotations

import argparse
import json
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
from jaxlab.api.inspection import Inspection  # noqa: E402
from jaxlab.base import compat as _compat  # noqa: E402
from jaxlab.core import stages as _stages  # noqa: E402
from jaxlab.views.inspector.html import inspector_html  # noqa: E402
from jaxlab.views.inspector.widget import BUNDLE, encode  # noqa: E402

STEPS = [
    ("texts", "HLO, StableHLO and jaxpr text from JAX"),
    ("hlo_parse", "parse optimized HLO"),
    ("stablehlo_parse", "parse StableHLO locations"),
    ("jaxpr_model", "walk the jaxpr"),
    ("links", "link, fusions and estimates"),
    ("analysis", "XLA cost and memory analysis"),
    ("view_model", "view model (sources, panes, fusion rows)"),
    ("html", "static HTML"),
    ("payload", "widget payload (JSON, gzip)"),
]


def process(staged: _stages.Staged) -> tuple[dict[str, float], Inspection, dict, str, bytes]:
    """Everything jaxlab does after XLA's compile returns, step by step."""
    _compat._FRAMES.clear()
    _compat._USER_CODE.clear()
    insp = Inspection(staged)
    t: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        t[name] = time.perf_counter() - t0
        return out

    timed("texts", lambda: (insp.hlo, insp.stablehlo_debug, insp.jaxpr_text))
    timed("hlo_parse", lambda: insp.hlo_module)
    timed("stablehlo_parse", lambda: insp.stablehlo_module)
    timed("jaxpr_model", lambda: insp.jaxpr_model)
    timed("links", lambda: insp.links)
    timed("analysis", lambda: (insp.cost, insp.memory, insp.devices))
    model = timed("view_model", insp.view_model)
    html = timed("html", lambda: inspector_html(model, insp))
    payload = timed("payload", lambda: encode(model))
    t["total"] = sum(t.values())
    return t, insp, model, html, payload


def browser_figures(layers: int) -> dict[str, float] | str:
    from tests.browser._lab import chromium, chromium_missing, running_lab
    from tests.kernel._client import install_kernelspec

    reason = chromium_missing()
    if reason:
        return reason
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        prefix = root / "prefix"
        install_kernelspec(prefix, "jaxlab-bench")
        os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
        lab_root = root / "lab"
        lab_root.mkdir()
        with running_lab(lab_root) as lab, chromium() as browser:
            name = lab.write_notebook(
                "scale.ipynb",
                [
                    f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
                    f"from transformer import step, shapes\nparams, x = shapes({layers})",
                    "%inspect step(params, x)",
                ],
                kernel="jaxlab-bench",
            )
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            lab.open(page, name)
            page.evaluate(
                """() => {
                window.__jl = {output: null, ready: null};
                const panel = () => document.querySelector(
                    '.jp-NotebookPanel:not(.lm-mod-hidden)');
                new MutationObserver(() => {
                  const cells = panel()?.querySelectorAll('.jp-Cell') ?? [];
                  if (window.__jl.output === null && cells[1]?.querySelector(
                        '.jp-OutputArea-child')) window.__jl.output = performance.now();
                  if (window.__jl.ready === null && document.querySelector(
                        '.jl-inspector-host[data-ready="1"]'))
                    window.__jl.ready = performance.now();
                }).observe(document.body, {subtree: true, childList: true, attributes: true});
              }"""
            )
            lab.run_all(page)
            page.wait_for_function("() => window.__jl.ready !== null", timeout=600_000)
            host = page.locator(".jl-inspector-host[data-ready='1']")
            line = host.locator(".jl-pane").nth(0).locator(".jl-l", has_text='x @ p["w1"]')
            t_hover = page.evaluate("() => performance.now()")
            line.first.hover()
            host.locator(".jl-pane").nth(3).locator(".jl-l.jl-hl").first.wait_for(timeout=60_000)
            t_lit = page.evaluate("() => performance.now()")
            marks = page.evaluate("() => window.__jl")
            graph_t0 = time.perf_counter()
            host.locator("details.jl-graph-pane > summary").click()
            host.locator(".jl-graph svg").wait_for(timeout=120_000)
            graph_s = time.perf_counter() - graph_t0
            boxes = host.locator(".jl-graph .jl-box, .jl-graph .jl-node").count()
            page.close()
            return {
                "interactive_s": (marks["ready"] - marks["output"]) / 1e3,
                "hover_s": (t_lit - t_hover) / 1e3,
                "graph_first_view_s": graph_s,
                "graph_boxes": boxes,
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    warm = jaxlab.inspect(lambda x: jnp.sin(x) * 2.0, jnp.ones(8), run=False)
    inspector_html(warm.view_model(), warm)

    params, x = shapes(args.layers)
    runs: list[dict[str, float]] = []
    compiles: list[float] = []
    for _ in range(args.repeats):
        jax.clear_caches()  # trace, lower and compile anew
        staged = _stages.stage(jax.jit(step), (params, x), {})
        compiles.append(staged.compile_s)
        t, insp, model, html, payload = process(staged)
        runs.append(t)

    module = insp.hlo_module
    fusions = [f for f in insp.fusions if f.kind != "unfused"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}")
    print(f"jax {jax.__version__}, backend {jax.default_backend()}")
    print(
        f"program: {args.layers}-layer unrolled transformer training step (value_and_grad), "
        "width 64, 128 tokens"
    )
    print(
        f"  {len(insp.jaxpr_model):,} jaxpr equations, {len(insp.stablehlo_module):,} StableHLO "
        f"ops, {len(module):,} optimized HLO instructions, {len(fusions):,} fusions "
        f"({len(insp.fusions):,} kernels with unfused ops)"
    )
    print(
        f"XLA compile: median {statistics.median(compiles):.2f} s "
        f"(min {min(compiles):.2f} s, {args.repeats} repeats)"
    )
    print(f"jaxlab processing after compile ({args.repeats} repeats, median / min):")
    for key, label in [*STEPS, ("total", "total (goal ≤ 1.0 s)")]:
        values = [r[key] for r in runs]
        print(f"  {label:<44} {statistics.median(values):7.3f} s {min(values):7.3f} s")
    esm = BUNDLE.stat().st_size if BUNDLE.exists() else 0
    total = len(payload) + len(html.encode()) + esm
    print("payload sent to the browser:")
    print(f"  widget view model (gzipped JSON)   {len(payload) / 1e6:6.2f} MB")
    print(f"  static HTML beside it              {len(html.encode()) / 1e6:6.2f} MB")
    print(f"  widget front end (ESM)             {esm / 1e6:6.2f} MB")
    print(f"  total                              {total / 1e6:6.2f} MB (goal ≤ 3 MB)")
    plain = len(json.dumps(model, separators=(",", ":"), ensure_ascii=False).encode())
    print(f"  (the view model is {plain / 1e6:.2f} MB as plain JSON)")
    if args.no_browser:
        return
    figures = browser_figures(args.layers)
    if isinstance(figures, str):
        print(f"Chromium: skipped ({figures})")
        return
    print("Chromium (JupyterLab, headless Debian chromium, one run):")
    print(f"  output arrived → widget drawn          {figures['interactive_s']:.2f} s")
    print(f"  hover a source line → HLO highlighted  {figures['hover_s']:.2f} s")
    print(
        f"  interactive within                     "
        f"{figures['interactive_s'] + figures['hover_s']:.2f} s (goal ≤ 2 s)"
    )
    print(
        f"  graph pane opened → first view drawn   {figures['graph_first_view_s']:.2f} s "
        f"({figures['graph_boxes']} boxes)"
    )


if __name__ == "__main__":
    main()
