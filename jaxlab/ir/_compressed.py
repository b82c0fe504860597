"""Profiler outputs arrive gzip'd or plain; read either."""

from __future__ import annotations

import gzip


def decompressed(blob: bytes, error: type[ValueError], what: str) -> bytes:
    """`blob` itself, or its gzip contents when it starts with gzip's magic bytes; a broken
    stream raises `error` naming `what`."""
    if blob[:2] != b"\x1f\x8b":
        return blob
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError) as exc:
        raise error(f"{what} is not a valid gzip stream ({exc})") from None
