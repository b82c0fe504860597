"""The guards' cell events in IPython's in-process shell: nested cells, unloading mid-cell."""

from __future__ import annotations

import jax

from jaxlab.core import compile_events as _compile_events
from jaxlab.magics._guards import hooks_of


def test_jit_cell_magic_runs_the_guards_once_for_the_outer_cell(ip, monkeypatch):
    hooks = hooks_of(ip)
    calls = []
    after_cell = hooks.guards.after_cell
    monkeypatch.setattr(
        hooks.guards, "after_cell", lambda ns, cell: calls.append(cell) or after_cell(ns, cell)
    )
    ip.run_cell("%%jit --quiet\ndef nested_twice(x):\n    return 2 * x", store_history=True)
    assert len(calls) == 2  # the inner run_cell, then the outer cell
    assert hooks.guards._depth == 0 and hooks._pending == []
    assert _compile_events._active == []


def test_unloading_in_a_cell_stops_recording(ip):
    ip.run_cell("%unload_ext jaxlab")
    try:
        assert hooks_of(ip) is None
        assert _compile_events._active == []
        assert not jax.config.jax_explain_cache_misses
    finally:
        ip.run_cell("%load_ext jaxlab")
    assert hooks_of(ip) is not None
