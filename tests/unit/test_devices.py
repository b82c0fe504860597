"""`jaxlab.devices` in one process with 8 simulated CPU devices."""

from __future__ import annotations

import re

import jax
import pytest

import jaxlab
from jaxlab.api.devices import NOT_REPORTED
from jaxlab.core.kernelspec import CPU_DEVICES_ENV


def test_every_device_with_process_and_memory_note():
    r = jaxlab.devices()
    assert [d.id for d in r.devices] == [d.id for d in jax.devices()]
    assert len(r.devices) == len(r.addressable) == 8
    assert r.backend == r.default_backend == "cpu"
    assert (r.process_index, r.process_count) == (0, 1)
    assert r.processes == {0: list(range(8))}
    assert all(d.platform == "cpu" and d.memory is None for d in r.devices)
    assert all(d.memory_note == NOT_REPORTED for d in r.devices)
    assert any("8 simulated CPU devices" in n for n in r.notes)
    frame = r.to_pandas()
    assert len(frame) == 8 and set(frame["process"]) == {0}


def test_html_has_one_row_per_device():
    html = jaxlab.devices()._repr_html_()
    body = html.split("<tbody>", 1)[1]
    assert len(re.findall(r"<tr>", body)) == 8
    assert html.count(NOT_REPORTED) == 8
    assert "<script" not in html


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="JAX has no 'tpu' backend here"):
        jaxlab.devices("tpu")


def test_kernel_request_that_came_too_late_is_noted(monkeypatch):
    monkeypatch.setenv(CPU_DEVICES_ENV, "4")
    notes = jaxlab.devices().notes
    assert any("asked for 4 CPU devices" in n and "started with 8" in n for n in notes)


def test_cpu_device_count_cannot_change_once_jax_runs():
    jaxlab.set_cpu_devices(8)  # the running count: nothing to do
    with pytest.raises(RuntimeError, match="cannot switch to 3") as info:
        jaxlab.set_cpu_devices(3)
    assert (info.value.current, info.value.requested) == (8, 3)


class ReportingDevice:
    """A device whose backend reports memory (GPU-like), for the reported-memory path."""

    id, platform, device_kind, process_index, coords = 0, "gpu", "NVIDIA H100", 0, (0, 0, 0)

    def memory_stats(self):
        return {"bytes_in_use": 3 << 30, "bytes_limit": 80 << 30, "peak_bytes_in_use": 5 << 30}


def test_reported_memory_and_coordinates_are_shown():
    from jaxlab.api.devices import DeviceReport, _info

    info = _info(ReportingDevice(), this_process=0)
    assert (info.bytes_in_use, info.bytes_limit, info.peak_bytes_in_use) == (
        3 << 30,
        80 << 30,
        5 << 30,
    )
    assert info.coords == (0, 0, 0)
    report = DeviceReport([info], "gpu", "gpu", 0, 1)
    html = report._repr_html_()
    assert "3 GiB" in html and "80 GiB" in html and "5 GiB" in html
    assert "coords" in html and "not reported" not in html
    assert "in use 3 GiB, limit 80 GiB, peak 5 GiB" in repr(report)
