"""The compile explorer's static views in chromium: pass names, module names and diff text from
the program are shown as text, never run as markup, also inside folded regions once opened."""

from __future__ import annotations

import re

import pytest

from jaxlab.api.compile_diff import CompileDiff
from jaxlab.api.inspection import SavedInspection
from jaxlab.api.passes import PassPipeline, PassStep
from jaxlab.api.saved import FORMAT, VERSION
from jaxlab.views._html import page as html_page
from tests.conftest import needs_widget_bundle

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert('xss')>"
SCRIPT = "<script>alert('script')</script>"


def _hlo(extra: str, n: int = 30) -> str:
    body = "\n".join(f"  %c.{i} = f32[] constant({i})" for i in range(n))
    return (
        f"HloModule jit_{HOSTILE}\n\nENTRY %main.1 (p.1: f32[]) -> f32[] {{\n{body}\n"
        f'  %p.1 = f32[] parameter(0), metadata={{op_name="{SCRIPT}"}}\n'
        f"  ROOT %r.1 = f32[] {extra}(%p.1, %p.1)\n}}\n"
    )


def _saved(name: str, op: str) -> SavedInspection:
    return SavedInspection(
        {
            "format": FORMAT,
            "version": VERSION,
            "fn_name": name,
            "in_avals": f"({SCRIPT},)",
            "jaxpr": f"{{ lambda ; a:f32[]. let b:f32[] = {op} a a in ({HOSTILE}) }}",
            "stablehlo_debug": "",
            "hlo": _hlo(op),
        }
    )


def _views() -> list[str]:
    before, after = _hlo("add"), _hlo("multiply") + f"// {SCRIPT}\n"
    pipeline = PassPipeline(
        fn_name=HOSTILE,
        module=f"jit_{SCRIPT}",
        before_optimizations=before,
        steps=[PassStep(3, f"pipeline {SCRIPT}", HOSTILE, before, after)],
        notes=[f"note {HOSTILE}"],
    )
    diff = CompileDiff(_saved(HOSTILE, "add"), _saved(SCRIPT, "multiply"), (HOSTILE, SCRIPT))
    return [pipeline._repr_html_(), diff._repr_html_()]


def test_compile_views_escape_names_and_diff_text(page, tmp_path):
    for i, fragment in enumerate(_views()):
        assert fragment is not None
        path = tmp_path / f"view{i}.html"
        path.write_text(html_page("compile view", fragment))
        page.goto(path.as_uri(), wait_until="load")
        root = page.locator(".jaxlab.jl-compile")
        assert root.count() == 1
        # open every folded region and every pass: their content is escaped too
        for _round in range(3):
            closed = root.locator("details:not([open]) > summary")
            for _ in range(closed.count()):
                closed.nth(0).click()
        assert root.locator("img").count() == 0
        assert root.locator("script").count() == 0
        text = root.inner_text()
        assert HOSTILE in text and SCRIPT in text
        page.wait_for_timeout(200)
        assert page.dialogs == []
        assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0


@needs_widget_bundle
@pytest.mark.slow
def test_live_pass_explorer_lists_passes_and_links_both_sides(lab, page):
    name = lab.write_notebook(
        "passes.ipynb",
        [
            "import jax, jax.numpy as jnp",
            "def fn(x):\n    with jax.named_scope(" + repr(HOSTILE) + "):\n"
            "        return x + x*x + x*x*x",
            "%passes fn(jnp.ones(1000))",
        ],
    )
    lab.open(page, name)
    lab.run_all(page)
    live = page.locator(".jaxlab.jl-passes-live")
    live.wait_for(timeout=180_000)
    static = page.locator("[data-jaxlab-static]")
    assert static.count() == 1 and not static.first.is_visible()
    items = live.locator(".jl-item")
    names = [items.nth(i).locator(".jl-pass").text_content() for i in range(items.count())]
    assert "fusion" in names
    items.nth(names.index("fusion")).click()
    view = live.locator(".jl-view")
    added = view.locator("tr.jl-added td.b", has_text="kind=kLoop")
    added.first.wait_for(timeout=10_000)
    # hovering an instruction lights the instructions of its source line on both sides
    row = view.locator("tr.jl-removed", has_text="multiply").first
    row.hover()
    lit = view.locator("tr.jl-lit")
    assert lit.count() >= 2
    assert view.locator("tr.jl-lit.jl-added").count() >= 1
    folds = view.locator("tr.jl-fold")
    if folds.count():
        before = view.locator("tr").count()
        folds.first.click()
        page.wait_for_function(
            "n => document.querySelectorAll('.jl-passes-live .jl-view tr').length > n", arg=before
        )
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    # the HLO shown carries no op metadata (the hostile scope lived there): each instruction
    # carries the user's line (L3, the cell's line) in its gutter instead
    assert re.search(r"\bL3\s+ROOT %multiply_add_fusion", view.inner_text())
