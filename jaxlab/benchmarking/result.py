"""``BenchResult``: every timing of a benchmark (one row per variant and size), what was noticed
on the way (failures, disagreements, recompilations, dtype gaps), and where it ran."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jaxlab.base.display import Displayed, renderer
from jaxlab.base.files import ResultFileError, read_json, write_json
from jaxlab.base.renamed import renamed
from jaxlab.base.table import data_frame
from jaxlab.benchmarking import stats
from jaxlab.benchmarking.crossover import Crossover, crossover
from jaxlab.benchmarking.modes import Mode, describe, find_modes, mode_of
from jaxlab.benchmarking.pace import Pace
from jaxlab.benchmarking.pace import pace as pace_of
from jaxlab.benchmarking.roofline import ComputePeak, Peak, Roof, Work, rates, roof
from jaxlab.benchmarking.verdict import Finding

FORMAT = "jaxlab.BenchResult"
VERSION = 1


class BenchError(ValueError):
    """A benchmark cannot run as asked; the message says what to change."""


@dataclass
class VariantInfo:
    """What one variant is: `kind` jit / eager / twin / custom; `framework` jax / numpy /
    torch / given (arguments used as written)."""

    name: str
    kind: str
    framework: str
    how: str = ""


@dataclass
class Note:
    """Something to tell the reader: level 'error' (the figures are wrong or missing),
    'warn' (they may mislead) or 'info'."""

    level: str
    text: str
    variant: str | None = None
    topic: str | None = None  # 'memory' (faults, modes), 'pace', 'processes': recomputed on merging
    major: bool = False  # it can change the conclusion: always shown in full


@dataclass
class Mismatch:
    """A variant's output disagrees with the reference variant's."""

    variant: str
    reference: str
    size: int | None
    message: str


@dataclass
class Timing:
    """One variant at one size: per-call seconds of each sample and the one-off costs."""

    variant: str
    size: int | None
    samples: list[float] = field(default_factory=list)
    number: int = 1  # calls per sample
    first_call_s: float | None = None
    trace_s: float | None = None
    lower_s: float | None = None
    compile_s: float | None = None
    cached: list[str] = field(default_factory=list)  # stages JAX served from its caches
    transfer_s: float | None = None  # host→device of the inputs, before timing
    recompilations: list[str] = field(default_factory=list)  # JAX's cache-miss explanations
    bytes: float | None = None
    flops: float | None = None
    work_source: str | None = None
    signature: str = ""
    out_dtypes: list[str] = field(default_factory=list)
    stopped: str = ""  # why sampling stopped: precision, budget, runs, recompiled, interrupted
    faults: list[float] = field(default_factory=list)  # minor page faults per call, per sample
    cpu_s: list[float] = field(default_factory=list)  # process CPU seconds per call, per sample
    blocks: list[int] = field(default_factory=list)  # index of the first sample of each turn
    alloc_bytes: float | None = None  # bytes one call allocates at its peak
    alloc_source: str | None = None  # how alloc_bytes is known
    # with processes=N: each worker process's median and IQR (seconds); samples pool them all
    process_medians_s: list[float] = field(default_factory=list)
    process_iqrs_s: list[float] = field(default_factory=list)

    cpu = renamed("cpu_s")
    process_medians = renamed("process_medians_s")
    process_iqrs = renamed("process_iqrs_s")

    @cached_property
    def summary(self) -> stats.Summary:
        return stats.summarize(self.samples)

    @cached_property
    def modes(self) -> list[Mode]:
        """Separated clusters of the samples, fastest first (one when there are none)."""
        return find_modes(self.samples)

    @property
    def multimodal(self) -> bool:
        return len(self.modes) > 1

    @cached_property
    def pace(self) -> Pace | None:
        """Its fastest and slowest turn when the machine changed pace while it was timed
        (turns more than 10 % apart), else None."""
        found = pace_of(self.samples, self.blocks, self.cpu_s)
        return found if found is not None and found.changed else None

    @property
    def faults_per_call(self) -> float | None:
        """Median over the samples of minor page faults per call (None when not counted)."""
        if not self.faults:
            return None
        xs = sorted(self.faults)
        return xs[len(xs) // 2]

    def mode_faults(self) -> list[float | None]:
        """Median faults per call of the samples in each mode."""
        modes = self.modes
        if len(self.faults) != len(self.samples):
            return [None] * len(modes)
        groups: list[list[float]] = [[] for _ in modes]
        for s, f in zip(self.samples, self.faults, strict=True):
            groups[mode_of(s, modes)].append(f)
        return [sorted(g)[len(g) // 2] if g else None for g in groups]

    @property
    def median_s(self) -> float:
        """Median seconds per call over the samples."""
        return self.summary.median_s

    @property
    def iqr_s(self) -> float:
        """Interquartile range of the samples, in seconds per call."""
        return self.summary.iqr_s

    @property
    def min_s(self) -> float:
        return self.summary.min_s

    @property
    def max_s(self) -> float:
        return self.summary.max_s

    median = renamed("median_s")
    iqr = renamed("iqr_s")
    min = renamed("min_s")
    max = renamed("max_s")

    @property
    def runs(self) -> int:
        """Samples taken (``runs=`` / ``--runs``)."""
        return len(self.samples)

    @property
    def loops(self) -> int:
        """Calls per sample (``loops=`` / ``--loops``; stored as `number`, timeit's name)."""
        return self.number

    @property
    def noisy(self) -> bool:
        return self.summary.noisy

    @property
    def valid(self) -> bool:
        """False when JAX compiled during the timed loop: the figures include compilation."""
        return not self.recompilations

    @property
    def compiled(self) -> bool:
        return self.compile_s is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# fields of a saved Timing named before times carried _s
_OLD_TIMING_FIELDS = {
    "cpu": "cpu_s",
    "process_medians": "process_medians_s",
    "process_iqrs": "process_iqrs_s",
}


def _timing_fields(saved: dict[str, Any]) -> dict[str, Any]:
    return {_OLD_TIMING_FIELDS.get(k, k): v for k, v in saved.items()}


def work_dtype(timing: Timing) -> str:
    """The dtype a timing's work is counted in: its first output's (float32 when unknown)."""
    for name in timing.out_dtypes:
        return "bfloat16" if name == "bfloat16" else name
    return "float32"


@dataclass(repr=False)
class BenchResult(Displayed):
    """The result of :func:`jaxlab.bench` and ``%bench``.

    ``.timings`` holds one :class:`Timing` per variant and size; ``.to_pandas()`` gives them as
    a table, ``.save(path)`` / ``BenchResult.load(path)`` keep them, and
    :func:`jaxlab.compare` sets results from different cells side by side.
    """

    label: str
    variants: list[VariantInfo]
    timings: list[Timing]
    baseline: str | None = None  # ratios are against this variant
    reference: str | None = None  # outputs are checked against this variant's
    sweep: bool = False
    notes: list[Note] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    mismatches: list[Mismatch] = field(default_factory=list)
    environment: dict[str, Any] = field(default_factory=dict)
    # the roofs: gbps, method, device of the memory bandwidth; compute: {dtype: {gflops,
    # method}}; caches: [[level, bytes]] from the OS
    peak: dict[str, Any] | None = None
    interrupted: bool = False
    settings: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    # every leaf of the call's arguments (the title summarises them): argument, path, type, bytes
    arguments: list[dict[str, Any]] = field(default_factory=list)

    # -- lookups ----------------------------------------------------------------------------

    @property
    def variant_names(self) -> list[str]:
        seen = [v.name for v in self.variants]
        return [n for n in seen if any(t.variant == n for t in self.timings)]

    @property
    def sizes(self) -> list[int]:
        return sorted({t.size for t in self.timings if t.size is not None})

    def timing(self, variant: str, size: int | None = None) -> Timing:
        """The timing of `variant` (at `size`; the only or largest size when omitted)."""
        rows = [t for t in self.timings if t.variant == variant]
        if not rows:
            raise KeyError(
                f"no timing of variant {variant!r}; variants: {', '.join(self.variant_names)}"
            )
        if size is None:
            return max(rows, key=lambda t: -1 if t.size is None else t.size)
        for t in rows:
            if t.size == size:
                return t
        raise KeyError(f"no timing of {variant!r} at size {size}; sizes: {self.sizes}")

    def median_s(self, variant: str, size: int | None = None) -> float:
        """Median seconds per call of `variant` (at `size`; the only or largest when omitted)."""
        return self.timing(variant, size).median_s

    median = renamed("median_s")

    def speedup(self, variant: str, baseline: str | None = None, size: int | None = None) -> float:
        """How many times faster `variant` is than `baseline` (>1: faster)."""
        base = baseline or self.baseline
        if base is None:
            raise KeyError("no baseline variant to compare with")
        return self.median_s(base, size) / self.median_s(variant, size)

    def crossover(self, variant: str, baseline: str | None = None) -> Crossover | None:
        """Where `variant` starts (or stops) beating `baseline` in a size sweep."""
        base = baseline or self.baseline
        if base is None or base == variant:
            return None
        pairs = []
        for size in self.sizes:
            try:
                pairs.append((size, self.speedup(variant, base, size)))
            except KeyError:
                continue
        return crossover(variant, base, pairs)

    @property
    def verdict(self) -> str:
        """The conclusion in one line: each variant's speedup over the baseline with its 95 %
        interval, and whether it holds (the same in every turn and process) or is unsettled,
        with what settles it. The first line of the text and the HTML."""
        from jaxlab.benchmarking.verdict import verdict

        return verdict(self)

    def findings(self) -> list[Finding]:
        """The verdict's parts: one :class:`jaxlab.benchmarking.verdict.Finding` per variant
        (and size) against the baseline."""
        from jaxlab.benchmarking.verdict import findings

        return findings(self)

    def details(self) -> str:
        """The full text: every note in full, the table's every column, the machine and the
        settings (the default text keeps what can change the conclusion)."""
        return renderer(self, "details")(self)

    @property
    def valid(self) -> bool:
        """False when the figures cannot be trusted: outputs disagree, or JAX compiled inside
        a timed loop. (A variant that failed is listed in ``failures``; the others stand.)"""
        return not self.mismatches and all(t.valid for t in self.timings)

    def rates(self, timing: Timing) -> Any:
        if timing.bytes is None and timing.flops is None:
            return None
        peak = None
        if self.peak and self._same_memory(timing.variant):
            peak = Peak(self.peak["gbps"] * 1e9, self.peak["device"], self.peak["method"], 0.0)
        work = Work(timing.bytes, timing.flops, timing.work_source or "")
        return rates(work, timing.median_s, peak)

    def roof(self, timing: Timing) -> Roof | None:
        """The roof that bounds `timing` (compute, memory, a cache level, or overhead) and the
        share of it achieved; None without the work per call or the measured roofs."""
        if timing.bytes is None and timing.flops is None:
            return None
        if not self.peak or not self._same_memory(timing.variant):
            return None
        bandwidth = None
        if self.peak.get("gbps"):
            bandwidth = Peak(self.peak["gbps"] * 1e9, self.peak["device"], self.peak["method"], 0.0)
        compute = None
        found = (self.peak.get("compute") or {}).get(work_dtype(timing))
        if found:
            compute = ComputePeak(
                found["gflops"] * 1e9, self.peak["device"], work_dtype(timing), found["method"], 0.0
            )
        work = Work(timing.bytes, timing.flops, timing.work_source or "")
        caches = [(int(a), int(b)) for a, b in self.peak.get("caches") or []]
        return roof(work, timing.median_s, bandwidth, compute, caches)

    def _same_memory(self, variant: str) -> bool:
        """Whether the measured peak applies: JAX variants always, host libraries on CPU."""
        info = next((v for v in self.variants if v.name == variant), None)
        if info is None or info.framework in ("jax", "given"):
            return True
        return self.environment.get("backend") == "cpu"

    # -- tables and files -------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per variant and size (the rows of :meth:`to_pandas`)."""
        from jaxlab.benchmarking.verdict import finding

        out = []
        for t in self.timings:
            s = t.summary
            r = self.rates(t)
            roofed = self.roof(t)
            alone = t.variant != self.baseline or len(self.variant_names) == 1
            f = finding(self, t.variant, t.size) if t.samples and alone else None
            compared = f is not None and f.speedup is not None
            out.append(
                {
                    "variant": t.variant,
                    "size": t.size,
                    "median_s": s.median_s,
                    "iqr_s": s.iqr_s,
                    "min_s": s.min_s,
                    "max_s": s.max_s,
                    "runs": s.runs,
                    "loops": t.number,
                    "ci_low_s": s.ci_low_s,
                    "ci_high_s": s.ci_high_s,
                    "noisy": s.noisy,
                    "valid": t.valid,
                    "trace_s": t.trace_s,
                    "lower_s": t.lower_s,
                    "compile_s": t.compile_s,
                    "first_call_s": t.first_call_s,
                    "transfer_s": t.transfer_s,
                    "gbps": r.gbps if r else None,
                    "gflops": r.gflops if r else None,
                    "percent_of_peak": r.percent_of_peak if r else None,
                    "bound": roofed.bound if roofed else None,
                    "percent_of_roof": roofed.percent if roofed else None,
                    "speedup": self._speedup_or_none(t),
                    "speedup_low": f.speedup_low if compared else None,
                    "speedup_high": f.speedup_high if compared else None,
                    "verdict": f.status if f is not None else None,
                    "faults_per_call": t.faults_per_call,
                    "alloc_bytes_per_call": t.alloc_bytes,
                    "modes": describe(t.modes) or None,
                    "pace_change": t.pace.change if t.pace else None,
                    "process_medians_s": list(t.process_medians_s) or None,
                }
            )
        return out

    def _speedup_or_none(self, t: Timing) -> float | None:
        if self.baseline is None:
            return None
        try:
            return self.speedup(t.variant, self.baseline, t.size)
        except KeyError:
            return None

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, one row per variant and size: variant, size, median_s,
        iqr_s, min_s, runs, trace_s/lower_s/compile_s (compiled variants) and more."""
        frame = data_frame(self.rows(), "BenchResult")
        import pandas as pd

        for col in (
            "trace_s",
            "lower_s",
            "compile_s",
            "first_call_s",
            "transfer_s",
            "size",
            "faults_per_call",
            "alloc_bytes_per_call",
        ):
            frame[col] = pd.to_numeric(frame[col])
        return frame

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "label": self.label,
            "variants": [asdict(v) for v in self.variants],
            "timings": [t.to_dict() for t in self.timings],
            "baseline": self.baseline,
            "reference": self.reference,
            "sweep": self.sweep,
            "notes": [asdict(n) for n in self.notes],
            "failures": dict(self.failures),
            "mismatches": [asdict(m) for m in self.mismatches],
            "environment": self.environment,
            "peak": self.peak,
            "interrupted": self.interrupted,
            "settings": self.settings,
            "created": self.created,
            "arguments": self.arguments,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchResult:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a saved BenchResult (no 'format': 'jaxlab.BenchResult' key)")
        if data.get("version", 0) > VERSION:
            raise ValueError(
                f"saved by a newer jaxlab (format version {data['version']}); upgrade jaxlab"
            )
        try:
            return cls(
                label=data["label"],
                variants=[VariantInfo(**v) for v in data["variants"]],
                timings=[Timing(**_timing_fields(t)) for t in data["timings"]],
                baseline=data.get("baseline"),
                reference=data.get("reference"),
                sweep=bool(data.get("sweep")),
                notes=[Note(**n) for n in data.get("notes", [])],
                failures=dict(data.get("failures", {})),
                mismatches=[Mismatch(**m) for m in data.get("mismatches", [])],
                environment=data.get("environment", {}),
                peak=data.get("peak"),
                interrupted=bool(data.get("interrupted")),
                settings=data.get("settings", {}),
                created=data.get("created", ""),
                arguments=list(data.get("arguments", [])),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a damaged BenchResult file ({exc})") from None

    def save(self, path: str | os.PathLike) -> Path:
        """Write the result (every sample included) as JSON; returns the path."""
        return write_json(self.to_dict(), path, indent=1)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchResult:
        """Read a result written by :meth:`save`; a one-line ``ResultFileError`` (a
        ValueError) for any other file."""
        data = read_json(path, "BenchResult", "`jaxlab.bench(f, x).save(path)`")
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ResultFileError(f"{os.fspath(path)}: {exc}") from None

    # -- display ----------------------------------------------------------------------------

    def to_html(self) -> str:
        """A complete, self-contained HTML page of the result."""
        return renderer(self, "page")(self)
