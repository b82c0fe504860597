"""View models and their static HTML renderers. Everything user-controlled is escaped here.

Importing this package registers, in ``jaxlab.base.display``, the view functions that draw
each result type; the package root imports it on the first display.
"""

from jaxlab.views import (  # noqa: F401  (each registers its renderers)
    bench,
    compile,
    compile_widget,
    device_memory,
    devices,
    error,
    graph,
    guards,
    irtext,
    judge,
    memory,
    numerics,
    numerics_diff,
    pallas,
    placement,
    platform,
    profile,
    table,
)
from jaxlab.views.inspector import html, model, summary, widget  # noqa: F401
