"""Pace changes: a machine that runs the same calls slower for a while. The samples of one
turn share the machine's state, so turns are compared with turns; the result says when they
differ, and whether the process kept its CPUs meanwhile."""

from __future__ import annotations

import time

import numpy as np
import pytest

import jaxlab
from jaxlab.benchmarking import pace
from jaxlab.benchmarking.consequence import flags
from jaxlab.benchmarking.point import _steady
from jaxlab.benchmarking.result import Timing

QUICK = {"min_runs": 3, "peak": False, "progress": False, "check": False}


def test_turns_are_split_and_compared_in_time_order():
    samples = [1.0, 1.0, 1.0, 2.0, 2.1, 1.9, 1.0, 1.0]
    assert pace.split(samples, [0, 3, 6]) == [(0, 3), (3, 6), (6, 8)]
    # the last turn has too few samples to be compared
    assert pace.block_medians(samples, [0, 3, 6]) == [1.0, 2.0]
    assert not pace.steady(samples, [0, 3, 6], 0.06)
    assert pace.steady([1.0, 1.02, 0.99, 1.01, 1.0, 1.0], [0, 3], 0.06)
    # one turn: nothing to compare
    assert pace.steady(samples, [0], 0.06) and pace.pace(samples, [0], []) is None


def test_a_pace_change_names_both_turns_and_what_the_process_got():
    samples = [1.0] * 4 + [1.6] * 4 + [1.0] * 4
    kept = [1.9] * 4 + [1.9 * 1.6] * 4 + [1.9] * 4  # CPU seconds per call: 1.9 CPUs throughout
    p = pace.pace(samples, [0, 4, 8], kept)
    assert (p.fast_s, p.slow_s, p.blocks) == (1.0, 1.6, 3) and p.changed
    assert p.cpus_fast == pytest.approx(1.9) and p.cpus_slow == pytest.approx(1.9)
    assert p.lost_cpu is False
    text = pace.note("jit", p)
    assert "1.60×" in text and "kept its CPUs" in text and "processes=5" in text

    lost = [1.9] * 4 + [1.0 * 1.6] * 4 + [1.9] * 4  # 1 CPU in the slow turn
    p = pace.pace(samples, [0, 4, 8], lost)
    assert p.lost_cpu is True
    assert "used 1.00 CPUs in the slow turn against 1.90" in pace.note("jit", p)
    # CPU time not measured, or a process that mostly waits: no claim about it
    p = pace.pace(samples, [0, 4, 8], [])
    assert p.lost_cpu is None and "CPUs" not in pace.note("jit", p)
    waiting = [0.01] * 4 + [0.01 * 1.6] * 4 + [0.01] * 4
    assert pace.pace(samples, [0, 4, 8], waiting).lost_cpu is None


def test_small_differences_between_turns_are_not_a_pace_change():
    p = pace.pace([1.0] * 4 + [1.08] * 4, [0, 4], [])
    assert p is not None and not p.changed
    t = Timing("jit", None, samples=[1.0] * 4 + [1.08] * 4, blocks=[0, 4])
    assert t.pace is None and not any("unsteady" in n.text for n in flags(t))


def test_a_turn_still_being_taken_is_not_compared():
    # the third turn has two samples so far: compared by three, it does not count yet
    samples = [1.0] * 5 + [1.0] * 5 + [1.0, 1.6]
    assert pace.block_medians(samples, [0, 5, 10], least=3) == [1.0, 1.0]
    # a variant so slow that a turn holds one sample compares them one by one
    assert pace.block_medians([1.0, 1.6, 1.0], [0, 1, 2]) == [1.0, 1.6, 1.0]


def test_the_stop_rule_wants_steady_turns_not_only_steady_halves():
    # both halves hold a fast and a slow turn, so their medians agree: the turns do not
    samples = [1.0] * 5 + [1.5] * 5 + [1.0] * 5 + [1.5] * 5
    t = Timing("jit", None, samples=samples, blocks=[0, 5, 10, 15])
    assert not _steady(t, 0.02)
    assert _steady(Timing("jit", None, samples=[1.0] * 20, blocks=[0, 5, 10, 15]), 0.02)
    assert not _steady(Timing("jit", None, samples=[1.0] * 10 + [1.6] * 10, blocks=[0]), 0.02)


def _slows_down_after(calls: int, busy: bool):
    """A call of 1 ms that takes 2 ms from its `calls`-th call on (counted, not timed, so a
    slow start of the benchmark does not move it): spinning (the process keeps its CPU) or
    sleeping (it gives the CPU up). Warm-up takes 50 to 100 calls, and a turn about 100."""
    count = [0]

    def call(x):
        count[0] += 1
        now = time.perf_counter()
        length = 2e-3 if count[0] > calls else 1e-3
        if busy:
            while time.perf_counter() - now < length:
                pass
        else:
            time.sleep(length)
        return x

    return call


@pytest.mark.parametrize("busy", [True, False])
def test_bench_flags_a_machine_that_changed_pace(busy):
    x = np.ones(4)
    # a fixed number of samples (no precision stop): turns of 1 ms calls, then of 2 ms calls
    slowing = (_slows_down_after(200, busy), (x,))
    r = jaxlab.bench({"slowing": slowing}, runs=80, loops=5, **QUICK)
    t = r.timing("slowing")
    assert len(t.blocks) >= 3 and len(t.cpu_s) == len(t.samples) == 80
    assert t.pace is not None and t.pace.change > 1.5
    note = next(n.text for n in r.notes if "changed pace" in n.text)
    assert note.startswith("slowing: the machine changed pace")
    if busy:  # spinning uses a CPU: the note says what the process got (others may take some)
        assert t.pace.lost_cpu is not None
        assert ("kept its CPUs" in note) != ("its threads ran less" in note)
    else:  # a sleeping call uses almost no CPU: its CPU time tells nothing
        assert t.pace.lost_cpu is None and "CPUs" not in note
    assert any(n.text.startswith("slowing: unsteady: turns ran at") for n in flags(t))
    assert r.rows()[0]["pace_change"] > 1.5
    # kept by save and load
    again = type(r).from_dict(r.to_dict())
    assert again.timing("slowing").blocks == t.blocks and again.timing("slowing").pace is not None


def test_a_steady_function_is_sampled_in_several_turns_and_not_flagged():
    x = np.ones(4)
    r = jaxlab.bench({"steady": (_slows_down_after(10**9, True), (x,))}, time_budget=0.5, **QUICK)
    t = r.timing("steady")
    assert len(t.blocks) >= 3
    assert t.pace is None and not any("changed pace" in n.text for n in r.notes)


def test_judge_names_an_unsteady_result(tmp_path):
    x = np.ones(4)
    fixed = {"runs": 80, "loops": 5, **QUICK}
    slow = jaxlab.bench({"v": (_slows_down_after(200, True), (x,))}, **fixed)
    steady = jaxlab.bench({"v": (_slows_down_after(10**9, True), (x,))}, **fixed)
    verdict = jaxlab.judge(steady, slow, tolerance=0.05)
    assert any("changed pace while the new result timed v" in n for n in verdict.notes)
