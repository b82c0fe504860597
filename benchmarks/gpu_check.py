"""jaxlab on a real CUDA GPU: one self-contained script, one PASS/FAIL/SKIP line per check.

Checks: the devices' memory statistics; the inspector on GPU HLO (fusion kinds, Triton
fusions, cuBLAS/cuDNN custom calls); bench with GPU sync against NumPy; the memory timeline
against XLA's GPU memory analysis; jaxlab.profile when it exists; cross-platform lowering and
Pallas kernels run natively on the GPU (no interpret mode); the precision explorer naming the
float32 matmul at the default precision (TF32) as the operation that makes the error. It says
which jax, jaxlib and devices it saw, finishes in well under 4 minutes, and a watchdog ends it
(FAIL, exit 1) if a check hangs.

    pip install -U "jax[cuda12]" && python benchmarks/gpu_check.py [--budget 200]

Exit status: 0 all passed, 1 some check failed, 2 no CUDA device.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable

import numpy as np

CHECK_LIMIT_S = 75  # one check; the watchdog ends the script past it
RESULTS: list[tuple[str, str, str]] = []
_current = {"name": "", "start": 0.0}


def report(status: str, name: str, detail: str) -> None:
    RESULTS.append((status, name, detail))
    print(f"{status:4} {name}: {detail}", flush=True)


def watchdog(total_s: float) -> None:
    start = time.monotonic()
    while True:
        time.sleep(1)
        now = time.monotonic()
        name = _current["name"]
        if name and now - _current["start"] > CHECK_LIMIT_S:
            report("FAIL", name, f"did not finish in {CHECK_LIMIT_S} s (hung?); stopping")
            summary()
            os._exit(1)
        if now - start > total_s:
            report("FAIL", name or "script", f"the whole run passed its {total_s:.0f} s budget")
            summary()
            os._exit(1)


def run(name: str, check: Callable[[], str]) -> None:
    _current.update(name=name, start=time.monotonic())
    t0 = time.perf_counter()
    try:
        detail = check()
    except Skip as exc:
        report("SKIP", name, str(exc))
    except Exception as exc:
        tb = traceback.format_exc(limit=4).strip().splitlines()
        report("FAIL", name, f"{type(exc).__name__}: {exc} | {' / '.join(tb[-3:])}")
    else:
        report("PASS", name, f"{detail} ({time.perf_counter() - t0:.1f} s)")
    finally:
        _current["name"] = ""


class Skip(Exception):
    pass


def summary() -> None:
    counts = {s: sum(1 for r in RESULTS if r[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    print(
        f"SUMMARY {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped",
        flush=True,
    )


# -- the program under test ---------------------------------------------------------------


def mlp(x, w1, w2):
    import jax.numpy as jnp

    h = jnp.tanh(x @ w1)
    return jnp.sum((h @ w2) ** 2, axis=-1)


def conv(img, kern):
    import jax

    return jax.nn.relu(
        jax.lax.conv_general_dilated(
            img, kern, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
    )


def add_kernel(x_ref, y_ref, o_ref):
    o_ref[...] = x_ref[...] + y_ref[...]


def pallas_add(x, y):
    import jax
    from jax.experimental import pallas as pl

    return pl.pallas_call(add_kernel, out_shape=jax.ShapeDtypeStruct(x.shape, x.dtype))(x, y)


def matmul_kernel(x_ref, y_ref, o_ref):
    import jax.numpy as jnp

    o_ref[...] = jnp.dot(x_ref[...], y_ref[...], preferred_element_type=jnp.float32)


def pallas_matmul(x, y, block=64):
    """A tiled matmul for Triton: Mosaic GPU, JAX's default for pl.pallas_call on CUDA, does
    not lower jnp.dot in this style."""
    import jax
    from jax.experimental import pallas as pl
    from jax.experimental.pallas import triton as pltriton

    return pl.pallas_call(
        matmul_kernel,
        out_shape=jax.ShapeDtypeStruct((x.shape[0], y.shape[1]), jax.numpy.float32),
        grid=(x.shape[0] // block, y.shape[1] // block),
        in_specs=[
            pl.BlockSpec((block, x.shape[1]), lambda i, j: (i, 0)),
            pl.BlockSpec((y.shape[0], block), lambda i, j: (0, j)),
        ],
        out_specs=pl.BlockSpec((block, block), lambda i, j: (i, j)),
        compiler_params=pltriton.CompilerParams(),
    )(x, y)


# -- checks -------------------------------------------------------------------------------


def check_devices() -> str:
    import jaxlab

    report_ = jaxlab.devices()
    gpus = [d for d in report_.devices if d.platform == "gpu"]
    assert gpus, f"jaxlab.devices() lists no GPU: {[d.platform for d in report_.devices]}"
    d = gpus[0]
    assert d.memory, f"no memory statistics for {d.kind}: {d.memory_note}"
    assert (d.bytes_limit or 0) > 0, f"bytes_limit missing: {d.memory}"
    assert d.bytes_in_use is not None
    html = report_._repr_html_()
    assert html and d.kind in html.replace("&amp;", "&")
    return (
        f"{len(gpus)} GPU(s), {d.kind}: {d.bytes_in_use / 2**20:.0f} MiB in use of "
        f"{d.bytes_limit / 2**30:.1f} GiB; keys {sorted(d.memory)}"
    )


def check_inspect_gpu_hlo() -> str:
    import jax
    import jax.numpy as jnp

    import jaxlab

    k = jax.random.key(0)
    x = jax.random.normal(k, (1024, 1024), jnp.float32)
    w1 = jax.random.normal(k, (1024, 2048), jnp.float32)
    w2 = jax.random.normal(k, (2048, 512), jnp.float32)
    insp = jaxlab.inspect(mlp, x, w1, w2)
    module = insp.hlo_module
    assert len(module) > 0, "optimized HLO did not parse"
    kinds = sorted({f.kind for f in insp.fusions})
    customs = sorted(
        {
            (i.attribute("custom_call_target") or "?").strip('"')
            for i in module
            if i.opcode == "custom-call"
        }
    )
    triton = [f.name for f in insp.fusions if f.kind.startswith("triton")]
    gemm = [c for c in customs if "cublas" in c.lower()]
    assert gemm or triton, f"no cuBLAS custom call nor Triton GEMM fusion: {customs}, {kinds}"
    line = next(iter(insp.links.source_lines()), None)
    assert line is not None, "no HLO instruction linked to a source line"
    assert insp._repr_html_(), "the inspector did not render"
    img = jax.random.normal(k, (8, 64, 64, 32), jnp.float32)
    kern = jax.random.normal(k, (3, 3, 32, 64), jnp.float32)
    cinsp = jaxlab.inspect(conv, img, kern)
    ccustoms = sorted(
        {
            (i.attribute("custom_call_target") or "?").strip('"')
            for i in cinsp.hlo_module
            if i.opcode == "custom-call"
        }
    )
    cudnn = [c for c in ccustoms if "cudnn" in c.lower()]
    conv_fusions = [f.name for f in cinsp.fusions if "conv" in " ".join(f.opcodes)]
    assert cudnn or conv_fusions, f"no cuDNN custom call for the convolution: {ccustoms}"
    return (
        f"fusion kinds {kinds}; custom calls {customs}; Triton fusions {len(triton)}; "
        f"conv: {ccustoms or conv_fusions}"
    )


def check_bench_sync() -> str:
    import jax
    import jax.numpy as jnp

    import jaxlab

    n = 2048 if jax.default_backend() == "gpu" else 384
    x = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)

    def matmul(a):
        return a @ a

    result = jaxlab.bench(matmul, x, time_budget=2.0, progress=False)
    names = result.variant_names
    assert "jit" in " ".join(names), f"no jit variant: {names}"
    assert any("numpy" in v for v in names), f"no NumPy twin: {names}"
    assert not result.failures, result.failures
    timings = {t.variant: t for t in result.timings}
    jit = next(t for v, t in timings.items() if "jit" in v)
    med = float(np.median(jit.samples))
    flops = 2 * n**3
    # no GPU does 2 PFLOP/s of fp32 matmul: a faster time means the work was not waited on
    assert med > flops / 2e15, f"jit median {med * 1e3:.3f} ms is impossibly fast: no sync?"
    numpy_t = next(t for v, t in timings.items() if "numpy" in v)
    return (
        f"jit median {med * 1e3:.2f} ms ({flops / med / 1e12:.1f} TFLOP/s), NumPy "
        f"{np.median(numpy_t.samples) * 1e3:.1f} ms; mismatches {len(result.mismatches)}"
    )


def check_memory_timeline() -> str:
    import jax
    import jax.numpy as jnp

    import jaxlab

    k = jax.random.key(0)
    args = (
        jax.random.normal(k, (2048, 1024), jnp.float32),
        jax.random.normal(k, (1024, 4096), jnp.float32),
        jax.random.normal(k, (4096, 256), jnp.float32),
    )
    insp = jaxlab.inspect(mlp, *args, run=False)
    timeline = insp.memory_timeline
    assert timeline is not None and timeline.steps, "no memory timeline from the GPU HLO"
    memory = insp.memory
    if not memory:
        raise Skip("XLA gives no memory analysis on this GPU backend")
    cmp = timeline.compare(memory)
    assert cmp is not None, f"memory analysis lacks temp_size: {memory}"
    assert 0.3 <= cmp.ratio <= 1.05, f"timeline peak / XLA total = {cmp.ratio:.2f}"
    return (
        f"timeline peak {cmp.peak_bytes / 2**20:.1f} MiB vs XLA total "
        f"{cmp.xla_bytes / 2**20:.1f} MiB (ratio {cmp.ratio:.2f})"
    )


def _profiled(a, b):
    import jax.numpy as jnp

    y = jnp.tanh(a @ b)  # the matmul line: most of the kernel time
    return (y * 2.0 + 1.0).sum()


def check_profile() -> str:
    import jax.numpy as jnp

    import jaxlab

    if not hasattr(jaxlab, "profile"):
        raise Skip("jaxlab.profile is not in this version")
    x = jnp.ones((4096, 4096), jnp.float32) * 1e-3
    p = jaxlab.profile(_profiled, x, x, runs=5)
    rows = p.rows()
    assert rows, "no kernel rows: the GPU trace had no kernel events jaxlab could read"
    attributed = [r for r in rows if r.get("attributed", True)]
    assert attributed, f"no kernel attributed to the program: {[r['kernel'] for r in rows][:8]}"
    assert p.kernel_s <= p.wall_s * 1.001, (p.kernel_s, p.wall_s)
    lines = p.by_line()
    assert lines, "by_line() is empty"
    top = lines[0]
    kinds = sorted({r["kind"] for r in rows})
    html = p._repr_html_() or ""
    return (
        f"{len(rows)} kernel rows ({len(attributed)} attributed), kinds {kinds}; coverage "
        f"{p.coverage:.0%}, kernels/call {p.kernels_per_call:.0f}; top line {top['where']} "
        f"{top['percent']:.0f}%; html {len(html):,} chars"
    )


def check_cross_platform() -> str:
    import jax
    import jax.numpy as jnp

    import jaxlab

    x = jax.ShapeDtypeStruct((8, 128), jnp.float32)
    pi = jaxlab.inspect(pallas_add, x, x, platforms=("tpu", "cuda"))
    assert pi.lowering("tpu").ok, pi.errors
    tpu = pi.kernel_modules("tpu")
    assert tpu and tpu[0].ops and not tpu[0].error, tpu
    linked = [op for op in tpu[0].ops if op.frames and op.frames[0][0] == __file__]
    assert linked, "no Mosaic op linked to this file"
    cuda = pi.kernel_modules("cuda")
    return f"tpu: {len(tpu[0].ops)} Mosaic ops ({len(linked)} linked); cuda: " + (
        f"{cuda[0].title}, {len(cuda[0].ops)} ops" if cuda else f"error {pi.errors.get('cuda')}"
    )


def check_pallas_native() -> str:
    import jax
    import jax.numpy as jnp

    import jaxlab

    k = jax.random.key(0)
    x = jax.random.normal(k, (512, 256), jnp.float32)
    y = jax.random.normal(jax.random.key(1), (256, 512), jnp.float32)
    a = jnp.ones((8, 128), jnp.float32)
    added = jax.jit(pallas_add)(a, a)
    assert bool(jnp.all(added == 2)), "pallas add on GPU gave wrong values"
    got = jax.jit(pallas_matmul)(x, y)
    want = jnp.dot(x, y, precision="highest")
    err = float(jnp.max(jnp.abs(got - want)) / jnp.max(jnp.abs(want)))
    assert err < 2e-2, f"pallas matmul on GPU: relative error {err:.2e}"
    insp = jaxlab.inspect(pallas_matmul, x, y)
    assert type(insp).__name__ == "Inspection", type(insp)
    (kernel,) = insp.pallas_kernels
    assert kernel.grid == (8, 8), kernel.grid
    assert kernel.blocks_of((1, 2)) == {
        b.name: v for b, v in zip(kernel.blocks, [(1, 0), (0, 2), (1, 2)], strict=True)
    }
    customs = sorted(
        {
            (i.attribute("custom_call_target") or "?").strip('"')
            for i in insp.hlo_module
            if i.opcode == "custom-call"
        }
    )
    check = jaxlab.check_kernel(
        pallas_matmul, lambda p, q: jnp.dot(p, q, precision="highest"), x, y
    )
    assert check.ok, repr(check)
    return (
        f"add and matmul ran natively (rel. error {err:.1e}); kernel custom calls {customs}; "
        "check_kernel ok"
    )


def _tf32(a, b):
    import jax.numpy as jnp

    h = a @ b
    return jnp.tanh(h)


def check_tf32_creator() -> str:
    """A float32 matmul at JAX's default precision (TF32 on recent NVIDIA GPUs) against
    `highest`: the precision explorer names the dot_general as the operation that makes the
    error, not the tanh that carries it."""
    import jax
    import jax.numpy as jnp

    import jaxlab

    keys = jax.random.split(jax.random.key(0), 2)
    a = jax.random.normal(keys[0], (512, 512), jnp.float32)
    b = jax.random.normal(keys[1], (512, 512), jnp.float32) / 16
    d = jaxlab.numerics_diff(_tf32, a, b, compare="precision=default")
    top = d.top
    if top is None:
        if jax.default_backend() != "gpu":
            raise Skip("no error at the default precision on this backend (no TF32 here)")
        raise AssertionError("no creator: the default precision made no error on this GPU")
    assert top["primitive"] == "dot_general", f"top creator {top['primitive']}, not the matmul"
    return (
        f"top creator dot_general at {top.get('where')}: local error {top['local_error']:.3g}, "
        f"rel error of the output {top['rel_error']:.3g}"
    )


CHECKS = [
    ("devices memory statistics", check_devices),
    ("inspect GPU HLO", check_inspect_gpu_hlo),
    ("bench with GPU sync vs NumPy", check_bench_sync),
    ("memory timeline vs XLA memory analysis", check_memory_timeline),
    ("profile", check_profile),
    ("cross-platform lowering", check_cross_platform),
    ("Pallas kernels natively on GPU", check_pallas_native),
    ("precision explorer names the TF32 matmul", check_tf32_creator),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=210.0, help="seconds for the whole run")
    parser.add_argument(
        "--allow-cpu",
        action="store_true",
        help="run the checks without a GPU too (to test this script; GPU checks then fail)",
    )
    args = parser.parse_args()
    threading.Thread(target=watchdog, args=(args.budget,), daemon=True).start()
    t0 = time.perf_counter()
    import jax
    import jaxlib

    import jaxlab

    print(
        f"python {sys.version.split()[0]}, jax {jax.__version__}, jaxlib {jaxlib.__version__}, "
        f"jaxlab {jaxlab.__version__}",
        flush=True,
    )
    try:
        devices = jax.devices()
    except Exception as exc:
        devices = []
        print(f"jax.devices() failed: {exc}", flush=True)
    print(f"backend {jax.default_backend()}; devices: {devices}", flush=True)
    if not any(d.platform == "gpu" for d in devices) and not args.allow_cpu:
        for name, _ in CHECKS:
            report(
                "SKIP", name, "no CUDA GPU visible to JAX (install jax[cuda12] on a GPU machine)"
            )
        summary()
        return 2
    for name, check in CHECKS:
        run(name, check)
    summary()
    print(f"total {time.perf_counter() - t0:.1f} s", flush=True)
    return 1 if any(r[0] == "FAIL" for r in RESULTS) else 0


if __name__ == "__main__":
    sys.exit(main())
