"""Progress of a size sweep. ``start`` / ``update`` / ``finish`` is all a reporter needs; the
``%bench`` magic passes one that draws an HTML bar in the notebook, and this module's
:class:`TextProgress` redraws one line of text (``\\r``), which terminals and Jupyter's
streams both show in place."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

WIDTH = 24


class Progress(Protocol):
    def start(self, total: int, title: str) -> None: ...
    def update(self, done: int, text: str) -> None: ...
    def finish(self, text: str) -> None: ...


class NoProgress:
    def start(self, total: int, title: str) -> None:
        pass

    def update(self, done: int, text: str) -> None:
        pass

    def finish(self, text: str) -> None:
        pass


def bar_text(done: int, total: int, title: str, text: str) -> str:
    total = max(total, 1)
    filled = round(WIDTH * done / total)
    return f"{title} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total} {text}".rstrip()


class TextProgress:
    """One line of text, redrawn in place."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.total = 0
        self.title = ""
        self._width = 0

    def _draw(self, line: str, end: str = "") -> None:
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + pad + end)
        self.stream.flush()

    def start(self, total: int, title: str) -> None:
        self.total, self.title = total, title
        self._draw(bar_text(0, total, title, ""))

    def update(self, done: int, text: str) -> None:
        self._draw(bar_text(done, self.total, self.title, text))

    def finish(self, text: str) -> None:
        self._draw(f"{self.title}: {text}", end="\n")


def _live_stream(stream: Any) -> bool:
    """A terminal, or the stream of a Jupyter kernel (which honours \\r)."""
    try:
        if stream.isatty():
            return True
    except Exception:
        pass
    return type(stream).__module__.startswith("ipykernel")


def resolve(progress: Any) -> Progress:
    """'auto' (text where it can be redrawn in place), True, False/None, or a reporter."""
    if progress is None or progress is False:
        return NoProgress()
    if progress is True:
        return TextProgress()
    if progress == "auto":
        return TextProgress() if _live_stream(sys.stderr) else NoProgress()
    if all(hasattr(progress, m) for m in ("start", "update", "finish")):
        return progress
    raise TypeError(
        f"progress must be 'auto', True, False or an object with start/update/finish; "
        f"got {type(progress).__name__}"
    )


class Clock:
    """Elapsed seconds since creation."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.t0
