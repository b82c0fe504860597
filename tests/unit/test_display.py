"""Every result object shows itself the same way: its repr and IPython's pretty text from
one views function, its static HTML from another."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.base import display
from jaxlab.base.display import Displayed, RenderWarning, renderer
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
        assert repr(obj) == renderer(cls, "text")(obj)
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
    def broken(result):
        raise ZeroDivisionError("no samples")

    result = BenchResult("f(x)", [], [])
    renderer(result, "html")  # the views are loaded
    monkeypatch.setitem(display.RENDERERS, (BenchResult, "html"), broken)
    with pytest.warns(RenderWarning, match="BenchResult.*ZeroDivisionError: no samples"):
        assert result._repr_html_() is None
    assert repr(result).startswith("bench f(x)")


def test_results_find_their_views_by_type_and_subclasses_inherit_them():
    class Sub(BenchResult):
        pass

    result = Sub("f(x)", [], [])
    assert renderer(result, "text") is renderer(BenchResult, "text")
    assert repr(result).startswith("bench f(x)")
    with pytest.raises(LookupError, match="no sparkline view of Sub is registered"):
        renderer(result, "sparkline")


def test_the_views_load_on_the_first_display_only():
    code = (
        "import sys, jaxlab\n"
        "from jaxlab.benchmarking.result import BenchResult\n"
        "r = BenchResult('f(x)', [], [])\n"
        "before = 'jaxlab.views' in sys.modules\n"
        "text = repr(r)\n"
        "print(before, 'jaxlab.views.bench' in sys.modules, text.startswith('bench f(x)'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.split() == ["False", "True", "True"]
