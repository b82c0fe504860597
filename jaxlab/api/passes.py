"""`jaxlab.passes`: the HLO passes that changed one call's module, each with the module before
and after and a diff that ignores renumbered names."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.format import function_name
from jaxlab.base.table import data_frame
from jaxlab.core import compile_profile as _watch
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.ir.hlo_diff import TextDiff, text_diff

_OPCODE = re.compile(r"=\s*\S+\s+([a-z][\w\-]*)\(")


@dataclass
class PassStep:
    """One pass that changed the module: `before` and `after` are the module's HLO text."""

    index: int
    pipeline: str
    name: str
    before: str
    after: str

    @cached_property
    def diff(self) -> TextDiff:
        return text_diff(f"{self.name} ({self.pipeline})", self.before, self.after)

    @property
    def renumbering_only(self) -> bool:
        """True when only names, layouts or metadata changed."""
        return not self.diff.changed

    def opcode_counts(self, which: str = "after") -> dict[str, int]:
        text = self.after if which == "after" else self.before
        counts: dict[str, int] = {}
        for m in _OPCODE.finditer(text):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        return counts

    def __repr__(self) -> str:
        d = self.diff
        return f"<PassStep {self.index} {self.name} in {self.pipeline!r}: -{d.removed} +{d.added}>"


@dataclass(repr=False)
class PassPipeline(Displayed):
    """The HLO passes that changed one call's module, in the order XLA ran them.

    XLA writes the module only after passes that changed it (and at each pipeline's start);
    passes that changed nothing are left out, and ``renumbering_only`` marks those whose
    change is only names, layouts or metadata."""

    fn_name: str
    module: str
    before_optimizations: str
    steps: list[PassStep] = field(default_factory=list)
    final: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, i: int) -> PassStep:
        return self.steps[i]

    @property
    def changed(self) -> list[PassStep]:
        """The steps whose change survives the renumbering-blind diff."""
        return [s for s in self.steps if not s.renumbering_only]

    def named(self, name: str) -> list[PassStep]:
        return [s for s in self.steps if s.name == name]

    def created(self, opcode: str) -> PassStep | None:
        """The first pass after which the module has more `opcode` instructions
        (``"fusion"``, ``"copy"``, ...) than before it: the pass that created one."""
        for step in self.steps:
            if step.opcode_counts("after").get(opcode, 0) > step.opcode_counts("before").get(
                opcode, 0
            ):
                return step
        return None

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": s.index,
                "pipeline": s.pipeline,
                "pass": s.name,
                "removed": s.diff.removed,
                "added": s.diff.added,
                "renumbering_only": s.renumbering_only,
            }
            for s in self.steps
        ]

    def to_pandas(self):
        return data_frame(self.rows(), "PassPipeline")

    def _ipython_display_(self) -> None:
        """In a kernel: the static view, then the live pass explorer."""
        renderer(self, "display")(self)


@takes_call()
def passes(
    fn: Callable,
    *args: Any,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> PassPipeline:
    """Compile ``fn(*args, **kwargs)`` with XLA writing the module after every pass, and return
    the passes that changed it (:class:`PassPipeline`). Nothing is run; temporary files are
    removed (an ``--xla_dump_to`` set in ``XLA_FLAGS`` is used instead, and kept). `fn`'s own
    keyword arguments go in ``kwargs={...}``."""
    kwargs = dict(kwargs or {})
    prepared = _stages.prepare(
        fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    lowered = prepared.trace().lower()
    module = _watch.module_name(lowered) or f"jit_{function_name(fn)}"
    dump = _watch.compile_dumped(lowered, module)
    result = PassPipeline(
        fn_name=function_name(fn),
        module=module,
        before_optimizations=dump.before_optimizations,
        notes=[dump.note] if dump.note else [],
    )
    previous = dump.before_optimizations
    for snap in dump.snapshots:
        if snap.after != "pipeline-start" and previous and snap.text != previous:
            result.steps.append(
                PassStep(snap.index, snap.pipeline, snap.after, previous, snap.text)
            )
        previous = snap.text
    try:
        result.final = dump.compiled.as_text() or previous
    except Exception:
        result.final = previous
    return result
