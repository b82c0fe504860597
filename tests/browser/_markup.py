"""What the browser tests put in the program to show that its names never become markup (a
named scope, a function name and a file name of markup), and the checks on a page: nothing
injected, a line scrolled into view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

EVIL = "<img src=x onerror=alert(1)>"
EVIL_NAME = '<b onmouseover="alert(2)">evil</b>'


def evil_source(body: str) -> str:
    """The source of `evil(x)`: `body` (its lines, the last a return) inside a named scope of
    markup."""
    lines = "".join(f"        {line}\n" for line in body.splitlines())
    return f"def evil(x):\n    with jax.named_scope({EVIL!r}):\n{lines}"


def evil_cell(body: str) -> str:
    """A notebook cell that defines `evil` (see `evil_source`) as evil_fn does: in a file
    named with markup, under a name of markup."""
    return (
        f"source = {evil_source(body)!r}\n"
        'space = {"jax": jax, "jnp": jnp}\n'
        f'exec(compile(source, {EVIL + ".py"!r}, "exec"), space)\n'
        'evil = space["evil"]\n'
        f"evil.__name__ = {EVIL_NAME!r}\n"
    )


def evil_fn(body: str) -> Callable[..., Any]:
    """`evil` (see `evil_source`) in this process, from a file named with markup, under a name
    of markup."""
    space: dict[str, Any] = {"jax": jax, "jnp": jnp}
    exec(compile(evil_source(body), EVIL + ".py", "exec"), space)
    evil = space["evil"]
    evil.__name__ = EVIL_NAME
    return evil


def assert_nothing_injected(page: Any) -> None:
    """No dialog opened, no image or event handler made of the program's names."""
    assert page.dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror], [onmouseover]').length") == 0


def visible_in(scroller: Any, line: Any) -> bool:
    """True when `line` lies inside the scrolled viewport of `scroller`."""
    box, view = line.bounding_box(), scroller.bounding_box()
    return (
        box is not None
        and view["y"] <= box["y"]
        and box["y"] + box["height"] <= (view["y"] + view["height"] + 1)
    )
