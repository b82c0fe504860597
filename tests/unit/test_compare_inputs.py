"""``jaxlab.compare`` of results whose inputs differ names what differs, first."""

from __future__ import annotations

import jax.numpy as jnp

import jaxlab
from jaxlab.base.display import renderer
from jaxlab.benchmarking.result import BenchResult, Timing, VariantInfo


def made(label: str, signature: str, env: dict | None = None, scale: float = 1.0) -> BenchResult:
    timings = []
    for name, level in (("jit", 1e-3), ("numpy", 5e-3)):
        t = Timing(name, 1_000_000, samples=[level * scale * (1 + 0.001 * k) for k in range(20)])
        t.signature = signature
        timings.append(t)
    return BenchResult(
        label=label,
        variants=[VariantInfo("jit", "jit", "jax"), VariantInfo("numpy", "twin", "numpy")],
        timings=timings,
        baseline="numpy",
        environment=env or {"jax": "0.10.2", "cpu": "AMD EPYC", "backend": "cpu"},
    )


def test_the_same_inputs_compare_without_a_word():
    a = made("f(x: f32[1000,1000])", "x: f32[1000,1000]")
    b = made("f(x: f32[1000,1000])", "x: f32[1000,1000]", scale=0.5)
    comp = jaxlab.compare(a, b)
    assert comp.differences == []
    assert renderer(comp, "text")(comp).startswith("compare ")


def test_different_shapes_functions_and_machines_are_named_first():
    cubic = made("cubic(x: f32[1000,1000])", "x: f32[1000,1000]")
    small = made(
        "small(x: f32[100,100])",
        "x: f32[100,100]",
        env={"jax": "0.10.1", "cpu": "AMD EPYC", "backend": "cpu"},
        scale=0.01,
    )
    comp = jaxlab.compare(cubic, small)
    (line,) = comp.differences
    assert line.startswith("[1] small(x: f32[100,100]) against [0]: function cubic ≠ small")
    assert "inputs (jit) x: f32[1000,1000] ≠ x: f32[100,100]" in line
    assert "machine: JAX 0.10.1" not in line and "machine: JAX 0.10.2 → 0.10.1" in line
    text = renderer(comp, "text")(comp)
    assert text.splitlines()[0].startswith("not the same inputs, so the speedups compare")
    html = renderer(comp, "html")(comp)
    assert html.index("not the same inputs") < html.index('class="jl-title"')


def test_a_real_bench_at_two_shapes_says_they_differ():
    def f(x):
        return x + x * x

    quick = {"time_budget": 0.02, "min_runs": 3, "peak": False, "progress": False}
    a = jaxlab.bench(f, jnp.ones((64, 64)), vs="numpy", **quick)
    b = jaxlab.bench(f, jnp.ones((16, 16)), vs="numpy", **quick)
    (line,) = jaxlab.compare(a, b).differences
    assert line.endswith("inputs (jit) f32[64,64] ≠ f32[16,16]") and "function" not in line
