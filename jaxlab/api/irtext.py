"""IR text returned by ``%jaxpr`` and ``%hlo``: a ``str`` that displays itself highlighted."""

from __future__ import annotations

from typing import Any

from jaxlab.base.display import Displayed


class IRText(Displayed, str):
    """Text of one IR (`dialect` is 'jaxpr', 'stablehlo' or 'hlo'), highlighted in notebooks.

    It is a plain ``str`` for printing and searching; `.source` is the JAX object it prints
    and `.inspection` the :class:`jaxlab.Inspection` it came from, when there is one.
    """

    dialect: str
    title: str
    source: Any
    inspection: Any

    def __new__(
        cls,
        text: str,
        dialect: str,
        title: str = "",
        *,
        source: Any = None,
        inspection: Any = None,
    ) -> IRText:
        obj = super().__new__(cls, text)
        obj.dialect = dialect
        obj.title = title
        obj.source = source  # the JAX object printed: ClosedJaxpr, Lowered or Compiled
        obj.inspection = inspection
        return obj
