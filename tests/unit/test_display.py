"""Every result object shows itself the same way: its repr and IPython's pretty text from
one views function, its static HTML from another."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.base.display import Displayed, RenderWarning, view
from jaxlab.benchmarking.compare import Comparison
from jaxlab.benchmarking.result import BenchResult
from jaxlab.core.errors import explain
from jaxlab.guards import RecompileLedger
from jaxlab.views.error import InspectionError


def results():
    try:
        jax.jit(lambda x: 1 if x > 0 else 0)(1.0)
    except TypeError as exc:
        error = exc
    insp = jaxlab.inspect(lambda x: jnp.sin(x) * 2, jnp.ones(4), run=False)
    return [
        jaxlab.devices(),
        jaxlab.placement(jnp.ones(4)),
        insp,
        jaxlab.IRText(insp.jaxpr_text, "jaxpr", "jaxpr of f"),
        insp.memory_timeline,
        BenchResult("f(x)", [], []),
        Comparison(["a", "b"]),
        RecompileLedger().report(),
        InspectionError(error, explain(error)),
    ]


class Printer:
    def __init__(self):
        self.out = ""

    def text(self, text):
        self.out += text


def test_text_and_html_come_from_the_views():
    for obj in results():
        cls = type(obj)
        # a dataclass declared without repr=False would replace the repr with its own
        assert cls.__repr__ is Displayed.__repr__, cls
        assert repr(obj) == view(cls._text_view)(obj)
        printer = Printer()
        obj._repr_pretty_(printer, False)
        assert printer.out == repr(obj)
        assert obj._repr_html_().startswith('<div class="jaxlab')


def test_an_ir_text_is_its_own_repr():
    text = jaxlab.IRText("HloModule m\n", "hlo")
    assert repr(text) == "HloModule m\n" and text == "HloModule m\n"


@pytest.mark.parametrize("make", [jaxlab.devices, lambda: jaxlab.placement(jnp.ones(2))])
def test_to_pandas_without_pandas_says_what_to_do(monkeypatch, make):
    obj = make()
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install pandas.*\.rows\(\)"):
        obj.to_pandas()


def test_a_view_that_fails_warns_and_leaves_the_text(monkeypatch):
    import jaxlab.views.bench as bench_views

    def broken(result):
        raise ZeroDivisionError("no samples")

    result = BenchResult("f(x)", [], [])
    view.cache_clear()
    monkeypatch.setattr(bench_views, "bench_html", broken)
    try:
        with pytest.warns(RenderWarning, match="BenchResult.*ZeroDivisionError: no samples"):
            assert result._repr_html_() is None
    finally:
        view.cache_clear()
    assert repr(result).startswith("bench f(x)")
