"""Small things every view says right: counts agree with their nouns."""

from __future__ import annotations

from types import SimpleNamespace

from jaxlab.base.format import plural


def test_plural_agrees_with_the_count():
    assert plural(1, "kernel") == "1 kernel"
    assert plural(0, "kernel") == "0 kernels"
    assert plural(1.0, "kernel") == "1 kernel"
    assert plural(1.5, "kernel") == "1.5 kernels"
    assert plural(2500, "device") == "2,500 devices"
    assert plural(1, "process", "processes") == "1 process"
    assert plural(2, "process", "processes") == "2 processes"


def test_views_count_one_thing_in_the_singular():
    from jaxlab.views.devices import headline
    from jaxlab.views.profile import summary_line
    from jaxlab.views.program import collectives_summary

    report = SimpleNamespace(
        backend="cpu", default_backend="cpu", devices=[0] * 8, addressable=[0] * 8,
        process_count=1, process_index=0,
    )  # fmt: skip
    assert headline(report).endswith(
        "8 devices in 1 process; this is process 0, which addresses 8 devices"
    )
    one = SimpleNamespace(kind="all-reduce", bytes_moved=64)
    assert collectives_summary([one]).startswith("1 collective (1 all-reduce)")
    assert collectives_summary([one, one]).startswith("2 collectives (2 all-reduce)")
    profile = SimpleNamespace(
        kernels=[object()], calls=[0, 1], runs=2, wall_s=2e-3, kernel_s=1e-3, gaps_s=0.0,
        host_s=1e-3, coverage=0.5, kernels_per_call=1.0,
    )  # fmt: skip
    assert summary_line(profile).endswith("· 1 kernel per call")
