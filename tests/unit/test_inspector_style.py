"""One stylesheet and one link palette serve the inspector's static HTML and its live widget."""

from __future__ import annotations

import re
from pathlib import Path

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.views.inspector import style
from jaxlab.views.inspector.widget import make_widget

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def insp():
    def f(x):
        a = jnp.sin(x)
        b = jnp.cos(a) * 2.0
        return (a + b).sum()

    return jaxlab.inspect(f, jnp.ones((4, 4)), run=False)


def test_the_palette_is_defined_once_and_drawn_by_one_rule_per_colour():
    colours = style.palette()
    assert len(colours) == style.PALETTE == 10
    assert len(set(colours)) == len(colours)
    css = style.stylesheet()
    rules = re.findall(r"\.jl-c(\d+) \{ background: var\(--jl-c(\d+)\); \}", css)
    assert [(int(a), int(b)) for a, b in rules] == [(i, i) for i in range(style.PALETTE)]
    generated = (ROOT / "extension" / "src" / "generated" / "model.ts").read_text()
    assert f"export const PALETTE = {style.PALETTE};" in generated


def test_no_colour_of_the_inspector_is_written_outside_its_stylesheet():
    sources = [*ROOT.joinpath("extension", "src").rglob("*.ts")]
    sources += list((ROOT / "jaxlab" / "views" / "inspector").glob("*.py"))
    colour = re.compile(r"rgba?\(|#[0-9a-fA-F]{6}\b")
    offenders = [str(p.relative_to(ROOT)) for p in sources if colour.search(p.read_text())]
    assert offenders == []


def test_static_html_inlines_the_stylesheet_and_uses_the_palette(insp):
    html = insp._repr_html_()
    assert style.stylesheet() in html
    used = {int(g) for g in re.findall(r"\bjl-c(\d+)\b", html.split("</style>", 1)[1])}
    assert used and max(used) < style.PALETTE
    assert "var(--jl-linked-outline)" in html  # hover rules take their colours from it too


def test_the_widget_loads_the_same_stylesheet(insp):
    widget = make_widget(insp, insp.view_model())
    assert widget._css == style.CSS_FILE.read_text()
