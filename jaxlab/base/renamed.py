"""Old spellings of the public API that still work: each warns once per session with the new
spelling (a ``FutureWarning``, which Python shows to users by default)."""

from __future__ import annotations

import warnings
from typing import Any

_warned: set[str] = set()


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn, the first time only, that `old` is now spelled `new`."""
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(f"{old} is now {new}; the old spelling will go away", FutureWarning, stacklevel)


def warn_renamed_option(magic: str, old: str, new: str) -> None:
    """Warn, the first time only, that option `old` of ``%magic`` is now spelled `new`. The
    warning is attributed to the magic, not to jaxlab's code, so IPython shows it as one line:
    ``%bench:1: FutureWarning: --time is now --time-budget; the old spelling will go away``."""
    key = f"%{magic} {old}"
    if key in _warned:
        return
    _warned.add(key)
    message = f"{old} is now {new}; the old spelling will go away"
    warnings.warn_explicit(message, FutureWarning, filename=f"%{magic}", lineno=1)


def warn_once(key: str, message: str, *, stacklevel: int = 3) -> None:
    """Warn with `message` the first time `key` is seen in this session."""
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(message, FutureWarning, stacklevel)


class renamed:
    """An alias of attribute `new`, under an old name, that warns once when read or assigned:
    ``median = renamed("median_s")`` in a class body. Assigning through the old name sets `new`."""

    def __init__(self, new: str):
        self.new = new
        self.old = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name
        self.owner = owner.__name__

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        warn_renamed(f"`{self.owner}.{self.old}`", f"`.{self.new}`")
        return getattr(obj, self.new)

    def __set__(self, obj: Any, value: Any) -> None:
        warn_renamed(f"`{self.owner}.{self.old}`", f"`.{self.new}`")
        setattr(obj, self.new, value)
