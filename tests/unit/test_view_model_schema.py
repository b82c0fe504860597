"""The inspector's view model and the widget's TypeScript types cannot drift apart: the types are
generated from the Python classes, every dict a real model holds has exactly the fields its class
declares, and the widget's code compiles against the generated types."""

from __future__ import annotations

import shutil
import subprocess
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.views.inspector import model, schema
from jaxlab.views.inspector.widget import answer

EXTENSION = Path(__file__).resolve().parents[2] / "extension"


def conformance(value: Any, tp: Any, where: str = "model") -> list[str]:
    """Where `value` departs from the annotation `tp` of the model (empty: it conforms)."""
    if tp is Any:
        return []
    if tp in (int, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if tp in (str, bool, type(None)):
        return [] if isinstance(value, tp) else [f"{where}: {value!r} is not {tp.__name__}"]
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__}, not a {tp.__name__} dict"]
        hints = get_type_hints(tp)
        errors = [f"{where}: {tp.__name__} has no field {k!r}" for k in value if k not in hints]
        errors += [
            f"{where}: {tp.__name__} lacks its field {k!r}"
            for k in tp.__required_keys__
            if k not in value
        ]
        for key, sub in hints.items():
            if key in value:
                errors += conformance(value[key], sub, f"{where}.{key}")
        return errors
    origin = get_origin(tp)
    if origin is Literal:
        return [] if value in get_args(tp) else [f"{where}: {value!r} not in {get_args(tp)}"]
    if origin in (Union, types.UnionType):
        tries = [conformance(value, a, where) for a in get_args(tp)]
        if any(not t for t in tries):
            return []
        if isinstance(value, dict) and "kind" in value:  # a section: report its own class
            return min(tries, key=len)
        return [f"{where}: {value!r:.60} matches none of {tp}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        (item,) = get_args(tp)
        for i, v in enumerate(value):
            errors = conformance(v, item, f"{where}[{i}]")
            if errors:
                return errors  # the first bad item says enough
        return []
    raise TypeError(f"no check for {tp!r}")


def program(x):
    y = jnp.sin(x) * 2.0
    return jnp.tanh(y @ y.T).sum() + x.mean()


@pytest.fixture(scope="module")
def insp():
    return jaxlab.inspect(program, jnp.ones((8, 8)), run=False)


def test_generated_typescript_is_up_to_date():
    """Renaming a field in the Python model, or in the generated TypeScript, fails here until
    `python -m jaxlab.views.inspector.schema` writes the file again."""
    committed = schema.TARGET.read_text()
    generated = schema.typescript()
    assert generated.splitlines() == committed.splitlines(), (
        "extension/src/generated/model.ts differs from the Python view model; run "
        "`python -m jaxlab.views.inspector.schema`"
    )
    assert schema.main(["--check"]) == 0


def test_a_real_view_model_has_exactly_the_declared_fields(insp):
    """A builder that writes a field its class does not declare (or misses one) fails here."""
    view = insp.view_model()
    assert conformance(view, model.ViewModel) == []
    kinds = [s["kind"] for s in view["sections"]]
    assert kinds == ["header", "summary", "panes", "fusions", "graph", "distribution"]
    fusions = model.sections_of(view)["fusions"]
    kernels = fusions["kernels"]
    assert len(kernels["kernel"]) == fusions["total_rows"] == len(insp.fusions) > 0
    assert {len(values) for values in kernels.values()} == {len(kernels["kernel"])}
    assert [c["key"] for c in fusions["columns"]] == [c["key"] for c in model.FUSION_COLUMNS]
    assert set(get_args(get_type_hints(model.FusionColumn)["key"])) <= set(
        get_type_hints(model.FusionColumns)
    )  # every column shows a field of the kernels


def test_the_kernels_answers_to_the_widget_have_exactly_the_declared_fields(insp):
    reply = answer(insp, {"type": "layout", "graph": "hlo", "expanded": None, "req": 3})
    assert conformance(reply, model.LayoutReply) == []
    failure = answer(insp, {"type": "layout", "graph": "nonsense", "req": 4})
    assert conformance(failure, model.LayoutFailure) == []
    assert conformance(failure, model.LayoutReply)  # a failure is not a layout


def test_conformance_finds_a_renamed_field(insp):
    view = insp.view_model()
    kernels = model.sections_of(view)["fusions"]["kernels"]
    kernels["hlo_row"] = kernels.pop("hlo_line")  # type: ignore[typeddict-item]
    errors = conformance(view, model.ViewModel)
    assert any("no field 'hlo_row'" in e for e in errors)
    assert any("lacks its field 'hlo_line'" in e for e in errors)


def test_schema_rejects_a_type_it_cannot_spell():
    with pytest.raises(TypeError, match="no TypeScript spelling"):
        schema.ts_type(set[int])
    assert schema.ts_type(list[int | None]) == "(number | null)[]"
    assert schema.ts_type(Literal["a", 'b"']) == '"a" | "b\\""'


@pytest.mark.skipif(
    not (EXTENSION / "node_modules" / ".bin" / "tsc").exists() or shutil.which("node") is None,
    reason="the front end's toolchain is not installed (needs Node.js and npm; run `make setup`)",
)
def test_the_widget_compiles_against_the_generated_types():
    """A field renamed on the TypeScript side only (in the widget's code or the generated
    file) fails the compiler."""
    done = subprocess.run(
        [str(EXTENSION / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", str(EXTENSION)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
