"""IPython magics: thin adapters that parse a line, evaluate it in the user's namespace and call
jaxlab's public API. Importing this module requires IPython."""

from __future__ import annotations

import warnings
from typing import Any


def recompiles(name: str | None = None) -> Any:
    """The Python form of ``%recompiles [name]``: the compilations jaxlab's guards recorded in
    the running IPython session, per function with JAX's reasons (a ``RecompileReport``; with
    `name`, every compilation of that function). The guards record in a notebook where
    ``%load_ext jaxlab`` ran; elsewhere this raises a RuntimeError that says so."""
    from IPython import get_ipython

    from jaxlab.magics._guards import hooks_of

    shell = get_ipython()
    hooks = hooks_of(shell) if shell is not None else None
    if hooks is None:
        raise RuntimeError(
            "jaxlab.recompiles() reads what jaxlab's guards recorded in an IPython session; "
            "run it in a notebook after `%load_ext jaxlab`."
        )
    ledger = hooks.guards.ledger
    if name is not None and not ledger.named(name):
        known = ", ".join(sorted(ledger.functions)) or "none yet"
        raise KeyError(f"no compilations of {name!r} recorded (functions: {known})")
    return ledger.report(name, hooks.cell_label)


def magic_classes() -> list[type]:
    from jaxlab.magics._bench import BenchMagics
    from jaxlab.magics._compile import CompileMagics
    from jaxlab.magics._devices import DeviceMagics
    from jaxlab.magics._guards import GuardMagics
    from jaxlab.magics._inspect import InspectMagics
    from jaxlab.magics._ir import IRMagics
    from jaxlab.magics._kernels import KernelMagics
    from jaxlab.magics._numerics import NumericsMagics
    from jaxlab.magics._profile import ProfileMagics
    from jaxlab.magics._transforms import TransformMagics

    return [
        TransformMagics,
        IRMagics,
        InspectMagics,
        BenchMagics,
        DeviceMagics,
        GuardMagics,
        KernelMagics,
        CompileMagics,
        ProfileMagics,
        NumericsMagics,
    ]


def load(ipython: Any) -> None:
    """``%load_ext jaxlab``: CPU devices from the environment, the magics, the guards."""
    from jaxlab.core.cpu_devices import apply_environment
    from jaxlab.magics._guards import hooks_of, install

    if hooks_of(ipython) is not None:  # loaded already (the jaxlab kernel preloads it)
        return
    problem = apply_environment()
    if problem:
        warnings.warn(problem, stacklevel=3)
    register(ipython)
    install(ipython)


def unload(ipython: Any) -> None:
    from jaxlab.magics._guards import uninstall

    unregister(ipython)
    uninstall(ipython)


def register(ipython: Any) -> None:
    from functools import partial

    from jaxlab.base.format import set_cell_labeler
    from jaxlab.magics._base import cell_label

    for cls in magic_classes():
        ipython.register_magics(cls)
    # every view names notebook code by its cell ("In [19], line 2"), not IPython's file name
    set_cell_labeler(partial(cell_label, ipython))


def unregister(ipython: Any) -> None:
    from jaxlab.base.format import set_cell_labeler

    set_cell_labeler(None)
    manager = ipython.magics_manager
    for cls in magic_classes():
        for kind, names in cls.magics.items():
            for name in names:
                manager.magics[kind].pop(name, None)
