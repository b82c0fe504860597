"""The verdict of a benchmark and its notes by consequence, on synthetic timings: a verdict
that holds, one flipped by a change of pace, one straddled by modes, one split by processes;
notes ranked, none twice, and the default text short."""

from __future__ import annotations

import re

import numpy as np
import pytest

from jaxlab.base.display import renderer
from jaxlab.benchmarking.consequence import ranked
from jaxlab.benchmarking.result import BenchResult, Note, Timing, VariantInfo
from jaxlab.benchmarking.verdict import finding, findings

TURNS = 6
PER_TURN = 20


def turns(*levels: float, jitter: float = 0.01, seed: int = 0) -> tuple[list[float], list[int]]:
    """Samples of one variant taken in turns: `levels[k]` seconds (± jitter) in turn k."""
    rng = np.random.default_rng(seed)
    samples: list[float] = []
    blocks: list[int] = []
    for level in levels:
        blocks.append(len(samples))
        samples += list(level * (1 + jitter * rng.standard_normal(PER_TURN)))
    return samples, blocks


def timing(name: str, levels, **kw) -> Timing:
    samples, blocks = turns(*levels, seed=sum(map(ord, name)), **kw)
    return Timing(variant=name, size=None, samples=samples, blocks=blocks)


def two_modes() -> Timing:
    """jit whose every turn mixes calls of 0.5 ms (60 %) and of 3 ms (40 %)."""
    rng = np.random.default_rng(1)
    one = [0.5e-3] * 12 + [3e-3] * 8
    samples = [x * (1 + 0.01 * rng.standard_normal()) for _ in range(TURNS) for x in one]
    blocks = [k * len(one) for k in range(TURNS)]
    return Timing(variant="jit", size=None, samples=samples, blocks=blocks)


def result(*timings: Timing, baseline: str = "numpy", notes=(), **kw) -> BenchResult:
    variants = [
        VariantInfo(
            t.variant,
            "twin" if t.variant == "numpy" else t.variant,
            "numpy" if t.variant == "numpy" else "jax",
            how=f"{t.variant} described",
        )
        for t in timings
    ]
    return BenchResult(
        label="f(x: f32[2000,2000])",
        variants=variants,
        timings=list(timings),
        baseline=baseline,
        notes=list(notes),
        settings={"time_budget_s": 1.0},
        **kw,
    )


def test_a_verdict_that_holds_states_each_ratio_with_its_interval():
    r = result(
        timing("jit", [1e-3] * TURNS),
        timing("eager", [4e-3] * TURNS),
        timing("numpy", [7e-3] * TURNS),
    )
    jit, eager = findings(r)
    assert (jit.variant, jit.conclusion, jit.holds) == ("jit", "faster", True)
    assert jit.speedup == pytest.approx(7.0, rel=0.02)
    assert jit.speedup_low < jit.speedup < jit.speedup_high
    assert jit.speedup_high / jit.speedup_low < 1.05
    assert jit.why == f"in all {TURNS} turns"
    assert eager.conclusion == "faster" and eager.holds
    line = r.verdict
    head = r"jit (6\.9\d|7(\.0\d?)?)× faster than numpy \(95 % CI 6\.9\d–7\.0\d×\), "
    assert re.match(head, line)
    assert "holds in all 6 turns" in line and "eager 1.7" in line
    assert "unsettled" not in line
    # the table's frame carries the interval and the status
    rows = {row["variant"]: row for row in r.rows()}
    assert rows["jit"]["speedup_low"] == pytest.approx(jit.speedup_low)
    assert rows["jit"]["speedup_high"] == pytest.approx(jit.speedup_high)
    assert rows["jit"]["verdict"] == "holds" and rows["numpy"]["verdict"] is None


def test_a_slower_variant_reads_as_a_factor_with_its_interval_turned_round():
    r = result(timing("jit", [2e-3] * TURNS), timing("numpy", [1e-3] * TURNS))
    (f,) = findings(r)
    assert f.conclusion == "slower" and f.speedup == pytest.approx(0.5, rel=0.02)
    assert r.verdict.startswith("jit 2") and "× slower than numpy (95 % CI " in r.verdict
    lo, hi = r.verdict.split("95 % CI ")[1].split("×")[0].split("–")
    assert 1.95 < float(lo) <= 1 / f.speedup <= float(hi) < 2.05


def test_a_pace_change_that_flips_one_turn_unsettles_the_verdict():
    # jit 10 % faster than numpy, except in turn 4, where the machine slowed jit's turn 1.5×
    jit_levels = [0.9e-3] * TURNS
    jit_levels[3] = 1.35e-3
    r = result(timing("jit", jit_levels), timing("numpy", [1e-3] * TURNS))
    (f,) = findings(r)
    assert f.conclusion == "faster" and not f.holds
    assert f.why.startswith("turn 4 of 6 found 0.7") and "changed pace" in f.why
    assert f.action == "fresh processes (processes=5)"
    assert "unsettled: turn 4 of 6" in r.verdict and "settle it with fresh processes" in r.verdict


def test_the_interval_takes_in_how_far_the_turns_moved():
    # jit's turns ran at 0.5, 0.6 and 0.75 ms (twice each); numpy held 4 ms: each turn alone
    # read 5.3x to 8x, which the interval says, where the samples one by one would say 6.5-6.9x
    r = result(timing("jit", [0.5e-3, 0.6e-3, 0.75e-3] * 2), timing("numpy", [4e-3] * TURNS))
    (f,) = findings(r)
    assert f.conclusion == "faster" and f.holds
    assert f.speedup_low < 4 / 0.7 and f.speedup_high > 4 / 0.52
    assert "(95 % CI 5." in r.verdict


def test_a_flipped_turn_that_widens_the_interval_over_one_is_still_named():
    # the samples alone say jit is 10 % faster; one slow turn of six makes the interval over
    # turns span 1: the verdict names that turn, as when the interval stays clear of 1
    jit_levels = [0.9e-3] * TURNS
    jit_levels[3] = 1.35e-3
    r = result(timing("jit", jit_levels), timing("numpy", [1e-3] * TURNS))
    (f,) = findings(r)
    assert f.speedup_low < 1 < f.speedup_high
    assert (f.conclusion, f.holds, f.cause) == ("faster", False, "pace")
    assert f.why.startswith("turn 4 of 6 found 0.7")


def test_a_steady_pace_change_that_hits_both_alike_still_holds():
    slow = [1.0, 1.0, 1.6, 1.6, 1.0, 1.0]  # both variants slowed in turns 3 and 4
    r = result(timing("jit", [0.5e-3 * s for s in slow]), timing("numpy", [1e-3 * s for s in slow]))
    (f,) = findings(r)
    assert f.holds and f.why == "in all 6 turns"


def test_modes_that_straddle_the_baseline_unsettle_the_verdict():
    # every turn of jit holds calls of 0.5 ms and of 3 ms; numpy sits at 1 ms in between
    r = result(two_modes(), timing("numpy", [1e-3] * TURNS))
    assert len(r.timing("jit").modes) == 2
    (f,) = findings(r)
    assert not f.holds
    assert f.why.startswith("jit's modes (") and re.search(
        r"straddle numpy's (99\d µs|1 ms)$", f.why
    )
    assert f.action == "fresh processes (processes=5)"


def test_modes_of_fresh_pages_are_settled_by_one_malloc_arena():
    arena = Note(
        "warn",
        "jit: the 15.3 MiB faulted in per call … GLIBC_TUNABLES=glibc.malloc.arena_max=1 …",
        "jit",
        "memory",
    )
    r = result(two_modes(), timing("numpy", [1e-3] * TURNS), notes=[arena])
    (f,) = findings(r)
    assert f.cause == "modes"
    expected = "one malloc arena (start Python with GLIBC_TUNABLES=glibc.malloc.arena_max=1)"
    assert f.action == expected + " and a rerun"
    assert r.verdict.endswith(f"settle it with {expected} and a rerun")


def test_processes_that_disagree_unsettle_the_verdict_and_agreeing_ones_hold():
    jit = timing("jit", [0.8e-3] * TURNS)
    numpy = timing("numpy", [1e-3] * TURNS)
    jit.process_medians_s = [0.8e-3, 0.82e-3, 1.2e-3]
    numpy.process_medians_s = [1e-3, 1e-3, 1e-3]
    (f,) = findings(result(jit, numpy))
    assert not f.holds and f.why.startswith("1 of 3 processes found otherwise")
    assert f.action == "fresh processes (processes=6)"
    jit.process_medians_s = [0.8e-3, 0.82e-3, 0.79e-3]
    (f,) = findings(result(jit, numpy))
    assert f.holds and f.why == "in all 3 processes"


def test_an_interval_that_spans_one_asks_for_more_time_and_a_narrow_one_is_the_same():
    r = result(
        timing("jit", [1e-3] * TURNS, jitter=0.3), timing("numpy", [1e-3] * TURNS, jitter=0.3)
    )
    (f,) = findings(r)
    assert f.conclusion == "unclear" and not f.holds
    assert f.action == "a longer run (time_budget=4)"
    r = result(
        timing("jit", [1e-3] * TURNS, jitter=0.002),
        timing("numpy", [1.005e-3] * TURNS, jitter=0.002),
    )
    (f,) = findings(r)
    if f.conclusion == "same":
        assert f.holds and "as fast as numpy" in r.verdict


def test_a_verdict_from_one_turn_asks_for_a_longer_run():
    one = result(timing("jit", [1e-3]), timing("numpy", [5e-3]))
    (f,) = findings(one)
    assert f.conclusion == "faster" and not f.holds
    assert f.why == "one turn only, nothing to check it against"
    assert f.action == "a longer run (time_budget=4)"
    alone = result(timing("jit", [1e-3]), baseline=None)
    assert not finding(alone, "jit").holds


def test_one_action_that_settles_every_variant_is_said_once():
    r = result(timing("jit", [1e-3]), timing("eager", [3e-3]), timing("numpy", [5e-3]))
    line = r.verdict
    assert line.count("settle it with") == 1
    assert line.endswith("; settle it with a longer run (time_budget=4)")
    assert line.count("unsettled: one turn only, nothing to check it against") == 2


def test_an_invalid_variant_is_never_settled():
    jit = timing("jit", [1e-3] * TURNS)
    jit.recompilations = ["f: the shape changed"]
    (f,) = findings(result(jit, timing("numpy", [2e-3] * TURNS)))
    assert not f.holds and "compiled during the timed loop" in f.why


def test_a_variant_alone_gets_its_time_with_an_interval():
    r = result(timing("jit", [1e-3] * TURNS), baseline=None)
    f = finding(r, "jit")
    assert f.speedup is None and f.holds and f.median_low_s < 1e-3 < f.median_high_s
    assert re.match(
        r"jit (99\d µs|1 ms) per call \(95 % CI 99\d µs–1 ms\), holds in all 6 turns$", r.verdict
    )


def _noted(r: BenchResult) -> tuple[list[str], list[str]]:
    major, minor = ranked(r)
    return [n.text for n in major], [n.text for n in minor]


def test_notes_are_ranked_by_whether_they_can_change_the_conclusion():
    pace_note = Note("warn", "jit: the machine changed pace …", "jit", "pace")
    gap = Note("warn", "numpy computes in float64 but jit in float32", "jit", major=True)
    faults = Note("warn", "numpy: 12 page faults per call add …", "numpy", "memory")
    # holds: the pace note and the faults stay under the fold; the dtype gap is in full
    steady = result(
        timing("jit", [0.5e-3] * TURNS),
        timing("numpy", [1e-3] * TURNS),
        notes=[pace_note, gap, faults],
    )
    major, minor = _noted(steady)
    assert major == [gap.text]
    assert pace_note.text in minor and faults.text in minor
    # unsettled by a change of pace: the pace note on jit moves up, in full
    flipped = [0.9e-3] * TURNS
    flipped[2] = 1.4e-3
    shaky = result(
        timing("jit", flipped), timing("numpy", [1e-3] * TURNS), notes=[pace_note, gap, faults]
    )
    major, minor = _noted(shaky)
    assert major == [pace_note.text, gap.text]
    assert faults.text in minor
    # errors always lead
    errored = result(
        timing("jit", [0.5e-3] * TURNS),
        timing("numpy", [1e-3] * TURNS),
        notes=[Note("error", "worker 2 failed")],
    )
    assert _noted(errored)[0] == ["worker 2 failed"]


def test_no_note_appears_twice():
    jit = timing("jit", [1e-3, 1e-3, 1.5e-3, 1e-3, 1e-3, 1e-3])  # an unsteady pace
    pace_note = Note("warn", "jit: the machine changed pace …", "jit", "pace")
    r = result(jit, timing("numpy", [3e-3] * TURNS), notes=[pace_note, pace_note])
    major, minor = _noted(r)
    every = major + minor
    assert len(every) == len(set(every))
    # the timing's own 'unsteady' flag is told by the pace note already
    assert not any("unsteady: turns ran" in t for t in every)
    assert every.count(pace_note.text) == 1
    # without the note, the flag stands in for it, once
    r = result(jit, timing("numpy", [3e-3] * TURNS))
    major, minor = _noted(r)
    every = major + minor
    assert sum("jit: unsteady: turns ran at" in t for t in every) == 1


def test_a_three_variant_bench_fits_in_ten_lines_with_the_verdict_first():
    notes = [
        Note("warn", "eager: 300 page faults per call add …", "eager", "memory"),
        Note("warn", "numpy: the machine changed pace …", "numpy", "pace"),
        Note("info", "NumPy inputs were put on the device before timing"),
    ]
    r = result(
        timing("jit", [1e-3] * TURNS),
        timing("eager", [4e-3] * TURNS),
        timing("numpy", [7e-3] * TURNS),
        notes=notes,
    )
    text = renderer(r, "text")(r)
    lines = text.splitlines()
    assert len(lines) <= 10
    assert lines[0] == r.verdict and lines[1].startswith("bench f(x: f32[2000,2000])")
    assert "print(r.details())" in lines[-1] and "page faults" not in text
    details = r.details()
    assert details.splitlines()[0] == r.verdict
    for n in notes:
        assert n.text in details
    assert "jit described" in details
    html = renderer(r, "html")(r)
    assert html.index('class="jl-verdict"') < html.index('class="jl-title"') < html.index("<table")
    fold = html[html.index("<details><summary>") :]
    assert (
        "notes that leave the verdict standing: 6 (memory, unsteady turns, other, what each" in fold
        and "page faults per call add" in fold
    )


def test_an_unsettled_bench_shows_what_threatens_it_in_full():
    jit = two_modes()
    mode_note = Note("warn", "jit: bimodal: 0.5 ms (50 %) / 3 ms (50 %) …", "jit", "memory")
    r = result(jit, timing("numpy", [1e-3] * TURNS), notes=[mode_note])
    text = renderer(r, "text")(r)
    assert text.splitlines()[0].startswith("jit ") and "unsettled" in text.splitlines()[0]
    assert f"  ! {mode_note.text}" in text.splitlines()
    assert '<span class="jl-unsettled">unsettled</span>' in renderer(r, "html")(r)


def test_a_sweep_verdict_names_the_range_and_each_size():
    timings = []
    for size, jit_s in ((100, 2e-3), (10_000, 1e-3), (1_000_000, 0.1e-3)):
        for name, level in (("jit", jit_s), ("numpy", 1e-3 * size / 10_000 + 0.5e-3)):
            t = timing(name, [level] * TURNS)
            t.size = size
            timings.append(t)
    r = result(*timings[:2], *timings[2:], sweep=True)
    line = r.verdict
    assert line.startswith("jit over n=100–1e6: ")
    assert "at n=1e6 " in line and "× faster than numpy (95 % CI " in line
    assert line.endswith("holds at every size")


def test_a_ratio_with_too_few_samples_is_not_called_the_same():
    from jaxlab.views.bench import vs_baseline

    jit = Timing("jit", None, samples=[1.0e-3, 1.01e-3, 1.02e-3], blocks=[0])
    numpy = Timing("numpy", None, samples=[2.0e-3, 2.01e-3, 2.02e-3], blocks=[0])
    r = result(jit, numpy)
    cell = vs_baseline(r, jit)
    assert cell == "1.99× faster? (1.96–2.02×, too few samples: p=0.081)", cell
    assert "≈ same" not in cell
    assert "unsettled: too few samples to tell (p=0.081)" in r.verdict
