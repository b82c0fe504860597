"""How result objects show themselves: the text of ``repr()`` (and IPython's pretty printer)
and the static HTML of notebooks, each drawn by a view function that ``jaxlab.views``
registers for the result's type.

Results sit in layers below the views, so they never import them: a view module declares what
it draws with :func:`renders`, and :func:`renderer` finds it by type. The views are loaded on
the first lookup by the loader the package root installs (:func:`set_views_loader`), so that
loading jaxlab stays cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

View = TypeVar("View", bound=Callable[..., Any])

# (result type, kind) -> view function; kinds: "text", "html", and per type e.g. "page"
RENDERERS: dict[tuple[type, str], Callable[..., Any]] = {}
_loader: list[Callable[[], None]] = []


class RenderWarning(UserWarning):
    """A view of a result failed to draw; the text shows instead."""


def renders(cls: type, kind: str = "html") -> Callable[[View], View]:
    """Declare the decorated view function as the one drawing `kind` of `cls` (and of its
    subclasses, unless they have their own)."""

    def register(view: View) -> View:
        RENDERERS[(cls, kind)] = view
        return view

    return register


def set_views_loader(load: Callable[[], None]) -> None:
    """`load()` imports the view modules; it runs once, on the first lookup that misses."""
    _loader[:] = [load]


def _lookup(cls: type, kind: str) -> Callable[..., Any] | None:
    for klass in cls.__mro__:
        view = RENDERERS.get((klass, kind))
        if view is not None:
            return view
    return None


def renderer(obj: Any, kind: str) -> Callable[..., Any]:
    """The view function drawing `kind` of `obj` (an instance or a type)."""
    cls = obj if isinstance(obj, type) else type(obj)
    view = _lookup(cls, kind)
    if view is None and _loader:
        _loader.pop()()
        view = _lookup(cls, kind)
    if view is None:
        raise LookupError(f"no {kind} view of {cls.__name__} is registered in jaxlab.views")
    return view


class Displayed:
    """Mixin of the result objects: their text and HTML are drawn by the views registered for
    their type (kinds ``"text"`` and ``"html"``).

    A dataclass using it is declared with ``repr=False``, so that its repr is this one.
    """

    def __repr__(self) -> str:
        return renderer(self, "text")(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str | None:
        return render(lambda obj: renderer(obj, "html")(obj), self)


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
