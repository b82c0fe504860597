"""The extension jaxlab's kernelspec loads at start-up (``--ext=jaxlab.preload``).

It is jaxlab's own extension under another module name, so that a notebook's first cell,
``%load_ext jaxlab`` (which makes it run in any IPython kernel: Colab, VS Code, a plain
``python3`` kernelspec), finds nothing loaded under that name and runs silently instead of
printing IPython's "already loaded" note; loading twice changes nothing.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    import jaxlab

    jaxlab.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    import jaxlab

    jaxlab.unload_ipython_extension(ipython)
