"""The one result protocol (ARCHITECTURE.md, "Result protocol"), checked on every public result
type built from real calls:

- tabular results have ``rows()`` (plain dicts) and ``to_pandas()`` with the same columns, and
  every method or attribute that returns rows returns a ``jaxlab.Table``;
- times are seconds with ``_s`` in every field and column name;
- percentages are 0–100 and named ``percent``/``percent_*``; fractions are 0–1 and named
  ``*_frac`` (no ``share``/``fraction``/``coverage``);
- ratios of times are ``speedup`` (baseline / variant, > 1 faster), never ``ratio``;
- the results users compare across sessions save and load the same way: ``save(path)``
  returns a ``pathlib.Path``, ``Type.load(path)`` returns that type.

Names are checked on every public type reachable from the API: the return annotations of
``jaxlab``'s functions and the fields, properties and methods of the types they name, walked
through nested types (``Timing.modes`` -> ``Mode``, ``CompileProfile.trace`` ->
``PassTime``, ...); values on the objects those results hold, walked the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import sys
import typing
import warnings
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.base import renamed
from jaxlab.base.table import Table
from jaxlab.guards._recompiles import RecompileReport
from tests import pallas_kernels as pk

# a float field or column named with one of these words holds seconds: it ends in _s
TIME_WORDS = re.compile(
    r"(^|_)(time|times|seconds|median|mean|iqr|min|max|trace|lower|compile|run|wall|"
    r"duration|elapsed|busy|gaps|host|first_call|steady_run|first_run|total_compile|"
    r"q1|q3|low|high|fast|slow|ci_low|ci_high|emit)($|_)"
)
NOT_TIMES = re.compile(
    r"(percent|speedup|bytes|flops|gbps|gflops|count|runs|loops|errors?$|^rel_|^cpus_)"
)


def body(x):
    return jnp.tanh(x) @ x + 1.0


QUICK = {"variants": "jit", "vs": (), "time_budget": 0.05, "peak": False, "progress": False}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    x = jnp.ones((64, 64))
    insp = jaxlab.inspect(body, x)
    prof = jaxlab.profile(body, x, runs=2, peak=False)
    cp = jaxlab.compile_profile(body, x)
    old = jaxlab.bench(body, x, **QUICK)
    new = jaxlab.bench(body, x * 2, **QUICK)
    judgement = jaxlab.judge(old, new, force=True)
    a = jnp.arange(16.0).reshape(4, 4)
    return {
        "Inspection": insp,
        "StageTimings": insp.timings,
        "IRText": jaxlab.hlo(body, x),
        "PlatformInspection": jaxlab.inspect(body, x, platforms="cpu"),
        "KernelCheck": jaxlab.check_kernel(pk.add_interpreted, lambda p, q: p + q, a, a),
        "CompileProfile": cp,
        "PassPipeline": jaxlab.passes(body, x),
        "CompileDiff": jaxlab.diff(insp, cp.inspection),
        "DeviceReport": jaxlab.devices(),
        "Placement": jaxlab.placement(x),
        "Profile": prof,
        "ProfileDiff": jaxlab.profile_diff(prof, prof),
        "MemorySnapshot": jaxlab.memory({"x": x}),
        "MemoryDiff": jaxlab.memory_diff(jaxlab.memory({}), jaxlab.memory({"x": x})),
        "BenchResult": old,
        "Timing": old.timings[0],
        "Comparison": jaxlab.compare(old, new),
        "Judgement": judgement,
        "Verdict": judgement.verdicts[0],
        "RecompileReport": RecompileReport([]),
        "Advice": (
            cp.advice or [jaxlab.Advice("tiny-kernels", "many kernels", "fuse", cost_s=0.1)]
        )[0],
        "JitRun": jaxlab.jit_run(body, x),
        "Numerics": jaxlab.numerics(body, x),
    }


def public_values(obj: Any) -> dict[str, Any]:
    """The dataclass fields and properties of `obj` (their values; those that raise are
    left out: a backend may lack an analysis)."""
    cls = type(obj)
    names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    names += [n for n, v in inspect.getmembers(cls) if isinstance(v, property)]
    out = {}
    for name in dict.fromkeys(names):
        if name.startswith("_"):
            continue
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                renamed._warned.clear()
                value = getattr(obj, name)
        except Exception:
            continue
        if name in OLD_SPELLINGS.get(cls.__name__, ()) and any(
            issubclass(w.category, FutureWarning) for w in caught
        ):
            continue  # an old spelling that says its new one
        out[name] = value
    return out


# names kept for compatibility: left out when reading them warns with the new spelling
OLD_SPELLINGS = {
    "Timing": ("median", "iqr", "min", "max"),
    "StageTimings": ("trace", "lower", "compile", "first_run", "steady_run", "total_compile"),
    "Verdict": ("ratio", "ci_low", "ci_high"),
    "CompileProfile": ("explained_share",),
    "Advice": ("seconds",),
    "Mode": ("share",),
    "Finding": ("low", "high"),
}

ROW_METHODS = re.compile(r"^(by_\w+|\w*_rows|deltas|table)$")


def tables_of(obj: Any) -> dict[str, Table]:
    """Every Table the object gives: its attributes and its row methods called bare."""
    found = {n: v for n, v in public_values(obj).items() if isinstance(v, Table)}
    for name, _ in inspect.getmembers(type(obj), inspect.isfunction):
        if ROW_METHODS.match(name):
            value = getattr(obj, name)()
            assert isinstance(value, Table), f"{type(obj).__name__}.{name}() is not a Table"
            found[f"{name}()"] = value
    return found


IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _classes_in(annotation: Any, module: str) -> list[type]:
    """The classes an annotation names (a string is resolved in `module`'s globals)."""
    if annotation is None or annotation is inspect.Parameter.empty:
        return []
    if isinstance(annotation, str):
        names = vars(sys.modules[module])
        out = []
        for name in IDENT.findall(annotation):
            head, *rest = name.split(".")
            obj = names.get(head)
            if obj is None and head in jaxlab.__all__:
                obj = getattr(jaxlab, head)
            for part in rest:
                obj = getattr(obj, part, None)
            if inspect.isclass(obj):
                out.append(obj)
        return out
    if inspect.isclass(annotation) and not typing.get_args(annotation):
        return [annotation]
    return [c for a in typing.get_args(annotation) for c in _classes_in(a, module)]


def members(cls: type) -> list[tuple[str, str, Any]]:
    """(name, kind, annotation) of the public fields, properties and methods of `cls` (an old
    spelling kept by ``renamed`` is left out: it says its new name when read)."""
    out = []
    if dataclasses.is_dataclass(cls):
        out += [(f.name, "field", f.type) for f in dataclasses.fields(cls)]
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        if isinstance(value, property) and value.fget is not None:
            out.append((name, "property", value.fget.__annotations__.get("return")))
        elif isinstance(value, functools.cached_property):
            out.append((name, "property", value.func.__annotations__.get("return")))
        elif inspect.isfunction(value):
            out.append((name, "method", value.__annotations__.get("return")))
    old = OLD_SPELLINGS.get(cls.__name__, ())
    return [m for m in out if m[1] == "field" or m[0] not in old]


def _public(cls: type) -> bool:
    return (
        cls.__module__.startswith("jaxlab.")
        and not cls.__name__.startswith("_")
        and not cls.__module__.startswith("jaxlab.views")
        and not issubclass(cls, BaseException)
    )


@functools.cache
def reachable_types() -> tuple[type, ...]:
    """Every public jaxlab type reachable from the API: the root's types and the return
    annotations of its functions, then the fields, properties and methods of each."""
    todo: list[type] = []
    for name in jaxlab.__all__:
        obj = getattr(jaxlab, name)
        if inspect.isclass(obj):
            todo.append(obj)
        elif callable(obj):
            todo += _classes_in(obj.__annotations__.get("return"), obj.__module__)
    seen: dict[type, None] = {}
    while todo:
        cls = todo.pop()
        if cls in seen or not _public(cls):
            continue
        seen[cls] = None
        todo += cls.__mro__[1:]
        for _, _, annotation in members(cls):
            todo += _classes_in(annotation, cls.__module__)
    return tuple(seen)


SCALAR = re.compile(r"(float|int)( \| None)?")
# the statistics of the program's values (numerics), not of time
VALUE_STATS = {"Stats", "DeviceStats", "Row", "ArgumentStats"}
# 0–1 figures whose names the numerics rows fixed (fractions of the elements that a cast to
# that type overflows or flushes); a confidence level; a relative tolerance
FRACTIONS = {
    "Stats": ("overflow_bf16", "overflow_f16", "underflow_f16", "overflow_fp8_e4m3",
              "underflow_fp8_e4m3"),
    "Summary": ("level",),
    "Judgement": ("tolerance",),
}  # fmt: skip
NOT_FRACTION_NAMES = re.compile(r"(^|_)(share|shares|fraction|coverage|ratio)$")


def _annotated_scalar(annotation: Any, kind: str) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return bool(SCALAR.fullmatch(text or "")) or (kind == "method" and text == "float")


def test_the_walk_reaches_the_nested_result_types():
    names = {f"{c.__module__}.{c.__name__}" for c in reachable_types()}
    for nested in (
        "jaxlab.benchmarking.modes.Mode",
        "jaxlab.benchmarking.stats.Summary",
        "jaxlab.benchmarking.pace.Pace",
        "jaxlab.benchmarking.verdict.Ratio",
        "jaxlab.benchmarking.verdict.Finding",
        "jaxlab.ir.compile_trace.PassTime",
        "jaxlab.ir.compile_trace.KernelTime",
        "jaxlab.ir.kernel_times.KernelTime",
        "jaxlab.ir.numerics.Row",
        "jaxlab.ir.numerics.Origin",
        "jaxlab.core.platforms.PlatformLowering",
        "jaxlab.guards._recompiles.CompileRecord",
    ):
        assert nested in names, nested


def test_every_reachable_type_names_its_times_with_s():
    wrong = []
    for cls in reachable_types():
        for name, kind, annotation in members(cls):
            if cls.__name__ in VALUE_STATS and name in ("min", "max", "mean"):
                continue
            if not _annotated_scalar(annotation, kind) or name.endswith("_s"):
                continue
            if TIME_WORDS.search(name) and not NOT_TIMES.search(name):
                wrong.append(f"{cls.__name__}.{name}{'()' if kind == 'method' else ''}")
    assert not wrong, f"times without _s: {sorted(wrong)}"


LIST_TIME_WORDS = re.compile(r"(^|_)(medians|iqrs|cpu|times|durations)($|_)")
# the raw per-call seconds of a timing, named as timeit and pyperf name them
RAW_SAMPLES = {"Timing": ("samples",)}


def test_every_reachable_type_names_lists_of_times_with_s():
    wrong = []
    for cls in reachable_types():
        for name, _, annotation in members(cls):
            text = annotation if isinstance(annotation, str) else ""
            if not re.fullmatch(r"list\[float( \| None)?\]", text) or name.endswith("_s"):
                continue
            if name in RAW_SAMPLES.get(cls.__name__, ()):
                continue
            if LIST_TIME_WORDS.search(name):
                wrong.append(f"{cls.__name__}.{name}")
    assert not wrong, f"lists of seconds without _s: {sorted(wrong)}"


def test_every_reachable_type_names_dicts_of_seconds_with_s():
    """A mapping to floats on a result is seconds by name (XLA's pipelines, jaxlab's own
    processing steps): its name says so as a scalar's does."""
    wrong = []
    for cls in reachable_types():
        for name, _, annotation in members(cls):
            text = annotation if isinstance(annotation, str) else ""
            if re.fullmatch(r"dict\[str, float\]", text) and not name.endswith("_s"):
                wrong.append(f"{cls.__name__}.{name}")
    assert not wrong, f"dicts of seconds without _s: {sorted(wrong)}"
    dicts = {
        f"{c.__name__}.{n}"
        for c in reachable_types()
        for n, _, a in members(c)
        if a == "dict[str, float]"
    }
    assert {"CompileTrace.pipelines_s", "Profile.processing_steps_s"} <= dicts


def test_old_names_of_dicts_of_seconds_read_and_load(results, tmp_path):
    import json

    from jaxlab.ir.compile_trace import CompileTrace

    trace = CompileTrace(pipelines_s={"outer": 0.5})
    renamed._warned.clear()
    with pytest.warns(FutureWarning, match=r"`CompileTrace\.pipelines` is now `\.pipelines_s`"):
        assert trace.pipelines == {"outer": 0.5}
    profile = results["Profile"]
    assert profile.processing_steps_s and set(profile.processing_steps_s) >= {"parse trace"}
    with pytest.warns(FutureWarning, match=r"`Profile\.steps` is now `\.processing_steps_s`"):
        assert profile.steps == profile.processing_steps_s
    # a profile saved before the rename loads with its steps under the new name
    path = profile.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    data["steps"] = data.pop("processing_steps_s")
    path.write_text(json.dumps(data))
    assert type(profile).load(path).processing_steps_s == profile.processing_steps_s


def test_every_reachable_type_names_fractions_frac_and_percentages_percent():
    wrong = []
    for cls in reachable_types():
        for name, kind, annotation in members(cls):
            if _annotated_scalar(annotation, kind) and NOT_FRACTION_NAMES.search(name):
                wrong.append(f"{cls.__name__}.{name}")
    assert not wrong, f"name 0–1 figures *_frac and 0–100 ones percent_*: {sorted(wrong)}"


def _nested(obj: Any, depth: int = 3, seen: set[int] | None = None):
    """(type name, name, value) of every public field and property of `obj` and of the
    jaxlab objects it holds (in fields, lists, tuples and dicts), `depth` levels down."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj[:20]:
            yield from _nested(item, depth, seen)
        return
    if isinstance(obj, dict):
        for item in list(obj.values())[:20]:
            yield from _nested(item, depth, seen)
        return
    if not _public(type(obj)) or type(obj) not in reachable_types():
        return
    for name, value in public_values(obj).items():
        yield type(obj).__name__, name, value
        yield from _nested(value, depth - 1, seen)


def test_nested_percentages_are_0_to_100_and_fractions_0_to_1(results):
    wrong, checked = [], 0
    by_name = {c.__name__: c for c in reachable_types()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # old spellings met on the way
        found = [seen for top in results.values() for seen in _nested(top)]
    for owner, name, value in found:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        fraction = name.endswith("_frac") or any(
            name in FRACTIONS.get(base.__name__, ()) for base in by_name[owner].__mro__
        )
        if name.startswith("percent") or name.endswith("_percent"):
            checked += 1
            if not 0 <= value <= 100 + 1e-9:
                wrong.append(f"{owner}.{name} = {value} is not 0–100")
        elif fraction:
            checked += 1
            if not 0 <= value <= 1:
                wrong.append(f"{owner}.{name} = {value} is not 0–1")
    assert checked >= 5 and not wrong, wrong


def test_fractions_outside_the_numerics_rows_are_named_frac():
    """The listed 0–1 names are the only ones without ``_frac``: the numerics rows' cast
    figures keep the names those rows were specified with."""
    from jaxlab.ir.numerics import Stats

    stats = {f.name for f in dataclasses.fields(Stats)}
    cast = {n for n in stats if re.fullmatch(r"(over|under)flow_\w+", n)}
    assert cast == set(FRACTIONS["Stats"])
    assert {"zero_frac", "subnormal_frac"} <= stats


def test_every_tabular_result_has_rows_and_to_pandas_with_the_same_columns(results):
    pd = pytest.importorskip("pandas")
    for name, obj in results.items():
        if not hasattr(obj, "to_pandas"):
            continue
        assert callable(getattr(obj, "rows", None)), f"{name} has to_pandas() but no rows()"
        rows = obj.rows()
        assert isinstance(rows, list) and all(type(r) is dict for r in rows), name
        frame = obj.to_pandas()
        assert isinstance(frame, pd.DataFrame), name
        if rows:
            assert list(frame.columns) == list(rows[0]), name


def test_every_method_returning_rows_returns_a_table(results):
    seen = 0
    for name, obj in results.items():
        for where, table in tables_of(obj).items():
            seen += 1
            assert table.rows() == [{c: r.get(c) for c in table.columns} for r in table]
            assert table.title, f"{name}.{where} has no title"
    assert seen >= 10


def _time_names(name: str, value: Any) -> bool:
    return (
        isinstance(value, float)
        and bool(TIME_WORDS.search(name))
        and not name.endswith("_s")
        and not NOT_TIMES.search(name)
    )


def test_times_are_seconds_named_with_s(results):
    wrong = []
    for name, obj in results.items():
        for field, value in public_values(obj).items():
            if _time_names(field, value):
                wrong.append(f"{name}.{field}")
        for where, table in tables_of(obj).items():
            for row in table:
                wrong += [f"{name}.{where}[{c!r}]" for c in table.columns if _time_names(c, row[c])]
        if hasattr(obj, "rows") and callable(obj.rows):
            for row in obj.rows():
                wrong += [f"{name}.rows()[{c!r}]" for c, v in row.items() if _time_names(c, v)]
    # the statistics of the program's values, not of time
    values = re.compile(r"^Numerics\.(rows|table|nonfinite_rows)\(\)\['(min|max|mean)'\]$")
    wrong = [w for w in wrong if not values.match(w)]
    assert not sorted(set(wrong)), f"times without _s: {sorted(set(wrong))}"


def _percent_problems(where: str, key: str, value: Any) -> list[str]:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return []
    if key.startswith("percent") and not 0 <= value <= 100 + 1e-9:
        return [f"{where}[{key!r}] = {value} is not 0–100"]
    if re.search(r"(^|_)(share|fraction)$", key):
        return [f"{where}[{key!r}] is a 0–1 share: name it percent_* (0–100)"]
    return []


def test_percentages_are_0_to_100_and_named_percent(results):
    wrong = []
    for name, obj in results.items():
        for field, value in public_values(obj).items():
            wrong += _percent_problems(name, field, value)
        rows = [(f"{name}.{w}", r) for w, t in tables_of(obj).items() for r in t]
        if hasattr(obj, "rows") and callable(obj.rows):
            rows += [(f"{name}.rows()", r) for r in obj.rows()]
        for where, row in rows:
            for key, value in row.items():
                wrong += _percent_problems(where, key, value)
    assert not wrong, wrong


def test_ratios_of_times_are_speedups_baseline_over_variant(results):
    wrong = []
    for name, obj in results.items():
        keys = set(public_values(obj))
        for where, table in tables_of(obj).items():
            keys |= {f"{where}[{c}]" for c in table.columns}
        if hasattr(obj, "rows") and callable(obj.rows):
            keys |= {k for r in obj.rows() for k in r}
        wrong += [f"{name}.{k}" for k in keys if re.search(r"(^|\[|_)ratio\]?$", k)]
    assert not wrong, f"a time ratio must be a speedup (baseline / variant): {wrong}"
    # the direction: the second bench result took twice the work, so it is slower
    verdict = results["Verdict"]
    assert verdict.speedup == pytest.approx(verdict.old_s / verdict.new_s)
    row = results["Comparison"].rows()[1]
    assert row["speedup"] == pytest.approx(
        results["Comparison"].rows()[0]["median_s"] / row["median_s"]
    )


SAVED = ["BenchResult", "Inspection", "Profile", "CompileProfile", "Numerics"]


@pytest.mark.parametrize("name", SAVED)
def test_results_compared_across_sessions_save_and_load_alike(results, tmp_path, name):
    obj = results[name]
    cls = getattr(jaxlab, name)
    written = obj.save(tmp_path / f"{name}.json")
    assert isinstance(written, Path) and written.exists()
    back = cls.load(written)
    assert isinstance(back, cls)
    assert (back.fn_name if name != "BenchResult" else back.label) == (
        obj.fn_name if name != "BenchResult" else obj.label
    )
    assert repr(back) and back._repr_html_()  # a loaded result shows as the live one does
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(jaxlab.ResultFileError, match="not a saved"):
        cls.load(tmp_path / "other.json")
    with pytest.raises(ValueError, match="no file"):
        cls.load(tmp_path / "missing.json")


def test_every_result_and_error_type_is_importable_from_jaxlab(results):
    for name, obj in results.items():
        assert getattr(jaxlab, type(obj).__name__) is type(obj), name
    errors = [
        "BenchError", "InspectionFileError", "ResultFileError", "PlacementError",
        "BackendError", "ProfilerBusy",
    ]  # fmt: skip
    for name in errors:
        assert issubclass(getattr(jaxlab, name), Exception), name
    assert issubclass(jaxlab.InspectionFileError, jaxlab.ResultFileError)
    assert issubclass(jaxlab.SavedInspection, jaxlab.Inspection)  # what Inspection.load gives


def test_dir_shows_the_public_api_only():
    names = dir(jaxlab)
    for private in ("Any", "TYPE_CHECKING", "_LAZY", "importlib", "set_views_loader"):
        assert private not in names
    assert set(jaxlab.__all__) <= set(names)
    assert {"jit_run", "reporting_jit", "recompiles", "Table"} <= set(names)
    for name in jaxlab.__all__:
        assert getattr(jaxlab, name) is not None, name


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("StageTimings", "trace", "trace_s"),
        ("StageTimings", "first_run", "first_run_s"),
        ("Timing", "median", "median_s"),
        ("Timing", "iqr", "iqr_s"),
        ("Advice", "seconds", "cost_s"),
        ("CompileProfile", "kernels", "codegen"),
        ("Inspection", "kernels", "pallas_kernels"),
        ("PlatformInspection", "kernels", "pallas_kernels"),
    ],
)
def test_old_names_still_read_and_warn_once_with_the_new_one(results, name, old, new):
    obj = results[name]
    renamed._warned.clear()
    with pytest.warns(FutureWarning, match=rf"`{name}\.{old}` is now `\.{new}`"):
        assert getattr(obj, old) == getattr(obj, new)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(obj, old)  # once


def test_renamed_nested_fields_still_read_and_warn_once(results):
    """The nested types' old names (times without ``_s``, the interval of a speedup) read the
    new field and warn once naming it."""
    from jaxlab.benchmarking.modes import find_modes
    from jaxlab.benchmarking.pace import Pace
    from jaxlab.benchmarking.verdict import ratio
    from jaxlab.ir.compile_trace import KernelTime, PassTime

    timing = results["Timing"]
    mode = find_modes([1.0, 1.1, 1.2])[0]
    cases = [
        (ratio(timing, timing), "ci_low", "speedup_low"),
        (ratio(timing, timing), "ci_high", "speedup_high"),
        (timing.summary, "median", "median_s"),
        (timing.summary, "ci_low", "ci_low_s"),
        (timing.summary, "iqr", "iqr_s"),
        (mode, "median", "median_s"),
        (mode, "low", "low_s"),
        (Pace(1.0, 2.0, 4), "slow", "slow_s"),
        (Pace(1.0, 2.0, 4), "ratio", "change"),
        (PassTime("pipe", "dce", 0.5, 2), "seconds", "time_s"),
        (KernelTime("fusion", 0.25, 3), "seconds", "emit_s"),
        (results["Profile"], "coverage", "coverage_frac"),
        (results["PlatformInspection"].lowerings[0], "seconds", "lower_s"),
        (timing, "process_medians", "process_medians_s"),
        (timing, "cpu", "cpu_s"),
        (results["Comparison"].entries[0], "medians", "medians_s"),
    ]
    for obj, old, new in cases:
        renamed._warned.clear()
        with pytest.warns(FutureWarning, match=rf"`{type(obj).__name__}\.{old}` is now `\.{new}`"):
            assert getattr(obj, old) == getattr(obj, new)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            getattr(obj, old)  # once
    renamed._warned.clear()
    with pytest.warns(FutureWarning, match=r"`Mode.share` \(0–1\) is now `.percent`"):
        assert mode.share == mode.percent / 100 == 1.0
    bench = results["BenchResult"]
    with pytest.warns(FutureWarning, match=r"`BenchResult.median` is now `.median_s`"):
        assert bench.median("jit") == bench.median_s("jit") == bench.timing("jit").median_s
    (found,) = bench.findings()
    with pytest.warns(FutureWarning, match=r"`Finding.low` is now `.speedup_low`"):
        assert found.low == found.median_low_s  # alone: the interval of its median


def test_assigning_an_old_name_sets_the_new_field_and_warns_once(results):
    """An old spelling is not read-only: assigning through it updates the new field (a separate
    attribute under the old name would be silently ignored by everything reading the new one),
    on plain dataclasses, frozen ones (which refuse both names alike) and slotted ones."""
    import copy

    timing = copy.copy(results["Timing"])
    profile = copy.copy(results["Profile"])
    for obj, old, new, value in [
        (timing, "process_medians", "process_medians_s", [0.5, 0.25]),
        (timing, "cpu", "cpu_s", 0.125),
    ]:
        renamed._warned.clear()
        with pytest.warns(FutureWarning, match=rf"`{type(obj).__name__}\.{old}` is now `\.{new}`"):
            setattr(obj, old, value)
        assert getattr(obj, new) == value and old not in vars(obj)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            setattr(obj, old, value)  # once
            assert getattr(obj, old) == value
    assert results["Timing"].process_medians_s != [0.5, 0.25]  # the copies were changed
    with pytest.raises(AttributeError, match="coverage_frac"):
        profile.coverage = 0.75  # a derived value: refused, not kept aside under the old name
    assert "coverage" not in vars(profile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        results["StageTimings"].trace = 1.0  # frozen: refused under both names alike

    @dataclasses.dataclass(slots=True)
    class Slotted:
        time_s: float
        seconds = renamed.renamed("time_s")

    slotted = Slotted(0.5)
    with pytest.warns(FutureWarning, match=r"`Slotted\.seconds` is now `\.time_s`"):
        slotted.seconds = 2.0
    assert slotted.time_s == 2.0


def test_a_bench_result_saved_with_the_old_timing_names_loads(results, tmp_path):
    import json

    bench = results["BenchResult"]
    path = bench.save(tmp_path / "bench.json")
    data = json.loads(path.read_text())
    for t in data["timings"]:
        t["cpu"], t["process_medians"] = t.pop("cpu_s"), t.pop("process_medians_s")
        t["process_iqrs"] = t.pop("process_iqrs_s")
    path.write_text(json.dumps(data))
    back = jaxlab.BenchResult.load(path)
    assert [t.cpu_s for t in back.timings] == [t.cpu_s for t in bench.timings]
    assert back.timings[0].cpu_s and back.timings[0].median_s == bench.timings[0].median_s


def test_a_compile_profile_saved_with_seconds_loads(results, tmp_path):
    """Files written before pass and kernel times were named with ``_s`` still load."""
    import json

    cp = results["CompileProfile"]
    path = cp.save(tmp_path / "cp.json")
    data = json.loads(path.read_text())
    for p in data["trace"]["passes"]:
        p["seconds"] = p.pop("time_s")
    for k in data["trace"]["kernels"]:
        k["seconds"] = k.pop("emit_s")
    path.write_text(json.dumps(data))
    back = jaxlab.CompileProfile.load(path)
    assert back.trace.passes and [p.time_s for p in back.trace.passes] == [
        p.time_s for p in cp.trace.passes
    ]
    assert [k.emit_s for k in back.trace.kernels] == [k.emit_s for k in cp.trace.kernels]


def test_kernels_means_the_kernels_that_ran_only(results):
    """`kernels` is one concept: the measured kernels of a profile. Code generation per kernel
    is `CompileProfile.codegen`, the Pallas kernels a program calls `.pallas_kernels`."""
    for name, obj in results.items():
        attr = inspect.getattr_static(obj, "kernels", None)
        if attr is not None and not isinstance(attr, renamed.renamed):
            assert name in ("Profile", "ProfileDiff"), f"{name}.kernels is not measured kernels"
    assert results["Profile"].kernels and all(k.total_s > 0 for k in results["Profile"].kernels)
    assert {"fusion", "time_s", "emit_s"} <= set(results["CompileProfile"].codegen.columns)
    both = jaxlab.inspect(pk.add_interpreted, jnp.ones((8, 8)), jnp.ones((8, 8)))
    assert [k.name for k in both.pallas_kernels] == ["add_kernel"]


def test_records_is_rows_and_ratio_is_the_inverse_speedup(results):
    renamed._warned.clear()
    for name in ("Comparison", "Judgement"):
        with pytest.warns(FutureWarning, match=rf"`{name}\.records\(\)` is now `\.rows\(\)`"):
            assert results[name].records() == results[name].rows()
    verdict = results["Verdict"]
    with pytest.warns(FutureWarning, match="is now `.speedup`"):
        assert verdict.ratio == pytest.approx(1 / verdict.speedup)  # new / old, > 1 slower


def nan_of_log(x):
    return jnp.log(x) * 2.0


def test_numerics_saves_its_statistics_and_origin_and_rows_still_read_as_a_list(tmp_path):
    n = jaxlab.numerics(nan_of_log, jnp.array([-1.0, 1.0, 0.0]))
    assert n.origin is not None and n.origin.primitive == "log"
    back = jaxlab.Numerics.load(n.save(tmp_path / "n.json"))
    assert back.equation_stats == n.equation_stats and back.arguments == n.arguments
    assert back.origin == n.origin and back.origin.sentence() == n.origin.sentence()
    assert back.rows() == n.rows() and back.output is None  # the output is not saved
    assert back.compare_call("bf16") == "jaxlab.numerics_diff(nan_of_log, x, compare='bf16')"
    assert [r["primitive"] for r in n.nonfinite_rows()] == ["log", "mul"]
    renamed._warned.clear()
    with pytest.warns(FutureWarning, match=r"`Numerics.rows` as a list of Row.*equation_stats"):
        assert n.rows[0] is n.equation_stats[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(n.rows) == len(n.equation_stats)  # once
