"""A pprof profile (``profile.proto``, gzip'd protobuf) as plain data, decoded with the standard
library: JAX's ``jax.profiler.device_memory_profile()`` writes one sample per live buffer, with
its bytes, its device and kind as labels, and the Python frames that created it."""

from __future__ import annotations

from dataclasses import dataclass, field

from jaxlab.ir._compressed import decompressed

Frame = tuple[str, int, str]  # (file, line, function)


class ProtobufError(ValueError):
    """The bytes are not a well-formed pprof profile."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field of one message: varints as ints,
    length-delimited fields as bytes, fixed-width fields as ints."""
    out: list[tuple[int, int, int | bytes]] = []
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, wire, value))
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > end:
                raise ProtobufError("truncated field")
            out.append((number, wire, data[pos : pos + size]))
            pos += size
        elif wire == 1:
            out.append((number, wire, int.from_bytes(data[pos : pos + 8], "little")))
            pos += 8
        elif wire == 5:
            out.append((number, wire, int.from_bytes(data[pos : pos + 4], "little")))
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _ints(wire: int, value: int | bytes) -> list[int]:
    """A repeated integer field: packed (bytes) or one varint."""
    if wire == 0:
        return [int(value)]  # type: ignore[arg-type]
    data = value if isinstance(value, bytes) else b""
    out, pos = [], 0
    while pos < len(data):
        v, pos = _varint(data, pos)
        out.append(v)
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


@dataclass(slots=True)
class Sample:
    """One sample: its values (one per sample type), labels and frames, innermost first."""

    values: list[int]
    labels: dict[str, str | int]
    frames: list[Frame] = field(default_factory=list)


@dataclass(slots=True)
class PprofProfile:
    sample_types: list[tuple[str, str]]  # (type, unit)
    samples: list[Sample]

    def value_index(self, kind: str) -> int | None:
        for i, (name, _) in enumerate(self.sample_types):
            if name == kind:
                return i
        return None


def parse_pprof(blob: bytes) -> PprofProfile:
    """Decode a pprof profile (gzip'd or not)."""
    blob = decompressed(blob, ProtobufError, "the profile")
    strings: list[str] = []
    raw_types: list[bytes] = []
    raw_samples: list[bytes] = []
    functions: dict[int, tuple[int, int]] = {}  # id -> (name index, file index)
    locations: dict[int, list[tuple[int, int]]] = {}  # id -> [(function id, line)], innermost first
    for number, _wire, value in fields(blob):
        if not isinstance(value, bytes):
            continue
        if number == 6:
            strings.append(value.decode("utf-8", "replace"))
        elif number == 1:
            raw_types.append(value)
        elif number == 2:
            raw_samples.append(value)
        elif number == 4:
            loc_id, lines = 0, []
            for n, w, v in fields(value):
                if n == 1 and w == 0:
                    loc_id = int(v)  # type: ignore[arg-type]
                elif n == 4 and isinstance(v, bytes):
                    fid = line = 0
                    for n2, w2, v2 in fields(v):
                        if n2 == 1 and w2 == 0:
                            fid = int(v2)  # type: ignore[arg-type]
                        elif n2 == 2 and w2 == 0:
                            line = _signed(int(v2))  # type: ignore[arg-type]
                    lines.append((fid, line))
            locations[loc_id] = lines
        elif number == 5:
            fid = name = file = 0
            for n, w, v in fields(value):
                if w != 0:
                    continue
                if n == 1:
                    fid = int(v)  # type: ignore[arg-type]
                elif n == 2:
                    name = int(v)  # type: ignore[arg-type]
                elif n == 4:
                    file = int(v)  # type: ignore[arg-type]
            functions[fid] = (name, file)

    def s(i: int) -> str:
        return strings[i] if 0 <= i < len(strings) else ""

    types = []
    for raw in raw_types:
        parts = {n: int(v) for n, w, v in fields(raw) if w == 0}  # type: ignore[arg-type]
        types.append((s(parts.get(1, 0)), s(parts.get(2, 0))))
    frame_memo: dict[int, list[Frame]] = {}
    samples = []
    for raw in raw_samples:
        loc_ids: list[int] = []
        values: list[int] = []
        labels: dict[str, str | int] = {}
        for n, w, v in fields(raw):
            if n == 1:
                loc_ids.extend(_ints(w, v))
            elif n == 2:
                values.extend(_signed(x) for x in _ints(w, v))
            elif n == 3 and isinstance(v, bytes):
                key, text, num, has_num = "", "", 0, False
                for n2, w2, v2 in fields(v):
                    if w2 != 0:
                        continue
                    if n2 == 1:
                        key = s(int(v2))  # type: ignore[arg-type]
                    elif n2 == 2:
                        text = s(int(v2))  # type: ignore[arg-type]
                    elif n2 == 3:
                        num, has_num = _signed(int(v2)), True  # type: ignore[arg-type]
                labels[key] = num if has_num and not text else text
        frames: list[Frame] = []
        for loc in loc_ids:
            found = frame_memo.get(loc)
            if found is None:
                found = []
                for fid, line in locations.get(loc, ()):
                    name, file = functions.get(fid, (0, 0))
                    found.append((s(file), line, s(name)))
                frame_memo[loc] = found
            frames.extend(found)
        samples.append(Sample(values, labels, frames))
    return PprofProfile(types, samples)
