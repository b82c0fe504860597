"""`jaxlab.profile`: where the time of a call goes — measured kernel times from JAX's profiler,
linked to the HLO kernels and the source lines they came from."""

from __future__ import annotations

import linecache
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.files import envelope, opened, write_json
from jaxlab.base.renamed import renamed
from jaxlab.base.table import Table
from jaxlab.benchmarking import roofline as _roofline
from jaxlab.core import profiler as _profiler
from jaxlab.core import stages as _stages
from jaxlab.core.calls import takes_call
from jaxlab.ir._bulk import gc_paused
from jaxlab.ir.kernel_times import NO_SOURCE, KernelProfile, KernelTime, attribute
from jaxlab.ir.trace_events import parse_trace

if TYPE_CHECKING:
    from jaxlab.api.inspection import Inspection
    from jaxlab.benchmarking.roofline import ComputePeak, Peak

KERNEL_COLUMNS = [
    "kernel", "kind", "device", "calls", "total_s", "mean_s", "percent", "source",
    "library_source", "scope", "bytes", "flops", "gbps", "gflops", "percent_of_peak", "bound",
    "percent_of_roof", "attributed",
]  # fmt: skip
LINE_COLUMNS = [
    "where", "file", "line", "code", "total_s", "per_call_s", "percent", "kernels", "split",
    "library",
]  # fmt: skip
SCOPE_COLUMNS = ["scope", "total_s", "per_call_s", "percent", "kernels"]
CALL_COLUMNS = [
    "call", "wall_s", "kernels", "kernel_s", "busy_s", "gaps_s", "host_s", "coverage_frac",
]  # fmt: skip


def where(line: tuple[str, int], labels: dict[str, str] | None = None) -> str:
    """``file.py:12``, or ``In [3]:2`` for a notebook cell named in `labels`."""
    file, n = line
    if not file and not n:
        return "(no source)"
    label = labels.get(file) if labels else None
    return f"{label or os.path.basename(file) or file}:{n}"


@dataclass(repr=False)
class Profile(Displayed):
    """Measured kernel times of `runs` calls of one compiled program, attributed to its kernels,
    source lines and named scopes. Build it with :func:`jaxlab.profile`.

    Times come from JAX's profiler trace (measured); bytes and FLOPs per kernel are estimated
    from shapes, so the rates derived from them are estimates of what the kernel achieved.
    """

    fn_name: str
    runs: int
    module: str
    kernels: list[KernelTime]
    calls: list[Any]
    timeline: list[Any]
    timeline_call: int
    tracks: list[str]
    devices: list[int]
    inspection: Inspection | None = None
    peak: Peak | None = None
    compute: ComputePeak | None = None  # the compute roof in the program's dtype
    caches: list[tuple[int, int]] = field(default_factory=list)  # (level, bytes) from the OS
    processing_s: float = 0.0  # jaxlab's reading of the trace, after JAX wrote it
    stop_s: float = 0.0  # JAX's collecting and writing the trace
    other_modules: dict[str, int] = field(default_factory=dict)
    # file -> how to name it ("In [3]" for a notebook cell; ``%profile`` fills it)
    file_labels: dict[str, str] = field(default_factory=dict)
    processing_steps_s: dict[str, float] = field(default_factory=dict)  # processing_s by step

    # -- totals ------------------------------------------------------------------------
    @property
    def wall_s(self) -> float:
        """Wall time of the profiled calls, each waited on to its last output."""
        return sum(c.wall_s for c in self.calls)

    @property
    def kernel_s(self) -> float:
        """Time when at least one kernel ran (kernels overlapping in time counted once)."""
        return sum(c.busy_s for c in self.calls)

    @property
    def kernel_sum_s(self) -> float:
        """Sum of every kernel's duration (on several devices or threads, may exceed wall)."""
        return sum(k.total_s for k in self.kernels)

    @property
    def gaps_s(self) -> float:
        return sum(c.gaps_s for c in self.calls)

    @property
    def host_s(self) -> float:
        return sum(c.host_s for c in self.calls)

    coverage = renamed("coverage_frac")
    steps = renamed("processing_steps_s")

    @property
    def coverage_frac(self) -> float:
        """Kernel time / wall time of the profiled calls, 0–1 (1.0: the device never
        waited)."""
        wall = self.wall_s
        return self.kernel_s / wall if wall > 0 else 0.0

    @property
    def kernels_per_call(self) -> float:
        return sum(c.kernels for c in self.calls) / len(self.calls) if self.calls else 0.0

    @property
    def unattributed(self) -> list[KernelTime]:
        """Kernels the trace names but the compiled program does not (kept, with their time)."""
        return [k for k in self.kernels if not k.attributed]

    @property
    def collectives(self) -> list[KernelTime]:
        return [k for k in self.kernels if k.collective]

    # -- rows --------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One dict per kernel and device (the rows of :meth:`kernel_rows`)."""
        return self.kernel_rows().rows()

    def kernel_rows(self) -> Table:
        """Time per kernel and device, as measured: calls, ``total_s``, ``mean_s``,
        ``percent`` of all kernel time, source lines, scope, estimated bytes and FLOPs and
        the rates they give."""
        total = self.kernel_sum_s or 1.0
        peak_gbps = self.peak.gbps if self.peak is not None else None
        out = []
        for k in self.kernels:
            mean = k.mean_s
            gbps = k.bytes / mean / 1e9 if k.bytes and mean > 0 else None
            gflops = k.flops / mean / 1e9 if k.flops and mean > 0 else None
            roofed = self.roof(k)
            out.append(
                {
                    "kernel": k.kernel,
                    "kind": k.kind,
                    "device": k.device,
                    "calls": k.calls,
                    "total_s": k.total_s,
                    "mean_s": mean,
                    "percent": 100 * k.total_s / total,
                    "source": _shares_text(_user_shares(k), self.file_labels),
                    "library_source": _shares_text(_library_shares(k), self.file_labels, ""),
                    "scope": ", ".join(s for s, _ in k.scopes if s),
                    "bytes": k.bytes or None,
                    "flops": k.flops or None,
                    "gbps": gbps,
                    "gflops": gflops,
                    "percent_of_peak": 100 * gbps / peak_gbps
                    if gbps is not None and peak_gbps
                    else None,
                    "bound": roofed.bound if roofed else None,
                    "percent_of_roof": roofed.percent if roofed else None,
                    "attributed": k.attributed,
                }
            )
        return Table(out, KERNEL_COLUMNS, "Profile.kernel_rows()")

    def roof(self, k: KernelTime) -> _roofline.Roof | None:
        """The roof that bounds kernel `k` (compute, memory, a cache level, or overhead) and
        the share of it reached, from its estimated bytes and FLOPs and the measured roofs."""
        if k.calls == 0 or (not k.bytes and not k.flops):
            return None
        work = _roofline.Work(k.bytes or None, k.flops or None, "shape estimates")
        return _roofline.roof(work, k.mean_s, self.peak, self.compute, self.caches)

    @property
    def verdict(self) -> str:
        """Where the time goes, in one sentence: the fewest lines holding 80 % of the kernel
        time, and the top line's main kernel, what it is and the roof that bounds it."""
        return _verdict(self)

    def by_line(self, *, library: bool = False) -> Table:
        """Time per source line, largest first: ``where`` (``file.py:12`` or ``In [3]:2``),
        file, line, code, ``total_s``, ``per_call_s``, ``percent`` of all kernel time, its
        kernels. Library code (Flax, Optax, JAX…: the rule of
        ``jaxlab.ir.sources.is_library``) is folded into the line of the user's code that
        called it, each such row listing the library lines in ``library``; with
        ``library=True`` every line is its own row, the library's included.

        A kernel made from several lines is split by the share of its estimated work (FLOPs)
        each line's equations made; such kernels are listed in each line's ``split``."""
        title = "Profile.by_line(library=True)" if library else "Profile.by_line()"
        if library:
            return Table(
                _roll_up(self, lambda k: k.lines, _line_row, NO_SOURCE), LINE_COLUMNS, title
            )
        rows = _roll_up(self, _user_shares, _line_row, NO_SOURCE)
        times: dict[tuple, float] = defaultdict(float)
        kernels: dict[tuple, dict[str, None]] = defaultdict(dict)
        for k in self.kernels:
            for user, inner, share in _folded(k):
                if inner != user:
                    times[user, inner] += k.total_s * share
                    kernels[user, inner][k.kernel] = None
        grand = self.kernel_sum_s or 1.0
        runs = max(self.runs, 1)
        by_user: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
        for (user, inner), t in sorted(times.items(), key=lambda kv: -kv[1]):
            times_of = {
                "total_s": t,
                "per_call_s": t / runs,
                "percent": 100 * t / grand,
                "kernels": list(kernels[user, inner]),
            }
            by_user[user].append(_line_row(inner, times_of, [], self.file_labels))
        for row in rows:
            row["library"] = by_user.get((row["file"], row["line"]), [])
        return Table(rows, LINE_COLUMNS, title)

    def by_scope(self) -> Table:
        """Time per ``jax.named_scope`` (split like lines; "" is outside any scope)."""
        rows = _roll_up(self, lambda k: k.scopes, _scope_row, "")
        return Table(rows, SCOPE_COLUMNS, "Profile.by_scope()")

    def call_rows(self) -> Table:
        """Per profiled call: wall time, kernels, time in kernels, gaps and host time."""
        rows = [
            {
                "call": c.run,
                "wall_s": c.wall_s,
                "kernels": c.kernels,
                "kernel_s": c.busy_s,
                "busy_s": c.busy_s,
                "gaps_s": c.gaps_s,
                "host_s": c.host_s,
                "coverage_frac": c.busy_s / c.wall_s if c.wall_s > 0 else None,
            }
            for c in self.calls
        ]
        return Table(
            rows, CALL_COLUMNS, "Profile.call_rows()", renamed={"coverage": "coverage_frac"}
        )

    def to_pandas(self, by: str = "kernel"):
        """A DataFrame: by ``"kernel"`` (one row per kernel and device), ``"line"``,
        ``"scope"`` or ``"call"``."""
        tables = {
            "kernel": self.kernel_rows,
            "line": self.by_line,
            "scope": self.by_scope,
            "call": self.call_rows,
        }
        if by in tables:
            return tables[by]().to_pandas()
        raise ValueError(
            f"`Profile.to_pandas(by=...)` takes 'kernel', 'line', 'scope' or 'call', not {by!r}."
        )

    # -- files -------------------------------------------------------------------------
    def save(self, path: Any) -> Path:
        """Write the profile (kernel times, calls, timeline, and what its inspection shows)
        as JSON; ``jaxlab.Profile.load(path)`` reads it back, e.g. for ``profile_diff`` against
        a later version. Returns the path."""
        from jaxlab.api.saved import data_of

        data = {
            **envelope(PROFILE_FORMAT, 1),
            **{f.name: getattr(self, f.name) for f in fields(self) if f.name in _SAVED},
            "kernels": [asdict(k) for k in self.kernels],
            "calls": [asdict(c) for c in self.calls],
            "timeline": [asdict(e) for e in self.timeline],
            "peak": asdict(self.peak) if self.peak is not None else None,
            "compute": asdict(self.compute) if self.compute is not None else None,
            "caches": [list(c) for c in self.caches],
            "inspection": data_of(self.inspection) if self.inspection is not None else None,
        }
        return write_json(data, path)

    @classmethod
    def load(cls, path: Any) -> Profile:
        """A profile written by :meth:`save` (its inspection without the live JAX objects); a
        one-line ``ResultFileError`` for any other file."""
        from jaxlab.api.inspection import SavedInspection
        from jaxlab.benchmarking.roofline import ComputePeak, Peak
        from jaxlab.ir.kernel_times import CallTime, TimelineEvent

        data = opened(path, PROFILE_FORMAT, 1, "jaxlab profile", "`jaxlab.profile(f, x).save(p)`")
        kernels = [
            KernelTime(
                **{
                    **k,
                    "lines": [(tuple(line), share) for line, share in k["lines"]],
                    "folded": [(tuple(u), tuple(i), share) for u, i, share in k["folded"]],
                    "scopes": [(scope, share) for scope, share in k["scopes"]],
                }
            )
            for k in data["kernels"]
        ]
        insp = data.get("inspection")
        return cls(
            **{name: data[name] for name in _SAVED if name in data},
            # files written before the field was named with _s
            **({"processing_steps_s": data["steps"]} if "steps" in data else {}),
            kernels=kernels,
            calls=[CallTime(**c) for c in data["calls"]],
            timeline=[TimelineEvent(**e) for e in data["timeline"]],
            peak=Peak(**data["peak"]) if data.get("peak") else None,
            compute=ComputePeak(**data["compute"]) if data.get("compute") else None,
            caches=[(int(a), int(b)) for a, b in data.get("caches") or []],
            inspection=SavedInspection(insp, str(path)) if insp else None,
        )

    def timeline_svg(self) -> str:
        """The timeline of one call (the median by wall time) as a standalone SVG."""
        return renderer(self, "timeline")(self)

    def to_html(self) -> str:
        return renderer(self, "page")(self)


def _folded(k: KernelTime) -> list[tuple[tuple[str, int], tuple[str, int], float]]:
    """(the user's line, the innermost line, share) of a kernel's sources."""
    return k.folded or [(line, line, share) for line, share in k.lines]


def _user_shares(k: KernelTime) -> list[tuple[tuple[str, int], float]]:
    """(line, share) of a kernel with library lines folded into the user's calling line."""
    shares: dict[tuple[str, int], float] = defaultdict(float)
    for user, _, share in _folded(k):
        shares[user] += share
    return sorted(shares.items(), key=lambda kv: -kv[1])


def _library_shares(k: KernelTime) -> list[tuple[tuple[str, int], float]]:
    """(library line, share) of the parts of a kernel that library code made."""
    shares: dict[tuple[str, int], float] = defaultdict(float)
    for user, inner, share in _folded(k):
        if inner != user:
            shares[inner] += share
    return sorted(shares.items(), key=lambda kv: -kv[1])


PROFILE_FORMAT = "jaxlab.profile"
# the fields saved as they are (JSON already)
_SAVED = (
    "fn_name", "runs", "module", "timeline_call", "tracks", "devices", "processing_s",
    "stop_s", "other_modules", "file_labels", "processing_steps_s",
)  # fmt: skip


def _shares_text(lines: list, labels: dict[str, str] | None = None, empty="(no source)") -> str:
    if not lines:
        return empty
    if len(lines) == 1:
        return where(lines[0][0], labels)
    shown = [(line, share) for line, share in lines if share >= 0.005] or lines[:1]
    more = len(lines) - len(shown)
    text = ", ".join(f"{where(line, labels)} ({share:.0%})" for line, share in shown)
    return text + (f", {more} more under 0.5%" if more else "")


def _line_row(key: Any, times: dict[str, Any], split: list[str], labels) -> dict[str, Any]:
    file, n = key
    code = linecache.getline(file, n).strip() if file and n else ""
    label = labels.get(file, "")
    return {
        "where": f"{label}:{n}" if label else where(key),
        "file": file,
        "line": n,
        "code": code,
        **times,
        "split": split,
        "library": [],
    }


def _scope_row(key: Any, times: dict[str, Any], split: list[str], labels) -> dict[str, Any]:
    return {"scope": key, **times}


def _roll_up(profile: Profile, shares_of: Callable, make: Callable, default: Any) -> list:
    totals: dict[Any, float] = defaultdict(float)
    kernels: dict[Any, dict[str, None]] = defaultdict(dict)
    split: dict[Any, dict[str, None]] = defaultdict(dict)
    for k in profile.kernels:
        shares = shares_of(k) or [(default, 1.0)]
        for key, share in shares:
            totals[key] += k.total_s * share
            kernels[key][k.kernel] = None
            if len(shares) > 1:
                split[key][k.kernel] = None
    grand = sum(totals.values()) or 1.0
    runs = max(profile.runs, 1)
    rows = [
        make(
            key,
            {
                "total_s": t,
                "per_call_s": t / runs,
                "percent": 100 * t / grand,
                "kernels": list(kernels[key]),
            },
            list(split[key]),
            profile.file_labels,
        )
        for key, t in totals.items()
    ]
    rows.sort(key=lambda r: -r["total_s"])
    return rows


def _check_runs(runs: Any) -> int:
    if isinstance(runs, bool) or not isinstance(runs, int):
        raise TypeError(f"`runs` must be a positive integer, got {runs!r}; e.g. runs=10.")
    if runs < 1:
        raise ValueError(f"`runs` must be at least 1, got {runs}; e.g. runs=10.")
    return runs


@takes_call()
def profile(
    fn: Callable,
    *args: Any,
    runs: int = 10,
    static_argnums: int | Sequence[int] | None = None,
    static_argnames: str | Sequence[str] | None = None,
    peak: bool = True,
    kwargs: Mapping[str, Any] | None = None,
) -> Profile:
    """Compile ``fn(*args, **kwargs)`` (not profiled), run it once to warm up, then run it
    `runs` times under JAX's profiler, each call waited on to its last output leaf, and return
    the measured :class:`Profile`: time per kernel and device, per source line and named
    scope, and wall time split into kernels, gaps between kernels and host time.

    `peak` measures the device's peak memory bandwidth once per session (as ``%bench`` does)
    for ``percent_of_peak``. jaxlab's options are keyword-only; `fn`'s own keyword arguments
    go in ``kwargs={...}`` (``jaxlab.profile(h, x, runs=3, kwargs={"runs": 5})``).
    Raises ``RuntimeError`` when another profiler session is active (left running).
    """
    from jaxlab.api.inspection import Inspection

    runs = _check_runs(runs)
    kwargs = dict(kwargs or {})
    staged = _stages.stage(
        fn, args, kwargs, static_argnums=static_argnums, static_argnames=static_argnames
    )
    if not staged.runnable:
        raise ValueError(
            "`jaxlab.profile` runs the call, but an argument is a jax.ShapeDtypeStruct "
            "placeholder; pass real arrays."
        )
    return measure(Inspection(staged), runs, peak=peak)


def with_profile(insp: Inspection, profile: bool | int) -> Inspection:
    """`insp` measured under JAX's profiler when `profile` is True (10 calls) or a number of
    calls: ``insp.profile`` holds the :class:`Profile`, and the inspector's views add kernel
    times to the fusion explorer, heat to source lines and HLO instructions, and a timeline."""
    if profile is False or profile is None:
        return insp
    if not insp._staged.runnable:
        raise ValueError(
            "`jaxlab.inspect(..., profile=True)` runs the call, but an argument is a "
            "jax.ShapeDtypeStruct placeholder; pass arrays or drop profile=True."
        )
    if isinstance(profile, bool):
        runs = 10
    elif isinstance(profile, int) and profile >= 1:
        runs = profile
    else:
        raise ValueError(
            f"`jaxlab.inspect(..., profile=...)` takes True or a number of calls >= 1, "
            f"not {profile!r}."
        )
    insp.profile = measure(insp, runs)
    return insp


def measure(insp: Inspection, runs: int, *, peak: bool = True) -> Profile:
    """Profile the compiled program of an inspection (used by ``inspect(profile=True)``)."""
    staged = insp._staged
    once = staged.call_once()
    once()  # warm-up: first-run allocations and thread pools are not measured
    peak_value = compute = None
    caches: list[tuple[int, int]] = []
    if peak:
        peak_value = _peak(insp)
        compute = _compute_peak(insp)
        caches = _roofline.cache_levels()
    traced = _profiler.trace_calls(once, runs)
    t0 = time.perf_counter()
    steps: dict[str, float] = {}
    with gc_paused():
        trace = parse_trace(traced.trace)
        steps["parse trace"] = time.perf_counter() - t0
        module = insp.hlo_module
        steps["parse optimized HLO"] = time.perf_counter() - t0 - sum(steps.values())
        name = module.name or _module_name(insp)
        events = trace.of_module(name)
        if not events and len(trace.modules) == 1:
            name = next(iter(trace.modules))
            events = trace.of_module(name)
        kernels = _kernels_of(insp)
        steps["kernels and estimates"] = time.perf_counter() - t0 - sum(steps.values())
        kp: KernelProfile = attribute(events, kernels, module, traced.walls, trace.tracks)
        steps["attribute"] = time.perf_counter() - t0 - sum(steps.values())
    others = {m: n for m, n in trace.modules.items() if m != name}
    result = Profile(
        fn_name=insp.fn_name,
        runs=runs,
        module=name,
        kernels=kp.kernels,
        calls=kp.calls,
        timeline=kp.timeline,
        timeline_call=kp.timeline_call,
        tracks=kp.tracks,
        devices=kp.devices,
        inspection=insp,
        peak=peak_value,
        compute=_best_compute(compute, kp.kernels),
        caches=caches,
        stop_s=traced.stop_s,
        other_modules=others,
        processing_steps_s=steps,
    )
    result.processing_s = time.perf_counter() - t0
    return result


def _kernels_of(insp: Inspection) -> list:
    """The program's kernels: the inspection's (with links to jaxpr equations) when it has
    built them, else straight from the optimized HLO (the jaxpr and StableHLO are not needed
    to attribute kernel times to source lines)."""
    if "links" in insp.__dict__:
        return insp.fusions
    from jaxlab.ir.fusions import fusions_of

    found = insp.__dict__.get("_profile_kernels")
    if found is None:
        found = insp.__dict__["_profile_kernels"] = fusions_of(insp.hlo_module, unfused=True)
    return found


def _module_name(insp: Inspection) -> str:
    text = insp.hlo
    first = text.split("\n", 1)[0] if text else ""
    return first.split()[1].rstrip(",") if first.startswith("HloModule ") else ""


def _peak(insp: Inspection) -> Peak | None:
    try:
        from jaxlab.benchmarking.roofline import peak_bandwidth

        devices = insp.devices
        return peak_bandwidth(devices[0] if devices else None)
    except Exception:
        return None


def _best_compute(compute: ComputePeak | None, kernels: list[KernelTime]) -> ComputePeak | None:
    """The compute roof, raised to the rate of a kernel that ran faster than the probe."""
    for k in kernels:
        rate = k.flops / k.mean_s if k.flops and k.mean_s > 0 else 0.0
        if compute is not None and rate > compute.flops_per_s:
            compute = _roofline.beaten(compute, rate, f"kernel {k.kernel}")
    return compute


def _compute_peak(insp: Inspection) -> ComputePeak | None:
    """The compute roof in the dtype of the program's first floating output (float32 when it
    has none)."""
    try:
        import jax

        dtypes = [str(a.dtype) for a in jax.tree_util.tree_leaves(insp._staged.traced.out_info)]
        floating = [d for d in dtypes if d.startswith(("float", "bfloat"))]
        devices = insp.devices
        return _roofline.peak_compute(devices[0] if devices else None, (floating or ["float32"])[0])
    except Exception:
        return None


COVERS = 80  # the verdict names the fewest lines that hold this share of the kernel time
MAX_NAMED = 5


def _what(kernel: str, fusions: dict[str, Any]) -> str:
    """'a matmul', 'a convolution', 'an elementwise loop', 'a reduction', or its kind."""
    f = fusions.get(kernel)
    ops = set(f.opcodes) if f is not None else {kernel.split(".")[0]}
    if "dot" in ops:
        return "a matmul"
    if "convolution" in ops:
        return "a convolution"
    kind = f.kind if f is not None else ""
    if kind == "loop":
        return "an elementwise loop"
    if kind == "input" or ops & {"reduce", "reduce-window"}:
        return "a reduction"
    if ops & {"sort", "scatter", "gather", "all-reduce", "all-gather"}:
        return f"a {sorted(ops & {'sort', 'scatter', 'gather', 'all-reduce', 'all-gather'})[0]}"
    return f"a {kind or kernel.split('.')[0]} kernel"


def _bound_text(found: _roofline.Roof | None) -> str:
    if found is None:
        return "its roof unknown (no peak measured)"
    pct = f"{found.percent:.0f} %"
    if found.bound == "compute":
        return f"compute-bound at {pct} of peak FLOP/s"
    if found.bound == "memory":
        return f"memory-bound at {pct} of peak bandwidth"
    if found.bound == "cache":
        where = f"the {found.level} cache" if found.level else "a cache"
        return f"running from {where} ({pct} of the memory roof)"
    return "overhead: too small to reach either roof"


def _verdict(p: Profile) -> str:
    lines = p.by_line().rows()
    if not p.kernels or not lines:
        return "no kernel ran in the profiled calls"
    covered, named = 0.0, 0
    for row in lines:
        covered += row["percent"]
        named += 1
        if covered >= COVERS or named == MAX_NAMED:
            break
    if covered >= COVERS:
        head = f"{covered:.0f} % of kernel time in {named} line{'s' if named != 1 else ''}"
    else:
        head = f"kernel time spread over {len(lines)} lines ({covered:.0f} % in the top {named})"
    top = lines[0]
    times = {k.kernel: k for k in p.kernels}
    mine = [times[name] for name in top["kernels"] if name in times]
    if not mine:
        return f"{head}; top: {top['where']}"
    main = max(mine, key=lambda k: k.total_s)
    fusions = {}
    if p.inspection is not None:
        try:
            fusions = {f.name: f for f in _kernels_of(p.inspection)}
        except Exception:
            fusions = {}
    return (
        f"{head}; top: {top['where']}, {_what(main.kernel, fusions)}, {_bound_text(p.roof(main))}"
    )


# -- comparison ---------------------------------------------------------------------------

DIFF_COLUMNS = ["what", "before_s", "after_s", "delta_s", "speedup"]


@dataclass(repr=False)
class ProfileDiff(Displayed):
    """Per-line and per-kernel time deltas (per call) between two profiles, matched by source
    line (its file and code), not by HLO names, which change between compilations.
    ``speedup`` is before / after (> 1: the line got faster)."""

    before: str
    after: str
    lines: Table
    kernels: Table

    def _table(self, by: str) -> Table:
        if by not in ("line", "kernel"):
            raise ValueError(f"`ProfileDiff` rows are by 'line' or 'kernel', not {by!r}.")
        return self.lines if by == "line" else self.kernels

    def rows(self, by: str = "line") -> list[dict[str, Any]]:
        """The rows of ``.lines`` (or of ``.kernels`` with ``by="kernel"``)."""
        return self._table(by).rows()

    def to_pandas(self, by: str = "line"):
        """``.lines`` (or ``.kernels`` with ``by="kernel"``) as a DataFrame."""
        return self._table(by).to_pandas()


def _line_key(file: str, line: int) -> tuple[str, str]:
    code = linecache.getline(file, line).strip() if file and line else ""
    return (os.path.basename(file), code or f"line {line}")


def profile_diff(before: Profile, after: Profile) -> ProfileDiff:
    """Time per call of each source line and kernel, before and after a change."""
    for name, p in (("before", before), ("after", after)):
        if not isinstance(p, Profile):
            raise TypeError(
                f"`jaxlab.profile_diff` compares two Profiles; `{name}` is "
                f"{type(p).__name__}. Make them with `jaxlab.profile(f, x)` or `%profile`."
            )

    def lines(p: Profile) -> dict[tuple, tuple[str, float]]:
        out: dict[tuple, tuple[str, float]] = {}
        for row in p.by_line():
            key = _line_key(row["file"], row["line"])
            label = f"{row['where']}  {row['code']}".strip() if row["file"] else "(no source)"
            prev = out.get(key, (label, 0.0))
            out[key] = (prev[0], prev[1] + row["per_call_s"])
        return out

    def kernels(p: Profile) -> dict[tuple, tuple[str, float]]:
        out: dict[tuple, tuple[str, float]] = {}
        runs = max(p.runs, 1)
        for k in p.kernels:
            lines_key = tuple(sorted(_line_key(*line) for line, _ in k.lines))
            key = (k.kind, k.device, lines_key)
            label = f"{k.kind} @ {_shares_text(k.lines, p.file_labels)}" + (
                f" [device {k.device}]" if k.device else ""
            )
            prev = out.get(key, (label, 0.0))
            out[key] = (prev[0], prev[1] + k.total_s / runs)
        return out

    def rows(a: dict, b: dict, title: str) -> Table:
        out = []
        for key in dict.fromkeys([*a, *b]):
            label = (b.get(key) or a.get(key))[0]  # type: ignore[index]
            t0 = a[key][1] if key in a else 0.0
            t1 = b[key][1] if key in b else 0.0
            out.append(
                {
                    "what": label,
                    "before_s": t0 if key in a else None,
                    "after_s": t1 if key in b else None,
                    "delta_s": t1 - t0,
                    "speedup": t0 / t1 if t1 > 0 and key in a else None,
                }
            )
        out.sort(key=lambda r: -abs(r["delta_s"]))
        return Table(out, DIFF_COLUMNS, title)

    return ProfileDiff(
        before=before.fn_name,
        after=after.fn_name,
        lines=rows(lines(before), lines(after), "ProfileDiff.lines"),
        kernels=rows(kernels(before), kernels(after), "ProfileDiff.kernels"),
    )
