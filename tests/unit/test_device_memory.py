"""`jaxlab.memory` / `memory_diff`: live arrays by variable, output history and creating line;
the pprof decoder; bad input."""

from __future__ import annotations

import gzip

import jax
import jax.numpy as jnp
import pytest

import jaxlab
from jaxlab.ir.pprof import ProtobufError, parse_pprof


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _profile_bytes() -> bytes:
    strings = ["", "space", "bytes", "kind", "buffer", "device", "cpu:0", "make", "/u/nb.py"]
    msg = b"".join(_field(6, s.encode()) for s in strings)
    msg += _field(1, _field(1, 1) + _field(2, 2))  # sample type (space, bytes)
    msg += _field(5, _field(1, 1) + _field(2, 7) + _field(4, 8))  # function make in nb.py
    msg += _field(4, _field(1, 1) + _field(4, _field(1, 1) + _field(2, 12)))  # location: line 12
    labels = _field(3, _field(1, 3) + _field(2, 4)) + _field(3, _field(1, 5) + _field(2, 6))
    sample = _field(1, _varint(1)) + _field(2, _varint(4096)) + labels
    msg += _field(2, sample)
    return gzip.compress(msg)


def test_pprof_decoder_reads_values_labels_and_frames():
    prof = parse_pprof(_profile_bytes())
    assert prof.sample_types == [("space", "bytes")]
    (sample,) = prof.samples
    assert sample.values == [4096]
    assert sample.labels == {"kind": "buffer", "device": "cpu:0"}
    assert sample.frames == [("/u/nb.py", 12, "make")]


@pytest.mark.parametrize("blob", [b"\x1f\x8bnot gzip", b"\x0a\xff", b"\x0f"])
def test_pprof_decoder_rejects_malformed_bytes(blob):
    with pytest.raises(ProtobufError):
        parse_pprof(blob)


def make(n):
    return jnp.ones((n, n)) * 2.0


def test_snapshot_names_variables_pytrees_and_output_history():
    kept = make(64)
    params = {"w": [make(32)]}
    shown = make(48)  # referenced only by the output history below
    namespace = {"kept": kept, "params": params, "Out": {3: shown}, "_": shown, "_i3": "x"}
    snap = jaxlab.memory(namespace)
    (a,) = snap.find("kept")
    assert a.shape == (64, 64) and a.nbytes == 64 * 64 * 4
    assert snap.find("params['w'][0]")[0].shape == (32, 32)
    (h,) = snap.find("Out[3]")
    assert h.referenced_by == ["Out[3]", "_"] and h.only_history
    assert h in snap.held_only_by_history and a not in snap.held_only_by_history
    assert "make" in a.created_at and a.creators[0].line > 0
    assert snap.total_bytes >= sum(x.nbytes for x in (kept, params["w"][0], shown))
    df = snap.to_pandas()
    assert {"array", "referenced_by", "only_history", "created_at", "cell", "line"} <= set(
        df.columns
    )
    assert "Out[3]" in snap._repr_html_() and "Out[3]" in repr(snap)


def test_diff_shows_arrays_created_and_freed_with_their_line():
    first = make(40)
    before = jaxlab.memory({"first": first})
    second = jnp.zeros((50, 50)) + 1.0
    del first
    after = jaxlab.memory({"second": second})
    diff = jaxlab.memory_diff(before, after)
    created = [a for a in diff.created if a.shape == (50, 50)]
    assert len(created) == 1 and created[0].referenced_by == ["second"]
    assert created[0].creators[0].file == __file__
    assert (
        created[0].creators[0].function
        == "test_diff_shows_arrays_created_and_freed_with_their_line"
    )
    assert any(a.shape == (40, 40) for a in diff.freed)
    rows = diff.to_pandas()
    assert set(rows["change"]) == {"created", "freed"}


def test_bad_input_is_refused():
    with pytest.raises(TypeError, match="mapping"):
        jaxlab.memory(["x"])
    with pytest.raises(TypeError, match="MemorySnapshots"):
        jaxlab.memory_diff(jaxlab.memory(), 3)


def _ones(n: int):
    return jnp.ones((n, n)) + 0.0


def _twos(n: int):
    return jnp.ones((n, n)) * 2.0


def test_created_at_names_the_one_line_from_the_arrays_traceback():
    # two arrays of one size and device made on two lines: matching buffers by size could
    # only list both lines for each; the array's own traceback names its line
    first, second = _ones(24), _twos(24)
    snap = jaxlab.memory({"first": first, "second": second})
    (a,) = snap.find("first")
    (b,) = snap.find("second")
    assert len(a.creators) == 1 and a.creators[0].function == "_ones"
    assert len(b.creators) == 1 and b.creators[0].function == "_twos"
    assert " or " not in a.created_at and " or " not in b.created_at
    assert a.created_at.startswith("test_device_memory.py:")


def test_small_arrays_share_one_row():
    scalars = {f"s{i}": jnp.float32(i) + 0 for i in range(20)}
    big = _ones(64)
    snap = jaxlab.memory({**scalars, "big": big})
    text = repr(snap)
    assert "20 arrays under 1 KiB" in text or "arrays under 1 KiB" in text
    table_rows = [line for line in text.splitlines() if line.lstrip().startswith("s1")]
    assert not table_rows, table_rows  # no row of its own for a scalar
    html = snap._repr_html_()
    assert html.count("<tr") < 20 and "arrays under 1 KiB" in html
    assert "big" in text and "16 KiB" in text


def _scale_by(w):
    def closure(x):
        return x * w

    return closure


class _Holder:
    def __init__(self, value):
        self._kept = value


def test_an_array_without_a_variable_says_what_holds_it():
    inside = _Holder(_ones(30))
    closure = _scale_by(_twos(31))
    kept = _Holder(None)
    kept.outputs = [_ones(32)]  # a public attribute path: named by it
    snap = jaxlab.memory({"inside": inside, "closure": closure, "kept": kept})
    held = {a.shape: a for a in snap.arrays}
    assert held[(30, 30)].held_via == "inside inside (_Holder)"
    assert held[(31, 31)].held_via == "w (captured by closure)"
    assert held[(32, 32)].held_via == "kept.outputs[0]"
    text = repr(snap)
    assert "(no variable) w (captured by closure)" in text
    assert "held_via" in snap.to_pandas().columns


def test_looking_for_what_holds_an_array_reads_no_attribute_an_object_makes_up():
    from unittest import mock

    auto = mock.MagicMock()  # makes up any attribute it is asked for
    held = _Holder(_ones(33))
    snap = jaxlab.memory({"auto": auto, "held": held, "jitted": jax.jit(_scale_by(_twos(34)))})
    shapes = {a.shape: a.held_via for a in snap.arrays}
    assert shapes[(33, 33)] == "inside held (_Holder)"
    assert shapes[(34, 34)] == "w (captured by jitted)"
    assert not auto.mock_calls and not auto._mock_children  # nothing asked of it
