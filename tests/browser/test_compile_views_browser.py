"""The compile explorer's static views in chromium: pass names, module names and diff text from
the program are shown as text, never run as markup, also inside folded regions once opened."""

from __future__ import annotations

import pytest

from jaxlab.api.compile_diff import CompileDiff
from jaxlab.api.passes import PassPipeline, PassStep
from jaxlab.api.saved import FORMAT, VERSION, SavedInspection
from jaxlab.views._html import page as html_page

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
