"""Advice from a compile profile: unrolled Python loops, constants baked into the program, a
very large number of tiny kernels, and static arguments that recompile per value."""

from __future__ import annotations

import inspect as pyinspect
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import partial
from typing import Any

from jaxlab.base.format import format_bytes, format_seconds, source_location
from jaxlab.base.renamed import renamed
from jaxlab.core.cache_misses import NEW_OBJECT_FIX
from jaxlab.core.cache_misses import category as reason_category
from jaxlab.core.cache_misses import summarize as summarize_reason
from jaxlab.ir.sources import StagedCall, enclosing_loop, is_users

# `profile` below is a jaxlab.CompileProfile (not imported: it imports this module)
CompileProfile = Any


@dataclass
class Advice:
    """One finding: what is wrong, where, what it costs, and the fix."""

    kind: str  # unrolled-loop | baked-constant | tiny-kernels | static-recompiles |
    # new-object-recompiles
    message: str
    fix: str
    file: str = ""
    line: int = 0
    cost_s: float | None = None  # compile time it costs (see `message` for how it is known)

    seconds = renamed("cost_s")

    @property
    def where(self) -> str:
        return source_location(self.file, self.line) if self.line else ""

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message} Fix: {self.fix}"


LOOP_MIN = 8  # repeats of one equation from one place that look like an unrolled loop
CONSTANT_MIN = 1 << 20  # bytes of constants worth passing as an argument
TINY_KERNELS_MIN = 500
TINY_KERNEL_BYTES = 16 << 10


def advise(profile: CompileProfile) -> list[Advice]:
    found: list[Advice] = []
    for finder in (_unrolled_loops, _baked_constants, _tiny_kernels, _static_recompiles):
        try:
            found.extend(finder(profile))
        except Exception:  # advice is best-effort: a finder that fails says nothing
            continue
    return found


def _unrolled_loops(profile: CompileProfile) -> list[Advice]:
    """Loops from the optimized HLO: instructions of one opcode made at one source position
    (one chain of stack frames, which XLA keeps once per position) many times over are the
    copies of an unrolled loop's body; the loop is a Python loop of the user's, inside the
    staged function (never a library's, jaxlab's, IPython's, or a loop around the call),
    around a line of that chain."""
    module = profile.inspection.hlo_module
    call = StagedCall(_staged_fn(profile))
    groups: Counter = Counter()
    sample: dict[tuple[str, int], Any] = {}
    for instr in module:
        if instr.stack_frame_id and instr.opcode not in ("parameter", "constant", "tuple"):
            key = (instr.opcode, instr.stack_frame_id)
            groups[key] += 1
            sample.setdefault(key, instr)
    # loops: (file, loop line) -> repeats seen, instructions made, body lines
    loops: dict[tuple[str, int], dict[str, Any]] = {}
    for key, repeats in groups.items():
        if repeats < LOOP_MIN:
            continue
        for file, line, *_ in call.inside(module.frames_of(sample[key])):
            loop = enclosing_loop(file, line) if is_users(file) else None
            if loop is None:
                continue
            entry = loops.setdefault(
                (file, loop[0]), {"repeats": Counter(), "ops": 0, "body": set(), "kind": loop[1]}
            )
            entry["repeats"][repeats] += 1
            entry["ops"] += repeats
            entry["body"].add(line)
            break
    advice = []
    for (file, loop_line), entry in sorted(loops.items(), key=lambda kv: -kv[1]["ops"]):
        iterations = entry["repeats"].most_common(1)[0][0]
        seconds = _cost_of_lines(profile, file, entry["body"] | {loop_line})
        body = sorted(entry["body"])
        where = f"line {body[0]}" if len(body) == 1 else f"lines {body[0]}–{body[-1]}"
        cost = (
            f" Its copies cost ≈{format_seconds(seconds)} of the "
            f"{format_seconds(profile.compile_s)} compile (kernel code generation measured, "
            "pass time apportioned by instruction count)."
            if seconds
            else ""
        )
        advice.append(
            Advice(
                kind="unrolled-loop",
                message=(
                    f"the Python {entry['kind']} loop at line {loop_line} is unrolled: "
                    f"{where} made ≈{iterations} copies of the same operations "
                    f"({entry['ops']} HLO instructions), and XLA optimizes and compiles every "
                    f"copy.{cost}"
                ),
                fix=(
                    "write the body once and loop with `jax.lax.fori_loop(0, n, body, x)` "
                    "(or `jax.lax.scan` to keep per-step outputs); XLA then compiles one copy"
                ),
                file=file,
                line=loop_line,
                cost_s=seconds or None,
            )
        )
    return advice


def _cost_of_lines(profile: CompileProfile, file: str, lines: set[int]) -> float:
    """Compile seconds of the kernels and instructions made through `lines`: kernels'
    share of the backend's time, and the passes' time in proportion to the HLO
    instructions."""
    module = profile.inspection.hlo_module
    through_frame: dict[int, bool] = {}

    def through(instr: Any) -> bool:
        fid = instr.stack_frame_id
        if fid not in through_frame:
            through_frame[fid] = any(
                f == file and n in lines for f, n, _, _ in module.frames_of(instr)
            )
        return through_frame[fid]

    seconds = 0.0
    for k in profile.codegen:
        if any(through(op) for op in profile.kernel_ops(k["fusion"])):
            seconds += k["time_s"]
    total = len(module)
    if total:
        mine = sum(1 for instr in module if through(instr))
        seconds += profile.passes_s * mine / total
    return seconds


def _staged_fn(profile: CompileProfile) -> Any:
    return getattr(getattr(profile.inspection, "_staged", None), "fn", None)


def _user_place(profile: CompileProfile, instr: Any) -> tuple[str, int] | None:
    """The innermost line of the user's own code inside the staged call that made `instr`
    (advice points there, never at a library's, jaxlab's or IPython's line)."""
    call = profile.__dict__.get("_staged_call")
    if call is None:
        call = profile.__dict__["_staged_call"] = StagedCall(_staged_fn(profile))
    return call.user_line(profile.inspection.hlo_module.frames_of(instr))


def _baked_constants(profile: CompileProfile) -> list[Advice]:
    sizes = []
    for const in getattr(profile.inspection.jaxpr, "consts", ()):
        nbytes = getattr(const, "nbytes", 0)
        if nbytes >= CONSTANT_MIN:
            shape, dtype = getattr(const, "shape", ()), str(getattr(const, "dtype", ""))
            sizes.append((int(nbytes), shape, dtype))
    module = profile.inspection.hlo_module
    places: Counter = Counter()
    hlo_bytes = 0
    for instr in module:
        if instr.opcode == "constant" and instr.output_bytes >= CONSTANT_MIN:
            hlo_bytes += instr.output_bytes
            place = _user_place(profile, instr)
            if place:
                places[place] += instr.output_bytes
    total = max(sum(s for s, _, _ in sizes), hlo_bytes)
    if not total:
        return []
    shapes = ", ".join(f"{d}{list(s)}" for _, s, d in sizes[:3])
    file, line = places.most_common(1)[0][0] if places else ("", 0)
    return [
        Advice(
            kind="baked-constant",
            message=(
                f"{format_bytes(total)} of array constants are baked into the program"
                + (f" ({shapes})" if shapes else "")
                + ": XLA folds and copies them while compiling, and a new value means a new "
                "compilation."
            ),
            fix=(
                "pass the array as an argument of the jitted function instead of closing "
                "over it (a global or an enclosing function's variable)"
            ),
            file=file,
            line=line,
        )
    ]


def _tiny_kernels(profile: CompileProfile) -> list[Advice]:
    kernels = profile.inspection.hlo_module.fusion_instructions()
    if len(kernels) < TINY_KERNELS_MIN:
        return []
    median = statistics.median(f.output_bytes for f in kernels)
    if median > TINY_KERNEL_BYTES:
        return []
    lines: Counter = Counter()
    for k in profile.codegen:
        place = next(
            filter(None, map(partial(_user_place, profile), profile.kernel_ops(k["fusion"]))), None
        )
        if place:
            lines[place] += 1
    file, line = lines.most_common(1)[0][0] if lines else ("", 0)
    seconds = sum(k["time_s"] for k in profile.codegen)
    return [
        Advice(
            kind="tiny-kernels",
            message=(
                f"{len(kernels)} kernels, half of them writing ≤ {format_bytes(median)}: each "
                "is compiled and launched on its own (code generation "
                f"≈{format_seconds(seconds)})."
            ),
            fix=(
                "work on whole arrays: batch per-item Python code with `jax.vmap`, stack small "
                "arrays into one, or loop with `jax.lax.scan`"
            ),
            file=file,
            line=line,
            cost_s=seconds or None,
        )
    ]


def _static_recompiles(profile: CompileProfile) -> list[Advice]:
    entry = profile.recompiles
    if entry is None:
        return []
    by_arg: dict[str, list[float]] = defaultdict(list)
    values: dict[str, list[str]] = defaultdict(list)
    fresh: dict[str, list[float]] = defaultdict(list)  # a new object at each call, per line
    for record in entry.records:
        if reason_category(record.raw_reason) == "new-object":
            fresh[summarize_reason(record.raw_reason)].append(record.compile_s)
            continue
        if reason_category(record.raw_reason) != "static":
            continue
        for part in summarize_reason(record.raw_reason).split("; "):
            if part.startswith("static argument "):
                arg, _, rest = part[len("static argument ") :].partition(" is now ")
                arg = _argument_name(profile.inspection._staged.fn, arg)
                by_arg[arg].append(record.compile_s)
                values[arg].append(rest.split(", was ")[0])
    file, line = entry.defined_at or ("", 0)
    return [
        Advice(
            kind="static-recompiles",
            message=(
                f"static argument `{arg}` recompiled `{entry.name}` {len(secs)} times, once "
                f"per value ({', '.join(dict.fromkeys(values[arg][:4]))}…), "
                f"{format_seconds(sum(secs))} in all (measured)."
            ),
            fix=(
                f"pass `{arg}` as a traced (non-static) argument when only its value changes, "
                "or round it to a few values"
            ),
            file=file,
            line=line,
            cost_s=sum(secs),
        )
        for arg, secs in by_arg.items()
        if len(secs) >= 2
    ] + [
        Advice(
            kind="new-object-recompiles",
            message=(
                f"{what.split('; fix: ')[0]}: `{entry.name}` compiled again {len(secs)} "
                f"times for it, {format_seconds(sum(secs))} in all (measured)."
            ),
            fix=what.partition("; fix: ")[2] or NEW_OBJECT_FIX,
            file=file,
            line=line,
            cost_s=sum(secs),
        )
        for what, secs in fresh.items()
    ]


_PATH = re.compile(r"^\[0\]\[(\d+)\](.*)$|^\[1\]\['(\w+)'\](.*)$")


def _argument_name(fn: Any, path: str) -> str:
    """JAX's input path (``[0][1]``: positional argument 1) as the parameter's name."""
    m = _PATH.match(path)
    if m is None:
        return path
    if m.group(3):
        return m.group(3) + m.group(4)
    try:
        params = list(pyinspect.signature(getattr(fn, "__wrapped__", fn)).parameters)
        return params[int(m.group(1))] + m.group(2)
    except (TypeError, ValueError, IndexError):
        return path
