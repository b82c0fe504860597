"""The one table type of results: rows as dicts, rows(), to_pandas(), its text and HTML."""

from __future__ import annotations

import re
import sys
import warnings

import pytest

from jaxlab.base import renamed
from jaxlab.base.table import Row, Table

EVIL = "<img src=x onerror=alert(1)>"


def lines_table() -> Table:
    rows = [
        {"where": "a.py:3", "code": "x @ y", "total_s": 2.5e-3, "percent": 75.0, "_own": 1},
        {"where": "a.py:4", "code": EVIL, "total_s": 5e-4, "percent": 25.0, "_own": 2},
    ]
    return Table(
        rows, ("where", "code", "total_s", "percent"), "Profile.by_line()", renamed={"t": "total_s"}
    )


@pytest.fixture(autouse=True)
def fresh_warnings():
    renamed._warned.clear()
    yield
    renamed._warned.clear()


def test_rows_are_plain_dicts_of_the_public_columns():
    t = lines_table()
    assert t.rows() == [
        {"where": "a.py:3", "code": "x @ y", "total_s": 2.5e-3, "percent": 75.0},
        {"where": "a.py:4", "code": EVIL, "total_s": 5e-4, "percent": 25.0},
    ]
    assert all(type(r) is dict for r in t.rows())
    assert t[0]["_own"] == 1 and isinstance(t[0], dict)  # jaxlab's own keys stay on the row
    assert len(t) == 2 and t[1]["code"] == EVIL


def test_a_slice_is_a_table_with_the_same_columns_and_title():
    top = lines_table()[:1]
    assert isinstance(top, Table) and top.columns == ("where", "code", "total_s", "percent")
    assert top.title == "Profile.by_line()" and len(top) == 1
    assert lines_table()[5:] == [] and Table([], ("a",), "T") == []


def test_to_pandas_keeps_the_column_order():
    pd = pytest.importorskip("pandas")
    frame = lines_table().to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["where", "code", "total_s", "percent"]
    assert frame["percent"].sum() == 100.0


def test_without_pandas_the_error_names_rows_of_the_same_object(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    t = lines_table()
    with pytest.raises(ImportError) as info:
        t.to_pandas()
    message = str(info.value)
    assert "pip install pandas" in message
    method = re.search(r"`([\w.()]+)\.rows\(\)`", message).group(1)
    assert method == "Profile.by_line()"  # the rows() it names exists: t.rows()


def test_old_attribute_and_column_spellings_warn_once_with_the_new_one():
    t = lines_table()
    with pytest.warns(FutureWarning, match=r"`row.code` is now `row\['code'\]`"):
        assert t[0].code == "x @ y"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert t[1].code == EVIL  # once only
    with pytest.warns(FutureWarning, match="column 't' is now 'total_s'"):
        assert t[0]["t"] == 2.5e-3
    with pytest.raises(KeyError):
        t[0]["nope"]
    with pytest.raises(AttributeError, match="no column 'nope'; its columns are where, code"):
        _ = t[0].nope


def test_rows_survive_pickling():
    import pickle

    row = pickle.loads(pickle.dumps(lines_table()[0]))
    assert isinstance(row, Row) and row["code"] == "x @ y"


def test_text_states_the_title_and_shows_cells_in_their_units():
    text = repr(lines_table())
    lines = text.splitlines()
    assert lines[0] == "Profile.by_line(): 2 rows"
    assert lines[1].split() == ["where", "code", "total_s", "percent"]
    assert "2.5 ms" in lines[2] and "75.0 %" in lines[2] and "500 µs" in lines[3]


def test_html_escapes_user_strings():
    html = lines_table()._repr_html_()
    assert EVIL not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Profile.by_line(): 2 rows" in html and "<table" in html


def test_a_long_table_says_how_to_get_every_row():
    t = Table([{"i": i} for i in range(60)], ("i",), "T")
    text = repr(t)
    assert "10 more rows: `.rows()` or `.to_pandas()` has them all" in text
    assert len(text.splitlines()) == 1 + 1 + 50 + 1
