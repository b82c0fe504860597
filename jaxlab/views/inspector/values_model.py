"""The typed parts of the inspector's view model that show the values of a run
(``jaxlab.numerics``, ``inspect(..., numerics=True)``): the numerics section, its table and
the values column of the jaxpr pane. ``model`` lists them with the other types of the model
(the widget's TypeScript types are generated from them)."""

from __future__ import annotations

from typing import Literal, TypedDict

MAX_NUMERICS_ROWS = 5000  # equation outputs sent to the widget


NumericsKey = Literal[
    "equation", "primitive", "phase", "where", "scope", "value", "nonfinite", "min", "max",
    "absmin_nonzero", "zero_frac", "subnormal_frac", "overflow_bf16", "overflow_f16",
    "underflow_f16", "overflow_fp8_e4m3", "underflow_fp8_e4m3",
]  # fmt: skip


class NumericsColumn(TypedDict):
    """A column of the numerics table: the field it shows, its title, how it sorts."""

    key: NumericsKey
    title: str
    numeric: bool


class NumericsColumns(TypedDict):
    """Equation outputs in execution order, one list per field (row i is item i of each):
    numbers as numbers (None: nothing to show), fractions 0..1, the exponent histogram
    trimmed to its used binades (``hist[i][k]`` counts binade ``hist_low[i] + k``)."""

    row: list[int]  # index in Numerics.equation_stats
    equation: list[int]
    primitive: list[str]
    phase: list[str]
    where: list[str]
    scope: list[str]
    value: list[str]  # dtype[shape]
    nonfinite: list[int]  # NaN and ±Inf elements
    nonfinite_text: list[str]
    min: list[float | None]
    max: list[float | None]
    absmin_nonzero: list[float | None]
    zero_frac: list[float | None]
    subnormal_frac: list[float | None]
    overflow_bf16: list[float | None]
    overflow_f16: list[float | None]
    underflow_f16: list[float | None]
    overflow_fp8_e4m3: list[float | None]
    underflow_fp8_e4m3: list[float | None]
    hist_low: list[int]
    hist: list[list[int]]
    eqn_path: list[str]
    jaxpr_line: list[int]  # line of its equation in the jaxpr pane (0-based; -1: none)


class BinadeEdge(TypedDict):
    """A narrower format's range in binades, marked on the sparklines: below `low` a value
    flushes to zero, above `high` it overflows."""

    name: str
    low: int
    high: int
    colour: str


class ValueCell(TypedDict):
    """The values column beside one jaxpr line (``inspect(..., numerics=True)``)."""

    text: str  # "-2.5 … 7", "NaN 3"
    state: Literal["finite", "nonfinite", "origin", "unrun"]
    heat: float  # share of the dtype's exponent range the largest |x| uses (0..1)
    tip: str


class NumericsSection(TypedDict):
    """The values of one instrumented run (``jaxlab.numerics``, ``inspect(numerics=True)``):
    the answer, a sortable table with exponent sparklines, and in the inspector the values
    column of the jaxpr pane, the marked source lines and the origin to scroll to."""

    kind: Literal["numerics"]
    html: str  # the whole static rendering
    head_html: str  # the answer, its fix, what ran, the casts (the widget adds the table)
    answer: str
    clean: bool
    origin_row: int  # index in rows of the origin (-1: none)
    columns: list[NumericsColumn]
    rows: NumericsColumns  # the first MAX_NUMERICS_ROWS outputs
    total_rows: int
    axis: list[int]  # [lowest, highest] binade the sparklines share
    edges: list[BinadeEdge]
    values: dict[str, ValueCell]  # by jaxpr pane line (0-based)
    source_marks: dict[str, Literal["nonfinite", "origin"]]  # by source pane line
    origin_lines: dict[str, int]  # pane id -> line (0-based) of the origin


class PrecisionSection(TypedDict):
    """The error of a second numerical configuration (``inspect(..., compare="bf16")``): the
    answer and the creators (the static rendering of the ``NumericsDiff``), and in the
    inspector an error column beside the jaxpr lines, heat on the source lines by the error
    they make, and the equation that makes the most to scroll to."""

    kind: Literal["precision"]
    html: str  # the whole static rendering: answer, fix, error along the program, creators
    answer: str
    values: dict[str, ValueCell]  # by jaxpr pane line (0-based): off by / made, heat
    source_heat: dict[str, float]  # by source pane line: heat (0..1) of its worst local error
    origin_lines: dict[str, int]  # pane id -> line (0-based) of the equation making the most
