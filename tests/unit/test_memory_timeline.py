"""The live-buffer timeline against XLA's own memory analysis of the same programs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.ir.hlo import HloModule
from jaxlab.ir.memory_timeline import memory_timeline
from jaxlab.views.memory import memory_section, timeline_svg


def mlp(ws, x):
    for w in ws:
        x = jnp.tanh(x @ w)
    return x.sum()


def rnn(h, xs, w, u):
    return jax.lax.scan(lambda h, x: (jnp.tanh(h @ w + x @ u),) * 2, h, xs)


PROGRAMS = {
    "rnn": (
        rnn,
        (jnp.zeros((16, 64)), jnp.ones((8, 16, 32)), jnp.ones((64, 64)), jnp.ones((32, 64))),
    ),
    "mlp-grad": (jax.grad(mlp), ([jnp.ones((128, 128))] * 3, jnp.ones((64, 128)))),
    "scan": (
        lambda a: jax.lax.scan(lambda c, _: (jnp.tanh(c @ c), None), a, None, length=3)[0],
        (jnp.ones((128, 128)),),
    ),
    "sort": (lambda a: jnp.sort(a, axis=0) + jnp.argsort(a, axis=1), (jnp.ones((128, 128)),)),
    "two-temporaries": (lambda a: jnp.sin(a) @ jnp.cos(a).T + a.sum(), (jnp.ones((128, 128)),)),
    "cond": (
        lambda a: jax.lax.cond(a.sum() > 0, lambda z: jnp.sin(z) @ z, lambda z: z * 2, a),
        (jnp.ones((64, 64)),),
    ),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_peak_is_a_tight_lower_bound_of_xla_total(name):
    fn, args = PROGRAMS[name]
    insp = jaxlab.inspect(fn, *args, run=False)
    t = insp.memory_timeline
    memory = insp.memory
    assert t.scheduled
    assert len(t.steps) == len(insp.hlo_module.entry.instructions)
    assert t.argument_bytes == memory["argument_size"]
    assert t.output_bytes == memory["output_size"]
    comparison = t.compare(memory)
    # buffers alive together never share memory, so XLA needs at least the peak
    assert comparison.peak_bytes <= comparison.xla_bytes
    assert comparison.ratio >= 0.9
    assert t.peak_instruction in insp.hlo_module.instructions
    live = t.live_at(t.peak_step.index)
    assert sum(b.nbytes for b in live) + _transient(t) == t.peak_bytes


def _transient(t):
    step = t.peak_step
    held = sum(b.nbytes for b in t.live_at(step.index) if b.kind == "temp")
    return step.temp - held


def test_loop_body_temporaries_count_while_the_loop_runs():
    fn, args = PROGRAMS["scan"]
    insp = jaxlab.inspect(fn, *args, run=False)
    t = insp.memory_timeline
    assert insp.hlo_module.instructions[t.peak_instruction].opcode == "while"
    block = 128 * 128 * 4
    # argument + loop state (the output) + the body's matmul result
    assert t.peak_bytes >= 3 * block
    assert t.peak_step.temp >= block


def test_donated_output_lives_in_its_argument():
    f = jax.jit(lambda a, b: a * 2 + b, donate_argnums=0)
    compiled = f.lower(jnp.ones((256, 256)), jnp.ones((256, 256))).compile()
    t = memory_timeline(HloModule.parse(compiled.as_text()))
    memory = jaxlab.inspect(f, jnp.ones((256, 256)), jnp.ones((256, 256)), run=False).memory
    assert memory["alias_size"] == 256 * 256 * 4
    assert t.output_bytes == 0
    assert t.compare(memory).peak_bytes == t.compare(memory).xla_bytes == 2 * 256 * 256 * 4


def test_in_place_results_reuse_dying_operands():
    def chain(a):
        for _ in range(3):
            a = jnp.sort(jnp.sin(a), axis=0)  # sorts run in place on the sine's buffer
        return a

    insp = jaxlab.inspect(chain, jnp.ones((64, 64)), run=False)
    block = 64 * 64 * 4
    t = insp.memory_timeline
    # the argument plus one working buffer, which finally becomes the output
    assert t.peak_bytes == 2 * block
    assert t.compare(insp.memory).xla_bytes == 2 * block


def test_views_render_peak_and_xla_line():
    fn, args = PROGRAMS["two-temporaries"]
    insp = jaxlab.inspect(fn, *args, run=False)
    svg = timeline_svg(insp.memory_timeline, 12345)
    assert svg.startswith("<svg") and svg.count("<polygon") >= 2
    assert 'class="jl-peak"' in svg and 'class="jl-xla-total"' in svg
    html = memory_section(insp.memory_timeline, insp.memory)
    assert "peak / XLA total" in html and insp.memory_timeline.peak_instruction in html
    assert "unavailable" in memory_section(None, None)
