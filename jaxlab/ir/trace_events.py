"""Kernel events of a profiler trace (Chrome-trace JSON, as JAX's profiler writes it with
``create_perfetto_trace=True``), as plain data.

Each kernel XLA runs is a complete event (``"ph": "X"``) whose ``args`` carry ``hlo_module``
and ``hlo_op``: the compiled module's name and the instruction's name, the names the optimized
HLO text uses. Times are microseconds on the trace's clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from jaxlab.ir._compressed import decompressed


class TraceError(ValueError):
    """The bytes are not a Chrome trace."""


@dataclass(slots=True)
class KernelEvent:
    """One run of one kernel."""

    op: str  # HLO instruction name ("" when the trace does not name it)
    name: str  # the event's name (the kernel as the runtime calls it)
    module: str
    device: int
    track: int  # index into Trace.tracks
    start_us: float
    dur_us: float
    run_id: str

    @property
    def end_us(self) -> float:
        return self.start_us + self.dur_us


@dataclass
class Trace:
    kernels: list[KernelEvent] = field(default_factory=list)
    tracks: list[str] = field(default_factory=list)  # "process / thread" of each track
    modules: dict[str, int] = field(default_factory=dict)  # module -> kernel events

    def of_module(self, module: str) -> list[KernelEvent]:
        return [k for k in self.kernels if k.module == module]


def load_trace(blob: bytes) -> dict:
    """The trace's JSON object (gzip'd or not)."""
    try:
        data = json.loads(decompressed(blob, TraceError, "the trace"))
    except ValueError as exc:
        raise TraceError(f"the trace is not JSON ({exc})") from None
    if isinstance(data, list):
        data = {"traceEvents": data}
    if not isinstance(data, dict) or not isinstance(data.get("traceEvents"), list):
        raise TraceError("the trace has no `traceEvents` list")
    return data


def _text(blob: bytes) -> str:
    return decompressed(blob, TraceError, "the trace").decode("utf-8", "replace")


_EVENT_START = '{"ph": '


def _fast_events(text: str) -> list[dict] | None:
    """The metadata events and the events naming an HLO module, cut out of the text and
    decoded in one go: a large trace is mostly other events (thread-pool markers, host
    activity), and decoding only these is several times quicker than the whole document.
    None when the text is not laid out as JAX writes it (the caller then decodes everything).
    """
    if not text.lstrip().startswith("{"):
        return None
    pieces: list[str] = []
    starts: set[int] = set()
    for marker, back in (('"hlo_module"', 0), ('"ph": "M"', len('"ph": "M"'))):
        pos = text.find(marker)
        while pos >= 0:
            start = text.rfind(_EVENT_START, 0, pos + back)
            end = text.find("}}", pos)
            if start < 0 or end < 0:
                return None
            if start not in starts:
                starts.add(start)
                pieces.append(text[start : end + 2])
            pos = text.find(marker, end)
    if not pieces:
        return None
    try:
        events = json.loads("[" + ",".join(pieces) + "]")
    except ValueError:
        return None
    for event in events:
        if not isinstance(event, dict):
            return None
        if event.get("ph") == "X" and "hlo_module" not in (event.get("args") or {}):
            return None  # the marker was inside another event's text: decode everything
    return events


def parse_trace(blob: bytes | dict) -> Trace:
    """Kernel events of a trace: the complete events that name an HLO module."""
    if isinstance(blob, dict):
        data = blob
    else:
        text = _text(blob)
        events = _fast_events(text) if '"traceEvents"' in text[:200] else None
        data = {"traceEvents": events} if events is not None else load_trace(text.encode())
    processes: dict[object, str] = {}
    threads: dict[tuple[object, object], str] = {}
    raw: list[dict] = []
    for ev in data["traceEvents"]:
        if not isinstance(ev, dict):
            continue
        ph = ev.get("ph")
        if ph == "X":
            args = ev.get("args")
            if isinstance(args, dict) and "hlo_module" in args:
                raw.append(ev)
        elif ph == "M":
            args = ev.get("args") or {}
            if ev.get("name") == "process_name":
                processes[ev.get("pid")] = str(args.get("name", ""))
            elif ev.get("name") == "thread_name":
                threads[(ev.get("pid"), ev.get("tid"))] = str(args.get("name", ""))
    trace = Trace()
    track_index: dict[tuple[object, object], int] = {}
    kernels = trace.kernels
    modules = trace.modules
    for ev in raw:
        args = ev["args"]
        key = (ev.get("pid"), ev.get("tid"))
        track = track_index.get(key)
        if track is None:
            track = track_index[key] = len(trace.tracks)
            process = processes.get(key[0], f"process {key[0]}")
            thread = threads.get(key, f"thread {key[1]}")
            trace.tracks.append(f"{process} / {thread}")
        try:
            device = int(args.get("device_ordinal", 0))
            start, dur = float(ev.get("ts", 0.0)), float(ev.get("dur", 0.0))
        except (TypeError, ValueError):
            continue
        module = args["hlo_module"]
        module = module if isinstance(module, str) else str(module)
        op = args.get("hlo_op") or ""
        kernels.append(
            KernelEvent(
                op if isinstance(op, str) else str(op),
                str(ev.get("name", "")),
                module,
                device,
                track,
                start,
                dur if dur > 0 else 0.0,
                str(args.get("run_id", "")),
            )
        )
        modules[module] = modules.get(module, 0) + 1
    trace.kernels.sort(key=lambda k: k.start_us)
    return trace
