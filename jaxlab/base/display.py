"""How result objects show themselves: the text of ``repr()`` (and IPython's pretty printer)
and the static HTML of notebooks, each drawn by a function of ``jaxlab.views``; and their rows
as a pandas ``DataFrame``."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, ClassVar


class RenderWarning(UserWarning):
    """A view of a result failed to draw; the text shows instead."""


class Displayed:
    """Mixin of the result objects: `_text_view` and `_html_view` name the functions of
    ``jaxlab.views`` that draw them, as ``"module:function"``; they are imported on first
    use, so that loading jaxlab stays cheap.

    A dataclass using it is declared with ``repr=False``, so that its repr is this one.
    """

    _text_view: ClassVar[str]
    _html_view: ClassVar[str]

    def __repr__(self) -> str:
        return view(self._text_view)(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str | None:
        return render(view(self._html_view), self)


def render(draw: Callable[[Any], Any], obj: Any, what: str = "HTML view") -> Any:
    """`draw(obj)`, or None (IPython then shows the text) with a warning when it fails: a
    view that breaks must not break the cell that displays the result."""
    try:
        return draw(obj)
    except Exception as exc:
        warnings.warn(
            f"jaxlab could not draw the {what} of this {type(obj).__name__} "
            f"({type(exc).__name__}: {exc}); showing its text instead",
            RenderWarning,
            stacklevel=3,
        )
        return None


@cache
def view(name: str) -> Callable[[Any], str]:
    """The views function ``"module:function"`` (a module of ``jaxlab.views``)."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(f"jaxlab.views.{module}"), function)


def data_frame(rows: list[dict[str, Any]], owner: str, columns: Sequence[str] | None = None):
    """`rows` as a ``pandas.DataFrame``; without pandas, an ImportError that says how to get
    it and that ``<owner>.rows()`` has the same data."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            f"`{owner}.to_pandas()` needs pandas: `pip install pandas` (or use "
            f"`{owner}.rows()`, a list of dicts)."
        ) from None
    return pd.DataFrame(rows, columns=list(columns) if columns is not None else None)
