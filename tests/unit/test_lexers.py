"""Pygments lexers for jaxpr, StableHLO and HLO, found through their entry points."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Name

from jaxlab.views.lexers import HloLexer, JaxprLexer, StableHloLexer


def program(x, w):
    def body(c, xs):
        return c + jnp.tanh(xs @ w).sum(), None

    return jax.lax.scan(body, 0.0, x)[0]


@pytest.fixture(scope="module")
def texts():
    args = (jnp.ones((4, 3, 5)), jnp.ones((5, 2)))
    traced = jax.jit(program).trace(*args)
    lowered = traced.lower()
    return {
        "jaxpr": str(traced.jaxpr),
        "stablehlo": lowered.as_text(debug_info=True),
        "hlo": lowered.compile().as_text(),
    }


@pytest.mark.parametrize(
    ("alias", "cls"), [("jaxpr", JaxprLexer), ("stablehlo", StableHloLexer), ("hlo", HloLexer)]
)
def test_entry_points_register_the_lexers(alias, cls):
    assert isinstance(get_lexer_by_name(alias), cls)


@pytest.mark.parametrize("alias", ["jaxpr", "stablehlo", "hlo"])
def test_real_programs_lex_without_errors(texts, alias):
    tokens = list(get_lexer_by_name(alias).get_tokens(texts[alias]))
    assert "".join(v for _, v in tokens).strip() == texts[alias].strip()
    assert not [v for t, v in tokens if t in Error]


def test_jaxpr_primitives_are_functions(texts):
    functions = {v for t, v in JaxprLexer().get_tokens(texts["jaxpr"]) if t in Name.Function}
    assert {"scan", "dot_general", "tanh"} <= functions


def test_hlo_opcodes_are_functions(texts):
    functions = {v for t, v in HloLexer().get_tokens(texts["hlo"]) if t in Name.Function}
    assert "while" in functions or "fusion" in functions


def test_nbconvert_highlights_ir_code_blocks(texts):
    nbformat = pytest.importorskip("nbformat")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"```jaxpr\n{texts['jaxpr']}\n```"),
        nbformat.v4.new_markdown_cell("```hlo\nROOT %add.0 = f32[3]{0} add(%a, %b)\n```"),
    ]
    html, _ = nbconvert.HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert '<span class="nf">dot_general</span>' in html
    assert '<span class="nf">add</span>' in html
