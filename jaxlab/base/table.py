"""The one table type of jaxlab's results: rows as dicts, ``rows()`` and ``to_pandas()``.

Every method or attribute of a result that returns rows returns a :class:`Table`: a list of
dicts (one per row, a key per column) that knows its columns and its title. Its text and HTML
are drawn by the views (``jaxlab.views.table``), like every result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, SupportsIndex, overload

from jaxlab.base.display import Displayed
from jaxlab.base.renamed import warn_renamed


class Row(dict):
    """One row: a dict (``row["total_s"]``). Reading a column as an attribute
    (``row.total_s``), the spelling of the rows that were dataclasses, still works and warns
    once; so does a column's old name (``row["seconds"]`` for ``row["time_s"]``)."""

    def __init__(self, data: dict[str, Any], renamed: dict[str, str] | None = None):
        super().__init__(data)
        self._renamed = renamed or {}

    def __missing__(self, key: str) -> Any:
        new = self._renamed.get(key)
        if new is None:
            raise KeyError(key)
        warn_renamed(f"column {key!r}", f"{new!r}")
        return self[new]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self:
            raise AttributeError(
                f"a row has no column {name!r}; its columns are {', '.join(map(str, self))}"
            )
        warn_renamed(f"`row.{name}`", f"`row[{name!r}]` (rows are dicts)")
        return self[name]

    def __reduce__(self) -> Any:
        return (Row, (dict(self), self._renamed))


class Table(Displayed, list):
    """Rows (dicts, a key per column) with ``rows()``, ``to_pandas()`` and a text and HTML
    view. `columns` are the public columns in order (keys starting with ``_`` are jaxlab's
    own and are left out of ``rows()`` and ``to_pandas()``); `title` names where the rows come
    from (``"Profile.by_line()"``), for messages."""

    def __init__(
        self,
        rows: Iterable[dict[str, Any]],
        columns: Sequence[str],
        title: str,
        note: str = "",
        *,
        renamed: dict[str, str] | None = None,
        footer: str = "",
    ):
        self.renamed = dict(renamed or {})  # a column's old name -> its name
        super().__init__(Row(r, self.renamed) for r in rows)
        self.columns = tuple(columns)
        self.title = title
        self.note = note  # one line under the title, e.g. how the rows were estimated
        self.footer = footer  # one line after the rows, e.g. the call that goes further

    def rows(self) -> list[dict[str, Any]]:
        """The rows as plain dicts of the public columns."""
        return [{c: row.get(c) for c in self.columns} for row in self]

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` with the public columns."""
        return data_frame(self.rows(), self.title, self.columns)

    @overload
    def __getitem__(self, index: SupportsIndex) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> Table: ...
    def __getitem__(self, index: Any) -> Any:
        got = list.__getitem__(self, index)
        if isinstance(index, slice):
            return Table(
                got,
                self.columns,
                self.title,
                self.note,
                renamed=self.renamed,
                footer=self.footer,
            )
        return got

    def __eq__(self, other: object) -> bool:
        return list.__eq__(self, other)

    __hash__ = None  # type: ignore[assignment]  (a list)


def data_frame(rows: list[dict[str, Any]], title: str, columns: Sequence[str] | None = None):
    """`rows` as a ``pandas.DataFrame``; without pandas, an ImportError that says how to get
    it and that ``.rows()`` of the same object has the same data as dicts."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"`{title}.to_pandas()` needs pandas: `pip install pandas` (or use "
            f"`{title}.rows()`, the same rows as a list of dicts)."
        ) from None
    return pd.DataFrame(rows, columns=list(columns) if columns is not None else None)
