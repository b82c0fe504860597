"""The file format of saved inspections: what an inspection shows (IR texts, costs, memory,
timings, versions) as JSON, written and read back (by another process, another jaxlab or JAX
version) to compare with ``jaxlab.diff``. ``Inspection.save`` and ``Inspection.load`` use it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMAT = "jaxlab.inspection"
VERSION = 1


class InspectionFileError(ValueError):
    """A file that is not a saved inspection this jaxlab can read."""


def write(insp: Any, path: str | Path) -> Path:
    """Save what `insp` (an Inspection) shows to `path`."""
    import jax

    data = {
        "format": FORMAT,
        "version": VERSION,
        "jaxlab": _jaxlab_version(),
        "jax": jax.__version__,
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
    path = Path(path)
    path.write_text(json.dumps(data, default=float), encoding="utf-8")
    return path


def read(path: str | Path) -> dict[str, Any]:
    """The data of a saved inspection; InspectionFileError (one line) for anything else."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InspectionFileError(f"no file {str(path)!r}: give the path `save` wrote") from None
    except (UnicodeDecodeError, json.JSONDecodeError, IsADirectoryError):
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
    return data


def _jaxlab_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxlab")
    except PackageNotFoundError:
        return "unknown"


def _backend(insp: Any) -> str:
    try:
        return str(insp.devices[0].platform) if insp.devices else ""
    except Exception:
        return ""
