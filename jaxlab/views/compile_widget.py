"""The live pass explorer: an anywidget whose front end is ``extension/src/passes.ts``
(bundled into ``jaxlab/static/passes.js``). Folded regions of a diff are sent when opened."""

from __future__ import annotations

import json
from typing import Any

from jaxlab.api.passes import PassPipeline
from jaxlab.base.display import renders
from jaxlab.views.compile import WIDGET_CSS, pass_model, step_rows
from jaxlab.views.inspector.widget import STATIC

PASSES_BUNDLE = STATIC / "passes.js"


def make_passes_widget(pipeline: Any, static_id: str = "") -> Any:
    import anywidget
    import traitlets

    class PassesWidget(anywidget.AnyWidget):
        _esm = PASSES_BUNDLE
        _css = WIDGET_CSS
        payload = traitlets.Unicode("").tag(sync=True)
        static_id = traitlets.Unicode("").tag(sync=True)

        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.on_msg(self._on_message)

        def _on_message(self, _widget: Any, content: dict, _buffers: Any) -> None:
            reply = answer(pipeline, content)
            if reply is not None:
                self.send(reply)

        def __repr__(self) -> str:
            return f"live pass explorer of {pipeline.fn_name}"

    payload = json.dumps(pass_model(pipeline), separators=(",", ":"))
    return PassesWidget(payload=payload, static_id=static_id)


def answer(pipeline: Any, content: dict) -> dict | None:
    """Rows of a folded region the widget opened."""
    if content.get("type") != "rows":
        return None
    req = content.get("req")
    try:
        rows = step_rows(pipeline, int(content["step"]), int(content["start"]), int(content["end"]))
    except (KeyError, TypeError, ValueError, StopIteration) as exc:
        return {"type": "rows", "req": req, "rows": [], "error": f"{type(exc).__name__}: {exc}"}
    return {"type": "rows", "req": req, "rows": rows}


@renders(PassPipeline, "display")
def show(pipeline: Any) -> None:
    """In a kernel: the static rendering, then the live explorer, which hides the static one
    once it runs (exports keep the static one)."""
    import uuid

    from IPython.display import display

    from jaxlab.base.display import render
    from jaxlab.views.compile import passes_html
    from jaxlab.views.inspector.widget import widgets_available

    live = widgets_available() and PASSES_BUNDLE.exists()
    static_id = uuid.uuid4().hex if live else ""
    html = render(lambda p: passes_html(p, static_id), pipeline)
    bundle = {"text/plain": repr(pipeline)}
    if html is not None:
        bundle["text/html"] = html
    display(bundle, raw=True)
    if not live:
        return
    widget = render(lambda p: make_passes_widget(p, static_id), pipeline, "live view")
    if widget is not None:
        pipeline.__dict__["_widget"] = widget
        display(widget)
