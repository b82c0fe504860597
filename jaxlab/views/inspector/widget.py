"""The live inspector: an anywidget whose front end is ``extension/`` bundled into
``jaxlab/static/``, styled by the inspector's stylesheet (``inspector.css``, the one the static
HTML inlines). The view model travels gzipped as one binary buffer; graph layouts are computed
on request, one view at a time."""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxlab.api.inspection import Inspection
from jaxlab.api.numerics import Numerics
from jaxlab.base.display import render, renders
from jaxlab.views._html import fragment
from jaxlab.views.graph import graph_view
from jaxlab.views.inspector.html import inspector_html
from jaxlab.views.inspector.model import VERSION
from jaxlab.views.inspector.style import CSS_FILE
from jaxlab.views.numerics import numerics_body, numerics_section

if TYPE_CHECKING:
    from jaxlab.views.inspector.model import LayoutFailure, LayoutReply, ViewModel, VizReply

STATIC = Path(__file__).resolve().parents[2] / "static"
BUNDLE = STATIC / "inspector.js"
VIZ_BUNDLE = STATIC / "viz.js"


def widgets_available() -> bool:
    """True inside a running IPython kernel (which may have a widget manager) when the front
    end was built. Elsewhere (a terminal, nbconvert, scripts) the static HTML is shown."""
    if not BUNDLE.exists():
        return False
    kernelapp = sys.modules.get("ipykernel.kernelapp")
    if kernelapp is None:
        return False
    try:
        return bool(kernelapp.IPKernelApp.initialized())
    except Exception:
        return False


def encode(model: ViewModel) -> bytes:
    """The view model as gzipped JSON (what the widget receives)."""
    data = json.dumps(model, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=3, mtime=0)


@renders(Inspection, "display")
def display_inspection(insp: Inspection) -> None:
    """In a kernel: the static rendering, then the live widget, which hides the static one
    once it runs. Exports and viewers without a widget manager (nbconvert, GitHub, a
    notebook opened without its kernel) keep showing the static rendering, whether or not
    the widget state was saved."""
    display_live(
        insp,
        lambda: Inspection.view_model(insp),
        lambda model, static_id: inspector_html(model, insp, static_id),
        insp,
    )


@renders(Numerics, "display")
def display_numerics(n: Numerics) -> None:
    """The values of a run as the inspector draws them: the static rendering, then the live
    one (a sortable table) where a widget manager runs."""
    display_live(
        n,
        lambda: numerics_model(n),
        lambda _model, static_id: fragment(
            numerics_body(n), extra_class="jl-numerics", static_id=static_id
        ),
        None,
    )


def numerics_model(n: Numerics) -> ViewModel:
    """The view model of a :class:`jaxlab.Numerics` shown on its own: its one section."""
    return {"version": VERSION, "title": n.fn_name, "sections": [numerics_section(n)]}


def display_live(
    result: Any,
    build: Callable[[], ViewModel],
    static_html: Callable[[ViewModel, str], str],
    insp: Inspection | None,
) -> None:
    """The static rendering of `result`'s view model, then, in a kernel with the front end
    built, the live widget that hides it once it runs (`insp` answers its graph requests)."""
    import uuid

    from IPython.display import display

    static_id = uuid.uuid4().hex if widgets_available() else ""
    model = render(lambda _: build(), result)
    html = None
    if model is not None:
        html = render(lambda _: static_html(model, static_id), result)
    bundle = {"text/plain": repr(result)}
    if html is not None:
        bundle["text/html"] = html
    display(bundle, raw=True)
    if html is None or not static_id:
        return
    widget = render(lambda _: make_widget(insp, model, static_id), result, "live view")
    if widget is not None:
        result.__dict__["_widget"] = widget
        display(widget)


def make_widget(insp: Inspection | None, model: ViewModel, static_id: str = "") -> Any:
    """The live inspector. Once it runs, it hides the static rendering marked `static_id`
    (shown where there is no widget manager: exports, GitHub, a notebook opened without its
    kernel)."""
    import anywidget
    import traitlets

    class InspectorWidget(anywidget.AnyWidget):
        _esm = BUNDLE
        _css = CSS_FILE
        payload = traitlets.Bytes(b"").tag(sync=True)
        static_id = traitlets.Unicode("").tag(sync=True)

        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.on_msg(self._on_message)

        def _on_message(self, _widget: Any, content: dict, _buffers: Any) -> None:
            if insp is None:  # a view without graphs asks nothing
                return
            reply = answer(insp, content)
            if reply is not None:
                self.send(reply)

        def __repr__(self) -> str:
            return f"live view of {model['title']}"

    return InspectorWidget(payload=encode(model), static_id=static_id)


def answer(
    insp: Inspection, content: dict[str, Any]
) -> LayoutReply | LayoutFailure | VizReply | None:
    """The kernel's side of the widget's requests: graph layouts and the WebAssembly Graphviz."""
    kind = content.get("type")
    req = content.get("req")
    if kind == "layout":
        try:
            expanded = content.get("expanded")
            if expanded is not None and not isinstance(expanded, list):
                raise ValueError("expanded must be a list of group ids")
            view = graph_view(insp, str(content.get("graph", "jaxpr")), expanded)
        except Exception as exc:  # a broken request must not break the kernel
            return {"type": "layout", "req": req, "error": f"{type(exc).__name__}: {exc}"}
        return {"type": "layout", "req": req, **view}
    if kind == "viz":
        return {"type": "viz", "req": req, "source": VIZ_BUNDLE.read_text()}
    return None
