"""`jaxlab.jaxpr` and `jaxlab.hlo` (behind ``%jaxpr`` and ``%hlo``): the text of one IR of a
call, a ``str`` that displays itself highlighted."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jaxlab.base.display import Displayed
from jaxlab.base.format import function_name
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.core.jit import describe_args

STAGES = ("jaxpr", "stablehlo", "hlo")


class IRText(Displayed, str):
    """Text of one IR (`dialect` is 'jaxpr', 'stablehlo' or 'hlo'), highlighted in notebooks.

    It is a plain ``str`` for printing and searching; `.source` is the JAX object it prints
    and `.inspection` the :class:`jaxlab.Inspection` it came from, when there is one.
    """

    dialect: str
    title: str
    source: Any
    inspection: Any

    def __new__(
        cls,
        text: str,
        dialect: str,
        title: str = "",
        *,
        source: Any = None,
        inspection: Any = None,
    ) -> IRText:
        obj = super().__new__(cls, text)
        obj.dialect = dialect
        obj.title = title
        obj.source = source  # the JAX object printed: ClosedJaxpr, Lowered or Compiled
        obj.inspection = inspection
        return obj


@takes_call()
def jaxpr(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> IRText:
    """The jaxpr of ``fn(*args, **kwargs)``, traced as ``jax.jit`` would (nothing is lowered,
    compiled or run). `.source` is the ``ClosedJaxpr``.

    Arguments may be arrays, pytrees, Python values or ``jax.ShapeDtypeStruct`` placeholders;
    `fn`'s own keyword arguments go in ``kwargs={...}``.
    """
    kwargs = dict(kwargs or {})
    from jaxlab.ir.jaxpr import jaxpr_text

    prepared = _stages.prepare(
        fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    closed = prepared.trace().jaxpr
    title = f"jaxpr of {function_name(fn)}({describe_args(args, kwargs, fn)})"
    return IRText(jaxpr_text(closed), "jaxpr", title, source=closed)


@takes_call()
def hlo(
    fn: Callable,
    *args: Any,
    stage: str = "hlo",
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> IRText:
    """The program XLA compiles for ``fn(*args, **kwargs)``: `stage` 'hlo' (optimized, fused:
    what runs), 'stablehlo' (before XLA's passes) or 'jaxpr'. `.inspection` is the
    :class:`jaxlab.Inspection` with everything else (costs, fusions, timings). The text is
    empty when the backend gives none for that stage.

    The optimized HLO is the program's instructions, each ending in a ``//`` comment naming
    the line of your code that made it; JAX's stack-frame tables and the instructions'
    metadata are left out (XLA's full text is ``.source.as_text()``).

    jaxlab's options are keyword-only; `fn`'s own keyword arguments go in ``kwargs={...}``.
    """
    kwargs = dict(kwargs or {})
    from jaxlab.api.inspection import inspect  # here: %hlo's module loads without it
    from jaxlab.ir.hlo_text import hlo_display_text

    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    insp = inspect(
        fn,
        *args,
        run=False,
        static_argnums=static_argnums,
        static_argnames=static_argnames,
        kwargs=kwargs,
    )
    call = f"{function_name(fn)}({describe_args(args, kwargs, fn)})"
    if stage == "hlo":
        text = hlo_display_text(insp.hlo_module, insp._staged.fn)
        source, title = insp.compiled, f"optimized HLO of {call}"
    elif stage == "stablehlo":
        text, source, title = insp.stablehlo, insp.lowered, f"StableHLO of {call}"
    else:
        text, source, title = insp.jaxpr_text, insp.jaxpr, f"jaxpr of {call}"
    return IRText(text, stage, title, source=source, inspection=insp)
