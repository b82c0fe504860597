"""The static views of cross-platform lowering and Pallas kernels in Chromium: kernel names and
MLIR text from the user's program are shown as text (never run), and hovering a program in the
grid picture lights up the blocks it reads and writes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from tests import pallas_kernels as pk
from tests.browser._lab import screenshot

pytestmark = pytest.mark.browser

EVIL = '<img src=x onerror="window.__pwned=1;alert(1)">'
MLIR_EVIL = EVIL.replace('"', "\\22")
F32 = jax.ShapeDtypeStruct((512, 512), jnp.float32)


def evil_program(x, y):
    # the kernel's name reaches the kernel views; the output's key reaches the StableHLO text
    return {EVIL: pk.tiled_matmul(x, y, name=EVIL)}


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("pallas-html")
    pi = jaxlab.inspect(evil_program, F32, F32, platforms=("tpu", "rocm"))
    # the payload is really in the MLIR text (MLIR writes `"` as `\22`; the tag stays a tag)
    assert MLIR_EVIL in pi.stablehlo("tpu")
    assert pi.pallas_kernels[0].name == EVIL
    platform = root / "platform.html"
    platform.write_text(pi.to_html())
    xs = jax.random.normal(jax.random.key(0), (512, 256), jnp.float32)
    ys = jax.random.normal(jax.random.key(1), (256, 512), jnp.float32)

    def wrong(x, y):
        return pk.tiled_matmul(x, y, kernel=pk.wrong_matmul_kernel, name=EVIL)

    wrong.__name__ = EVIL
    check = jaxlab.check_kernel(wrong, lambda x, y: jnp.dot(x, y), xs, ys)
    checked = root / "check.html"
    checked.write_text(f"<!DOCTYPE html><html><body>{check._repr_html_()}</body></html>")
    return platform, checked


def assert_inert(page):
    assert page.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0


def test_kernel_names_and_mlir_text_are_escaped(pages, page):
    platform, checked = pages
    page.goto(platform.as_uri(), wait_until="load")
    assert_inert(page)
    assert page.locator(".jl-kname", has_text=EVIL).count() >= 1
    shlo = page.locator(".jl-pane", has_text="StableHLO for TPU").first
    assert MLIR_EVIL in shlo.inner_text()
    page.goto(checked.as_uri(), wait_until="load")
    assert_inert(page)
    assert page.locator(".jl-kname", has_text=EVIL).count() == 1


def test_hovering_a_program_lights_its_blocks(pages, page):
    platform, _ = pages
    page.goto(platform.as_uri(), wait_until="load")
    kernel = page.locator(".jl-kernel").first
    program = kernel.locator('rect.jl-prog[data-pid="1,2"]')
    index = program.get_attribute("data-p")
    mine = kernel.locator(f'rect.jl-blk[data-p~="{index}"]')
    assert mine.count() == 3  # one block of x, of y and of the output
    assert [mine.nth(i).get_attribute("data-block") for i in range(3)] == ["1,0", "0,2", "1,2"]
    other = kernel.locator('rect.jl-blk[data-block="3,3"]').first

    def fill(locator) -> str:
        return locator.evaluate("el => getComputedStyle(el).fill")

    page.mouse.move(0, 0)
    before = [fill(mine.nth(i)) for i in range(3)]
    program.hover()
    after = [fill(mine.nth(i)) for i in range(3)]
    assert all(a != b for a, b in zip(after, before, strict=True))
    assert len(set(after)) == 1
    assert fill(other) != after[0]
    screenshot(kernel, "pallas-kernel-hover")
