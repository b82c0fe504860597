"""The file format of saved inspections: what an inspection shows (IR texts, costs, memory,
timings, versions) as JSON, written and read back (by another process, another jaxlab or JAX
version) to compare with ``jaxlab.diff``. ``Inspection.save`` and ``Inspection.load`` use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jaxlab.base.files import ResultFileError, envelope, opened, write_json

FORMAT = "jaxlab.inspection"
VERSION = 1


class InspectionFileError(ResultFileError):
    """A file that is not a saved inspection this jaxlab can read."""


def data_of(insp: Any) -> dict[str, Any]:
    """What `insp` (an Inspection) shows, as JSON-able data."""
    return {
        **envelope(FORMAT, VERSION),
        "fn_name": insp.fn_name,
        "in_avals": insp.in_avals,
        "arguments": insp.arguments.text,
        "out_avals": insp.out_avals,
        "jaxpr": insp.jaxpr_text,
        "stablehlo_debug": insp.stablehlo_debug,
        "hlo": insp.hlo,
        "cost": insp.cost,
        "memory": insp.memory,
        "timings": insp.timings.as_dict(),
        "backend": _backend(insp),
    }


def write(insp: Any, path: str | Path) -> Path:
    """Save what `insp` (an Inspection) shows to `path`."""
    return write_json(data_of(insp), path)


def read(path: str | Path) -> dict[str, Any]:
    """The data of a saved inspection; InspectionFileError (one line) for anything else."""
    try:
        return opened(
            path, FORMAT, VERSION, "jaxlab inspection", "`jaxlab.inspect(f, x).save(path)`"
        )
    except InspectionFileError:
        raise
    except ResultFileError as exc:
        raise InspectionFileError(str(exc)) from None


def _backend(insp: Any) -> str:
    try:
        return str(insp.devices[0].platform) if insp.devices else ""
    except Exception:
        return ""
