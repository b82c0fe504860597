"""Results saved as JSON files: one envelope (format name, version, jaxlab and JAX versions),
one error for a file that is not what it should be, and ``save()`` returning the path as a
:class:`pathlib.Path` for every result that saves."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class ResultFileError(ValueError):
    """A file that is not a saved jaxlab result of the kind asked for, or one from a newer
    jaxlab."""


def write_json(data: dict[str, Any], path: str | os.PathLike, *, indent: int | None = None) -> Path:
    """Write `data` as JSON to `path`; the path written."""
    path = Path(path)
    path.write_text(json.dumps(data, default=float, indent=indent), encoding="utf-8")
    return path


def read_json(path: str | os.PathLike, what: str, how: str) -> Any:
    """The JSON in `path`; a one-line ResultFileError naming `what` it should be and `how` to
    make one when the file is missing or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(f"no file {str(path)!r}: give the path `save` wrote") from None
    except (UnicodeDecodeError, json.JSONDecodeError, IsADirectoryError):
        raise ResultFileError(
            f"{str(path)!r} is not a saved {what} (write one with {how})"
        ) from None


def jaxlab_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxlab")
    except PackageNotFoundError:
        return "unknown"


def envelope(format_name: str, version: int) -> dict[str, Any]:
    """The header of every saved result: what it is and who wrote it."""
    import jax

    return {
        "format": format_name,
        "version": version,
        "jaxlab": jaxlab_version(),
        "jax": jax.__version__,
    }


def opened(path: str | os.PathLike, format_name: str, version: int, what: str, how: str) -> dict:
    """The data of a saved result of `format_name`, checked: a ResultFileError (one line) for
    another kind of file or one from a newer jaxlab."""
    data = read_json(path, what, how)
    if not isinstance(data, dict) or data.get("format") != format_name:
        raise ResultFileError(f"{str(path)!r} is not a saved {what} (write one with {how})")
    found = data.get("version")
    if not isinstance(found, int) or found > version:
        raise ResultFileError(
            f"{str(path)!r} was saved by a newer jaxlab ({data.get('jaxlab', '?')}, format "
            f"{found}; this one reads up to {version}): `pip install --upgrade jaxlab`"
        )
    return data
