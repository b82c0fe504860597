"""Saved inspections: what an :class:`~jaxlab.Inspection` shows, written to a JSON file and read
back (by another process, another jaxlab or JAX version) to compare with ``jaxlab.diff``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jaxlab.api.inspection import Inspection
from jaxlab.core.stages import StageTimings

FORMAT = "jaxlab.inspection"
VERSION = 1


class InspectionFileError(ValueError):
    """A file that is not a saved inspection this jaxlab can read."""


def save(insp: Inspection, path: str | Path) -> Path:
    import jax

    from jaxlab import __version__

    data = {
        "format": FORMAT,
        "version": VERSION,
        "jaxlab": __version__,
        "jax": jax.__version__,
        "fn_name": insp.fn_name,
        "in_avals": insp.in_avals,
        "out_avals": insp.out_avals,
        "jaxpr": insp.jaxpr_text,
        "stablehlo_debug": insp.stablehlo_debug,
        "hlo": insp.hlo,
        "cost": insp.cost,
        "memory": insp.memory,
        "timings": insp.timings.as_dict(),
        "backend": _backend(insp),
    }
    path = Path(path)
    path.write_text(json.dumps(data, default=float), encoding="utf-8")
    return path


def _backend(insp: Inspection) -> str:
    try:
        return str(insp.devices[0].platform) if insp.devices else ""
    except Exception:
        return ""


def load(path: str | Path) -> SavedInspection:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InspectionFileError(f"no file {str(path)!r}: give the path `save` wrote") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InspectionFileError(
            f"{str(path)!r} is not a saved jaxlab inspection (write one with "
            "`jaxlab.inspect(f, x).save(path)`)"
        )
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise InspectionFileError(
            f"{str(path)!r} was saved by a newer jaxlab ({data.get('jaxlab', '?')}, format "
            f"{version}; this one reads up to {VERSION}): `pip install --upgrade jaxlab`"
        )
    return SavedInspection(data, str(path))


class SavedInspection(Inspection):
    """An inspection read back from a file: its texts, analyses and timings, without the live
    JAX objects (``traced``, ``lowered``, ``compiled`` are None)."""

    _text_view = "compile:saved_text"
    _html_view = "compile:saved_html"

    def __init__(self, data: dict[str, Any], path: str = ""):
        self._data = data
        self.path = path
        self.__dict__.update(
            jaxpr_text=str(data.get("jaxpr") or ""),
            stablehlo_debug=str(data.get("stablehlo_debug") or ""),
            hlo=str(data.get("hlo") or ""),
            cost=data.get("cost"),
            memory=data.get("memory"),
            devices=[],
        )

    @property
    def fn_name(self) -> str:
        return str(self._data.get("fn_name", "?"))

    @property
    def jax_version(self) -> str:
        return str(self._data.get("jax", "?"))

    @property
    def jaxlab_version(self) -> str:
        return str(self._data.get("jaxlab", "?"))

    traced = lowered = compiled = jaxpr = output = property(lambda self: None)

    @property
    def stablehlo(self) -> str:  # type: ignore[override]
        return self.stablehlo_module.text

    @property
    def timings(self) -> StageTimings:
        t = self._data.get("timings") or {}
        return StageTimings(
            trace=float(t.get("trace") or 0.0),
            lower=float(t.get("lower") or 0.0),
            compile=float(t.get("compile") or 0.0),
            cached=tuple(t.get("cached") or ()),
        )

    @property
    def in_avals(self) -> str:
        return str(self._data.get("in_avals", "(?)"))

    @property
    def out_avals(self) -> str:
        return str(self._data.get("out_avals", "?"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
