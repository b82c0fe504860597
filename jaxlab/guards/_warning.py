"""One guard finding, shown once in the cell where it was found: text, HTML and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from jaxlab.base.display import renderer

MIME = "application/vnd.jaxlab.guard+json"

TITLES = {
    "stale-closure": "stale closure",
    "side-effect": "side effect at trace time",
    "recompiles": "recompilations",
    "internal": "guard failure",
}


@dataclass
class GuardWarning:
    """What a guard found: `summary` (what), `where` (source line), `fix` (how), plus the
    function and variable it concerns and the cell it was found in."""

    guard: str
    summary: str
    fix: str | None = None
    function: str | None = None
    variable: str | None = None
    cell: int | None = None
    where: str | None = None
    kind: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES.get(self.guard, self.guard)

    def text(self) -> str:
        lines = [f"[jaxlab] {self.title}: {self.summary}"]
        if self.where:
            lines.append(f"  at {self.where}")
        lines.extend(f"  {d}" for d in self.details)
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        html = renderer(self, "html")(self)
        return {"text/plain": self.text(), "text/html": html, MIME: self.to_json()}
