"""The one bracket- and quote-aware scanner shared by the magics and the IR parsers."""

from __future__ import annotations

import pytest

from jaxlab.base import scan
from jaxlab.ir.hlo import parse_attributes, tuple_elements
from jaxlab.magics._base import split_words


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("f(x, 'a b') --order 3", ["f(x, 'a b')", "--order", "3"]),
        ("h({x}) --quiet", ["h({x})", "--quiet"]),
        ('g("$x", [1, 2])   -n  2', ['g("$x", [1, 2])', "-n", "2"]),
        ("f('it\\'s a', b)", ["f('it\\'s a', b)"]),
        ("f('''a ' b''') x", ["f('''a ' b''')", "x"]),
        ("f(x)) y", ["f(x))", "y"]),  # a stray closing bracket is ignored
        ("f('open x", ["f('open x"]),  # an unterminated string runs to the end
        ("", []),
    ],
)
def test_python_words(line, words):
    assert scan.words(line) == words
    assert split_words(line) == words  # what the magics use


def test_hlo_attributes_split_only_at_top_level_commas():
    text = 'replica_groups={{0,1},{2,3}}, dimensions={0}, op_name="a,b\\"c", to_apply=%add'
    assert scan.split(text, ",", scan.HLO) == [
        "replica_groups={{0,1},{2,3}}",
        " dimensions={0}",
        ' op_name="a,b\\"c"',
        " to_apply=%add",
    ]
    assert parse_attributes(text)["op_name"] == '"a,b\\"c"'
    assert tuple_elements("(f32[2,3]{1,0}, (s32[], u8[4]))") == ["f32[2,3]{1,0}", "(s32[], u8[4])"]


def test_closing_bracket_skips_strings():
    text = 'f(a, "x)y", (b, c)) tail'
    assert scan.closing(text, 1, scan.HLO) == text.index(") tail")
    assert scan.closing("(never", 0, scan.HLO) == len("(never") - 1


def test_mlir_nests_angle_brackets_not_braces():
    text = 'callsite("f"(#loc1) at "g"(<a, b> at c)) at #loc3'
    assert scan.find(text, " at ", scan.MLIR) == text.index(") at #loc3") + 1
    assert scan.split("a<1, 2>, {b, c}", ", ", scan.MLIR) == ["a<1, 2>", "{b", "c}"]
    assert scan.string_end('"a\\"b" rest', 0, scan.MLIR) == 5
    assert scan.find("no separator", " at ", scan.MLIR) == -1
