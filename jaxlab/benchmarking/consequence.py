"""Notes ranked by consequence: those that can change a benchmark's conclusion are shown in
full; the others (unsteady turns that leave the verdict standing, noise within the target,
what each variant is) go under a fold. Each note appears once: a flag of a timing that a note
on the same variant and topic already tells is dropped."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from jaxlab.base.format import format_seconds
from jaxlab.benchmarking.modes import describe as describe_modes
from jaxlab.benchmarking.processes import process_line
from jaxlab.benchmarking.result import Note
from jaxlab.benchmarking.verdict import disagree, findings

if TYPE_CHECKING:
    from jaxlab.benchmarking.result import BenchResult, Timing

# what unsettled a verdict -> the topics of the notes that tell its cause
CAUSES = {
    "pace": ("pace",),
    "modes": ("memory", "modes", "pace"),
    "processes": ("processes", "memory"),
}


def flags(t: Timing, sweep: bool = False) -> list[Note]:
    """What one timing's samples show on their own: noisy, stopped early, modes, an unsteady
    pace, the processes' medians. (A compilation in the timed loop is a problem of the result,
    told once with its reason.)"""
    where = f" at n={t.size}" if sweep and t.size is not None else ""
    who = f"{t.variant}{where}"
    out = []
    if t.samples and t.noisy:
        out.append(
            Note(
                "info",
                f"{who}: noisy: IQR is {100 * t.summary.rel_iqr:.0f} % of the median",
                t.variant,
                "noise",
            )
        )
    if t.stopped == "interrupted":
        out.append(Note("warn", f"{who}: stopped early by Ctrl-C", t.variant, "interrupted"))
    if t.samples and t.multimodal:
        out.append(Note("warn", f"{who}: {describe_modes(t.modes)}", t.variant, "modes"))
    if t.samples and t.pace is not None:
        p = t.pace
        out.append(
            Note(
                "warn",
                f"{who}: unsteady: turns ran at {format_seconds(p.fast_s)}–"
                f"{format_seconds(p.slow_s)} ({p.change:.2f}×)",
                t.variant,
                "pace",
            )
        )
    if len(t.process_medians_s) > 1 and not disagree(t):
        out.append(Note("info", process_line(t, sweep), t.variant, "processes"))
    return out


def _covered(flag: Note, notes: list[Note]) -> bool:
    """A note on the same variant already tells what `flag` says."""
    topics = {"modes": ("memory", "pace"), "pace": ("pace",), "processes": ("processes",)}
    covering = topics.get(flag.topic or "", ())
    return any(n.variant == flag.variant and n.topic in covering for n in notes)


def ranked(result: BenchResult) -> tuple[list[Note], list[Note]]:
    """(notes that can change the conclusion, the others): errors, outputs computed in
    different dtypes, interruptions, and the notes on every variant whose verdict is
    unsettled (its modes, pace, processes) first; then the rest. No text twice."""
    notes = list(result.notes)
    for t in result.timings:
        notes += [f for f in flags(t, result.sweep) if not _covered(f, result.notes)]
    if result.interrupted and not any("interrupted" in n.text for n in notes):
        notes.append(
            Note(
                "warn",
                "interrupted (Ctrl-C): the figures cover what had finished",
                major=True,
            )
        )
    notes += [
        Note("info", f"{v.name}: {v.how}", v.name, "variant") for v in result.variants if v.how
    ]
    shaky: set[tuple[str | None, str]] = set()  # (variant, topic) of the notes that tell why
    for f in findings(result):
        for name in (f.variant, f.baseline) if not f.holds else ():
            shaky.update((name, topic) for topic in CAUSES.get(f.cause, ()))
    major: list[Note] = []
    minor: list[Note] = []
    seen: set[str] = set()
    for n in notes:
        if n.text in seen:
            continue
        seen.add(n.text)
        threatens = (n.variant, n.topic or "") in shaky and n.level != "info"
        if n.major or n.level == "error" or threatens:
            major.append(replace(n, major=True))
        else:
            minor.append(n)
    return major, minor
