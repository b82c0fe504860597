"""The call convention of every public entry point that takes a call: ``entry(fn, *args,
option=..., kwargs={...})``.

jaxlab's own options are keyword-only; the call's own keyword arguments travel in the
``kwargs=`` mapping, so that a function with a parameter named like an option (``runs``,
``label``, ``stage``, ``platforms``) gets its value. For compatibility, a keyword that is not
an option still goes to the function (with a warning, once, naming ``kwargs=``); a keyword
that is both an option and a parameter of the function is an error naming both readings.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from jaxlab.base.format import function_name, short_repr
from jaxlab.base.renamed import warn_once, warn_renamed

Entry = TypeVar("Entry", bound=Callable[..., Any])


def parameters(fn: Any) -> set[str]:
    """The parameters of `fn` that a keyword can name (none when Python cannot tell)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set()
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name for name, p in sig.parameters.items() if p.kind in named}


def split_call(
    entry: str,
    fns: tuple[Any, ...],
    options: set[str],
    keywords: dict[str, Any],
    call_kwargs: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options of the entry point, keyword arguments of the call) of one call of `entry`.

    `keywords` are the keywords the entry point was called with, `call_kwargs` its
    ``kwargs=`` mapping (None when not given), `fns` the functions it calls."""
    if call_kwargs is not None and not isinstance(call_kwargs, Mapping):
        raise TypeError(
            f"`{entry}(..., kwargs=...)` takes a mapping of the call's keyword arguments, "
            f"e.g. kwargs={{'axis': 0}}; got {type(call_kwargs).__name__}."
        )
    given = dict(call_kwargs or {})
    chosen: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in keywords.items():
        if key not in options:
            extra[key] = value
            continue
        if call_kwargs is None:  # without kwargs=, `key` may have been meant for the function
            owners = [f for f in fns if key in parameters(f)]
            if owners:
                raise TypeError(_ambiguous(entry, key, value, owners[0], options))
        chosen[key] = value
    if extra:
        names = sorted(extra)
        spelled = f"kwargs={{{', '.join(f'{k!r}: ...' for k in names)}}}"
        if call_kwargs is not None:
            raise TypeError(
                f"`{entry}` has no option {', '.join(names)}; put the call's keyword arguments "
                f"in kwargs= ({spelled})."
            )
        warn_once(
            f"{entry} call keywords",
            f"`{entry}` passes keywords it does not take ({', '.join(names)}) on to the "
            f"function; write them as {spelled} so that they can never be read as jaxlab's "
            "own options",
            stacklevel=4,
        )
        given.update(extra)
    return chosen, given


def _ambiguous(entry: str, key: str, value: Any, fn: Any, options: set[str]) -> str:
    name = function_name(fn, "the function")
    shown = short_repr(value, 30)
    return (
        f"`{key}={shown}` is ambiguous: it is an option of `{entry}` and a parameter of "
        f"`{name}`. For `{name}`'s, pass kwargs={{{key!r}: {shown}}}; for `{entry}`'s, add "
        f"kwargs={{}} (or kwargs= with `{name}`'s own keywords)."
    )


def takes_call(
    *, functions: int = 1, entry: str | None = None, renamed: dict[str, str] | None = None
) -> Callable[[Entry], Entry]:
    """Decorate a public entry point ``def entry(fn, *args, <options>, kwargs=None)`` whose
    first `functions` positional arguments are the functions called: its keywords are split
    by :func:`split_call` before it runs, and it gets the call's keywords as `kwargs`
    (a dict). `renamed` maps an option's old name to its name: the old one still works and
    warns once."""
    old_names = dict(renamed or {})

    def decorate(fn: Entry) -> Entry:
        sig = inspect.signature(fn)
        options = {
            n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
        } - {"kwargs"}
        name = entry or f"jaxlab.{fn.__name__}"

        @functools.wraps(fn)
        def wrapper(*args: Any, kwargs: Mapping[str, Any] | None = None, **keywords: Any) -> Any:
            for old in set(keywords) & set(old_names):
                new = old_names[old]
                if new in keywords:
                    raise TypeError(f"`{name}`: give {new}= only ({old}= is its old name)")
                warn_renamed(f"`{name}({old}=...)`", f"`{new}=`", stacklevel=3)
                keywords[new] = keywords.pop(old)
            chosen, call_kwargs = split_call(name, args[:functions], options, keywords, kwargs)
            return fn(*args, **chosen, kwargs=call_kwargs)

        wrapper.options = frozenset(options)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
