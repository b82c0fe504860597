"""Turn exceptions from JAX and user code into one short message: what is wrong, where, the fix.

No IPython here: the magics wrap the message in a ``UsageError``; other layers may print it.
"""

from __future__ import annotations

import linecache
import re
import textwrap
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import jax

from jaxlab.base.format import source_location
from jaxlab.ir.sources import is_users

_ARG_DEPENDS = re.compile(r"depends on the value of the argument ([\w\[\]'\".]+)")
_TRACING_FN = re.compile(r"while tracing the function (\S+) at (\S+):(\d+)")
_NONSCALAR = re.compile(
    r"Gradient only defined for scalar-output functions\. Output had shape: (\S+?)\.?$", re.M
)
_INT_GRAD = re.compile(r"requires real(?:- or complex)?-valued inputs .* but got (\w+)")
_ARITY = re.compile(r"(\S+)\(\) (takes|missing|got an unexpected|got multiple)")


@dataclass
class Explanation:
    """A short account of an error: `summary` (what), `where` (user source line), `fix` (how)."""

    summary: str
    fix: str | None = None
    where: str | None = None
    original: BaseException | None = None
    # which case matched: one of PITFALLS, or "shape", "arity", "vmap", "name", "syntax", "other"
    kind: str = "other"

    def message(self, prefix: str = "", width: int | None = None) -> str:
        """The summary, where and fix, one a line; with `width`, each wrapped at spaces to
        that many columns (a notebook's error output otherwise breaks long lines anywhere,
        mid-word)."""
        parts = [(f"{prefix}{self.summary}", "  ")]
        if self.where:
            parts.append((f"  at {self.where}", "     "))
        if self.fix:
            parts.append((f"  fix: {self.fix}", "       "))
        if width is None:
            return "\n".join(text for text, _ in parts)
        return "\n".join(
            textwrap.fill(
                text, width, subsequent_indent=indent, break_long_words=False,
                break_on_hyphens=False,
            )
            for text, indent in parts
        )  # fmt: skip


# -- locating the user's line ------------------------------------------------------------------


def user_frame(tb: TracebackType | None) -> tuple[str, int, str, str] | None:
    """(file, line, function, source text) of the innermost traceback frame in user code."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if is_users(code.co_filename):
            line = linecache.getline(code.co_filename, tb.tb_lineno, tb.tb_frame.f_globals).strip()
            found = (code.co_filename, tb.tb_lineno, code.co_name, line)
        tb = tb.tb_next
    return found


def describe_frame(
    frame: tuple[str, int, str, str] | None,
    cell_label: Callable[[str], str | None] | None = None,
) -> str | None:
    if frame is None:
        return None
    filename, lineno, function, text = frame
    label = cell_label(filename) if cell_label else None
    place = f"{label}, line {lineno}" if label else source_location(filename, lineno)
    if function not in ("<module>", "<lambda>"):
        place += f" (in {function})"
    return f"{place}: {text}" if text else place


# -- classification ------------------------------------------------------------------------------


def describe_value(value: object) -> str:
    """'a jax.Array of shape (3,)', 'an int (3)', 'a str' — for messages about wrong values."""
    import numpy as np

    if isinstance(value, jax.Array):
        return f"a jax.Array of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape}"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    if isinstance(value, (int, float, complex, bool)):
        return f"{article} {name} ({value!r})"
    from jaxlab.base.pytrees import is_array, summarize

    if not is_array(value) and any(is_array(leaf) for leaf in jax.tree_util.tree_leaves(value)):
        return f"{article} {name} ({summarize(value, 60)})"
    return f"{article} {name}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _depends_on(exc: BaseException) -> str:
    m = _ARG_DEPENDS.search(str(exc))
    return f" (it depends on argument `{m.group(1).rstrip('.')}`)" if m else ""


def explain(
    exc: BaseException,
    *,
    fn_name: str | None = None,
    cell_label: Callable[[str], str | None] | None = None,
) -> Explanation:
    """Classify `exc` and say what is wrong and how to fix it."""
    where = describe_frame(user_frame(exc.__traceback__), cell_label)
    fn = f"`{fn_name}`" if fn_name else "the function"
    text = str(exc)
    errors = jax.errors

    def make(summary: str, fix: str | None = None, kind: str = "other") -> Explanation:
        return Explanation(summary, fix, where, exc, kind)

    if isinstance(exc, errors.TracerBoolConversionError):
        return make(
            f"{fn} uses a traced value in Python control flow (if/while/and/or){_depends_on(exc)}; "
            "under jit or vmap its value is not known while tracing.",
            "use jax.lax.cond, jnp.where or jax.lax.while_loop, or make the argument static "
            "(static_argnums / --static-argnums).",
            kind="tracer-bool",
        )
    if isinstance(exc, errors.TracerIntegerConversionError):
        return make(
            f"{fn} uses a traced value as a Python integer (an index, range() or a shape)"
            f"{_depends_on(exc)}.",
            "make that argument static (static_argnums / --static-argnums), or use "
            "jax.lax.fori_loop and dynamic indexing.",
            kind="tracer-int",
        )
    if isinstance(exc, errors.TracerArrayConversionError):
        return make(
            f"{fn} converts a traced array to a NumPy array (np.asarray or a NumPy function)"
            f"{_depends_on(exc)}.",
            "use jax.numpy (jnp) instead of numpy inside the function.",
            kind="tracer-array",
        )
    if isinstance(exc, errors.UnexpectedTracerError):
        return make(
            "a traced value escaped its transformation (kept in a global, a list or a closure "
            "and used later).",
            "return the value from the function instead of storing it outside.",
            kind="unexpected-tracer",
        )
    if type(exc).__name__ == "ShardingTypeError":
        return make(
            f"explicit sharding: {_first_line(exc)}",
            "say how the result is sharded (`out_sharding=` on the operation, e.g. "
            "`jnp.matmul(a, b, out_sharding=P('data', None))`), reshard an operand with "
            "`jax.sharding.reshard`, or make the mesh with `axis_types=(AxisType.Auto, …)` so "
            "the compiler chooses.",
            kind="sharding-type",
        )
    if isinstance(exc, errors.ConcretizationTypeError) or (
        "concrete value" in text and isinstance(exc, TypeError)
    ):
        return make(
            f"{fn} needs a concrete Python value, but got a traced one{_depends_on(exc)}: "
            f"{_first_line(exc)}",
            "make that argument static (static_argnums / --static-argnums), or keep shapes "
            "independent of array values.",
            kind="concretization",
        )
    if isinstance(exc, TypeError):
        if "JAX arrays are immutable" in text:
            return make(
                "JAX arrays are immutable: `x[i] = v` cannot change them in place.",
                "write `x = x.at[i].set(v)` (or .add, .multiply, …), which returns a new array.",
                kind="immutable",
            )
        m = _NONSCALAR.search(text)
        if m:
            return make(
                f"{fn} returns an array of shape {m.group(1)}, but grad needs a scalar output.",
                "reduce the output (e.g. `.sum()` or `.mean()`), or use %jacrev / %jacfwd for the "
                "full Jacobian.",
                kind="grad-nonscalar",
            )
        m = _INT_GRAD.search(text)
        if m:
            return make(
                f"differentiation needs floating-point inputs, but got {m.group(1)}.",
                "pass floats, e.g. `2.0` instead of `2`, or `x.astype(jnp.float32)`.",
                kind="grad-int",
            )
        if _ARITY.search(text):
            return make(
                f"wrong arguments: {_first_line(exc)}",
                "check the call against the function's signature.",
                kind="arity",
            )
        if (
            "incompatible shapes" in text
            or "requires contracting dimensions" in text
            or ("shape" in text and "must" in text)
        ):
            return make(
                f"shape mismatch: {_first_line(exc)}",
                "check the shapes of the arguments (x.shape) against what the function expects.",
                kind="shape",
            )
    if isinstance(exc, ValueError) and "vmap got inconsistent sizes" in text:
        detail = " ".join(line.strip(" *;") for line in text.splitlines()[1:3])
        return make(
            f"vmap's mapped axes have different sizes: {detail}.",
            "give arrays of equal size along the mapped axis, or set --in-axes (None for "
            "arguments that are not mapped).",
            kind="vmap",
        )
    if isinstance(exc, NameError):
        return make(
            f"{_first_line(exc)}.",
            "define it in an earlier cell, or check the spelling.",
            kind="name",
        )
    if isinstance(exc, SyntaxError):
        return make(f"invalid syntax: {exc.msg}", None, kind="syntax")
    return make(f"{type(exc).__name__}: {_first_line(exc)}")


# JAX pitfalls worth explaining in any cell (the other kinds are explained by the magics only)
PITFALLS = frozenset(
    {
        "tracer-bool",
        "tracer-int",
        "tracer-array",
        "unexpected-tracer",
        "concretization",
        "immutable",
        "grad-nonscalar",
        "grad-int",
    }
)


def explain_pitfall(
    exc: BaseException, cell_label: Callable[[str], str | None] | None = None
) -> Explanation | None:
    """The explanation of `exc` when it is one of JAX's pitfalls (a tracer used as a Python
    value, a leaked tracer, an in-place update, a bad grad), else None. The function named is
    the innermost user function of the traceback."""
    frame = user_frame(exc.__traceback__)
    fn_name = frame[2] if frame and frame[2] not in ("<module>", "<lambda>") else None
    explanation = explain(exc, fn_name=fn_name, cell_label=cell_label)
    return explanation if explanation.kind in PITFALLS else None


def format_traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
