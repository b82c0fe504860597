"""Does ``%bench`` give the number a careful engineer gets, when memory gets in the way?

1. The cubic ``x + x*x + x*x*x`` (float32, square arrays) at sizes from 1e4 to 2.5e7
   elements, each in several fresh processes. Every process alternates a plain reference loop
   (``timeit`` + ``block_until_ready``, holding no output) with ``jaxlab.bench(fn, x,
   vs="numpy")``: reference, bench, reference, bench, reference, bench, reference. Both see
   the same process (heap layout, arenas) and, alternating, the same moments of a shared
   machine, whose pace can move 1.5-2x for a second at a time (the reference loop alone shows
   it: see the "ref spread" column). Outcome per (size, process): the median of the bench's
   jit medians agrees with the pooled reference within 10 %, or a bench flagged the jit
   multi-modal, memory-bound (page faults) or unsteady (the machine changed pace) with its
   cause, or it disagrees unflagged. The same 10 % test applied to the reference against
   itself (its odd turns against its even ones) is printed as the noise floor. Each bench's
   verdict (jit against numpy) is checked too: how often it holds, whether its 95 % interval
   contains the ratio of plain loops of the jitted call and of the NumPy call run beside it
   in the same process, and how many lines its default text takes.
2. ``processes=5`` on 2000×2000: each worker process's median, against a plain loop run in a
   fresh process of its own.
3. ``%jit f`` dispatch against ``jax.jit`` (``benchmarks/jit_dispatch.py``).
4. The peak bandwidth (STREAM's rule) against an independent 1 GiB NumPy copy, same run.

Part 1 with ``--with-control``: each process is followed by a control process that runs the
same turns with every bench replaced by a plain loop of the jitted call for as long as the
bench took: how often a process changes mode with no bench at all, and how often those plain
loops pass the bench's own test (their median within 10 % of the same-process reference), the
most any harness can score on the machine at that moment.

    .venv/bin/python benchmarks/bench_fidelity.py [--quick] [--processes 5] [--time 0.5]
        [--rounds 3] [--parts 1234] [--sizes 4e6,2.5e7] [--with-control]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
# square arrays of 100² … 5000² (1e4 … 2.5e7 elements), 2000×2000 among them
SIZES = [side**2 for side in (100, 158, 253, 400, 632, 1000, 1500, 2000, 3162, 5000)]
QUICK_SIZES = [10_000, 250_000, 4_000_000, 25_000_000]
TOLERANCE = 0.10


def fn(x):
    return x + x * x + x * x * x


def side(n: int) -> int:
    return max(1, round(math.sqrt(n)))


# -- one process -----------------------------------------------------------------------------


def reference(jf, x, seconds: float) -> tuple[list[float], float]:
    """A plain loop of the jitted call ``jf(x)`` (see :func:`plain_loop`)."""
    return plain_loop(lambda: jf(x).block_until_ready(), seconds)


def plain_loop(call, seconds: float) -> tuple[list[float], float]:
    """Per-call seconds of a plain loop holding no output (``timeit`` + ``block_until_ready``,
    as ``%timeit`` runs it: one timer, samples of at least 2 ms back to back), and its page
    faults per call.

    Samples of a few calls with Python work between them (a new timer each) read 1.5-2.5x
    slow below ~1 ms per call here: XLA's worker threads fall asleep in the gaps and each
    sample pays their wake-up. That measures the gaps, not the function."""
    call()
    timer = timeit.Timer(call)
    t = timer.timeit(number=1)
    number = max(1, math.ceil(2e-3 / max(t, 1e-9)))
    samples: list[float] = []
    calls = 0
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(samples) < 5:
        samples.extend(dt / number for dt in timer.repeat(repeat=5, number=number))
        calls += 5 * number
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / calls
    return samples, faults


def control_child(n: int, budget: float, walls: list[float]) -> dict:
    """A control process: the same turns as :func:`child` (reference loop, NumPy plain loop),
    with each bench replaced by a plain loop of the jitted call for as long as that bench
    took. Its fault counts per turn show how often the process changes mode with no bench."""
    import jax
    import numpy as np

    s = side(n)
    x = jax.device_put(np.random.default_rng(0).standard_normal((s, s)).astype(np.float32))
    jf = jax.jit(fn)
    xn = np.asarray(x)
    refs = [reference(jf, x, budget / 2)]
    plain_loop(lambda: fn(xn), budget / 4)
    stand_ins = []
    for wall in walls:
        stand_ins.append(statistics.median(reference(jf, x, wall)[0]))
        refs.append(reference(jf, x, budget / 2))
        plain_loop(lambda: fn(xn), budget / 4)
    turns = [statistics.median(samples) for samples, _ in refs]
    odd = [x for samples, _ in refs[0::2] for x in samples]
    even = [x for samples, _ in refs[1::2] for x in samples]
    return {
        "ref_s": statistics.median(x for samples, _ in refs for x in samples),
        "ref_turns_s": turns,
        "ref_turn_faults": [f for _, f in refs],
        "ref_self": statistics.median(odd) / statistics.median(even),
        # the same test as the bench's, a plain loop in its place: the best a harness can do
        "stand_in_s": statistics.median(stand_ins),
    }


def child(n: int, budget: float, rounds: int) -> dict:
    import jax
    import numpy as np

    import jaxlab
    from jaxlab.benchmarking.verdict import finding

    s = side(n)
    x = jax.device_put(np.random.default_rng(0).standard_normal((s, s)).astype(np.float32))
    jf = jax.jit(fn)
    xn = np.asarray(x)
    refs: list[tuple[list[float], float]] = [reference(jf, x, budget / 2)]
    numpy_refs = [statistics.median(plain_loop(lambda: fn(xn), budget / 4)[0])]
    jits, flags, verdicts, walls = [], [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = jaxlab.bench(fn, x, vs="numpy", progress=None, peak=False, time_budget=budget)
        walls.append(time.perf_counter() - t0)
        refs.append(reference(jf, x, budget / 2))
        numpy_refs.append(statistics.median(plain_loop(lambda: fn(xn), budget / 4)[0]))
        t = r.timing("jit")
        jits.append(t.median_s)
        found = finding(r, "jit")
        # the plain loops either side of this bench: NumPy's time over the jitted call's
        plain = statistics.median(numpy_refs[-2:]) / statistics.median(refs[-2][0] + refs[-1][0])
        verdicts.append(
            {
                "holds": found.holds,
                "why": found.why,
                "speedup": found.speedup,
                "low": found.low,
                "high": found.high,
                "plain": plain,
                "numpy_s": r.timing("numpy").median_s,
                "numpy_plain_s": statistics.median(numpy_refs[-2:]),
                "lines": len(repr(r).splitlines()),
            }
        )
        flags.append(
            {
                "modes": jaxlab.benchmarking.modes.describe(t.modes),
                "pace": t.pace.ratio if t.pace else None,
                "faults": statistics.mean(t.faults) if t.faults else None,
                "notes": [n.text for n in r.notes if n.variant == "jit" and n.level == "warn"],
            }
        )
    pooled = [x for samples, _ in refs for x in samples]
    # each bench against the reference turns either side of it
    beside = [statistics.median(refs[k][0] + refs[k + 1][0]) for k in range(rounds)]
    turns = [statistics.median(samples) for samples, _ in refs]
    odd = [x for samples, _ in refs[0::2] for x in samples]
    even = [x for samples, _ in refs[1::2] for x in samples]
    return {
        "n": s * s,
        "shape": f"{s}×{s}",
        "ref_s": statistics.median(pooled),
        "ref_turns_s": turns,
        "ref_self": statistics.median(odd) / statistics.median(even),
        "ref_faults": statistics.median(f for _, f in refs),
        "ref_turn_faults": [f for _, f in refs],
        "jit_s": statistics.median(jits),
        "jits_s": jits,
        "beside_s": beside,
        "flags": flags,
        "verdicts": verdicts,
        "numpy_s": r.timing("numpy").median_s,
        "walls_s": walls,
    }


def contains(v: dict) -> bool:
    """The verdict's 95 % interval holds the ratio the plain loops measured beside it."""
    return v["low"] is not None and v["low"] <= v["plain"] <= v["high"]


def verdict_summary(rows: list[dict]) -> list[str]:
    """How often the verdict holds, how often its interval contains the plain loops' ratio,
    and how long the default text is."""
    every = [v for row in rows for v in row.get("verdicts", [])]
    if not every:
        return []
    held = [v for v in every if v["holds"]]
    lines = sorted(v["lines"] for v in every)
    numpy_close = sum(abs(v["numpy_s"] / v["numpy_plain_s"] - 1) <= TOLERANCE for v in every)
    numpy_ratios = sorted(v["numpy_s"] / v["numpy_plain_s"] for v in every)
    return [
        f"numpy: the bench's median within 10 % of the NumPy plain loops beside it in "
        f"{numpy_close} of {len(every)} benches (bench / plain loop: median "
        f"{numpy_ratios[len(numpy_ratios) // 2]:.2f}, range {numpy_ratios[0]:.2f}–"
        f"{numpy_ratios[-1]:.2f})",
        f"verdict (jit against numpy): holds in {len(held)} of {len(every)} benches; its 95 % "
        f"interval contains the plain loops' ratio in {sum(map(contains, every))} of "
        f"{len(every)} ({sum(map(contains, held))} of the {len(held)} that hold)",
        f"default text of each result: {lines[0]}–{lines[-1]} lines (median "
        f"{lines[len(lines) // 2]})",
    ]


def faults_line(row: dict) -> str:
    """'reference turns 0 | 0 | 0 | 0; bench jit 0 | 0 | 0': page faults per call (the
    mean over each loop's calls)."""
    refs = " | ".join(f"{f:.0f}" for f in row.get("ref_turn_faults", []))
    jits = " | ".join(
        "?" if f["faults"] is None else f"{f['faults']:.0f}" for f in row.get("flags", [])
    )
    return f"reference turns {refs}; bench jit {jits}"


def faults_summary(rows: list[dict]) -> list[str]:
    """Page faults per call of the plain loop before any bench, after benches, and of the
    benches' jit samples, over every process."""
    first = [r["ref_turn_faults"][0] for r in rows if r.get("ref_turn_faults")]
    later = [f for r in rows for f in r.get("ref_turn_faults", [])[1:]]
    jits = [f["faults"] for r in rows for f in r["flags"] if f["faults"] is not None]
    if not first or not later:
        return []

    def shown(xs: list[float]) -> str:
        return f"median {statistics.median(xs):.0f} (range {min(xs):.0f}–{max(xs):.0f})"

    return [
        f"page faults per call: plain loop before any bench {shown(first)}; plain loop after "
        f"benches {shown(later)}; bench jit samples {shown(jits) if jits else '–'}"
    ]


SLOW_FAULTS = 1000  # a reference turn faulting this often per call is in the slow mode


def slow_turns(rows: list[dict], controls: list[dict]) -> list[str]:
    """How many reference turns after the first are in the slow mode, in the bench processes
    and in the control processes (no bench): the harness's share of the mode changes."""
    out = []
    for name, group in (("bench processes", rows), ("control processes (no bench)", controls)):
        later = [f for r in group for f in r["ref_turn_faults"][1:]]
        first = [r["ref_turn_faults"][0] for r in group if r["ref_turn_faults"]]
        if not later:
            continue
        out.append(
            f"{name}: reference turns in the slow mode (≥ {SLOW_FAULTS} faults per call): first "
            f"turn {sum(f >= SLOW_FAULTS for f in first)} of {len(first)}, later turns "
            f"{sum(f >= SLOW_FAULTS for f in later)} of {len(later)}"
        )
    if controls:
        agree = sum(self_outcome(c) == "agrees" for c in controls)
        out.append(
            f"control processes: the reference against itself within 10 % in {agree} of "
            f"{len(controls)}"
        )
        close = sum(abs(c["stand_in_s"] / c["ref_s"] - 1) <= TOLERANCE for c in controls)
        out.append(
            f"control processes: a plain loop of the jitted call in each bench's place, the "
            f"median of those loops within 10 % of the same-process plain loop (the test the "
            f"bench takes) in {close} of {len(controls)}: the most a harness can score here"
        )
    return out


def outcome(row: dict) -> str:
    if abs(row["jit_s"] / row["ref_s"] - 1) <= TOLERANCE:
        return "agrees"
    # a bench that flagged the jit told its reader not to trust one median
    flagged = [f for f in row["flags"] if f["modes"] or f["pace"] or _memory_bound(f)]
    if flagged:
        f = flagged[0]
        if f["modes"]:
            return f"flagged multi-modal ({f['modes']})"
        if f["pace"]:
            return f"flagged unsteady (turns {f['pace']:.2f}× apart)"
        return "flagged memory-bound"
    return "DISAGREES, unflagged"


def _memory_bound(flags: dict) -> bool:
    return any("page faults per call add" in text for text in flags["notes"])


def bench_outcomes(row: dict) -> list[str]:
    """Each bench on its own, against the two reference turns either side of it."""
    out = []
    for jit, ref, f in zip(row["jits_s"], row["beside_s"], row["flags"], strict=True):
        flagged = bool(f["modes"] or f["pace"] or _memory_bound(f))
        if abs(jit / ref - 1) <= TOLERANCE:
            out.append("agrees, flagged" if flagged else "agrees")
        else:
            out.append("flagged" if flagged else "DISAGREES, unflagged")
    return out


def self_outcome(row: dict) -> str:
    """The same test, the reference against itself: its odd turns against its even ones."""
    return "agrees" if abs(row["ref_self"] - 1) <= TOLERANCE else "disagrees"


def run_child(n: int, budget: float, rounds: int, walls: list[float] | None = None) -> dict:
    """One process of part 1: benches between reference turns, or (`walls`) its control."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        *("--child", str(n), "--time", str(budget), "--rounds", str(rounds)),
    ]
    if walls is not None:
        command += ["--control", ",".join(f"{w:.3f}" for w in walls)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"n": n, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_reference(n: int, budget: float) -> tuple[float, float] | None:
    """The median of a plain loop of the jitted call alone, in a fresh process, and its page
    faults per call."""
    command = [sys.executable, os.path.abspath(__file__), "--reference", str(n)]
    command += ["--time", str(budget)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    median, faults = json.loads(out.stdout.strip().splitlines()[-1])
    return float(median), float(faults)


def reference_child(n: int, budget: float) -> tuple[float, float]:
    import jax
    import numpy as np

    s = side(n)
    x = jax.device_put(np.random.default_rng(0).standard_normal((s, s)).astype(np.float32))
    samples, faults = reference(jax.jit(fn), x, budget)
    return statistics.median(samples), faults


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.3f}"


# -- the parts ---------------------------------------------------------------------------------


def part_sizes(
    sizes: list[int], processes: int, budget: float, rounds: int, control: bool = False
) -> None:
    print(
        f"1. cubic x + x*x + x*x*x, {len(sizes)} sizes × {processes} fresh processes; per process: "
        f"reference loop and jaxlab.bench(fn, x, vs='numpy') alternating, {rounds} benches "
        f"between {rounds + 1} reference turns\n"
    )
    print(
        "ref: the pooled reference turns (ms) and their spread (slowest turn / fastest); "
        "self: the reference's odd turns / its even turns; jit: the median of the benches' jit "
        "medians (ms), each bench's in brackets; jit/ref\n"
    )
    print(
        "faults: page faults per call of the reference turns (the first before any bench) and "
        "of each bench's jit samples, a measure the machine's load moves less than times\n"
    )
    header = (
        f"{'size':>12} {'proc':>4} {'ref ms':>9} {'spread':>6} {'self':>6} "
        f"{'jit ms':>9} {'jit/ref':>7}  {'each bench (ms)':<26} outcome"
    )
    print(header)
    print("-" * (len(header) + 30))
    counts: dict[str, int] = {}
    selves: dict[str, int] = {}
    singles: dict[str, int] = {}
    rows: list[dict] = []
    controls: list[dict] = []
    start = time.perf_counter()
    for n in sizes:
        for k in range(processes):
            row = run_child(n, budget, rounds)
            if "error" in row:
                counts["worker failed"] = counts.get("worker failed", 0) + 1
                print(f"{n:>12} {k + 1:>4}  worker failed: {row['error']}")
                continue
            rows.append(row)
            verdict = outcome(row)
            kind = verdict.split(" (")[0]
            counts[kind] = counts.get(kind, 0) + 1
            for single in bench_outcomes(row):
                singles[single] = singles.get(single, 0) + 1
            mine = self_outcome(row)
            selves[mine] = selves.get(mine, 0) + 1
            turns = row["ref_turns_s"]
            each = " ".join(f"{j * 1e3:.3f}" for j in row["jits_s"])
            for v in row["verdicts"]:
                print(
                    f"{'':>17} verdict {v['speedup']:.3g}× [{v['low']:.3g}, {v['high']:.3g}] "
                    f"{'holds' if v['holds'] else 'unsettled'} ({v['why']}); plain loops "
                    f"{v['plain']:.3g}× ({'inside' if contains(v) else 'OUTSIDE'}); "
                    f"{v['lines']} lines"
                )
            print(
                f"{row['shape']:>12} {k + 1:>4} {ms(row['ref_s'])} {max(turns) / min(turns):6.2f} "
                f"{row['ref_self']:6.2f} {ms(row['jit_s'])} {row['jit_s'] / row['ref_s']:7.3f}  "
                f"{each:<26} {verdict}"
            )
            print(f"{'':>17} faults: {faults_line(row)}")
            if control:
                twin = run_child(n, budget, rounds, row["walls_s"])
                if "error" in twin:
                    print(f"{'':>17} control failed: {twin['error']}")
                    continue
                controls.append(twin)
                shown = " | ".join(f"{f:.0f}" for f in twin["ref_turn_faults"])
                stand_in = twin["stand_in_s"] / twin["ref_s"]
                print(
                    f"{'':>17} control (no bench): faults {shown}; self {twin['ref_self']:.2f} "
                    f"({self_outcome(twin)}); plain loop in the bench's place / reference "
                    f"{stand_in:.3f}"
                )
    total = sum(counts.values())
    print(
        f"\noutcomes over {total} (size, process) pairs in "
        f"{time.perf_counter() - start:.0f} s: "
        + ", ".join(f"{v}: {c}" for v, c in sorted(counts.items()))
    )
    print(
        f"each of the {sum(singles.values())} benches against the reference turns either side "
        "of it: " + ", ".join(f"{v}: {c}" for v, c in sorted(singles.items()))
    )
    print(
        "noise floor, the same 10 % test on the reference against itself (odd turns / even "
        "turns): " + ", ".join(f"{v}: {c}" for v, c in sorted(selves.items()))
    )
    for line in verdict_summary(rows):
        print(line)
    for line in faults_summary(rows):
        print(line)
    for line in slow_turns(rows, controls):
        print(line)
    for n in sorted({row["n"] for row in rows}):
        at = [row for row in rows if row["n"] == n]
        close = sum(abs(row["jit_s"] / row["ref_s"] - 1) <= TOLERANCE for row in at)
        print(
            f"{at[0]['shape']}: the jit median within 10 % of the same-process plain loop in "
            f"{close} of {len(at)} processes"
        )


def part_processes(processes: int, budget: float) -> None:
    import jax
    import numpy as np

    import jaxlab

    print(f"\n2. jaxlab.bench(fn, x, vs='numpy', processes={processes}) on 2000×2000\n")
    x = jax.device_put(np.random.default_rng(0).standard_normal((2000, 2000)).astype(np.float32))
    r = jaxlab.bench(fn, x, vs="numpy", processes=processes, progress=None, time_budget=budget)
    for t in r.timings:
        meds = ", ".join(f"{m * 1e3:.3f}" for m in t.process_medians_s)
        print(f"  {t.variant:6} per-process medians (ms): {meds}")
    found = [run_reference(2000 * 2000, budget) for _ in range(processes)]
    fresh = [m for m, _ in filter(None, found)]
    shown = ", ".join(f"{m * 1e3:.3f}" for m in fresh)
    print(f"  plain loop of the jitted call, each in a fresh process (ms): {shown}")
    faults = ", ".join(f"{f:.0f}" for _, f in filter(None, found))
    print(f"  page faults per call of those plain loops: {faults}")
    jit = r.timing("jit")
    if jit.faults:
        print(
            f"  page faults per call of the bench's jit samples, pooled over its processes: "
            f"mean {statistics.mean(jit.faults):.0f}, median {statistics.median(jit.faults):.0f}"
        )
    if fresh and jit.process_medians_s:
        middle = statistics.median(fresh)
        close = sum(abs(m / middle - 1) <= TOLERANCE for m in jit.process_medians_s)
        print(
            f"  per-process jit medians within 10 % of the fresh plain loops' median: {close} "
            f"of {len(jit.process_medians_s)}"
        )
    print(f"  verdict: {r.verdict}")
    for note in r.notes:
        if note.topic is not None:
            print(f"  - {note.text}")


def part_dispatch(rounds: int) -> None:
    print("\n3. %jit dispatch against jax.jit\n")
    command = [sys.executable, os.path.join(HERE, "jit_dispatch.py"), "--rounds", str(rounds)]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    print("  " + "\n  ".join((out.stdout or out.stderr).strip().splitlines()))


def gib_copy(np) -> float:
    """GB/s of copying 1 GiB into another 1 GiB (read + write), best of 12 (as many tries as
    the peak measurement gets: on a shared machine a best-of favours more tries)."""
    src = np.ones(1 << 28, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    best = min(timeit.repeat(lambda: np.copyto(dst, src), number=1, repeat=12))
    return 2 * src.nbytes / best / 1e9


def part_peak(rounds: int) -> None:
    import jax
    import numpy as np

    from jaxlab.benchmarking import roofline

    print(
        f"\n4. peak memory bandwidth against an independent 1 GiB copy, {rounds} alternating "
        "rounds (the load of a shared machine moves both)\n"
    )
    ratios = []
    for i in range(rounds):
        peak = roofline._measure(jax.devices()[0], None)  # afresh, not the session's cache
        copy = gib_copy(np)
        ratios.append(peak.gbps / copy)
        print(f"  round {i + 1}: peak {peak.gbps:6.2f} GB/s, 1 GiB copy {copy:6.2f} GB/s")
    print(f"  median peak / copy: {statistics.median(ratios):.3f} (goal: within 15 %)")
    print(f"  method: {peak.method}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 sizes, 2 processes")
    parser.add_argument("--processes", type=int, default=None, help="fresh processes per size")
    parser.add_argument("--time", type=float, default=0.5, help="bench budget per variant")
    parser.add_argument("--parts", default="1234", help="which parts to run, e.g. 13")
    parser.add_argument("--sizes", default=None, help="sizes of part 1, e.g. 4e6,2.5e7")
    parser.add_argument("--rounds", type=int, default=3, help="benches per process (part 1)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--control", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--with-control",
        action="store_true",
        help="part 1: after each process, a control process with no bench (a plain loop of "
        "the jitted call for as long as each bench took)",
    )
    args = parser.parse_args()
    if args.child is not None:
        if args.control:
            walls = [float(w) for w in args.control.split(",")]
            print(json.dumps(control_child(args.child, args.time, walls)))
        else:
            print(json.dumps(child(args.child, args.time, args.rounds)))
        return
    if args.reference is not None:
        print(json.dumps(reference_child(args.reference, args.time)))
        return
    from jaxlab.benchmarking.machine import describe, environment

    processes = args.processes or (2 if args.quick else 5)
    print(f"machine: {describe(environment())}; load average {os.getloadavg()[0]:.1f}\n")
    if "1" in args.parts:
        sizes = QUICK_SIZES if args.quick else SIZES
        if args.sizes:
            sizes = [round(float(v)) for v in args.sizes.split(",")]
        part_sizes(sizes, processes, args.time, args.rounds, args.with_control)
    if "2" in args.parts:
        part_processes(processes if args.quick else 5, args.time)
    if "3" in args.parts:
        part_dispatch(11 if args.quick else 41)
    if "4" in args.parts:
        part_peak(3 if args.quick else 5)


if __name__ == "__main__":
    main()
