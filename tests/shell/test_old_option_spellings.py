"""Old spellings of magic options still work and warn once, as one line, with the new one."""

from __future__ import annotations

import warnings

import pytest

from jaxlab import BenchResult
from jaxlab.base import renamed


@pytest.fixture(autouse=True)
def fresh_session(ip, monkeypatch):
    monkeypatch.setattr(renamed, "_warned", set())  # as in a session that never warned
    ip.run_cell("def old_sq(x):\n    return x * x\nx_old = jnp.ones(8)\n")


def _run(ip, line: str) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ip.run_cell(line)
    return [w for w in caught if issubclass(w.category, FutureWarning)]


def _shown(w: warnings.WarningMessage) -> str:
    return warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)


def test_old_bench_spellings_warn_once_as_one_line(ip):
    line = "r_old = %bench old_sq(x_old) --variants jit --time 0.02 --bytes 64 --no-roofline"
    caught = _run(ip, line)
    assert isinstance(ip.user_ns["r_old"], BenchResult)
    assert sorted(str(w.message) for w in caught) == [
        "--bytes is now --bytes-accessed; the old spelling will go away",
        "--no-roofline is now --no-peak; the old spelling will go away",
        "--time is now --time-budget; the old spelling will go away",
    ]
    for w in caught:
        shown = _shown(w)
        assert shown.count("\n") == 1, shown  # one line: no source line, no traceback
        assert shown.startswith("%bench:1: FutureWarning: --")
        assert "jaxlab" not in shown and ".py" not in shown
    assert _run(ip, line) == []  # once per session


def test_old_platform_spelling_warns_once(ip):
    caught = _run(ip, "h_old = %hlo --platform=tpu old_sq(x_old)")
    assert ip.user_ns["h_old"] is not None
    assert [_shown(w) for w in caught] == [
        "%hlo:1: FutureWarning: --platform is now --platforms; the old spelling will go away\n"
    ]
    assert _run(ip, "%hlo --platform tpu old_sq(x_old)") == []
    assert len(_run(ip, "%inspect --platform tpu old_sq(x_old)")) == 1  # once per magic


def test_new_spellings_do_not_warn(ip):
    line = "%bench old_sq(x_old) --variants jit --time-budget 0.02 --bytes-accessed 64 --no-peak"
    assert _run(ip, line) == []
    assert _run(ip, "%hlo --platforms tpu old_sq(x_old)") == []
