"""What %bench says about memory: the timed loop holds no output, page faults and bytes per
call, modes of the samples, fresh worker processes, and judging saved results."""

from __future__ import annotations

import mmap
import os
import signal
import subprocess
import threading

import jax.numpy as jnp
import numpy as np
import pytest

import jaxlab
from jaxlab.benchmarking import machine, memory, roofline
from jaxlab.benchmarking.modes import describe, find_modes
from jaxlab.benchmarking.point import memory_notes
from jaxlab.benchmarking.result import BenchError, BenchResult, Timing, VariantInfo

QUICK = {"time_budget": 0.05, "min_runs": 3, "peak": False, "progress": False}


def cubic(x):
    return x + x * x + x * x * x


def lognormal(rng, median, n, sigma=0.03):
    return list(rng.lognormal(np.log(median), sigma, n))


# -- modes ----------------------------------------------------------------------------------


def test_two_separated_clusters_are_two_modes():
    rng = np.random.default_rng(1)
    samples = lognormal(rng, 0.4e-3, 110) + lognormal(rng, 5.1e-3, 90)
    modes = find_modes(samples)
    assert [m.count for m in modes] == [110, 90]
    assert describe(modes).startswith("bimodal: 400 µs (55 %) / 5.")
    assert describe(modes).endswith(" ms (45 %)")


def test_three_clusters_are_three_modes():
    rng = np.random.default_rng(2)
    samples = lognormal(rng, 1e-3, 100) + lognormal(rng, 2e-3, 60) + lognormal(rng, 4e-3, 40)
    assert [m.count for m in find_modes(samples)] == [100, 60, 40]
    assert describe(find_modes(samples)).startswith("trimodal: ")


@pytest.mark.parametrize(
    "case",
    ["one cluster", "wide cluster", "few outliers", "close clusters", "too few samples"],
)
def test_what_is_not_several_modes(case):
    rng = np.random.default_rng(3)
    samples = {
        "one cluster": lognormal(rng, 1e-3, 300, 0.1),
        "wide cluster": lognormal(rng, 1e-3, 300, 0.6),
        "few outliers": lognormal(rng, 1e-3, 290, 0.02) + lognormal(rng, 3e-3, 9, 0.02),
        "close clusters": lognormal(rng, 1e-3, 100, 0.02) + lognormal(rng, 1.1e-3, 100, 0.02),
        "too few samples": [1e-3, 1e-3, 1e-3, 5e-3, 5e-3, 5e-3],
    }[case]
    modes = find_modes(samples)
    assert len(modes) == 1 and modes[0].count == len(samples)
    assert describe(modes) == ""


def test_modes_with_their_faults_are_explained_as_memory():
    rng = np.random.default_rng(4)
    fast, slow = lognormal(rng, 0.4e-3, 60), lognormal(rng, 5e-3, 40)
    t = Timing("jit", 4_000_000, samples=fast + slow, faults=[0.0] * 60 + [3907.0] * 40)
    assert t.multimodal and t.mode_faults() == [0.0, 3907.0]
    (note,) = [n for n in memory_notes([t]) if "bimodal" in n.text]
    assert note.level == "warn" and "fresh memory pages" in note.text
    assert "--processes" in note.text


def _bimodal_jit() -> Timing:
    rng = np.random.default_rng(4)
    fast, slow = lognormal(rng, 0.4e-3, 60), lognormal(rng, 5e-3, 40)
    return Timing("jit", 4_000_000, samples=fast + slow, faults=[0.0] * 60 + [3907.0] * 40)


def _one_arena(monkeypatch, tunables: str | None = None, arena_max: str | None = None) -> None:
    for name, value in (("GLIBC_TUNABLES", tunables), ("MALLOC_ARENA_MAX", arena_max)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


@pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="needs glibc"
)
def test_a_jitted_slow_mode_in_fresh_pages_gets_the_malloc_arena_advice(monkeypatch):
    _one_arena(monkeypatch)
    assert memory.several_arenas()
    t = _bimodal_jit()
    notes = [n.text for n in memory_notes([t], compiled={"jit"})]
    (arena,) = [text for text in notes if "arena" in text]
    assert arena.startswith("jit: the 15.3 MiB faulted in per call")  # one size: not named
    swept = [n.text for n in memory_notes([t], compiled={"jit"}, sweep=True)]
    assert any(text.startswith("jit at n=4000000: the 15.3 MiB") for text in swept)
    assert "GLIBC_TUNABLES=glibc.malloc.arena_max=1" in arena
    # not for a variant run op by op or a twin (the setting did not keep their pages)
    assert not any("arena" in n.text for n in memory_notes([t], compiled=set()))
    # nor once one arena is set, either way
    for tunables, arena_max in (
        ("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1", None),
        (None, "1"),
    ):
        _one_arena(monkeypatch, tunables, arena_max)
        assert not memory.several_arenas()
        assert not any("arena" in n.text for n in memory_notes([t], compiled={"jit"}))


@pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="needs glibc"
)
def test_the_arena_advice_needs_fresh_pages_that_an_arena_could_keep(monkeypatch):
    _one_arena(monkeypatch)
    assert memory.arena_note("jit", 3907) is not None  # 15.3 MiB
    assert memory.arena_note("jit", 5) is None  # a few pages: nothing to explain
    # 95 MiB: above glibc's largest mmap threshold, such buffers are mapped afresh anyway
    assert memory.arena_note("jit", 24415) is None


# -- page faults and bytes per call ---------------------------------------------------------

PAGES = 1024


def fresh_pages(x):
    """Writes into newly mapped memory every call: one fault per page."""
    region = mmap.mmap(-1, PAGES * mmap.PAGESIZE)
    np.frombuffer(region, dtype=np.uint8)[:: mmap.PAGESIZE] = 1
    region.close()
    return x


_kept = np.zeros(PAGES * mmap.PAGESIZE, dtype=np.uint8)


def same_pages(x):
    _kept[:: mmap.PAGESIZE] += 1
    return x


def test_page_faults_per_call_are_counted_and_explained():
    r = jaxlab.bench({"fresh": fresh_pages, "reused": same_pages}, jnp.ones(4), **QUICK)
    fresh, reused = r.timing("fresh"), r.timing("reused")
    assert fresh.faults_per_call >= 0.9 * PAGES
    assert reused.faults_per_call < 0.05 * PAGES
    assert len(fresh.faults) == len(fresh.samples)
    frame = r.to_pandas().set_index("variant")
    assert frame.loc["fresh", "faults_per_call"] >= 0.9 * PAGES
    assert "faults_per_call" in frame.columns and "alloc_bytes_per_call" in frame.columns
    (note,) = [n for n in r.notes if n.variant == "fresh" and "page faults per call" in n.text]
    assert "donat" in note.text and "fresh memory pages" in note.text
    assert not [n for n in r.notes if n.variant == "reused" and "page faults" in n.text]
    assert "page faults / call" in r.details()


def test_bytes_per_call_for_each_kind_of_variant():
    x = np.ones((256, 256), np.float32)
    r = jaxlab.bench(cubic, x, **QUICK)
    jit, eager, numpy = (r.timing(v) for v in ("jit", "eager", "numpy"))
    assert jit.alloc_bytes == x.nbytes  # the output; XLA fuses the rest
    assert "XLA memory analysis" in jit.alloc_source
    assert eager.alloc_bytes >= 2 * x.nbytes and "op by op" in eager.alloc_source
    assert numpy.alloc_bytes >= 2 * x.nbytes and "tracemalloc" in numpy.alloc_source
    loaded = BenchResult.from_dict(r.to_dict())
    assert loaded.timing("jit").alloc_bytes == x.nbytes
    assert loaded.timing("jit").faults == jit.faults


def test_the_timed_loop_holds_no_output():
    alive = {"now": 0}
    at_entry: list[int] = []

    class Output:
        def __init__(self):
            alive["now"] += 1

        def __del__(self):
            alive["now"] -= 1

    def make_output(x):
        at_entry.append(alive["now"])
        return Output()

    jaxlab.bench({"custom": make_output}, jnp.ones(4), check=False, **QUICK)
    assert len(at_entry) > 10
    assert max(at_entry[1:]) == 0  # only the first call's output is kept, and not for long


def test_fault_cost_is_measured():
    cost = memory.fault_cost()
    assert 0 < cost < 1e-3


# -- fresh processes ------------------------------------------------------------------------


def test_fresh_processes_pool_samples_and_keep_each_median():
    r = jaxlab.bench(cubic, jnp.ones((64, 64)), variants="jit,numpy", processes=2, **QUICK)
    for t in r.timings:
        assert len(t.process_medians_s) == 2 and len(t.process_iqrs_s) == 2
        assert t.runs >= 2 * 3
    assert r.settings["processes"] == 2
    lines = [n.text for n in r.notes if n.topic == "processes"]
    assert len(lines) == 2 and all("2 processes, medians" in line for line in lines)
    assert r.to_pandas()["process_medians_s"].map(len).tolist() == [2, 2]


def test_a_function_that_cannot_be_shipped_is_timed_here():
    lock = threading.Lock()

    def locked(x):
        with lock:
            return x * 2

    r = jaxlab.bench(locked, jnp.ones(8), vs=(), processes=2, **QUICK)
    (note,) = [n for n in r.notes if "not used" in n.text]
    assert note.text.startswith("processes=2 not used: the function cannot be sent")
    assert "_thread.lock" in note.text and "\n" not in note.text
    assert all(not t.process_medians_s for t in r.timings)


class _CtrlCDuringSecondWorker:
    """A progress reporter that, once the first worker has finished, presses Ctrl-C (SIGINT
    to this process) while the second one runs."""

    def __init__(self) -> None:
        self.finished = ""

    def start(self, total: int, title: str) -> None:
        pass

    def update(self, done: int, text: str) -> None:
        if done == 1:  # a worker takes longer than this to start (it imports JAX)
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()

    def finish(self, text: str) -> None:
        self.finished = text


def test_ctrl_c_during_worker_processes_keeps_the_finished_ones():
    progress = _CtrlCDuringSecondWorker()
    opts = {**QUICK, "progress": progress}
    r = jaxlab.bench(cubic, jnp.ones((64, 64)), variants="jit", processes=4, **opts)
    assert r.interrupted and r.settings["processes"] == 1
    assert [len(t.process_medians_s) for t in r.timings] == [1]
    assert any("interrupted (Ctrl-C) after 1 of 4 worker processes" in n.text for n in r.notes)
    assert progress.finished.startswith("1 of 4 processes") and "Ctrl-C" in progress.finished
    # the worker that was running is stopped, not left behind
    children = subprocess.run(
        ["pgrep", "-f", "-P", str(os.getpid()), "jaxlab.benchmarking.worker"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert children.stdout.strip() == ""


def test_ctrl_c_before_any_worker_finished_is_raised():
    class Early(_CtrlCDuringSecondWorker):
        def start(self, total: int, title: str) -> None:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt):
        jaxlab.bench(
            cubic, jnp.ones(8), variants="jit", processes=2, **{**QUICK, "progress": Early()}
        )


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_process_counts(bad):
    with pytest.raises(BenchError, match="processes must be a whole number"):
        jaxlab.bench(cubic, jnp.ones(4), processes=bad, **QUICK)


# -- peak bandwidth -------------------------------------------------------------------------


def test_stream_arrays_are_four_times_the_last_level_cache():
    cache = roofline.last_level_cache()
    elements, why = roofline.cpu_elements()
    if cache is None:
        assert elements * 4 == roofline.MIN_CPU_BYTES and "unknown" in why
    else:
        expected = min(max(4 * cache[0], roofline.MIN_CPU_BYTES), roofline.MAX_CPU_BYTES)
        assert elements * 4 == expected and "4×" in why


# -- judge ----------------------------------------------------------------------------------


def _result(medians: dict[str, float], env: dict | None = None, seed: int = 0) -> BenchResult:
    rng = np.random.default_rng(seed)
    return BenchResult(
        label="cubic",
        variants=[VariantInfo(v, "custom", "jax") for v in medians],
        timings=[Timing(v, 100, samples=lognormal(rng, m, 40, 0.01)) for v, m in medians.items()],
        environment=env if env is not None else machine.environment(),
    )


def test_judge_calls_regressions_improvements_and_invariants(tmp_path):
    old = _result({"slower": 1e-3, "faster": 1e-3, "same": 1e-3}, seed=1)
    new = _result({"slower": 1.2e-3, "faster": 0.8e-3, "same": 1.01e-3}, seed=2)
    old = BenchResult.load(old.save(tmp_path / "old.json"))  # fingerprints survive saving
    import jax

    assert old.environment["fingerprint"]["jax"] == jax.__version__
    j = jaxlab.judge(old, new, tolerance=0.05)
    assert {v.variant: v.judgement for v in j.verdicts} == {
        "slower": "regression",
        "faster": "improvement",
        "same": "invariant",
    }
    assert [v.variant for v in j.regressions] == ["slower"]
    slower = j.of("slower")
    assert slower.speedup == pytest.approx(1 / 1.2, rel=0.05)  # old / new: < 1 is slower
    assert slower.speedup_low <= slower.speedup <= slower.speedup_high
    assert j.of("faster").speedup == pytest.approx(1 / 0.8, rel=0.05)
    assert j.rows()[0]["speedup"] == slower.speedup
    assert j.to_pandas()["judgement"].tolist() == ["regression", "improvement", "invariant"]
    assert "regression" in repr(j) and "jl-good" in j._repr_html_()
    assert jaxlab.judge(old, new, tolerance=0.5).of("slower").judgement == "invariant"


def test_judge_refuses_other_environments_unless_forced():
    env = machine.environment()
    other = dict(env, fingerprint=dict(env["fingerprint"], jax="0.0.1", xla_flags="--xla_x"))
    old, new = _result({"jit": 1e-3}, env), _result({"jit": 1e-3}, other)
    with pytest.raises(BenchError, match="different environments") as info:
        jaxlab.judge(old, new)
    assert "JAX" in str(info.value) and "→ 0.0.1" in str(info.value)
    assert "force=True" in str(info.value)
    forced = jaxlab.judge(old, new, force=True)
    assert forced.of("jit").judgement == "invariant"
    assert "XLA_FLAGS" in forced.notes[0]


@pytest.mark.skipif(memory.glibc_version() is None, reason="needs glibc")
def test_the_malloc_setting_is_part_of_the_fingerprint(monkeypatch):
    _one_arena(monkeypatch)
    per_thread = machine.environment()
    _one_arena(monkeypatch, "glibc.malloc.arena_max=1")
    one = machine.environment()
    assert per_thread["malloc"].endswith("per-thread arenas")
    assert one["malloc"].endswith("one arena") and "malloc: glibc" in machine.describe(one)
    assert "malloc" not in machine.describe(per_thread)  # glibc's default is not called out
    (difference,) = machine.fingerprint_differences(per_thread, one)
    assert difference.startswith("malloc glibc") and difference.endswith("one arena")
    # results saved before the malloc setting was recorded still compare
    old = dict(
        per_thread,
        fingerprint={k: v for k, v in per_thread["fingerprint"].items() if k != "malloc"},
    )
    assert machine.fingerprint_differences(old, one) == []


def test_judge_rejects_bad_input():
    r = _result({"jit": 1e-3})
    with pytest.raises(TypeError, match="two BenchResult objects"):
        jaxlab.judge(r, "r2")
    with pytest.raises(BenchError, match="tolerance must be a number"):
        jaxlab.judge(r, r, tolerance=-0.1)
    assert "judge" in jaxlab.__all__ and "Judgement" in jaxlab.__all__


def test_faults_are_charged_only_what_they_add(monkeypatch):
    sizes = []

    def cost(nbytes=None):
        sizes.append(nbytes)
        return 0.5e-6

    monkeypatch.setattr(memory, "fault_cost", cost)
    # a 5000×5000 float32 output faulted in afresh: 24415 pages, a 23.5 ms call
    text = memory.faults_note("jit", 24415, 23.5e-3)
    assert text.startswith("jit: 24415 page faults per call add about 12.2 ms to its 23.5 ms")
    assert "against pages already mapped" in text and "of its 23.5 ms" not in text
    assert sizes == [24415 * mmap.PAGESIZE]
    # a probe figure above the call's own time is never charged in full
    monkeypatch.setattr(memory, "fault_cost", lambda nbytes=None: 2e-6)
    text = memory.faults_note("jit", 24415, 23.5e-3)
    assert "add up to most of its 23.5 ms" in text and "48.8 ms in all, more than the call" in text


def test_the_fault_probe_writes_fresh_pages_against_mapped_ones_of_the_call_s_size():
    small, large = memory.fault_cost(1 << 20), memory.fault_cost(100 << 20)
    assert 0 < small < 1e-3 and 0 < large < 1e-3
    assert memory._probe_bytes(1 << 20) == 4 << 20  # the smallest probe
    assert memory._probe_bytes(100 << 20) == 128 << 20
    assert memory._probe_bytes(10 << 30) == 256 << 20  # the largest


def test_notes_of_a_bench_of_one_size_do_not_name_the_size():
    """A bench of one call has one size (its elements): its memory and pace notes say 'jit',
    not 'jit at n=4000000'; a size sweep's notes name the size each is about."""
    from jaxlab.benchmarking.pace import Pace

    t = _bimodal_jit()
    t.__dict__["pace"] = Pace(0.4e-3, 0.6e-3, 4)  # the machine changed pace as well
    for sweep, label in ((False, "jit: "), (True, "jit at n=4000000: ")):
        notes = memory_notes([t], sweep=sweep)
        assert {n.topic for n in notes} >= {"memory"}
        assert notes and all(n.text.startswith(label) for n in notes), [n.text for n in notes]
    pace_only = Timing("jit", 4_000_000, samples=[1e-3] * 30)
    pace_only.__dict__["pace"] = Pace(1e-3, 1.5e-3, 3)
    (note,) = memory_notes([pace_only])
    assert note.topic == "pace" and note.text.startswith("jit: the machine changed pace")
    (note,) = memory_notes([pace_only], sweep=True)
    assert note.text.startswith("jit at n=4000000: the machine changed pace")
